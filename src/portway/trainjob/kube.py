"""The KFP target's distributed train: the train pod creates a TrainJob through the Kubernetes API
(with the pod's service account, which may create, get, watch and delete TrainJobs), waits for
it, and fails with the TrainJob's own reason.

The workers read the input artifacts' URIs and rank 0 writes the model under a staging prefix
beside the step's output (`<model uri>-trainjob`), plus its training record; the pod copies the
model into its output directory, which KFP's launcher then uploads as the `model` artifact. The
TrainJob is deleted once it has finished (or when the pod is stopped), so none outlives its step.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from portway.steps.worker_processes import WorkerFailed
from portway.trainjob.render import GROUP, PLURAL, VERSION, render_trainjob

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
IMAGE_ENV = "PORTWAY_IMAGE"  # the image the workers run (default: portway.config.DEFAULT_IMAGE)
SERVICE_ACCOUNT_ENV = "PORTWAY_TRAINJOB_SERVICE_ACCOUNT"  # the workers' identity (S3 through IRSA)
PASSED_ENV = ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION")  # never keys: they stay in Secrets
POLL_SECONDS = 5
DEFAULT_DEADLINE_SECONDS = 24 * 3600


def current_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        return os.environ.get("POD_NAMESPACE", "default")


def staging_uris(model_uri: str) -> tuple[str, str]:
    """(where rank 0 writes the model, where it writes its training record)."""
    base = model_uri.rstrip("/").replace("minio://", "s3://", 1) + "-trainjob"
    return f"{base}/model", f"{base}/training-record.json"


def trainjob_for(workers: int, gpus: int, train_uri: str, validation_uri: str, profile_uri: str, model_uri: str,
                 record_uri: str, settings: dict, namespace: str) -> dict:
    import dataclasses

    from portway.config import DEFAULT_IMAGE, DEFAULT_RESOURCES, GPU_TAINT, NODE_POOL_LABEL
    from portway.trainjob.launch import worker_arguments

    spec = DEFAULT_RESOURCES["train"]
    if gpus == 0:
        spec = dataclasses.replace(spec, gpu=0, node_pool=None)
    else:
        spec = dataclasses.replace(spec, gpu=gpus)
    gpu = {spec.gpu_type: str(spec.gpu)} if spec.gpu else {}
    uris = [u.replace("minio://", "s3://", 1) for u in (train_uri, validation_uri, profile_uri)]
    args = [*worker_arguments(*uris, model_uri, settings), f"--gpus={gpus}", f"--record={record_uri}"]
    env = [{"name": k, "value": os.environ[k]} for k in PASSED_ENV if os.environ.get(k)]
    return render_trainjob(
        generate_name="portway-train-", namespace=namespace, num_nodes=workers,
        image=os.environ.get(IMAGE_ENV, DEFAULT_IMAGE), args=args,
        requests={"cpu": spec.cpu, "memory": spec.memory, **gpu},
        limits={"cpu": spec.limits[0], "memory": spec.limits[1], **gpu},
        node_selector={NODE_POOL_LABEL: spec.node_pool} if spec.node_pool else None,
        tolerations=[GPU_TAINT] if spec.gpu else None,
        env=env + [{"name": "PYTHONUNBUFFERED", "value": "1"}],
        labels={"portway.dev/step": "train", "portway.dev/run": os.environ.get("HOSTNAME", "kfp")[:63]},
        service_account=os.environ.get(SERVICE_ACCOUNT_ENV),
        active_deadline_seconds=DEFAULT_DEADLINE_SECONDS, scratch_dir="/tmp",
        security_context={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                          "capabilities": {"drop": ["ALL"]}},
    )


def outcome(obj: dict) -> tuple[str, str]:
    """("Complete" | "Failed" | "", the reason and message) from a TrainJob's conditions
    (Trainer sets Complete or Failed to True when the job ends: trainjob_types.go)."""
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"], f"{condition.get('reason', '')}: {condition.get('message', '')}".strip(": ")
    return "", ""


def wait_for(api, namespace: str, name: str, deadline_seconds: float, poll: float = POLL_SECONDS) -> dict:
    deadline = time.monotonic() + deadline_seconds
    while True:
        obj = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        state, why = outcome(obj)
        if state == "Complete":
            return obj
        if state == "Failed":
            raise WorkerFailed(f"TrainJob {namespace}/{name} failed: {why}")
        if time.monotonic() > deadline:
            raise WorkerFailed(f"TrainJob {namespace}/{name} did not finish within {deadline_seconds:.0f}s "
                               "(nodes that never came? see `kubectl describe trainjob`)")
        time.sleep(poll)


@contextlib.contextmanager
def _stopped_by_sigterm():
    """Kubernetes stops a pod with SIGTERM: turn it into an exception, so the TrainJob is deleted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise WorkerFailed("the train pod was stopped (SIGTERM) while its TrainJob ran; the TrainJob is deleted")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def train_with_trainjob(workers: int, gpus: int, train_uri: str, validation_uri: str, profile_uri: str, model,
                        settings: dict, api=None, namespace: str | None = None, poll: float = POLL_SECONDS) -> dict:
    """Create the TrainJob, wait, copy the model into `model.path`; returns rank 0's training record."""
    from portway.objectstore import open_store

    if api is None:
        from kubernetes import client

        from portway.deploy.kube import load_api_client

        api = client.CustomObjectsApi(load_api_client(in_cluster=True))
    namespace = namespace or current_namespace()
    model_uri, record_uri = staging_uris(model.uri)
    body = trainjob_for(workers, gpus, train_uri, validation_uri, profile_uri, model_uri, record_uri, settings,
                        namespace)
    created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    name = created["metadata"]["name"]
    print(f"portway train: created TrainJob {namespace}/{name} ({workers} nodes)", flush=True)
    with _stopped_by_sigterm():
        try:
            wait_for(api, namespace, name, DEFAULT_DEADLINE_SECONDS, poll)
        finally:
            api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    out = Path(model.path)
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(model_uri)
    for key in store.list(""):
        store.download_file(key, out / key)
    parent, _, record_name = record_uri.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        open_store(parent).download_file(record_name, Path(tmp) / record_name)
        return json.loads((Path(tmp) / record_name).read_text())
