"""The compiled workflow with workers=3, run end to end by the local Argo engine (tests/argo_engine):
process and evaluate as pods, train as Argo's resource step creating a TrainJob, which the fake
Trainer controller runs as 3 local worker processes of the same entry point, against S3 on loopback."""

from __future__ import annotations

import uuid

import boto3
import pytest
from argo_engine import ArgoEngine, ImageEnvironment
from conftest import REPO_ROOT, TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

from portway.compile.argo import ArgoOptions, convert_ir
from portway.compile.pipelines import load_ir
from portway.registry import ModelRegistry
from portway.trainjob.argo import apply

from .fake_trainer import TRAINJOB_KIND, FakeTrainer

pytestmark = pytest.mark.local
CREDENTIALS = "s3-credentials"
PROJECT_IMAGE = ImageEnvironment([str(REPO_ROOT / ".venv" / "bin"), str(REPO_ROOT / "src"),
                                  str(REPO_ROOT / "components"), str(REPO_ROOT / "pipelines")])


def test_workers_3_workflow_trains_through_a_trainjob_and_registers_workers(s3_env, churn_csv, schemas_dir,
                                                                            tmp_path):
    bucket = f"portway-tj-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(churn_csv), bucket, "data/churn.csv")
    document, _ = convert_ir(load_ir("continuous-training"), ArgoOptions(
        artifact_root=f"s3://{bucket}/artifacts", s3_endpoint=s3_env, s3_secret=CREDENTIALS,
        parameters={"workers": "3"}))
    workflow = apply(document)
    trainer = FakeTrainer(schemas_dir, tmp_path)
    engine = ArgoEngine(
        tmp_path / "argo", lambda ref: PROJECT_IMAGE,
        artifact_repository={"s3": {"bucket": bucket, "endpoint": s3_env.split("://", 1)[1], "insecure": True,
                                    "accessKeySecret": {"name": CREDENTIALS, "key": "AWS_ACCESS_KEY_ID"},
                                    "secretKeySecret": {"name": CREDENTIALS, "key": "AWS_SECRET_ACCESS_KEY"}}},
        secrets={CREDENTIALS: {"AWS_ACCESS_KEY_ID": TEST_AWS_ACCESS_KEY_ID,
                               "AWS_SECRET_ACCESS_KEY": TEST_AWS_SECRET_ACCESS_KEY}},
        resource_controllers={TRAINJOB_KIND: trainer})
    try:
        run = engine.run(workflow, {"data_uri": f"s3://{bucket}/data/churn.csv",
                                    "registry_root": f"s3://{bucket}/registry", "num_boost_round": "40"})
        jobs = list(trainer.jobs.values())
    finally:
        trainer.close()
    failed = [f"{n.display_name}: {n.message} {n.log[-1500:]}" for n in run.nodes if n.phase in ("Failed", "Error")]
    assert run.phase == "Succeeded", failed
    (job,) = jobs
    assert job["spec"]["trainer"]["numNodes"] == 3
    assert [c["type"] for c in job["status"]["conditions"]] == ["Created", "Complete"]
    record = ModelRegistry(f"s3://{bucket}/registry").get("churn", 1)
    assert record["lineage"]["parameters"]["workers"] == 3
    assert record["lineage"]["parameters"]["num_boost_round"] == 40
