"""The Argo target with workers > 1: train becomes Argo's native resource template creating a TrainJob."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml
from argo_engine.model import SUCCEEDED
from argo_engine.resources import condition_met, failure_met, run_resource
from argo_engine.substitution import Scope, replace
from k8s_validation import object_errors

from portway.config import DEFAULT_RESOURCES, ResourceSpec
from portway.trainjob import argo as trainjob_argo

from .fake_trainer import TRAINJOB_KIND, FakeTrainer
from .validation import trainjob_errors

BUCKET = "portway-artifacts"  # the default --artifact-root's bucket


def _compile(tmp_path, *params: str) -> dict:
    out = tmp_path / "ct.argo.yaml"
    proc = subprocess.run([sys.executable, "-m", "portway", "compile", "--target", "argo",
                           *[f"--param={p}" for p in params], "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(out.read_text())


def _template(document: dict, name: str = "train") -> dict:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)


@pytest.fixture(scope="module")
def distributed(tmp_path_factory) -> dict:
    return _compile(tmp_path_factory.mktemp("argo"), "workers=3")


def _values(workers: int = 3, data_prefix: str = "pipelines/run/p", **extra) -> dict:
    values = {"workflow.name": "continuous-training-x7k2p", "pod.name": "continuous-training-x7k2p-train-1234567",
              "inputs.parameters.workers": str(workers), "inputs.parameters.max_depth": "6",
              "inputs.parameters.eta": "0.1", "inputs.parameters.subsample": "0.9",
              "inputs.parameters.colsample_bytree": "0.9", "inputs.parameters.min_child_weight": "1.0",
              "inputs.parameters.num_boost_round": "300", "inputs.parameters.early_stopping_rounds": "20",
              "inputs.parameters.seed": "42"}
    # The data inputs as Argo passes them: process's executor output once, and where in it each one is (picks.py).
    names = ("train_data", "validation_data", "profile")
    artifacts = {name: {"artifacts": [{"name": name, "uri": f"s3://portway-artifacts/{data_prefix}/{name}",
                                       "metadata": {}}]} for name in names}
    values["inputs.parameters.upstream-0"] = json.dumps({"artifacts": artifacts})
    for name in names:
        values[f"inputs.parameters.{name}-from"] = f"$.artifacts.{name}.artifacts[0]"
    return {**values, **extra}


def _trainjob(template: dict, workers: int = 3) -> dict:
    """The manifest as Argo creates it: placeholders substituted, then parsed."""
    text = replace(template["resource"]["manifest"], Scope(_values(workers)), allow_unresolved=False)
    job = yaml.safe_load(text)
    job["metadata"]["name"] = job["metadata"].pop("generateName") + "q8z4w"  # the API server's suffix
    return job


def test_with_one_worker_train_stays_a_container_step(tmp_path):
    document = _compile(tmp_path)
    train = _template(document)
    assert "container" in train and "resource" not in train


def test_with_workers_train_is_a_resource_template_that_validates_against_argo(distributed, schemas_dir):
    assert object_errors(distributed, schemas_dir) == []  # Argo v4.1.2 Workflow CRD, strict, with CEL
    train = _template(distributed)
    assert "container" not in train
    resource = train["resource"]
    assert resource["action"] == "create"
    assert resource["setOwnerReference"] is True  # deleting the workflow deletes the TrainJob
    assert resource["successCondition"] == "status.jobsStatus.0.succeeded > 0"
    assert "status.conditions.7.type == Failed" in resource["failureCondition"].split(",")
    assert train["retryStrategy"]["limit"] == 2  # the step's retry creates a new TrainJob
    assert train["outputs"]["parameters"] == [{"name": "executor-output", "valueFrom": {
        "jsonPath": "{.metadata.annotations.portway_executor_output}"}}]


@pytest.mark.parametrize("workers", [2, 3, 8, 64])
def test_the_created_trainjob_validates_against_trainer_v2_3_0(distributed, schemas_dir, workers):
    job = _trainjob(_template(distributed), workers)
    assert trainjob_errors(job, schemas_dir) == []
    trainer = job["spec"]["trainer"]
    assert trainer["numNodes"] == workers
    assert trainer["command"] == ["python", "-m", "portway.steps.train_distributed"]
    assert "--train-data=s3://portway-artifacts/pipelines/run/p/train_data" in trainer["args"]
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "1"
    assert job["metadata"]["labels"]["portway.dev/team"] == "unassigned"  # cost attribution
    pod = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    pod_spec = pod["template"]["spec"]["template"]["spec"]
    assert pod_spec["nodeSelector"] == {"portway.dev/node-pool": "gpu"}
    assert pod_spec["serviceAccountName"] == "portway-pipeline-runner"
    settings = json.loads(next(a for a in trainer["args"] if a.startswith("--params="))[len("--params="):])
    assert settings == {"hyperparameters": {"max_depth": 6, "eta": 0.1, "subsample": 0.9, "colsample_bytree": 0.9,
                                            "min_child_weight": 1.0},
                        "num_boost_round": 300, "early_stopping_rounds": 20, "seed": 42}


def test_a_cpu_train_step_makes_a_cpu_trainjob(schemas_dir):
    from portway.pipelines.continuous_training import build_pipeline

    from portway.compile.argo import ArgoOptions, convert_ir
    from portway.compile.kfp_target import compile_kfp

    cpu = ResourceSpec(cpu="2", memory="8Gi", cpu_limit="4", memory_limit="16Gi")
    compiled = compile_kfp(build_pipeline(resources={**DEFAULT_RESOURCES, "train": cpu}))
    document, _ = convert_ir(compiled, ArgoOptions(parameters={"workers": "4"}))
    document = trainjob_argo.apply(document)
    assert object_errors(document, schemas_dir) == []
    job = _trainjob(_template(document), 4)
    assert trainjob_errors(job, schemas_dir) == []
    assert "nvidia.com/gpu" not in job["spec"]["trainer"]["resourcesPerNode"]["limits"]
    assert "--gpus=0" in job["spec"]["trainer"]["args"]


def _argo_outcome(resource: dict, obj: dict) -> tuple[str, str]:
    """The engine's judgement of Argo's matchConditions (workflow/executor/resource.go)."""
    if matched := failure_met(resource["failureCondition"], obj):
        return "Failed", f"failure condition '{matched.strip()}' evaluated true"
    if condition_met(resource["successCondition"], obj):
        return "Succeeded", ""
    return "Running", ""


def _status(*conditions: tuple[str, str], succeeded: int = 0, failed: int = 0) -> dict:
    return {"status": {
        "conditions": [{"type": t, "status": "True", "reason": r, "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}
                       for t, r in conditions],
        "jobsStatus": [{"name": "node", "succeeded": succeeded, "failed": failed, "active": 0, "ready": 0,
                        "suspended": 0}]}}


def test_the_conditions_follow_the_trainjob_status_as_argo_reads_it(distributed):
    resource = _template(distributed)["resource"]
    created = ("Created", "JobsCreationSucceeded")
    assert _argo_outcome(resource, _status(created)) == ("Running", "")
    assert _argo_outcome(resource, _status(created, ("Complete", "AllJobsCompleted"), succeeded=1))[0] == "Succeeded"
    state, message = _argo_outcome(resource, _status(created, ("Failed", "FailedJobs"), failed=1))
    assert state == "Failed" and "reason == FailedJobs" in message  # the TrainJob's own reason
    resumed = ("Suspended", "Resumed")  # a job Kueue suspended first: Failed comes third
    state, message = _argo_outcome(resource, _status(created, resumed, ("Failed", "DeadlineExceeded")))
    assert state == "Failed" and "status.conditions.2.reason == DeadlineExceeded" in message
    state, message = _argo_outcome(resource, _status(created, ("Failed", "SomethingNew")))
    assert state == "Failed" and "status.conditions.1.type == Failed" in message


@pytest.fixture
def artifacts(s3_bucket, s3_env, tmp_path):
    """The process step's outputs in the artifact bucket, as Argo's S3 driver stores them."""
    import boto3

    from portway.datasets import bundled_dataset_path
    from portway.objectstore import open_store
    from portway.steps.process import process_dataset

    client = boto3.client("s3")
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    out = tmp_path / "process"
    process_dataset(bundled_dataset_path(), "churned", str(out / "train_data"), str(out / "validation_data"),
                    str(out / "test_data"), str(out / "profile"), shards=3)
    prefix = f"pipelines/run-{tmp_path.name}/process"
    store = open_store(f"s3://{BUCKET}/{prefix}")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        store.upload_file(path, path.relative_to(out).as_posix())
    return prefix


def test_the_resource_step_trains_through_a_fake_trainer_running_the_entry_point(distributed, artifacts, schemas_dir,
                                                                                  tmp_path):
    from portway.objectstore import open_store
    from portway.steps.train import load_booster

    template = _template(distributed)
    values = _values(3, data_prefix=artifacts)
    values["inputs.parameters.num_boost_round"] = "40"
    trainer = FakeTrainer(schemas_dir, tmp_path)
    try:
        phase, message, outputs = run_resource(template, Scope(values), {TRAINJOB_KIND: trainer}, "portway",
                                               values["workflow.name"], deadline=time.time() + 300)
    finally:
        trainer.close()
    assert (phase, message) == (SUCCEEDED, ""), message
    (output,) = outputs["parameters"]
    artifact = json.loads(output["value"])["artifacts"]["model"]["artifacts"][0]
    assert artifact["uri"] == f"s3://{BUCKET}/pipelines/{values['workflow.name']}/{values['pod.name']}/model"
    assert artifact["metadata"]["workers"] == 3 and artifact["metadata"]["parameters"]["workers"] == 3
    local = tmp_path / "model"
    local.mkdir()
    store = open_store(artifact["uri"])
    for name in store.list(""):
        store.download_file(name, local / name)
    assert sorted(p.name for p in local.iterdir()) == ["feature_schema.json", "model.json"]
    assert load_booster(str(local)).num_boosted_rounds() > 0


def test_a_failed_worker_fails_the_trainjob_and_the_step_with_its_reason(distributed, artifacts, schemas_dir,
                                                                         tmp_path):
    import os
    import signal

    from portway.objectstore import open_store

    template = _template(distributed)
    values = _values(3, data_prefix=artifacts)
    values["pod.name"] = f"{values['workflow.name']}-train-failing"  # its own output key
    manifest = yaml.safe_load(replace(template["resource"]["manifest"], Scope(values), allow_unresolved=False))
    manifest["metadata"]["name"] = manifest["metadata"].pop("generateName") + "f41l5"
    trainer = FakeTrainer(schemas_dir, tmp_path, on_start=lambda procs: os.kill(procs[1].pid, signal.SIGKILL))
    try:
        trainer("create", manifest)
        deadline = time.monotonic() + 120
        state, message = "Running", ""
        while state == "Running" and time.monotonic() < deadline:
            state, message = _argo_outcome(template["resource"], trainer("get", manifest))
            time.sleep(0.1)
        job = trainer("get", manifest)
    finally:
        trainer.close()
    assert state == "Failed" and "reason == FailedJobs" in message, message
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert failed["message"].endswith(f"first failed job: {manifest['metadata']['name']}-node-0")
    model_uri = f"s3://{BUCKET}/pipelines/{values['workflow.name']}/{values['pod.name']}/model"
    assert open_store(model_uri).list("") == []  # nothing published


def test_a_scheduled_workflow_gets_the_trainjob_too(tmp_path, schemas_dir):
    out = tmp_path / "cron.yaml"
    proc = subprocess.run([sys.executable, "-m", "portway", "compile", "--target", "argo", "--kind", "CronWorkflow",
                           "--schedule", "0 3 * * *", "--param=workers=2", "--param=data_uri=s3://d/churn.csv",
                           "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cron = yaml.safe_load(out.read_text())
    assert object_errors(cron, schemas_dir) == []
    train = next(t for t in cron["spec"]["workflowSpec"]["templates"] if t["name"] == "train")
    assert train["resource"]["action"] == "create"
    assert trainjob_errors(_trainjob(train, 2), schemas_dir) == []


def test_a_setting_from_an_upstream_output_is_refused_by_name():
    """A TrainJob splices its settings in as passed; one picked out of an upstream's executor output
    (a `<name>-from` input, compile/argo/picks.py) is refused instead of arriving as that whole output."""
    from portway.pipelines.continuous_training import build_pipeline

    from portway.compile.argo import ArgoOptions, convert_ir
    from portway.compile.kfp_target import compile_kfp
    from portway.errors import ParameterError

    document, _ = convert_ir(compile_kfp(build_pipeline()), ArgoOptions(parameters={"workers": "2"}))
    train = _template(document)
    train["inputs"]["parameters"].append({"name": "max_depth-from", "default": "$.parameterValues.depth"})
    with pytest.raises(ParameterError, match="max_depth as pipeline parameters"):
        trainjob_argo.apply(document)
