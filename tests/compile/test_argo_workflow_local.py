"""The compiled Argo workflows, run on this machine by the local Argo engine (tests/argo_engine) against S3 on loopback.

Each step runs its own command from the IR (KFP's executor in the project image, here this venv) in
its own pod filesystem; Argo's S3 artifact driver moves the artifacts. The continuous-training
workflow must register the same model, with the same metrics, as `portway run` on the same data.
"""

from __future__ import annotations

import json

import boto3
import pytest
from argo_engine import ArgoEngine, ImageEnvironment
from conftest import REPO_ROOT, TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY, point_boto3_at

from portway.compile.argo import ArgoOptions, convert_ir
from portway.compile.pipelines import load_ir
from portway.embedded.runner import run_pipeline
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local
ROUNDS = 30
CREDENTIALS = "s3-credentials"
# The project image: this venv's python with portway importable (an editable install of src/).
PROJECT_IMAGE = ImageEnvironment([str(REPO_ROOT / ".venv" / "bin"), str(REPO_ROOT / "src"),
                                  str(REPO_ROOT / "components"), str(REPO_ROOT / "pipelines")])


def engine_for(workdir, endpoint: str, bucket: str) -> ArgoEngine:
    return ArgoEngine(
        workdir, lambda ref: PROJECT_IMAGE,
        artifact_repository={"s3": {"bucket": bucket, "endpoint": endpoint.split("://", 1)[1], "insecure": True,
                                    "accessKeySecret": {"name": CREDENTIALS, "key": "AWS_ACCESS_KEY_ID"},
                                    "secretKeySecret": {"name": CREDENTIALS, "key": "AWS_SECRET_ACCESS_KEY"}}},
        secrets={CREDENTIALS: {"AWS_ACCESS_KEY_ID": TEST_AWS_ACCESS_KEY_ID,
                               "AWS_SECRET_ACCESS_KEY": TEST_AWS_SECRET_ACCESS_KEY}})


def compile_for(pipeline: str, bucket: str, endpoint: str) -> dict:
    # The steps read the data and write the registry themselves: they get the endpoint and the Secret's keys.
    document, _ = convert_ir(load_ir(pipeline), ArgoOptions(artifact_root=f"s3://{bucket}/artifacts",
                                                            s3_endpoint=endpoint, s3_secret=CREDENTIALS))
    return document


def pods(run) -> dict[str, object]:
    """The last attempt of each step, by step name."""
    found = {}
    for node in run.nodes:
        if node.type in ("Pod", "Skipped") or (node.type != "DAG" and node.phase == "Skipped"):
            found[node.display_name.split("(")[0]] = node
    return found


def phases(run) -> dict[str, str]:
    steps = {n.display_name: n.phase for n in run.nodes if n.type in ("Retry", "Pod", "Skipped")
             and "(" not in n.display_name}
    return steps


def memoized(run) -> dict[str, bool]:
    return {n.display_name: n.memoized for n in run.nodes if n.type in ("Retry", "Pod") and "(" not in n.display_name
            and n.phase != "Skipped"}


def read_s3(uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def executor_output(node) -> dict:
    return json.loads(next(p["value"] for p in node.outputs["parameters"] if p["name"] == "executor-output"))


def churn_bucket(patch: pytest.MonkeyPatch, s3_server: str, churn_csv, prefix: str) -> dict:
    """boto3 pointed at the loopback S3 server, a fresh bucket holding the churn data at data/churn.csv."""
    import uuid

    point_boto3_at(patch, s3_server)
    bucket = f"{prefix}-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("s3").upload_file(str(churn_csv), bucket, "data/churn.csv")
    return {"bucket": bucket, "data_uri": f"s3://{bucket}/data/churn.csv", "endpoint": s3_server}


@pytest.fixture(scope="module")
def shared(s3_server, churn_csv, tmp_path_factory):
    """One bucket, dataset and engine (with its memoize caches) for the tests of this module."""
    with pytest.MonkeyPatch.context() as patch:
        s3 = churn_bucket(patch, s3_server, churn_csv, "portway-argo")
        yield {**s3, "engine": engine_for(tmp_path_factory.mktemp("argo"), s3_server, s3["bucket"]),
               "tmp": tmp_path_factory.mktemp("runs")}


def test_compiled_workflow_registers_the_same_model_as_portway_run(shared):
    s3_bucket, data_uri, engine = shared["bucket"], shared["data_uri"], shared["engine"]
    local = run_pipeline({"data_uri": data_uri, "registry_root": f"s3://{s3_bucket}/registry-local",
                          "num_boost_round": ROUNDS}, runs_dir=shared["tmp"], run_id="local")
    assert local.registration["registered"], local.registration
    shared["data_fingerprint"] = local.parameters["data_fingerprint"]

    workflow = compile_for("continuous-training", s3_bucket, shared["endpoint"])
    parameters = {"data_uri": data_uri, "registry_root": f"s3://{s3_bucket}/registry-argo",
                  "num_boost_round": str(ROUNDS), "data_fingerprint": local.parameters["data_fingerprint"]}
    run = engine.run(workflow, parameters)
    failed = [n.log[-2000:] for n in run.nodes if n.phase in ("Failed", "Error")]
    assert run.phase == "Succeeded", failed
    assert phases(run) == {"process": "Succeeded", "train": "Succeeded", "evaluate": "Succeeded",
                           "register": "Succeeded", "gate-failed": "Skipped"}

    argo_record = ModelRegistry(f"s3://{s3_bucket}/registry-argo").get("churn", 1)
    local_record = ModelRegistry(f"s3://{s3_bucket}/registry-local").get("churn", 1)
    assert argo_record["metrics"] == local_record["metrics"] == local.metrics
    for name in ("model.json", "feature_schema.json"):
        assert read_s3(argo_record["artifact_uri"] + name) == read_s3(local_record["artifact_uri"] + name), name
    lineage = argo_record["lineage"]
    assert lineage["run_id"] == run.workflow_name and lineage["data_sha256"] == local.parameters["data_fingerprint"]
    assert lineage["parameters"]["num_boost_round"] == ROUNDS
    # The model moved through Argo's artifact driver, under the run's prefix, with KFP's metadata.
    train = executor_output(pods(run)["train"])["artifacts"]["model"]["artifacts"][0]
    assert train["uri"].startswith(f"s3://{s3_bucket}/artifacts/{run.workflow_name}/") and train["uri"].endswith("/model")
    assert lineage["model_artifact_uri"].rstrip("/") == train["uri"] and train["metadata"]["framework"] == "xgboost"
    assert boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix=train["uri"].split("/", 3)[3] + "/")["KeyCount"]

    # The same parameters again: every step is a memoize hit and nothing new is registered.
    again = engine.run(workflow, parameters)
    assert again.phase == "Succeeded" and all(memoized(again).values()), memoized(again)
    assert ModelRegistry(f"s3://{s3_bucket}/registry-argo").versions("churn") == [1]

    # A stricter gate: process and train come from the cache, evaluate re-runs, register is skipped.
    strict = engine.run(workflow, {**parameters, "threshold": "0.999"})
    assert strict.phase == "Succeeded"
    assert phases(strict)["register"] == "Skipped" and phases(strict)["gate-failed"] == "Succeeded", phases(strict)
    assert memoized(strict) == {"process": True, "train": True, "evaluate": False, "gate-failed": False}
    assert ModelRegistry(f"s3://{s3_bucket}/registry-argo").versions("churn") == [1]


