"""The compiled Argo workflow, run on this machine (tests/argo_local.py) against S3 on loopback.

This proves the wiring the Argo controller will see: DAG order, template variables, the
gate's `when`, memoize keys, the launcher's inputs/outputs and artifacts moving through S3.
It must end with the same registered model as `portway run` on the same data.
"""

from __future__ import annotations

import json

import boto3
import pytest
from argo_local import LocalArgo
from portway.pipelines.continuous_training import continuous_training
from portway.pipelines.hyperparameter_search import build_search_pipeline

from portway.compile.argo_target import ArgoOptions, compile_argo
from portway.embedded.runner import run_pipeline
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local
ROUNDS = 30


def phases(run) -> dict[str, str]:
    return {node.name.rsplit(".", 1)[-1]: node.phase for node in run.nodes}


def memoized(run) -> dict[str, bool]:
    return {node.name.rsplit(".", 1)[-1]: node.memoized for node in run.nodes if node.phase != "Skipped"}


def read_s3(uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def shared(s3_server, churn_csv, tmp_path_factory):
    """One bucket, dataset and interpreter (with its memoize cache) for the tests of this module."""
    import uuid

    from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ENDPOINT_URL": s3_server, "AWS_ACCESS_KEY_ID": TEST_AWS_ACCESS_KEY_ID,
                            "AWS_SECRET_ACCESS_KEY": TEST_AWS_SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        bucket = f"portway-argo-{uuid.uuid4().hex[:10]}"
        boto3.client("s3").create_bucket(Bucket=bucket)
        boto3.client("s3").upload_file(str(churn_csv), bucket, "data/churn.csv")
        yield {"bucket": bucket, "data_uri": f"s3://{bucket}/data/churn.csv",
               "engine": LocalArgo(tmp_path_factory.mktemp("argo")), "tmp": tmp_path_factory.mktemp("runs")}


def test_compiled_workflow_registers_the_same_model_as_portway_run(shared):
    s3_bucket, data_uri, engine = shared["bucket"], shared["data_uri"], shared["engine"]
    local = run_pipeline({"data_uri": data_uri, "registry_root": f"s3://{s3_bucket}/registry-local",
                          "num_boost_round": ROUNDS}, runs_dir=shared["tmp"], run_id="local")
    assert local.registration["registered"], local.registration
    shared["data_fingerprint"] = local.parameters["data_fingerprint"]

    workflow = compile_argo(continuous_training, ArgoOptions(artifact_root=f"s3://{s3_bucket}/artifacts"))
    parameters = {"data_uri": data_uri, "registry_root": f"s3://{s3_bucket}/registry-argo",
                  "num_boost_round": ROUNDS, "data_fingerprint": local.parameters["data_fingerprint"]}
    run = engine.run(workflow, parameters)
    assert run.phase == "Succeeded", [n.log[-2000:] for n in run.nodes if n.phase == "Failed"]
    assert phases(run) == {"process": "Succeeded", "train": "Succeeded", "evaluate": "Succeeded",
                           "register": "Succeeded", "gate-failed": "Skipped"}

    argo_record = ModelRegistry(f"s3://{s3_bucket}/registry-argo").get("churn", 1)
    local_record = ModelRegistry(f"s3://{s3_bucket}/registry-local").get("churn", 1)
    assert argo_record["metrics"] == local_record["metrics"] == local.metrics
    for name in ("model.json", "feature_schema.json"):
        assert read_s3(argo_record["artifact_uri"] + name) == read_s3(local_record["artifact_uri"] + name), name
    lineage = argo_record["lineage"]
    assert lineage["run_id"] == run.name and lineage["data_sha256"] == local.parameters["data_fingerprint"]
    assert lineage["parameters"]["num_boost_round"] == ROUNDS
    # artifacts travelled through S3 under the run's prefix, with their metadata beside them
    model_uri = lineage["model_artifact_uri"]
    assert model_uri.startswith(f"s3://{s3_bucket}/artifacts/{run.name}/") and model_uri.endswith("/model")
    assert json.loads(read_s3(model_uri + ".kfp-metadata.json"))["framework"] == "xgboost"
    assert json.loads(run.outputs["registration"])["version"] == 1
    assert json.loads(read_s3(run.outputs["metrics"] + ".kfp-metadata.json"))["auc"] == pytest.approx(
        local.metrics["auc"], abs=1e-6)

    # The same parameters again: every step is a memoize hit and nothing new is registered.
    again = engine.run(workflow, parameters)
    assert again.phase == "Succeeded" and all(memoized(again).values()), memoized(again)
    assert ModelRegistry(f"s3://{s3_bucket}/registry-argo").versions("churn") == [1]

    # A stricter gate: process and train come from the cache, evaluate re-runs, register is skipped.
    strict = engine.run(workflow, {**parameters, "threshold": 0.999})
    assert strict.phase == "Succeeded"
    assert phases(strict)["register"] == "Skipped" and phases(strict)["gate-failed"] == "Succeeded"
    assert memoized(strict) == {"process": True, "train": True, "evaluate": False, "gate-failed": False}
    registration = json.loads(strict.outputs["registration"])
    assert registration["registered"] is False and "auc>=0.999" in registration["reason"]
    assert ModelRegistry(f"s3://{s3_bucket}/registry-argo").versions("churn") == [1]


def test_a_failing_step_fails_the_workflow_and_publishes_no_outputs(tmp_path, s3_bucket):
    bad = "a,b,churned\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(100)) + "1,zzz,0\n"
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="data/bad.csv", Body=bad.encode())
    workflow = compile_argo(continuous_training, ArgoOptions(artifact_root=f"s3://{s3_bucket}/artifacts"))
    run = LocalArgo(tmp_path / "argo").run(workflow, {"data_uri": f"s3://{s3_bucket}/data/bad.csv",
                                                      "registry_root": f"s3://{s3_bucket}/registry"})
    assert run.phase == "Failed"
    process = run.node(f"{run.name}.process")
    assert process.phase == "Failed" and process.attempts == 4  # retryStrategy.limit 3
    assert "column 'b' is numeric but holds 'zzz'" in process.log
    assert [n.name.rsplit(".", 1)[-1] for n in run.nodes] == ["process"]
    outputs = list((tmp_path / "argo").glob("*/outputs/*"))
    assert outputs == [], outputs  # no output parameter: nothing downstream could read a partial split
    assert ModelRegistry(f"s3://{s3_bucket}/registry").groups() == []


