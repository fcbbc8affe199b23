"""Distributed train on this machine: the TrainJob entry point as N processes on 127.0.0.1."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from portway.errors import ParameterError
from portway.steps.evaluate import evaluate_model
from portway.steps.process import process_dataset
from portway.steps.train import train_model
from portway.steps.train_distributed import DMLC_VARIABLES, WorkerEnv
from portway.steps.worker_processes import WorkerFailed
from portway.trainjob.launch import check_local_shards, worker_arguments
from portway.trainjob.local import run_local_workers, worker_environments

# Done-when of issue 13: the distributed model reaches the single-process model's test AUC within this.
AUC_TOLERANCE = 0.005


def _split(data: Path, out: Path, shards: int) -> dict:
    names = ("train", "validation", "test")
    paths = {n: str(out / (n if shards > 1 else f"{n}.parquet")) for n in names}
    profile = process_dataset(str(data), "churned", paths["train"], paths["validation"], paths["test"],
                              str(out / "profile.json"), shards=shards)
    return {**paths, "profile": profile, "profile_path": str(out / "profile.json")}


def _distributed(split: dict, model_dir: Path, workers: int, settings: dict | None = None, **kwargs) -> None:
    args = worker_arguments(split["train"], split["validation"], split["profile_path"], str(model_dir),
                            settings or {})
    run_local_workers(workers, args, connect_timeout=60, collective_timeout=30, **kwargs)


def test_three_workers_reach_the_single_process_auc_on_the_bundled_data(tmp_path):
    from portway.datasets import bundled_dataset_path

    data = Path(bundled_dataset_path())
    single, sharded = _split(data, tmp_path / "one", 1), _split(data, tmp_path / "three", 3)
    train_model(single["train"], single["validation"], single["profile"], str(tmp_path / "m1"))
    _distributed(sharded, tmp_path / "m3", workers=3)
    auc_1 = evaluate_model(str(tmp_path / "m1"), single["test"], str(tmp_path / "e1.json"))["metrics"]["auc"]
    auc_3 = evaluate_model(str(tmp_path / "m3"), sharded["test"], str(tmp_path / "e3.json"))["metrics"]["auc"]
    print(f"test AUC: 1 process {auc_1:.4f}, 3 workers {auc_3:.4f}, delta {auc_3 - auc_1:+.4f}")
    assert auc_3 >= auc_1 - AUC_TOLERANCE
    assert sorted(p.name for p in (tmp_path / "m3").iterdir()) == ["feature_schema.json", "model.json"]


class _Watch(io.TextIOBase):
    """stdout stand-in that fires `action` once when `needle` is printed (by the supervisor's pumps)."""

    def __init__(self, needle: str, action):
        self.needle, self.action, self.fired = needle, action, threading.Event()

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        if self.needle in text and not self.fired.is_set():
            self.fired.set()
            self.action()
        return len(text)


def _pid_with_task_id(task_id: int) -> int:
    """Our child worker process whose environment says DMLC_TASK_ID=<task_id>."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and f"DMLC_TASK_ID={task_id}".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no worker with DMLC_TASK_ID={task_id}")


def test_a_killed_worker_fails_the_step_naming_it_publishes_nothing_and_a_rerun_succeeds(tmp_path, monkeypatch):
    from portway.datasets.generate import generate

    data = generate(tmp_path / "data.parquet", rows=60_000, seed=5)
    split = _split(data, tmp_path / "split", 3)
    model_dir = tmp_path / "model"
    # Worker 1 is killed once it has joined the collective and started training.
    watch = _Watch("joined as rank 1", lambda: os.kill(_pid_with_task_id(1), signal.SIGKILL))
    monkeypatch.setattr(sys, "stdout", watch)
    long_run = {"num_boost_round": 5000, "early_stopping_rounds": 0}
    with pytest.raises(WorkerFailed) as failure:
        _distributed(split, model_dir, workers=3, settings=long_run)
    assert watch.fired.is_set()
    message = str(failure.value)
    assert "worker 1 of 3 (DMLC_TASK_ID=1)" in message and "was killed by SIGKILL" in message, message
    assert failure.value.exit_code == 1  # a failed step, retried (not bad input)
    assert not model_dir.exists()  # rank 0 publishes only after the last round

    monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    _distributed(split, model_dir, workers=3, settings={"num_boost_round": 20})
    assert (model_dir / "model.json").is_file()


def test_worker_env_is_read_exactly_as_the_runtime_injects_it():
    env = WorkerEnv.from_environ({"DMLC_TRACKER_URI": "job-node-0-0.job", "DMLC_TRACKER_PORT": "29400",
                                  "DMLC_TASK_ID": "2", "DMLC_NUM_WORKER": "4"})
    assert env == WorkerEnv("job-node-0-0.job", 29400, 2, 4)
    with pytest.raises(ParameterError, match="needs DMLC_TRACKER_PORT, DMLC_TASK_ID"):
        WorkerEnv.from_environ({"DMLC_TRACKER_URI": "x", "DMLC_NUM_WORKER": "2"})
    with pytest.raises(ParameterError, match=r"DMLC_TASK_ID='3' is not a whole number 0..2"):
        WorkerEnv.from_environ({"DMLC_TRACKER_URI": "x", "DMLC_TRACKER_PORT": "1", "DMLC_TASK_ID": "3",
                                "DMLC_NUM_WORKER": "3"})


def test_local_nodes_get_the_runtimes_variables():
    """One worker per node on CPU, one per GPU: DMLC_NUM_WORKER = nodes x max(gpus, 1)."""
    envs = worker_environments(nodes=3, gpus=2, port=4242, base={})
    assert [{k: e[k] for k in DMLC_VARIABLES} for e in envs] == [
        {"DMLC_TRACKER_URI": "127.0.0.1", "DMLC_TRACKER_PORT": "4242", "DMLC_TASK_ID": str(i), "DMLC_NUM_WORKER": "6"}
        for i in range(3)]


def test_train_refuses_splits_made_for_another_worker_count(tmp_path, processed):
    with pytest.raises(ParameterError, match="is one file; with workers=3 `process` must write 3 shards"):
        check_local_shards(processed["train"], 3, "train")
    split = _split(Path(processed["profile"]["source"]["uri"]), tmp_path, 2)
    with pytest.raises(ParameterError, match="lacks part-00002.parquet: it was split for another number"):
        check_local_shards(split["train"], 3, "train")


def test_a_node_with_two_gpus_runs_two_workers_on_halves_of_its_shard(tmp_path, capsys):
    """One worker per GPU (the runtime's rule): 2 nodes x 2 GPUs = 4 ranks, each on every 2nd row of
    its node's shard. Without CUDA here every worker falls back to CPU and says so."""
    from portway.datasets import bundled_dataset_path

    split = _split(Path(bundled_dataset_path()), tmp_path / "split", 2)
    _distributed(split, tmp_path / "model", workers=2, settings={"num_boost_round": 10}, gpus=2)
    out = capsys.readouterr().out
    for rank in range(4):
        assert f"worker {rank} of 4" in out and f"joined as rank {rank}" in out
    assert "GPU(s) requested but no CUDA device" in out
    assert (tmp_path / "model" / "model.json").is_file()


def test_workers_die_with_a_killed_supervisor(tmp_path):
    """A step process killed outright (SIGKILL, no cleanup) leaves no worker training on, orphaned."""
    import subprocess
    import time

    from portway.datasets.generate import generate

    split = _split(generate(tmp_path / "data.parquet", rows=30_000, seed=9), tmp_path / "split", 2)
    args = worker_arguments(split["train"], split["validation"], split["profile_path"], str(tmp_path / "model"),
                            {"num_boost_round": 5000, "early_stopping_rounds": 0})
    supervisor = subprocess.Popen([sys.executable, "-c", "import sys; from portway.trainjob.local import "
                                   "run_local_workers; run_local_workers(2, sys.argv[1:])", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in supervisor.stdout:  # both workers are training
        if "joined as rank 1" in line:
            break
    workers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == supervisor.pid]
    assert len(workers) == 2
    supervisor.kill()
    supervisor.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its supervisor"
        time.sleep(0.1)
    assert not (tmp_path / "model").exists()


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"
