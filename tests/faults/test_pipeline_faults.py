"""`portway run` against an S3 that misbehaves: data and registry on S3 behind the fault proxy."""

from __future__ import annotations

import pytest

from portway.registry import ModelRegistry

pytestmark = [pytest.mark.local, pytest.mark.timeout(300)]


def test_a_run_on_flaky_s3_gets_the_fault_free_result(s3_runs, reference_run, s3_env):
    assert s3_runs.flaky.exit_code == 0, s3_runs.flaky.stderr
    outcomes = s3_runs.fault_outcomes  # the seeded plan hits this run with every kind of fault
    assert {"error:SlowDown", "error:InternalError", "drop", "lost_answer"} <= set(outcomes), outcomes
    assert s3_runs.flaky_summary["metrics"] == pytest.approx(reference_run["metrics"], rel=1e-9)
    assert s3_runs.flaky_summary["registration"]["version"] == 1
    record = ModelRegistry(s3_runs.registry_root).get("churn", 1)
    assert record["metrics"] == pytest.approx(reference_run["metrics"], rel=1e-9)


def test_a_fault_past_the_retry_budget_fails_the_step_naming_the_object_and_the_last_error(s3_runs, s3_env):
    failed = s3_runs.failed
    assert failed.exit_code == 1
    assert "step 'register' failed" in failed.stderr, failed.stderr
    assert f"s3://{s3_runs.bucket}/registry/groups/churn/artifacts/" in failed.stderr, failed.stderr
    assert "SlowDown" in failed.stderr and "(reached max retries: 1)" in failed.stderr, failed.stderr
    steps = {s["name"]: s for s in s3_runs.failed_summary["steps"]}
    assert s3_runs.failed_summary["status"] == "FAILED"
    assert all(steps[name]["cached"] for name in ("process", "train", "evaluate")), steps
    assert ModelRegistry(s3_runs.registry_root).versions("churn") == [1]  # nothing registered twice or half
