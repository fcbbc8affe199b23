"""Run a distributed train on this machine: N worker processes on 127.0.0.1.

Each process runs the cluster's entry point (`python -m portway.steps.train_distributed`) with
the DMLC_* variables Kubeflow Trainer's xgboost-distributed runtime would inject on node i
(tracker on 127.0.0.1 instead of `<trainjob>-node-0-0.<trainjob>`), so the code a TrainJob's
pods run is the code `portway run --workers N` and the tests run.

A failed or hung worker stops the others (portway.steps.worker_processes.supervise).
"""

from __future__ import annotations

import os
import sys

from portway.steps.train_distributed import (
    DEFAULT_COLLECTIVE_TIMEOUT,
    DIE_WITH_PARENT_ENV,
    ENV_NUM_WORKER,
    ENV_TASK_ID,
    ENV_TRACKER_PORT,
    ENV_TRACKER_URI,
    workers_per_node,
)
from portway.steps.worker_processes import supervise

LOOPBACK = "127.0.0.1"


def free_loopback_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def worker_environments(nodes: int, gpus: int, port: int, base: dict | None = None) -> list[dict]:
    """The DMLC_* variables of every node, as the xgboost-distributed runtime sets them."""
    num_workers = nodes * max(gpus, 1)
    workers_per_node(num_workers, gpus)
    base = dict(os.environ if base is None else base)
    return [{**base, ENV_TRACKER_URI: LOOPBACK, ENV_TRACKER_PORT: str(port), ENV_TASK_ID: str(node),
             ENV_NUM_WORKER: str(num_workers)} for node in range(nodes)]


def run_local_workers(nodes: int, worker_args: list[str], gpus: int = 0,
                      connect_timeout: int = 120, collective_timeout: int = DEFAULT_COLLECTIVE_TIMEOUT,
                      timeout: float | None = None) -> None:
    """Run `nodes` local nodes of the entry point with `worker_args`; raise WorkerFailed on failure."""
    if nodes < 1:
        from portway.errors import ParameterError

        raise ParameterError(f"workers must be at least 1, got {nodes}.")
    # The workers share this machine's cores: split them, and let idle OpenMP threads sleep
    # instead of spinning while a worker waits on its peers' all-reduce.
    nthread = max(1, (os.cpu_count() or 1) // (nodes * max(gpus, 1)))
    envs = [{**env, "OMP_WAIT_POLICY": "PASSIVE", DIE_WITH_PARENT_ENV: str(os.getpid())}
            for env in worker_environments(nodes, gpus, free_loopback_port())]
    args = [*worker_args, f"--gpus={gpus}", f"--nthread={nthread}", f"--connect-timeout={connect_timeout}",
            f"--collective-timeout={collective_timeout}"]
    command = [sys.executable, "-m", "portway.steps.train_distributed", *args]
    names = [f"worker {node} of {nodes} ({ENV_TASK_ID}={node})" for node in range(nodes)]
    supervise([command] * nodes, envs, names, timeout=timeout or (connect_timeout + 24 * 3600))
