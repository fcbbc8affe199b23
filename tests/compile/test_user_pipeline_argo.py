"""A user's own pipeline file (bundled components and one of its own) through `portway compile --target argo`
and the local Argo engine: it registers through the same gate as under `portway run`.

The pipeline is tests/local/user_pipeline.py, copied into a temporary folder and named as `file.py:training`,
as a new user would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portway.cli import main as portway
from portway.registry import ModelRegistry

from .test_argo_workflow_local import CREDENTIALS, churn_bucket, engine_for, phases

pytestmark = pytest.mark.local
USER_PIPELINE = Path(__file__).parents[1] / "local" / "user_pipeline.py"


@pytest.fixture
def s3(s3_server, churn_csv, monkeypatch):
    return churn_bucket(monkeypatch, s3_server, churn_csv, "portway-user")


def compile_user_pipeline(tmp_path: Path, monkeypatch, s3: dict, *extra: str) -> dict:
    import yaml

    shutil.copy(USER_PIPELINE, tmp_path / "my_pipes.py")
    monkeypatch.chdir(tmp_path)
    code = portway(["compile", "my_pipes.py:training", "--target", "argo", "-o", "build/training.argo.yaml",
                    "--artifact-root", f"s3://{s3['bucket']}/artifacts", "--s3-endpoint", s3["endpoint"],
                    "--s3-secret", CREDENTIALS, *extra])
    assert code == 0
    return yaml.safe_load((tmp_path / "build" / "training.argo.yaml").read_text())


def test_user_pipeline_file_compiles_and_registers_through_the_gate(tmp_path, monkeypatch, s3):
    workflow = compile_user_pipeline(tmp_path, monkeypatch, s3)
    registry = f"s3://{s3['bucket']}/registry"
    run = engine_for(tmp_path / "argo", s3["endpoint"], s3["bucket"]).run(
        workflow, {"data_uri": s3["data_uri"], "registry_root": registry})
    assert run.phase == "Succeeded", [n.log[-2000:] for n in run.nodes if n.phase in ("Failed", "Error")]
    steps = phases(run)
    assert steps["gate-rule"] == steps["register"] == "Succeeded" and steps["gate-failed"] == "Skipped", steps
    record = ModelRegistry(registry).get("user-model", 1)
    assert record["approval_status"] == "PendingManualApproval"
    assert record["lineage"]["pipeline"] == "user-training"
    # The user's own step decided one of the gate's rules.
    checks = record["lineage"]["gate"]["checks"]
    assert any(check["rule"] == "auc>=0.75" for check in checks), checks


def test_user_pipeline_gate_refuses_through_the_users_own_rule(tmp_path, monkeypatch, s3):
    workflow = compile_user_pipeline(tmp_path, monkeypatch, s3)
    registry = f"s3://{s3['bucket']}/registry-strict"
    run = engine_for(tmp_path / "argo", s3["endpoint"], s3["bucket"]).run(
        workflow, {"data_uri": s3["data_uri"], "registry_root": registry, "min_auc": "0.999"})
    assert run.phase == "Succeeded", [n.log[-2000:] for n in run.nodes if n.phase in ("Failed", "Error")]
    steps = phases(run)
    assert steps["register"] == "Skipped" and steps["gate-failed"] == "Succeeded", steps
    assert ModelRegistry(registry).groups() == []
