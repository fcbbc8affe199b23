"""`portway run --workers 3`: the whole pipeline with 3 local XGBoost workers (kfp.local).

One run (to keep the suite short) shows all of it: worker 1 is killed during train, so that
attempt fails naming it and publishes nothing; the step's retry trains, exactly one version is
registered, its lineage records workers=3, and its test AUC is the single-process model's.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

from .test_local_workers import AUC_TOLERANCE

pytestmark = pytest.mark.local


def _worker_pids(task_id: int, marker: str) -> list[int]:
    """Our live entry-point processes whose environment says DMLC_TASK_ID=<task_id>."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (b"portway.steps.train_distributed" in cmdline and f"DMLC_TASK_ID={task_id}".encode() in environ
                and f"PORTWAY_TEST_MARKER={marker}".encode() in environ):
            pids.append(int(entry.name))
    return pids


def _single_process_auc(tmp_path: Path) -> float:
    """The same data, split and settings in one process (the pipeline's defaults)."""
    from portway.datasets import bundled_dataset_path
    from portway.steps.evaluate import evaluate_model
    from portway.steps.process import process_dataset
    from portway.steps.train import train_model

    out = tmp_path / "single"
    paths = {n: str(out / f"{n}.parquet") for n in ("train", "validation", "test")}
    profile = process_dataset(bundled_dataset_path(), "churned", paths["train"], paths["validation"], paths["test"],
                              str(out / "profile.json"))
    train_model(paths["train"], paths["validation"], profile, str(out / "model"))
    return evaluate_model(str(out / "model"), paths["test"], str(out / "e.json"))["metrics"]["auc"]


def test_run_with_three_workers_survives_a_killed_worker_and_registers_workers_at_the_single_auc(
        tmp_path, monkeypatch, capsys):
    marker = tmp_path.name
    monkeypatch.setenv("PORTWAY_TEST_MARKER", marker)  # the workers inherit it: only ours are killed
    killed = threading.Event()

    def kill_worker_1_once():
        deadline = time.monotonic() + 300
        while not killed.is_set() and time.monotonic() < deadline:
            for pid in _worker_pids(1, marker):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
                except OSError:
                    pass
            time.sleep(0.05)

    killer = threading.Thread(target=kill_worker_1_once, daemon=True)
    killer.start()
    assert main(["run", "--runs-dir", str(tmp_path / "runs"), "--workers", "3"]) == 0
    killer.join(timeout=5)
    assert killed.is_set()
    assert "--workers 3" in capsys.readouterr().out  # the reproduce line keeps it

    (summary_path,) = (tmp_path / "runs").glob("*/summary.json")
    train = next(s for s in json.loads(summary_path.read_text())["steps"] if s["name"] == "train")
    assert train["status"] == "SUCCESS" and train["attempts"] == 2, train
    log = (summary_path.parent / "pipeline.log").read_text()
    assert "worker 1 of 3 (DMLC_TASK_ID=1)" in log and "was killed by SIGKILL" in log

    registry = ModelRegistry(str(tmp_path / "runs" / "registry"))
    (group,) = registry.groups()
    assert registry.versions(group) == [1]
    record = registry.get(group, 1)
    assert record["lineage"]["parameters"]["workers"] == 3
    assert Path(record["artifact_uri"], "model.json").is_file()
    train_dirs = list((tmp_path / "runs").glob("*/artifacts/**/process/train_data"))
    assert train_dirs and sorted(p.name for p in train_dirs[0].iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    single = _single_process_auc(tmp_path)
    assert record["metrics"]["auc"] >= single - AUC_TOLERANCE, (record["metrics"]["auc"], single)
