"""`portway runs` on local runs: real `portway run` processes, listed, followed, read and stopped (issue 14:
"locally there is no list of past runs either")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portway import exitcodes
from portway.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def start_run(churn_csv, runs: Path, run_id: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PORTWAY_REGISTRY"}
    return subprocess.Popen([sys.executable, "-m", "portway", "run", "--data", str(churn_csv), "--runs-dir", str(runs),
                             "--run-id", run_id, "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)


def wait_for(predicate, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.mark.local
def test_list_show_logs_watch_and_stop_real_runs(churn_csv, tmp_path, capsys):
    runs = tmp_path / "runs"
    first = start_run(churn_csv, runs, "20260101-000000-aaaa")
    wait_for(lambda: (runs / "20260101-000000-aaaa" / "pipeline.log").exists())
    # followed while it works: each step's status as it changes, then exit 0
    code, out, _ = run(capsys, "runs", "watch", "20260101-000000-aaaa", "--runs-dir", str(runs),
                       "--poll-seconds", "0.2")
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert code == 0
    for step in ("process", "train", "evaluate", "register"):
        assert f"  {step}: SUCCEEDED" in out

    second = start_run(churn_csv, runs, "20260101-000001-bbbb")
    try:
        wait_for(lambda: "Executing task 'train'" in _text(runs / "20260101-000001-bbbb" / "pipeline.log"))
        code, out, _ = run(capsys, "runs", "list", "--runs-dir", str(runs), "--json")
        listed = {r["id"]: r for r in json.loads(out)["runs"]}
        assert code == 0 and [r for r in listed] == ["20260101-000001-bbbb", "20260101-000000-aaaa"]
        assert listed["20260101-000001-bbbb"]["status"] == "RUNNING"
        assert listed["20260101-000001-bbbb"]["native_status"] == f"running (pid {second.pid})"
        assert listed["20260101-000000-aaaa"]["status"] == "SUCCEEDED"
        code, out, _ = run(capsys, "runs", "stop", "20260101-000001-bbbb", "--runs-dir", str(runs))
        assert code == 0 and f"stopping run 20260101-000001-bbbb (pid {second.pid})" in out
        assert "run 20260101-000001-bbbb: INTERRUPTED" in out
        second.wait(timeout=60)  # (its exit status went to psutil's wait in `runs stop`: this test is the parent)
        assert "interrupted: stopped before completion" in second.stderr.read()
    finally:
        if second.poll() is None:
            second.kill()

    code, out, _ = run(capsys, "runs", "list", "--runs-dir", str(runs))
    rows = [line.split()[:2] for line in out.splitlines()]
    assert rows == [["run", "status"], ["20260101-000001-bbbb", "CANCELED"], ["20260101-000000-aaaa", "SUCCEEDED"]]
    code, out, _ = run(capsys, "runs", "show", "20260101-000000-aaaa", "--runs-dir", str(runs), "--json")
    shown = json.loads(out)
    summary = json.loads((runs / "20260101-000000-aaaa" / "summary.json").read_text())
    assert [(s["name"], s["seconds"]) for s in shown["steps"]] == [(s["name"], s["seconds"]) for s in summary["steps"]]
    assert shown["details"]["registered"] == "churn:1" and shown["seconds"] == summary["seconds"]
    code, out, _ = run(capsys, "runs", "logs", "20260101-000000-aaaa", "--runs-dir", str(runs))
    assert code == 0 and "Executing task 'register'" in out and "\x1b[" not in out
    code, _, err = run(capsys, "runs", "watch", "20260101-000001-bbbb", "--runs-dir", str(runs))
    assert code == exitcodes.FAILED and "INTERRUPTED" in err
    code, out, _ = run(capsys, "runs", "stop", "20260101-000000-aaaa", "--runs-dir", str(runs))
    assert code == 0 and "is not running (SUCCEEDED); nothing to stop" in out


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_run_killed_without_a_summary_and_unknown_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    folder = runs / "20260102-000000-cccc"
    folder.mkdir(parents=True)
    (folder / "pipeline.log").write_text("00:00:00.000 - INFO - Executing task 'process'\n")
    code, out, _ = run(capsys, "runs", "show", "20260102-000000-cccc", "--runs-dir", str(runs))
    assert code == 0 and "UNKNOWN" in out and "killed or crashed" in out
    assert out.splitlines()[-1].split() == ["process", "RUNNING", "0.0s"]
    code, _, err = run(capsys, "runs", "watch", "20260102-000000-cccc", "--runs-dir", str(runs))
    assert code == exitcodes.FAILED and "killed or crashed" in err
    code, _, err = run(capsys, "runs", "show", "nosuch", "--runs-dir", str(runs))
    assert code == exitcodes.BAD_INPUT and "No run 'nosuch'" in err and "20260102-000000-cccc" in err
    code, _, err = run(capsys, "runs", "list", "--runs-dir", str(tmp_path / "typo"))
    assert code == exitcodes.BAD_INPUT and "No runs folder at" in err


@pytest.mark.local
def test_stop_a_run_that_ignores_sigint(churn_csv, tmp_path, capsys):
    """A run started in the background without job control ignores SIGINT: stop ends its steps and it."""
    import signal

    import psutil

    runs = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if k != "PORTWAY_REGISTRY"}
    process = subprocess.Popen([sys.executable, "-m", "portway", "run", "--data", str(churn_csv), "--runs-dir",
                                str(runs), "--run-id", "20260103-000000-dddd", "--no-cache"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        wait_for(lambda: "Executing task 'train'" in _text(runs / "20260103-000000-dddd" / "pipeline.log"))
        steps = psutil.Process(process.pid).children(recursive=True)
        assert steps  # the train step's subprocess
        code, out, _ = run(capsys, "runs", "stop", "20260103-000000-dddd", "--runs-dir", str(runs))
        assert code == 0 and "ignores SIGINT (started in the background)" in out
        assert "run 20260103-000000-dddd: no summary" in out
        assert not [p for p in steps if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    code, out, _ = run(capsys, "runs", "list", "--runs-dir", str(runs))
    assert out.splitlines()[1].split()[:2] == ["20260103-000000-dddd", "UNKNOWN"]