def test_a_failing_step_fails_the_workflow_and_publishes_nothing(shared, tmp_path):
    s3_bucket = shared["bucket"]
    bad = "a,b,churned\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(100)) + "1,zzz,0\n"
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="data/bad.csv", Body=bad.encode())
    workflow = compile_for("continuous-training", s3_bucket, shared["endpoint"])
    run = engine_for(tmp_path / "argo", shared["endpoint"], s3_bucket).run(
        workflow, {"data_uri": f"s3://{s3_bucket}/data/bad.csv", "registry_root": f"s3://{s3_bucket}/registry-bad"})
    assert run.phase == "Failed"
    attempts = [n for n in run.nodes if n.type == "Pod"]
    assert {n.display_name.split("(")[0] for n in attempts} == {"process"}
    assert "column 'b' is numeric but holds 'zzz'" in attempts[-1].log
    # Bad input exits 2, which the retry expression never retries; any other failure is retried 3 times.
    codes = {n.outputs.get("exitCode") for n in attempts}
    assert len(attempts) == (1 if codes == {"2"} else 4), codes
    assert ModelRegistry(f"s3://{s3_bucket}/registry-bad").groups() == []
    assert phases(run).get("train", "Omitted") in ("Omitted", "Skipped")


def test_hyperparameter_search_fans_out_per_candidate(shared):
    """Runs after the test above: process is a memoize hit across pipelines (same code, same inputs)."""
    s3_bucket, data_uri = shared["bucket"], shared["data_uri"]
    candidates = [{"max_depth": 2, "eta": 0.3, "subsample": 1.0}, {"max_depth": 4, "eta": 0.2, "subsample": 0.8}]
    workflow = compile_for("hyperparameter-search", s3_bucket, shared["endpoint"])
    run = shared["engine"].run(workflow, {
        "data_uri": data_uri, "data_fingerprint": shared.get("data_fingerprint", ""), "num_boost_round": "10",
        "candidates": json.dumps(candidates), "registry_root": f"s3://{s3_bucket}/registry"})
    assert run.phase == "Succeeded", [n.log[-2000:] for n in run.nodes if n.phase in ("Failed", "Error")]
    trains = [n for n in run.nodes if n.template_name == "train" and n.type == "Pod"]
    assert len(trains) == 2 and all(n.phase == "Succeeded" for n in trains)
    models = [executor_output(n)["artifacts"]["model"]["artifacts"][0] for n in trains]
    assert sorted(m["metadata"]["parameters"]["max_depth"] for m in models) == [2, 4]
    assert len({m["uri"] for m in models}) == 2
    # The best candidate (dsl.Collected into select) goes through evaluate, the gate and register.
    steps = phases(run)
    assert steps["select-best"] == steps["evaluate"] == steps["register"] == "Succeeded", steps
    (select,) = [n for n in run.nodes if n.template_name == "select-best" and n.type == "Pod"]
    best = executor_output(select)["artifacts"]["best_model"]["artifacts"][0]
    assert best["metadata"]["parameters"]["max_depth"] in (2, 4)
    record = ModelRegistry(f"s3://{s3_bucket}/registry").get("churn", 1)
    assert record["lineage"]["pipeline"] == "hyperparameter-search"
    assert record["lineage"]["parameters"]["max_depth"] == best["metadata"]["parameters"]["max_depth"]
    assert record["lineage"]["gate"]["checks"], record["lineage"]["gate"]
