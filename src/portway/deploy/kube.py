"""Sending the rendered objects to the cluster and waiting for the model to be Ready.

Create first; on 409 (it exists) read the live object and send a JSON merge patch that turns
its spec into the rendered one (fields the chart no longer sets are nulled, so a changed
setting cannot linger). The ServiceAccount goes first, so the predictor pod never starts
without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from portway.deploy.diagnose import explain, has_failed, is_ready
from portway.errors import DeployError

KSERVE_GROUP = "serving.kserve.io"
KSERVE_VERSION = "v1beta1"
KSERVE_PLURAL = "inferenceservices"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
# A slow API server must not hang a deploy job; each call is bounded, the wait loop is too.
API_TIMEOUT_SECONDS = 30


def load_api_client(in_cluster: bool | None = None, context: str | None = None):
    """An ApiClient from the pod's service account (in a cluster) or the kubeconfig."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        if in_cluster or (in_cluster is None and os.environ.get("KUBERNETES_SERVICE_HOST")):
            config.load_incluster_config()
        else:
            config.load_kube_config(context=context)
    except (ConfigException, OSError) as exc:
        raise DeployError(f"No Kubernetes cluster to deploy to: {str(exc).rstrip('.')}. Point KUBECONFIG at a cluster (or use "
                          "--dry-run to print the manifest).") from None
    return client.ApiClient()


def _api_message(exc) -> str:
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


def describe_api_error(exc, verb: str, what: str, namespace: str) -> DeployError:
    """One paragraph for an ApiException: what was refused, and what to do."""
    status = getattr(exc, "status", None)
    message = _api_message(exc)
    if status == 403:
        return DeployError(f"Forbidden: the cluster refused to {verb} {what} in namespace {namespace!r} ({message}). "
                           f"The identity in use needs RBAC permission to get, create and patch {what}.")
    if status == 401:
        return DeployError(f"The cluster did not accept the credentials ({message}); refresh the kubeconfig.")
    if status == 404:
        if "namespaces" in message and "not found" in message:
            return DeployError(f"Namespace {namespace!r} does not exist ({message}); create it or pick another "
                               "with --namespace.")
        return DeployError(f"The cluster has no {what} API ({message}): is KServe installed "
                           f"({KSERVE_PLURAL}.{KSERVE_GROUP}/{KSERVE_VERSION})?")
    if status in (400, 422):
        return DeployError(f"The cluster rejected the {what} ({status}): {message}")
    if status is None:
        return DeployError(f"Cannot reach the Kubernetes API to {verb} {what}: {exc}")
    return DeployError(f"Could not {verb} {what} in namespace {namespace!r}: HTTP {status} {message}")


def merge_patch(live: object, desired: object) -> object:
    """The RFC 7386 merge patch that turns `live` into `desired` (mappings only; lists replace)."""
    if not isinstance(live, dict) or not isinstance(desired, dict):
        return desired
    patch = {key: None for key in live if key not in desired}
    for key, value in desired.items():
        if key not in live:
            patch[key] = value
        elif live[key] != value:
            patch[key] = merge_patch(live[key], value)
    return patch


def _connection_errors():
    import urllib3

    return (urllib3.exceptions.HTTPError, OSError)


@contextlib.contextmanager
def api_errors(verb: str, what: str, namespace: str):
    """Turn the client's exceptions into a DeployError that says what was refused."""
    from kubernetes.client.rest import ApiException

    try:
        yield
    except (ApiException, *_connection_errors()) as exc:
        raise describe_api_error(exc, verb, what, namespace) from None


def _create(call, what: str, namespace: str) -> bool:
    """Run a create call: True if it created the object, False if the object exists (409)."""
    from kubernetes.client.rest import ApiException

    try:
        call()
        return True
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise describe_api_error(exc, "create", what, namespace) from None
    except _connection_errors() as exc:
        raise describe_api_error(exc, "create", what, namespace) from None


