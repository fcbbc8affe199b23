"""`portway run` against an S3 that misbehaves: data and registry on S3 behind the fault proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults.conftest import TRAINING_ARGS, direct_client
from faults.s3_fault_proxy import FaultPlan
from portway.cli import main
from portway.registry import ModelRegistry

pytestmark = [pytest.mark.local, pytest.mark.timeout(300)]

# About one request in five faulted (errors, dropped connections, lost answers), the others
# delayed up to 200 ms. Steps run as subprocesses and reach S3 through the proxy as well.
FLAKY_S3 = FaultPlan(error_share=0.08, drop_share=0.04, lost_answer_share=0.08, max_delay_seconds=0.2,
                     max_faults_in_a_row=3, seed=20)


def last_summary(runs: Path) -> dict:
    paths = sorted(runs.glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(paths[-1].read_text())


def test_a_run_on_flaky_s3_gets_the_fault_free_result_and_a_persistent_fault_names_object_and_error(
        s3_server, fault_proxy, bucket, churn_csv, reference_run, tmp_path, monkeypatch, capsys):
    direct_client(s3_server).upload_file(str(churn_csv), bucket, "data/churn.csv")
    reference = reference_run

    fault_proxy.set_plan(FLAKY_S3)
    registry_root = f"s3://{bucket}/registry"
    command = ["run", "--data", f"s3://{bucket}/data/churn.csv", "--registry", registry_root,
               "--runs-dir", str(tmp_path / "runs"), *TRAINING_ARGS]
    assert main(command) == 0, capsys.readouterr().err
    flaky = last_summary(tmp_path / "runs")
    assert fault_proxy.stats.faults() > 0, fault_proxy.stats.outcomes
    assert flaky["metrics"] == pytest.approx(reference["metrics"], rel=1e-9)
    assert flaky["registration"]["version"] == 1
    fault_proxy.set_plan(FaultPlan())
    registry = ModelRegistry(registry_root)
    assert registry.versions("churn") == [1]
    assert registry.get("churn", 1)["metrics"] == pytest.approx(reference["metrics"], rel=1e-9)

    # Now the registry's artifact uploads fail on every attempt: the register step fails and
    # says which object and which error; nothing is registered.
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
    fault_proxy.set_plan(FaultPlan(error_share=1.0, error_codes=("SlowDown",), max_faults_in_a_row=None,
                                   path_prefix=f"/{bucket}/registry/groups/churn/artifacts/"))
    capsys.readouterr()
    assert main([*command, "--approval-status", "Approved"]) == 1
    error = capsys.readouterr().err
    assert "step 'register' failed" in error, error
    assert f"s3://{bucket}/registry/groups/churn/artifacts/" in error and "SlowDown" in error, error
    assert "(reached max retries: 1)" in error, error
    steps = {s["name"]: s for s in last_summary(tmp_path / "runs")["steps"]}
    assert all(steps[name]["cached"] for name in ("process", "train", "evaluate"))
    fault_proxy.set_plan(FaultPlan())
    assert registry.versions("churn") == [1]
