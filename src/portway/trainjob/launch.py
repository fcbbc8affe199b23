"""The train step's body: one process, or `workers` XGBoost workers.

    workers == 1           portway.steps.train.train_model, as always
    workers > 1, here      N local processes on 127.0.0.1 (portway.trainjob.local)
    workers > 1, in a pod  a TrainJob created through the Kubernetes API with the pod's service
                           account (portway.trainjob.kube): the KFP target's train step

(The Argo target does not run this for workers > 1: portway.trainjob.argo turns the train
template into Argo's native `resource` template that creates the TrainJob.)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from portway.errors import ParameterError

# Set in every Kubernetes pod (the API server's address); its absence means "on this machine".
IN_CLUSTER_ENV = "KUBERNETES_SERVICE_HOST"


def in_cluster() -> bool:
    return bool(os.environ.get(IN_CLUSTER_ENV))


def check_local_shards(split_path: str, workers: int, split: str) -> None:
    """A sharded split is a directory of exactly `workers` part files."""
    from portway.steps.shards import shard_name

    path = Path(split_path)
    if not path.is_dir():
        raise ParameterError(f"{split} data {path} is one file; with workers={workers} `process` must write "
                             f"{workers} shards (run it with the same workers).")
    missing = [shard_name(i) for i in range(workers) if not (path / shard_name(i)).is_file()]
    if missing:
        raise ParameterError(f"{split} data {path} lacks {', '.join(missing[:4])}: it was split for another "
                             f"number of workers than {workers}.")


def worker_arguments(train: str, validation: str, profile: str, model: str, settings: dict) -> list[str]:
    """The entry point's arguments (one token each, so a value may hold any character)."""
    return [f"--train-data={train}", f"--validation-data={validation}", f"--profile={profile}",
            f"--model={model}", f"--params={json.dumps(settings, sort_keys=True)}"]


def train_step(workers: int, gpus: int, train_data, validation_data, profile, model, hyperparameters: dict,
               num_boost_round: int, early_stopping_rounds: int, seed: int) -> dict:
    """Train into `model.path`; the artifacts are KFP's (`.path`, and `.uri` on a cluster). Returns the record."""
    from portway.fileio import read_json
    from portway.steps.shards import validate_shards

    validate_shards(workers)
    if workers == 1:
        from portway.steps.train import train_model

        record = train_model(train_path=train_data.path, validation_path=validation_data.path,
                             profile=read_json(profile.path), model_dir=model.path, hyperparameters=hyperparameters,
                             num_boost_round=num_boost_round, early_stopping_rounds=early_stopping_rounds,
                             gpus=gpus, seed=seed)
    else:
        settings = {"hyperparameters": hyperparameters, "num_boost_round": num_boost_round,
                    "early_stopping_rounds": early_stopping_rounds, "seed": seed}
        if in_cluster():
            from portway.trainjob.kube import train_with_trainjob

            record = train_with_trainjob(workers, gpus, train_data.uri, validation_data.uri, profile.uri,
                                         model, settings)
        else:
            record = train_locally(workers, gpus, train_data.path, validation_data.path, profile.path,
                                   model.path, settings)
    record["parameters"]["workers"] = workers
    record["workers"] = workers
    return record


def train_locally(workers: int, gpus: int, train_path: str, validation_path: str, profile_path: str,
                  model_dir: str, settings: dict) -> dict:
    from portway.fileio import read_json
    from portway.steps.train_distributed import RECORD_FILE
    from portway.trainjob.local import run_local_workers

    check_local_shards(train_path, workers, "train")
    check_local_shards(validation_path, workers, "validation")
    with tempfile.TemporaryDirectory(prefix="portway-train-") as tmp:
        record_path = Path(tmp) / RECORD_FILE
        args = worker_arguments(train_path, validation_path, profile_path, model_dir, settings)
        run_local_workers(workers, [*args, f"--record={record_path}"], gpus=gpus)
        return read_json(record_path)