def apply_inference_service(api_client, isvc: dict) -> str:
    """Create or update the InferenceService; returns "created", "updated" or "unchanged"."""
    from kubernetes import client

    api = client.CustomObjectsApi(api_client)
    name, namespace = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    what = f"InferenceService {namespace}/{name}"
    args = (KSERVE_GROUP, KSERVE_VERSION, namespace, KSERVE_PLURAL)
    if _create(lambda: api.create_namespaced_custom_object(*args, isvc, _request_timeout=API_TIMEOUT_SECONDS),
               what, namespace):
        return "created"
    with api_errors("update", what, namespace):
        live = api.get_namespaced_custom_object(*args, name, _request_timeout=API_TIMEOUT_SECONDS)
        patch = {"metadata": {k: merge_patch((live.get("metadata") or {}).get(k) or {}, isvc["metadata"].get(k) or {})
                              for k in ("labels", "annotations")},
                 "spec": merge_patch(live.get("spec") or {}, isvc["spec"])}
        # Labels and annotations others add (kubectl, controllers) are kept: only ours are set.
        for key in ("labels", "annotations"):
            patch["metadata"][key] = {k: v for k, v in patch["metadata"][key].items() if v is not None}
        if not patch["spec"] and not any(patch["metadata"].values()):
            return "unchanged"
        # CustomObjectsApi sends a dict body as application/merge-patch+json (RFC 7386).
        api.patch_namespaced_custom_object(*args, name, patch, _request_timeout=API_TIMEOUT_SECONDS)
        return "updated"


def apply_service_account(api_client, account: dict) -> str:
    """Create the ServiceAccount, or patch ours onto an existing one; returns what happened."""
    from kubernetes import client

    api = client.CoreV1Api(api_client)
    name, namespace = account["metadata"]["name"], account["metadata"]["namespace"]
    what = f"ServiceAccount {namespace}/{name}"
    if _create(lambda: api.create_namespaced_service_account(namespace, account, _request_timeout=API_TIMEOUT_SECONDS),
               what, namespace):
        return "created"
    with api_errors("update", what, namespace):
        # A dict body goes out as a strategic merge patch, which keeps token secrets the cluster added.
        api.patch_namespaced_service_account(name, namespace, account, _request_timeout=API_TIMEOUT_SECONDS)
        return "updated"


def get_inference_service(api_client, name: str, namespace: str) -> dict:
    from kubernetes import client

    with api_errors("read", f"InferenceService {namespace}/{name}", namespace):
        return client.CustomObjectsApi(api_client).get_namespaced_custom_object(
            KSERVE_GROUP, KSERVE_VERSION, namespace, KSERVE_PLURAL, name, _request_timeout=API_TIMEOUT_SECONDS)


def pods_and_events(api_client, name: str, namespace: str) -> tuple[list[dict], dict[str, list[dict]]]:
    """The predictor's pods and their events, as plain dicts; empty when not readable (RBAC)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.CoreV1Api(api_client)
    try:
        pods = api.list_namespaced_pod(namespace, label_selector=f"{ISVC_LABEL}={name}",
                                       _request_timeout=API_TIMEOUT_SECONDS, _preload_content=False)
        pods = json.loads(pods.data).get("items", [])
    except (ApiException, *_connection_errors()):
        return [], {}
    events = {}
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        try:
            answer = api.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod_name}",
                                               _request_timeout=API_TIMEOUT_SECONDS, _preload_content=False)
            events[pod_name] = json.loads(answer.data).get("items", [])
        except (ApiException, *_connection_errors()):
            continue  # events are a bonus; the pod status already says most
    return pods, events


def wait_until_ready(api_client, name: str, namespace: str, timeout: float, poll_seconds: float = 5.0,
                     progress=None) -> dict:
    """Poll until the InferenceService is Ready; DeployError with the reasons when it fails or times out."""
    deadline = time.monotonic() + timeout
    while True:
        isvc = get_inference_service(api_client, name, namespace)
        if is_ready(isvc):
            return isvc
        failed = has_failed(isvc)
        if failed or time.monotonic() >= deadline:
            pods, events = pods_and_events(api_client, name, namespace)
            verdict = "cannot become Ready" if failed else f"is not Ready after {timeout:g}s"
            raise DeployError(f"InferenceService {namespace}/{name} {verdict}: " + "; ".join(explain(isvc, pods, events))
                              + ".")
        if progress is not None:
            progress(isvc)
        time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))