def test_hyperparameter_search_fans_out_per_candidate(shared):
    """Runs after the test above: process is a memoize hit across pipelines (same code, same inputs)."""
    s3_bucket, data_uri = shared["bucket"], shared["data_uri"]
    candidates = [{"max_depth": 2, "eta": 0.3, "subsample": 1.0}, {"max_depth": 4, "eta": 0.2, "subsample": 0.8}]
    workflow = compile_argo(build_search_pipeline(2), ArgoOptions(artifact_root=f"s3://{s3_bucket}/artifacts"))
    run = shared["engine"].run(workflow, {
        "data_uri": data_uri, "data_fingerprint": shared.get("data_fingerprint", ""), "num_boost_round": 10, "candidates": json.dumps(candidates),
        "registry_root": f"s3://{s3_bucket}/registry"})
    assert run.phase == "Succeeded", [n.log[-2000:] for n in run.nodes if n.phase == "Failed"]
    trains = [n for n in run.nodes if n.template == "train"]
    assert len(trains) == 2 and all(n.phase == "Succeeded" for n in trains)
    assert memoized(run)["process"], "process should come from the continuous-training run's cache"
    assert sorted(n.inputs["max_depth"] for n in trains) == ["2", "4"]
    assert {n.inputs["eta"] for n in trains} == {"0.3", "0.2"}
    models = [json.loads(read_s3(n.outputs["model"] + ".kfp-metadata.json")) for n in trains]
    assert sorted(m["parameters"]["max_depth"] for m in models) == [2, 4]
    evaluations = [n for n in run.nodes if n.template == "evaluate"]
    assert len(evaluations) == 2 and len({n.outputs["evaluation"] for n in evaluations}) == 2
