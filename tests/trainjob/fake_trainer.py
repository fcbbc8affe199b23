"""A fake Kubeflow Trainer v2.3.0 controller for TrainJobs on the xgboost-distributed runtime.

It does what the real controller does that a test can observe, following its documented rules:

- admission: the object must validate against the v2.3.0 CRD (schema and CEL rules), and the
  trainer env must not set DMLC_* (XGBoost plugin Validate, kubeflow/trainer
  pkg/runtime/framework/plugins/xgboost/xgboost.go); the runtime must exist (runtimeRef names
  a ClusterTrainingRuntime of manifests/base/runtimes/xgboost_distributed.yaml);
- pods: numNodes pods of the `node` replicated job, each running the TrainJob's command and args
  with the variables the XGBoost plugin injects (EnforceMLPolicy): DMLC_TRACKER_URI (here
  127.0.0.1 instead of `<name>-node-0-0.<name>`), DMLC_TRACKER_PORT, DMLC_TASK_ID = the node's
  completion index, DMLC_NUM_WORKER = numNodes x (GPUs per node, or 1 on CPU);
- status (pkg/apis/trainer/v1alpha1/trainjob_types.go; reasons and messages of a JobSet, which
  Trainer copies: jobset pkg/constants/constants.go): `Created` True with reason
  JobsCreationSucceeded once the pods exist; `jobsStatus` for the `node` job (active / succeeded
  / failed child Jobs); when every pod exits 0, `Complete` True (AllJobsCompleted, "jobset
  completed successfully"); when a pod fails, `Failed` True (FailedJobs, "jobset failed due to one
  or more job failures, first failed job: <name>-node-0") and the remaining pods are deleted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from portway.config import GPU_RESOURCE
from portway.trainjob.local import free_loopback_port
from portway.trainjob.render import NODE_JOB

from .validation import runtimes, trainjob_errors

TRAINJOB_KIND = "trainer.kubeflow.org/v1alpha1/TrainJob"


class AdmissionDenied(Exception):
    pass


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, reason: str, message: str) -> dict:
    return {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": _now()}


class FakeTrainer:
    """`controller(action, manifest) -> object`, as tests/argo_engine's resource_controllers take it."""

    def __init__(self, schemas_dir: Path, workdir: Path, env: dict | None = None, on_start=None):
        self.schemas_dir = schemas_dir
        self.workdir = Path(workdir)
        self.env = dict(os.environ if env is None else env)
        self.on_start = on_start  # called with the list of worker processes once they run
        self.jobs: dict[str, dict] = {}
        self.processes: dict[str, list[subprocess.Popen]] = {}
        self.lock = threading.Lock()

    def __call__(self, action: str, manifest: dict) -> dict:
        name = manifest["metadata"]["name"]
        if action == "create":
            return self.create(manifest)
        if action == "get":
            return self.get(name)
        if action == "delete":
            self.delete(name)
            return {}
        raise AdmissionDenied(f"the fake trainer does not implement {action!r}")

    def create(self, manifest: dict) -> dict:
        errors = trainjob_errors(manifest, self.schemas_dir)
        if errors:
            raise AdmissionDenied("; ".join(errors))
        spec = manifest["spec"]
        ref = spec["runtimeRef"]
        known = {(r["kind"], r["metadata"]["name"]) for r in runtimes(self.schemas_dir)}
        if (ref.get("kind", "ClusterTrainingRuntime"), ref["name"]) not in known:
            raise AdmissionDenied(f"runtime {ref['name']} does not exist")
        trainer = spec["trainer"]
        reserved = [e["name"] for e in trainer.get("env", []) if e["name"].startswith("DMLC_")]
        if reserved:
            raise AdmissionDenied(f"{reserved} is reserved for the XGBoost runtime")
        name = manifest["metadata"]["name"]
        nodes = int(trainer["numNodes"])
        gpus = int(str(trainer.get("resourcesPerNode", {}).get("limits", {}).get(GPU_RESOURCE, 0)))
        port = free_loopback_port()
        env = {**self.env, **{e["name"]: str(e["value"]) for e in trainer.get("env", []) if "value" in e}}
        procs = []
        for index in range(nodes):
            node_env = {**env, "DMLC_TRACKER_URI": "127.0.0.1", "DMLC_TRACKER_PORT": str(port),
                        "DMLC_TASK_ID": str(index), "DMLC_NUM_WORKER": str(nodes * max(gpus, 1)),
                        "OMP_WAIT_POLICY": "PASSIVE"}
            command = [sys.executable if trainer["command"][0] == "python" else trainer["command"][0],
                       *trainer["command"][1:], *trainer["args"], f"--nthread={max(1, (os.cpu_count() or 1) // nodes)}"]
            log = open(self.workdir / f"{name}-node-0-{index}.log", "w")  # noqa: SIM115 (closed with the pod)
            procs.append(subprocess.Popen(command, env=node_env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
        obj = {**manifest, "status": {
            "conditions": [_condition("Created", "JobsCreationSucceeded", "Succeeded to create Jobs")],
            "jobsStatus": [{"name": NODE_JOB, "ready": 0, "succeeded": 0, "failed": 0, "active": 1, "suspended": 0}],
        }}
        with self.lock:
            self.jobs[name] = obj
            self.processes[name] = procs
        if self.on_start:
            self.on_start(procs)
        return obj

    def get(self, name: str) -> dict:
        with self.lock:
            obj = self.jobs[name]
            procs = self.processes[name]
            status = obj["status"]
            if any(c["type"] in ("Complete", "Failed") for c in status["conditions"]):
                return obj
            codes = [p.poll() for p in procs]
            node = status["jobsStatus"][0]
            if any(c not in (None, 0) for c in codes):
                for p in procs:  # the Job fails: its other pods are deleted
                    if p.poll() is None:
                        os.killpg(p.pid, signal.SIGKILL)
                        p.wait()
                node.update(active=0, failed=1)
                status["conditions"].append(_condition(
                    "Failed", "FailedJobs",
                    f"jobset failed due to one or more job failures, first failed job: {name}-{NODE_JOB}-0"))
            elif all(c == 0 for c in codes):
                node.update(active=0, succeeded=1)
                status["conditions"].append(_condition("Complete", "AllJobsCompleted", "jobset completed successfully"))
            return obj

    def delete(self, name: str) -> None:
        with self.lock:
            for p in self.processes.pop(name, []):
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            self.jobs.pop(name, None)

    def close(self) -> None:
        for name in list(self.processes):
            self.delete(name)
