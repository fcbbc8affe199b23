"""Distributed train: the one entry point every XGBoost worker runs, on a cluster or here.

    python -m portway.steps.train_distributed --train-data URI --validation-data URI \
        --profile URI --model URI [--params JSON] [--gpus G]

The rendezvous comes from the environment, exactly as Kubeflow Trainer v2.3.0's
`xgboost-distributed` runtime injects it into every node (kubeflow/trainer
pkg/runtime/framework/plugins/xgboost/xgboost.go, EnforceMLPolicy):

    DMLC_TRACKER_URI   DNS name of node 0 (`<trainjob>-node-0-0.<trainjob>`)
    DMLC_TRACKER_PORT  the trainer port of the runtime
    DMLC_TASK_ID       the node's index (the Job completion index)
    DMLC_NUM_WORKER    numNodes x workers per node (one per GPU; one per node on CPU)

`portway.trainjob.local` sets the same four variables for N processes on 127.0.0.1.

Node 0 starts XGBoost's RabitTracker; every worker joins the collective
(`xgboost.collective.CommunicatorContext`), builds a QuantileDMatrix from its own shard of the
train and validation splits (the quantile sketch and the evaluation metric are all-reduced, so
early stopping sees the whole validation split), and trains. The collective's rank 0 alone
writes `model.json` and `feature_schema.json`, after the last round, so a failed run publishes
nothing. A node with G > 1 GPUs runs G worker processes, one per GPU (ranks node*G .. node*G+G-1),
each on every G-th row of the node's shard.

Every wait is bounded: the tracker waits `connect_timeout` for all workers to join, a collective
operation waits `collective_timeout` for its peers, so a dead worker makes the others fail with
an error instead of hanging.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from portway.errors import ParameterError
from portway.steps.worker_processes import WorkerFailed

# The variables the xgboost-distributed runtime injects (kubeflow/trainer pkg/constants/constants.go,
# XGBoostEnvTrackerURI, XGBoostEnvTrackerPort, XGBoostEnvTaskID, XGBoostEnvNumWorker).
ENV_TRACKER_URI = "DMLC_TRACKER_URI"
ENV_TRACKER_PORT = "DMLC_TRACKER_PORT"
ENV_TASK_ID = "DMLC_TASK_ID"
ENV_NUM_WORKER = "DMLC_NUM_WORKER"
DMLC_VARIABLES = (ENV_TRACKER_URI, ENV_TRACKER_PORT, ENV_TASK_ID, ENV_NUM_WORKER)

# Pods of one TrainJob may start minutes apart (image pulls, a GPU node being provisioned).
DEFAULT_CONNECT_TIMEOUT = 900
# A collective operation (an all-reduce of one round's histograms) waiting for a peer.
DEFAULT_COLLECTIVE_TIMEOUT = 600
RECORD_FILE = "training-record.json"


@dataclass(frozen=True)
class WorkerEnv:
    tracker_uri: str
    tracker_port: int
    task_id: int
    num_workers: int

    @classmethod
    def from_environ(cls, environ=None) -> WorkerEnv:
        environ = os.environ if environ is None else environ
        missing = [name for name in DMLC_VARIABLES if not environ.get(name, "").strip()]
        if missing:
            raise ParameterError(
                f"distributed train needs {', '.join(missing)} in its environment (set by Kubeflow Trainer's "
                "xgboost-distributed runtime, or by `portway run --workers N`)."
            )

        def integer(name: str, low: int, high: int | None = None) -> int:
            raw = environ[name].strip()
            try:
                value = int(raw)
            except ValueError:
                value = None
            if value is None or value < low or (high is not None and value > high):
                bound = f"{low}..{high}" if high is not None else f"at least {low}"
                raise ParameterError(f"{name}={raw!r} is not a whole number {bound}.")
            return value

        num_workers = integer(ENV_NUM_WORKER, 1)
        return cls(
            tracker_uri=environ[ENV_TRACKER_URI].strip(),
            tracker_port=integer(ENV_TRACKER_PORT, 1, 65535),
            task_id=integer(ENV_TASK_ID, 0, num_workers - 1),
            num_workers=num_workers,
        )


def workers_per_node(num_workers: int, gpus: int) -> int:
    """Worker processes on one node: one per GPU, or one on a CPU node (the runtime's rule)."""
    per_node = max(gpus, 1)
    if num_workers % per_node:
        raise ParameterError(f"{ENV_NUM_WORKER}={num_workers} is not a multiple of the {per_node} GPUs per node.")
    return per_node


def tracker_bind_address(tracker_uri: str) -> str:
    """Listen on loopback when the workers are local processes; on every interface in a pod
    (the tracker's name resolves to the pod's own address through the JobSet's headless service)."""
    return "127.0.0.1" if tracker_uri in ("127.0.0.1", "localhost", "::1") else "0.0.0.0"


def wait_for_tracker(host: str, port: int, timeout: float, who: str) -> None:
    """Wait until the tracker accepts connections: node 0's pod may start long after the others,
    and XGBoost's own connect retries give up after a few seconds. (The tracker logs one
    "Failed to initialize worker proxy" warning per probe; it is harmless.)"""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise WorkerFailed(f"{who}: the tracker at {host}:{port} did not accept a connection within "
                                   f"{timeout:.0f}s ({exc}); did worker 0 ({ENV_TASK_ID}=0) start?") from None
            time.sleep(0.5)


# --- the data of one worker ---------------------------------------------------------------------
def _local_copy(uri: str, workdir: Path, name: str) -> Path:
    """A local path for a file `name` under `uri` (a directory or an s3:// prefix)."""
    from portway.objectstore import open_store

    if "://" not in uri:
        path = Path(uri) / name
        if not path.is_file():
            raise ParameterError(f"{path} does not exist; expected one Parquet shard per training worker "
                                 "(did `process` run with the same number of workers?).")
        return path
    target = workdir / Path(uri.rstrip("/")).name / name
    target.parent.mkdir(parents=True, exist_ok=True)
    open_store(uri).download_file(name, target)
    return target


def read_json_uri(uri: str) -> dict:
    if "://" not in uri:
        return json.loads(Path(uri).read_text())
    from portway.objectstore import open_store

    parent, _, name = uri.rstrip("/").rpartition("/")
    return json.loads(open_store(parent).get(name).data)


def load_worker_shard(split_uri: str, profile: dict, node: int, local_rank: int, per_node: int, workdir: Path):
    """(X, y) of this worker: the node's shard, every per_node-th row from local_rank."""
    from portway.steps.shards import shard_name
    from portway.steps.splits import load_split

    X, y = load_split(str(_local_copy(split_uri, workdir, shard_name(node))), profile)
    if per_node > 1:
        X, y = X[local_rank::per_node], y[local_rank::per_node]
    return X, y


# --- one worker -------------------------------------------------------------------------------------
def run_worker(
    env: WorkerEnv,
    train_uri: str,
    validation_uri: str,
    profile: dict,
    model_uri: str,
    hyperparameters: dict | None = None,
    num_boost_round: int = 300,
    early_stopping_rounds: int = 20,
    gpus: int = 0,
    seed: int = 42,
    nthread: int = 0,
    local_rank: int = 0,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    collective_timeout: int = DEFAULT_COLLECTIVE_TIMEOUT,
    record_path: str | None = None,
) -> dict | None:
    """Train as one worker of the collective. Returns the training record on rank 0, else None."""
    import xgboost as xgb
    from xgboost import collective
    from xgboost.tracker import RabitTracker

    from portway.steps.train import (
        DEFAULT_HYPERPARAMETERS,
        booster_parameters,
        choose_device,
        validate_hyperparameters,
    )

    params = {**DEFAULT_HYPERPARAMETERS, **(hyperparameters or {})}
    validate_hyperparameters(params, num_boost_round, early_stopping_rounds)
    per_node = workers_per_node(env.num_workers, gpus)
    rank = env.task_id * per_node + local_rank
    who = f"worker {rank} of {env.num_workers} ({ENV_TASK_ID}={env.task_id}, pid {os.getpid()})"
    device, device_note = choose_device(gpus)
    booster_params = booster_parameters(params, profile["classes"], device, nthread, seed)
    if device == "cuda":
        booster_params["device"] = f"cuda:{local_rank}"  # one GPU per worker process
    print(f"portway train: {who}: {device_note}", flush=True)

    tracker = None
    if rank == 0:
        tracker = RabitTracker(n_workers=env.num_workers, host_ip=tracker_bind_address(env.tracker_uri),
                               port=env.tracker_port, sortby="task", timeout=connect_timeout)
        tracker.start()
    else:
        wait_for_tracker(env.tracker_uri, env.tracker_port, connect_timeout, who)
    record = None
    try:
        with tempfile.TemporaryDirectory(prefix="portway-worker-") as tmp:
            with collective.CommunicatorContext(
                dmlc_tracker_uri=env.tracker_uri, dmlc_tracker_port=env.tracker_port,
                dmlc_task_id=f"{rank:05d}", dmlc_timeout=collective_timeout, dmlc_retry=3,
            ):
                record = _train_in_collective(
                    env, who, per_node, local_rank, train_uri, validation_uri, profile, model_uri, booster_params,
                    num_boost_round, early_stopping_rounds, device_note, Path(tmp))
        if tracker is not None:
            tracker.wait_for(connect_timeout)
    except xgb.core.XGBoostError as exc:
        detail = " ".join(str(exc).split())[:400]
        raise WorkerFailed(f"{who}: the collective failed (a peer died, or did not answer within "
                           f"{collective_timeout}s / join within {connect_timeout}s): {detail}") from None
    finally:
        if tracker is not None:
            with contextlib.suppress(xgb.core.XGBoostError):  # its peers are gone: nothing left to shut down
                tracker.free()
    if record is not None and record_path:
        write_record(record_path, record)
    print(f"portway train: {who}: done", flush=True)
    return record


def _train_in_collective(env, who, per_node, local_rank, train_uri, validation_uri, profile, model_uri,
                         booster_params, num_boost_round, early_stopping_rounds, device_note, workdir) -> dict | None:
    import numpy as np
    import xgboost as xgb
    from xgboost import collective

    from portway.steps.splits import feature_names

    names = feature_names(profile)
    X_train, y_train = load_worker_shard(train_uri, profile, env.task_id, local_rank, per_node, workdir)
    X_val, y_val = load_worker_shard(validation_uri, profile, env.task_id, local_rank, per_node, workdir)
    threads = booster_params["nthread"]
    # Inside the collective: the quantile sketch is merged across workers.
    dtrain = xgb.QuantileDMatrix(X_train, label=y_train, feature_names=names, nthread=threads)
    dval = xgb.QuantileDMatrix(X_val, label=y_val, feature_names=names, nthread=threads, ref=dtrain)
    del X_train, X_val
    print(f"portway train: {who}: joined as rank {collective.get_rank()}, training on {len(y_train)} rows", flush=True)
    booster = xgb.train(booster_params, dtrain, num_boost_round=num_boost_round, evals=[(dval, "validation")],
                        early_stopping_rounds=early_stopping_rounds or None, verbose_eval=False)
    best_iteration = getattr(booster, "best_iteration", num_boost_round - 1)
    if early_stopping_rounds:
        booster = booster[: best_iteration + 1]
    rows = collective.allreduce(np.array([len(y_train), len(y_val)], dtype=np.int64), collective.Op.SUM)
    if collective.get_rank() != 0:
        return None
    record = {
        "device": booster_params["device"].split(":")[0], "device_note": device_note, "feature_names": names,
        "parameters": {**booster_params, "num_boost_round": num_boost_round,
                       "early_stopping_rounds": early_stopping_rounds, "workers": env.num_workers},
        "best_iteration": int(best_iteration), "trees": int(booster.num_boosted_rounds()),
        "train_rows": int(rows[0]), "validation_rows": int(rows[1]), "workers": env.num_workers,
    }
    publish_model(booster, profile, model_uri, record, workdir)
    return record


def write_record(where: str, record: dict) -> None:
    """Rank 0's training record: a local file, or an object (a TrainJob's pods share no disk)."""
    if "://" not in where:
        from portway.fileio import write_json_atomic

        write_json_atomic(where, record)
        return
    from portway.objectstore import open_store

    parent, _, name = where.rpartition("/")
    open_store(parent).put(name, json.dumps(record, sort_keys=True).encode())


def model_metadata(record: dict) -> dict:
    """The model artifact's metadata, as the single-process train component writes it."""
    return {"framework": "xgboost", "model_file": "model.json", "device": record["device"],
            "feature_names": record["feature_names"], "parameters": record["parameters"],
            "best_iteration": record["best_iteration"], "workers": record["workers"]}


def publish_model(booster, profile: dict, model_uri: str, record: dict, workdir: Path) -> None:
    """Write the model where the step's output is: a local directory, or an object-store prefix
    (model.json and feature_schema.json under it, as Argo's S3 driver stores a directory)."""
    from portway.steps.train import save_model

    if "://" not in model_uri:
        save_model(booster, profile, model_uri)
        return
    from portway.objectstore import open_store

    local = workdir / "model"
    save_model(booster, profile, str(local))
    store = open_store(model_uri)
    for path in sorted(local.iterdir()):
        store.upload_file(path, path.name)


# --- command line ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m portway.steps.train_distributed",
                                     description="One XGBoost worker of a distributed train (DMLC_* from the environment).")
    parser.add_argument("--train-data", required=True, help="directory or s3:// prefix of the train shards")
    parser.add_argument("--validation-data", required=True, help="directory or s3:// prefix of the validation shards")
    parser.add_argument("--profile", required=True, help="the profile JSON that `process` wrote (path or s3:// URI)")
    parser.add_argument("--model", required=True, help="where rank 0 writes the model (directory or s3:// prefix)")
    parser.add_argument("--params", default="{}", help="training settings as JSON: hyperparameters, num_boost_round, "
                                                      "early_stopping_rounds, seed")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs per node (one worker per GPU)")
    parser.add_argument("--nthread", type=int, default=0, help="CPU threads per worker (0: every core)")
    parser.add_argument("--connect-timeout", type=int, default=DEFAULT_CONNECT_TIMEOUT)
    parser.add_argument("--collective-timeout", type=int, default=DEFAULT_COLLECTIVE_TIMEOUT)
    parser.add_argument("--local-rank", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--record", default=None, help="rank 0 writes its training record (JSON) here")
    return parser


def worker_call(args, env: WorkerEnv, local_rank: int) -> dict | None:
    settings = json.loads(args.params)
    return run_worker(
        env, args.train_data, args.validation_data, read_json_uri(args.profile), args.model,
        hyperparameters=settings.get("hyperparameters"), num_boost_round=int(settings.get("num_boost_round", 300)),
        early_stopping_rounds=int(settings.get("early_stopping_rounds", 20)), gpus=args.gpus,
        seed=int(settings.get("seed", 42)), nthread=args.nthread, local_rank=local_rank,
        connect_timeout=args.connect_timeout, collective_timeout=args.collective_timeout, record_path=args.record,
    )


def _run_node(args, env: WorkerEnv, argv: list[str]) -> int:
    """One node: one worker here, or (G GPUs) G worker processes, failing as soon as one fails."""
    per_node = workers_per_node(env.num_workers, args.gpus)
    if per_node == 1 or args.local_rank is not None:
        worker_call(args, env, args.local_rank or 0)
        return 0
    from portway.steps.worker_processes import supervise

    commands = [[sys.executable, "-m", "portway.steps.train_distributed", *argv, f"--local-rank={i}"]
                for i in range(per_node)]
    supervise(commands, [{**os.environ, DIE_WITH_PARENT_ENV: str(os.getpid())} for _ in commands],
              [f"GPU worker {i}" for i in range(per_node)],
              timeout=args.connect_timeout + 24 * 3600)
    return 0


# Set by a local supervisor (portway.trainjob.local, a node's GPU workers): a worker whose
# supervisor is killed dies with it instead of training on, orphaned.
DIE_WITH_PARENT_ENV = "PORTWAY_DIE_WITH_PARENT"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """The variable holds the supervisor's pid; die with it (Linux's parent-death signal)."""
    supervisor = os.environ.get(DIE_WITH_PARENT_ENV, "")
    if not supervisor.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(supervisor):  # the supervisor was gone before the call
        sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    from portway.errors import PortwayError

    die_with_parent()
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        return _run_node(args, WorkerEnv.from_environ(), argv)
    except PortwayError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
