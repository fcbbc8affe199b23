"""The KFP target's train pod: a TrainJob through the Kubernetes API, waited for, then deleted."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from portway.steps.worker_processes import WorkerFailed
from portway.trainjob import kube
from portway.trainjob.render import GROUP, PLURAL, VERSION

from .fake_trainer import FakeTrainer


class FakeCustomObjectsApi:
    """The three CustomObjectsApi calls kube.py makes, answered by the fake Trainer controller
    (which validates each TrainJob against the v2.3.0 CRD and runs its pods as local processes)."""

    def __init__(self, trainer: FakeTrainer):
        self.trainer, self.created, self.deleted = trainer, [], []

    def create_namespaced_custom_object(self, group, version, namespace, plural, body):
        assert (group, version, plural) == (GROUP, VERSION, PLURAL)
        obj = copy.deepcopy(body)
        obj["metadata"]["name"] = obj["metadata"].pop("generateName") + "k7q2x"  # the API server's suffix
        self.created.append(obj)
        return self.trainer("create", obj)

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        return self.trainer("get", {"metadata": {"name": name}})

    def delete_namespaced_custom_object(self, group, version, namespace, plural, name):
        self.deleted.append(name)
        self.trainer("delete", {"metadata": {"name": name}})


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    from portway.datasets import bundled_dataset_path
    from portway.steps.process import process_dataset

    out = tmp_path_factory.mktemp("kfp-shards")
    process_dataset(bundled_dataset_path(), "churned", str(out / "train"), str(out / "validation"),
                    str(out / "test"), str(out / "profile.json"), shards=2)
    return out


def _train(shards: Path, tmp_path: Path, api) -> dict:
    model = SimpleNamespace(path=str(tmp_path / "local" / "model"), uri=str(tmp_path / "bucket" / "model"))
    return kube.train_with_trainjob(2, 0, str(shards / "train"), str(shards / "validation"),
                                    str(shards / "profile.json"), model, {"num_boost_round": 30},
                                    api=api, namespace="team-ml", poll=0.1)


def test_the_train_pod_creates_waits_for_and_deletes_its_trainjob(shards, tmp_path, schemas_dir):
    api = FakeCustomObjectsApi(FakeTrainer(schemas_dir, tmp_path))
    record = _train(shards, tmp_path, api)
    (job,) = api.created
    assert job["metadata"]["namespace"] == "team-ml" and job["spec"]["trainer"]["numNodes"] == 2
    assert "nvidia.com/gpu" not in job["spec"]["trainer"]["resourcesPerNode"]["limits"]  # gpus=0: a CPU job
    assert api.deleted == [job["metadata"]["name"]]
    assert record["workers"] == 2 and record["parameters"]["workers"] == 2
    assert sorted(p.name for p in (tmp_path / "local" / "model").iterdir()) == ["feature_schema.json", "model.json"]


def test_a_failed_trainjob_fails_the_step_with_its_reason_and_is_deleted(shards, tmp_path, schemas_dir):
    trainer = FakeTrainer(schemas_dir, tmp_path, on_start=lambda procs: os.kill(procs[0].pid, signal.SIGKILL))
    api = FakeCustomObjectsApi(trainer)
    with pytest.raises(WorkerFailed) as failure:
        _train(shards, tmp_path, api)
    (job,) = api.created
    name = job["metadata"]["name"]
    assert str(failure.value) == (f"TrainJob team-ml/{name} failed: FailedJobs: jobset failed due to one or more "
                                  f"job failures, first failed job: {name}-node-0")
    assert api.deleted == [name]
    assert not (tmp_path / "local" / "model").exists()  # nothing published


def test_gpu_jobs_ask_for_the_gpu_pool(schemas_dir):
    from .validation import trainjob_errors

    job = kube.trainjob_for(4, 1, "s3://b/t", "s3://b/v", "s3://b/p", "s3://b/m-trainjob/model",
                            "s3://b/m-trainjob/training-record.json", {}, "team-ml")
    job["metadata"]["name"] = job["metadata"].pop("generateName") + "abcde"
    assert trainjob_errors(job, schemas_dir) == []
    pod = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    assert pod["template"]["spec"]["template"]["spec"]["nodeSelector"] == {"portway.dev/node-pool": "gpu"}
    assert job["spec"]["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "1"
    assert not any(e["name"].startswith("AWS_SECRET") for e in job["spec"]["trainer"].get("env", []))


def test_a_stopped_train_pod_deletes_its_trainjob(shards, tmp_path, schemas_dir):
    """Kubernetes stops a pod with SIGTERM; the wait ends and the TrainJob is deleted, not orphaned."""

    class StoppedWhileWaiting(FakeCustomObjectsApi):
        def get_namespaced_custom_object(self, *args):
            os.kill(os.getpid(), signal.SIGTERM)
            return super().get_namespaced_custom_object(*args)

    before = signal.getsignal(signal.SIGTERM)
    trainer = FakeTrainer(schemas_dir, tmp_path)
    api = StoppedWhileWaiting(trainer)
    try:
        with pytest.raises(WorkerFailed, match=r"stopped \(SIGTERM\)"):
            _train(shards, tmp_path, api)
    finally:
        trainer.close()
    assert api.deleted == [api.created[0]["metadata"]["name"]]
    assert signal.getsignal(signal.SIGTERM) == before  # the pod's own handler is back
