"""The fake Trainer controller itself: it refuses what Trainer's admission refuses, and it injects
the DMLC_* variables as the XGBoost plugin does."""

from __future__ import annotations

import json

import pytest

from portway.trainjob.render import render_trainjob

from .fake_trainer import AdmissionDenied, FakeTrainer

ECHO = ["python", "-c", "import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
        "if k.startswith('DMLC_')}))"]


def _job(**changes) -> dict:
    job = render_trainjob(name="echo-job", num_nodes=3, image="img:1", args=[], requests={"cpu": "1"},
                          limits={"cpu": "1", "nvidia.com/gpu": "2"})
    job["spec"]["trainer"]["command"] = ECHO
    for key, value in changes.items():
        job["spec"]["trainer"][key] = value
    return job


def test_admission_refuses_what_trainer_refuses(schemas_dir, tmp_path):
    trainer = FakeTrainer(schemas_dir, tmp_path)
    with pytest.raises(AdmissionDenied, match="reserved for the XGBoost runtime"):
        trainer("create", _job(env=[{"name": "DMLC_TASK_ID", "value": "0"}]))
    unknown = _job()
    unknown["spec"]["runtimeRef"]["name"] = "xgboost-single"
    with pytest.raises(AdmissionDenied, match="runtime xgboost-single does not exist"):
        trainer("create", unknown)
    with pytest.raises(AdmissionDenied, match="numNodes"):
        trainer("create", _job(numNodes="three"))


def test_pods_get_the_xgboost_plugins_variables_and_the_job_completes(schemas_dir, tmp_path):
    trainer = FakeTrainer(schemas_dir, tmp_path)
    job = trainer("create", _job())
    assert [c["type"] for c in job["status"]["conditions"]] == ["Created"]
    for proc in trainer.processes["echo-job"]:
        proc.wait(timeout=60)
    job = trainer("get", job)
    assert [c["type"] for c in job["status"]["conditions"]] == ["Created", "Complete"]
    assert job["status"]["jobsStatus"][0]["succeeded"] == 1
    seen = [json.loads((tmp_path / f"echo-job-node-0-{i}.log").read_text()) for i in range(3)]
    assert [s["DMLC_TASK_ID"] for s in seen] == ["0", "1", "2"]
    assert {s["DMLC_NUM_WORKER"] for s in seen} == {"6"}  # 3 nodes x 2 GPUs: one worker per GPU
    trainer.close()
