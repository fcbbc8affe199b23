"""`portway run` interrupted (Ctrl-C) or killed (SIGKILL) during a step, then run again.

The run is a real `python -m portway run` in its own process group, so a signal to the
group is what a terminal's Ctrl-C sends; the rerun must reuse the finished steps from cache.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from faults.conftest import TRAINING_ARGS
from portway.cli import main

pytestmark = [pytest.mark.local, pytest.mark.timeout(180)]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STEP_START_TIMEOUT_SECONDS = 90
EXIT_TIMEOUT_SECONDS = 15


def start_run(runs: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "portway", "run", "--data", str(data), "--runs-dir", str(runs), *TRAINING_ARGS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_for_log_line(runs: Path, process: subprocess.Popen, pattern: str) -> Path:
    """The run's folder, once its log shows `pattern` (kfp colours task names: ANSI is stripped)."""
    deadline = time.monotonic() + STEP_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for log in runs.glob("*/pipeline.log"):
            if re.search(pattern, _ANSI.sub("", log.read_text(errors="replace"))):
                return log.parent
        assert process.poll() is None, f"the run ended before {pattern!r}: {process.communicate()}"
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"no {pattern!r} in the run log within {STEP_START_TIMEOUT_SECONDS}s")


def group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def assert_no_orphans(pgid: int) -> None:
    deadline = time.monotonic() + 5
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, [(p.pid, p.cmdline()) for p in left]


def rerun(runs: Path, data: Path) -> dict:
    """The same command again, in this process; returns its summary."""
    before = set(runs.glob("*/summary.json"))
    assert main(["run", "--data", str(data), "--runs-dir", str(runs), *TRAINING_ARGS]) == 0
    (summary,) = set(runs.glob("*/summary.json")) - before
    return json.loads(summary.read_text())


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c-to-the-process-group", "sigint-to-portway-only"])
def test_ctrl_c_during_a_step_exits_promptly_leaves_no_orphans_and_the_rerun_resumes(
        tmp_path, churn_csv, reference_run, to_group):
    runs = tmp_path / "runs"
    process = start_run(runs, churn_csv)
    run_dir = wait_for_log_line(runs, process, r"Executing task 'train'")
    time.sleep(0.5)  # into the step's own work, past its interpreter start

    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"portway run did not exit within {EXIT_TIMEOUT_SECONDS}s of SIGINT")
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "rerun the same command to resume from cache" in stderr, stderr
    assert "Traceback" not in stderr
    assert_no_orphans(process.pid)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "INTERRUPTED"
    assert [(s["name"], s["status"]) for s in summary["steps"]][:2] == [("process", "SUCCESS"), ("train", "RUNNING")]

    resumed = rerun(runs, churn_csv)
    steps = {s["name"]: s["cached"] for s in resumed["steps"]}
    assert steps["process"] is True and steps["train"] is False, steps
    assert resumed["metrics"] == pytest.approx(reference_run["metrics"], rel=1e-9)


def test_a_run_killed_during_a_step_leaves_no_partial_model_and_the_rerun_resumes(tmp_path, churn_csv, reference_run):
    runs = tmp_path / "runs"
    process = start_run(runs, churn_csv)
    run_dir = wait_for_log_line(runs, process, r"Executing task 'train'")
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)  # the whole group: the runner and the step die unwarned
    process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    assert_no_orphans(process.pid)
    assert not list(run_dir.glob("artifacts/**/model/model.json"))
    assert not (run_dir / "summary.json").exists()

    resumed = rerun(runs, churn_csv)
    steps = {s["name"]: s["cached"] for s in resumed["steps"]}
    assert steps.pop("process") is True and not any(steps.values()), steps
    assert resumed["registration"]["version"] == 1
    assert resumed["metrics"] == pytest.approx(reference_run["metrics"], rel=1e-9)
