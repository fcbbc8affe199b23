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
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from faults.conftest import TRAINING_ARGS
from portway.cli import main
from portway.embedded.timeline import parse_timeline

pytestmark = [pytest.mark.local, pytest.mark.timeout(180)]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STEP_START_TIMEOUT_SECONDS = 90
EXIT_TIMEOUT_SECONDS = 15


def start_run(runs: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "portway", "run", "--data", str(data), "--runs-dir", str(runs), *TRAINING_ARGS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_for_log_line(runs: Path, process: subprocess.Popen, pattern: str, earlier: set[Path]) -> Path:
    """The new run's folder (not one of `earlier`), once its log shows `pattern` (kfp colours
    task names: ANSI is stripped)."""
    deadline = time.monotonic() + STEP_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for log in runs.glob("*/pipeline.log"):
            if log.parent in earlier:
                continue
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


@dataclass
class Interrupted:
    run_dir: Path
    returncode: int
    stderr: str

    def steps(self) -> list[tuple[str, str, bool]]:
        log = (self.run_dir / "pipeline.log").read_text(errors="replace")
        return [(s.name, s.status, s.cached) for s in parse_timeline(log)]


def interrupt_during_train(runs: Path, data: Path, how: str) -> Interrupted:
    """Start `portway run`, deliver `how` once the train step runs, and wait (bounded) for the exit."""
    earlier = set(runs.glob("*"))
    process = start_run(runs, data)
    run_dir = wait_for_log_line(runs, process, r"Executing task 'train'", earlier)
    time.sleep(0.5)  # into the step's own work, past its interpreter start
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends: every process of the group
    elif how == "sigint-to-portway-only":
        os.kill(process.pid, signal.SIGINT)  # the step must then be stopped by portway itself
    else:
        os.killpg(process.pid, signal.SIGKILL)  # no chance to clean up at all
    try:
        _, stderr = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"portway run did not exit within {EXIT_TIMEOUT_SECONDS}s of {how}")
    assert_no_orphans(process.pid)
    return Interrupted(run_dir, process.returncode, stderr)


def assert_interrupted_cleanly(run: Interrupted) -> None:
    assert run.returncode == 130, run.stderr
    assert "interrupted" in run.stderr and "rerun the same command to resume from cache" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert json.loads((run.run_dir / "summary.json").read_text())["status"] == "INTERRUPTED"


def test_interrupted_and_killed_runs_stop_promptly_leave_no_orphans_and_the_same_command_resumes(
        tmp_path, churn_csv, reference_run):
    runs = tmp_path / "runs"

    first = interrupt_during_train(runs, churn_csv, "ctrl-c")
    assert_interrupted_cleanly(first)
    assert first.steps()[:2] == [("process", "SUCCESS", False), ("train", "RUNNING", False)]

    # The same command again reuses the first run's finished process step.
    second = interrupt_during_train(runs, churn_csv, "sigint-to-portway-only")
    assert_interrupted_cleanly(second)
    assert second.steps()[:2] == [("process", "SUCCESS", True), ("train", "RUNNING", False)]

    third = interrupt_during_train(runs, churn_csv, "sigkill")
    assert third.returncode == -signal.SIGKILL
    assert third.steps()[:2] == [("process", "SUCCESS", True), ("train", "RUNNING", False)]
    assert not (third.run_dir / "summary.json").exists()
    for run in (first, second, third):
        assert not list(run.run_dir.glob("artifacts/**/model/model.json"))  # no model from a stopped train

    resumed = rerun(runs, churn_csv)
    steps = {s["name"]: s["cached"] for s in resumed["steps"]}
    assert steps.pop("process") is True and not any(steps.values()), steps
    assert resumed["registration"]["version"] == 1
    assert resumed["metrics"] == pytest.approx(reference_run["metrics"], rel=1e-9)
