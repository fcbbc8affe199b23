"""`portway deploy` against a local HTTP server that speaks the Kubernetes API paths it uses.

The server keeps objects in memory, applies merge patches as the API server does (RFC 7386),
answers 404/409/403 like it, and plays a scripted status for the InferenceService. The
objects Portway sends are checked strictly against KServe's v0.20 CRD (../shared/schemas).
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from portway.cli import main
from portway.deploy import deploy_model
from portway.deploy.manifest import manifests_for
from portway.errors import DeployError, ParameterError, RegistryError

ISVC_PATH = "/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices"
SA_PATH = "/api/v1/namespaces/{ns}/serviceaccounts"
ARTIFACT = "s3://portway-models/registry/groups/churn/artifacts/0123456789abcdef/"


def record(status="Approved", version=3):
    return {"group": "churn", "version": version, "approval_status": status, "artifact_uri": ARTIFACT,
            "model_format": "xgboost"}


def rfc7386(target, patch):
    """JSON merge patch, written from the RFC (independently of the code under test)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = rfc7386(result.get(key), value)
    return result


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message}


class FakeKubeAPI:
    """State and scripted behaviour; the handler below serves it."""

    def __init__(self):
        self.namespaces = {"ml"}
        self.objects = {}  # (collection path, name) -> object
        self.requests = []  # (method, path, content type, body)
        self.forbidden = set()  # (method, "inferenceservices"|"serviceaccounts")
        self.kserve_installed = True
        self.statuses = [{}]  # successive InferenceService statuses; the last one repeats
        self.pods, self.events = [], {}
        self.lock = threading.Lock()

    def isvc(self, name="churn", ns="ml"):
        return self.objects.get((ISVC_PATH.format(ns=ns), name))


class Handler(BaseHTTPRequestHandler):
    api: FakeKubeAPI

    def log_message(self, *args):
        pass

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method):
        api = self.api
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with api.lock:
            api.requests.append((method, url.path, self.headers.get("Content-Type"), body))
            parts = url.path.strip("/").split("/")
            if url.path.startswith("/apis/serving.kserve.io/v1beta1/namespaces/"):
                kind, ns, name = "inferenceservices", parts[4], parts[6] if len(parts) > 6 else None
                collection = ISVC_PATH.format(ns=ns)
                if not api.kserve_installed:
                    return self._send(404, status_object(404, "NotFound", "the server could not find the requested "
                                                                          "resource"))
            elif url.path.startswith("/api/v1/namespaces/"):
                kind, ns, name = parts[4], parts[3], parts[5] if len(parts) > 5 else None
                collection = f"/api/v1/namespaces/{ns}/{kind}"
            else:
                return self._send(404, status_object(404, "NotFound", f"no route {url.path}"))
            if (method, kind) in api.forbidden:
                return self._send(403, status_object(403, "Forbidden", f'{kind} is forbidden: User "ci" cannot '
                                                                       f'{method.lower()} resource "{kind}" in '
                                                                       f'namespace "{ns}"'))
            if ns not in api.namespaces:
                return self._send(404, status_object(404, "NotFound", f'namespaces "{ns}" not found'))
            if kind in ("pods", "events") and method == "GET":
                query = parse_qs(url.query)
                if kind == "pods":
                    return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": api.pods})
                pod = query["fieldSelector"][0].split("=", 1)[1]
                return self._send(200, {"kind": "EventList", "apiVersion": "v1", "metadata": {},
                                        "items": api.events.get(pod, [])})
            key = (collection, name or (body or {}).get("metadata", {}).get("name"))
            if method == "POST":
                if key in api.objects:
                    return self._send(409, status_object(409, "AlreadyExists", f'{kind} "{key[1]}" already exists'))
                stored = copy.deepcopy(body)
                stored["metadata"].update(generation=1, resourceVersion="1", uid=f"uid-{key[1]}")
                api.objects[key] = stored
                return self._send(201, stored)
            if key not in api.objects:
                return self._send(404, status_object(404, "NotFound", f'{kind} "{key[1]}" not found'))
            if method == "GET":
                answer = copy.deepcopy(api.objects[key])
                if kind == "inferenceservices":
                    answer["status"] = api.statuses.pop(0) if len(api.statuses) > 1 else api.statuses[0]
                return self._send(200, answer)
            if method == "PATCH":
                content_type = self.headers.get("Content-Type")
                if content_type not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                    return self._send(415, status_object(415, "UnsupportedMediaType", content_type))
                api.objects[key] = rfc7386(api.objects[key], body)
                return self._send(200, api.objects[key])
            return self._send(405, status_object(405, "MethodNotAllowed", method))

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def do_PATCH(self):  # noqa: N802
        self._route("PATCH")


@pytest.fixture
def kube():
    api = FakeKubeAPI()
    handler = type("BoundHandler", (Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    api.client = client.ApiClient(configuration)
    yield api
    server.shutdown()
    server.server_close()


READY = {"conditions": [{"type": "PredictorReady", "status": "True"}, {"type": "Ready", "status": "True"}],
         "modelStatus": {"transitionStatus": "UpToDate", "states": {"activeModelState": "Loaded"}},
         "url": "http://churn.ml.example.com"}
NOT_YET = {"conditions": [{"type": "Ready", "status": "Unknown"}],
           "modelStatus": {"transitionStatus": "InProgress", "states": {"activeModelState": "Pending"}}}


def deploy(kube, rec=None, **kwargs):
    kwargs.setdefault("timeout", 5)
    return deploy_model(rec or record(), "ml", api_client=kube.client, poll_seconds=0.02, say=lambda _: None,
                        **kwargs)


def test_create_then_wait_for_ready_sends_the_chart_objects_valid_against_the_crd(kube, schemas_dir):
    from k8s_validation import assert_valid

    kube.statuses = [NOT_YET, NOT_YET, READY]
    result = deploy(kube)
    assert result["ready"] and result["url"] == "http://churn.ml.example.com"
    assert result["actions"] == {"ServiceAccount": "created", "InferenceService": "created"}
    posts = [(path, body) for method, path, _, body in kube.requests if method == "POST"]
    assert [path for path, _ in posts] == [SA_PATH.format(ns="ml"), ISVC_PATH.format(ns="ml")]
    sent_account, sent_isvc = posts[0][1], posts[1][1]
    # One source of truth: what went to the cluster is exactly the chart's render for this record.
    rendered = manifests_for(record(), "ml")
    assert sent_isvc == rendered["inference_service"] and sent_account == rendered["service_account"]
    assert sent_isvc["spec"]["predictor"]["model"]["storageUri"] == ARTIFACT
    assert sent_isvc["metadata"]["labels"]["portway.dev/model-version"] == "3"
    assert sent_isvc["metadata"]["annotations"]["portway.dev/model"] == "churn:3"
    assert sent_isvc["spec"]["predictor"]["serviceAccountName"] == sent_account["metadata"]["name"]
    assert_valid([sent_isvc, sent_account], schemas_dir)
    gets = [path for method, path, _, _ in kube.requests if method == "GET"]
    assert gets == [ISVC_PATH.format(ns="ml") + "/churn"] * 3


def test_existing_objects_are_merge_patched_to_the_rendered_spec(kube, schemas_dir):
    from k8s_validation import assert_valid

    old = manifests_for(record(version=2), "ml", {"deploymentMode": "Knative", "canaryTrafficPercent": 10})
    stale = old["inference_service"]
    stale["metadata"]["labels"]["team"] = "fraud"  # added by someone else: must survive
    kube.objects[(ISVC_PATH.format(ns="ml"), "churn")] = stale
    kube.objects[(SA_PATH.format(ns="ml"), "churn-sa")] = old["service_account"]
    kube.statuses = [READY]
    result = deploy(kube, overrides={"gpu": {"enabled": True}})
    assert result["actions"] == {"ServiceAccount": "updated", "InferenceService": "updated"}
    patches = [(path, ctype, body) for method, path, ctype, body in kube.requests if method == "PATCH"]
    assert [(path, ctype) for path, ctype, _ in patches] == [
        (SA_PATH.format(ns="ml") + "/churn-sa", "application/strategic-merge-patch+json"),
        (ISVC_PATH.format(ns="ml") + "/churn", "application/merge-patch+json")]
    desired = manifests_for(record(), "ml", {"gpu": {"enabled": True}})["inference_service"]
    live = kube.isvc()
    assert live["spec"] == desired["spec"]  # canaryTrafficPercent (no longer rendered) is gone
    assert "canaryTrafficPercent" not in live["spec"]["predictor"]
    assert live["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert live["metadata"]["labels"]["team"] == "fraud"
    assert live["metadata"]["labels"]["portway.dev/model-version"] == "3"
    assert live["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert_valid([{k: v for k, v in live.items() if k != "status"}], schemas_dir)


def test_unchanged_object_is_not_patched(kube):
    kube.objects[(ISVC_PATH.format(ns="ml"), "churn")] = manifests_for(record(), "ml")["inference_service"]
    kube.statuses = [READY]
    assert deploy(kube)["actions"]["InferenceService"] == "unchanged"
    assert not [r for r in kube.requests if r[0] == "PATCH" and "inferenceservices" in r[1]]


@pytest.mark.parametrize(("setup", "message"), [
    (lambda k: k.forbidden.add(("POST", "inferenceservices")),
     'Forbidden: the cluster refused to create InferenceService ml/churn in namespace \'ml\''),
    (lambda k: k.forbidden.add(("POST", "serviceaccounts")), "needs RBAC permission"),
    (lambda k: setattr(k, "kserve_installed", False), "is KServe installed"),
    (lambda k: k.namespaces.clear(), "Namespace 'ml' does not exist"),
])
def test_api_refusals_are_explained_and_stop_the_deploy(kube, setup, message):
    setup(kube)
    with pytest.raises(DeployError, match=message) as caught:
        deploy(kube)
    assert caught.value.exit_code == 1
    assert not [r for r in kube.requests if r[0] == "PATCH"]
    assert kube.isvc() is None


def test_forbidden_patch_after_409_is_explained(kube):
    kube.objects[(ISVC_PATH.format(ns="ml"), "churn")] = manifests_for(record(version=1), "ml")["inference_service"]
    kube.forbidden.add(("PATCH", "inferenceservices"))
    with pytest.raises(DeployError, match="refused to update InferenceService ml/churn"):
        deploy(kube)


STORAGE_FAILED = {
    "conditions": [{"type": "Ready", "status": "False", "reason": "PredictorNotReady"}],
    "modelStatus": {"transitionStatus": "BlockedByFailedLoad", "states": {"activeModelState": "FailedToLoad"},
                    "lastFailureInfo": {"reason": "ModelLoadFailed", "exitCode": 1,
                                        "message": "botocore: An error occurred (403) when calling HeadObject"}}}


def pod(name="churn-predictor-abc", **status):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "kserve-container", "resources": {}}]},
            "status": status}


def test_storage_initializer_failure_fails_fast_with_the_reason(kube):
    kube.statuses = [NOT_YET, STORAGE_FAILED]
    kube.pods = [pod(initContainerStatuses=[{"name": "storage-initializer", "image": "kserve/storage-initializer",
                                             "state": {"terminated": {"exitCode": 1, "reason": "Error",
                                                                      "message": "AccessDenied on s3://portway"}}}])]
    with pytest.raises(DeployError) as caught:
        deploy(kube, timeout=60)  # fails on the BlockedByFailedLoad status, long before the timeout
    text = str(caught.value)
    assert "cannot become Ready" in text
    assert "the storage initializer could not download the model (exit code 1): AccessDenied on s3://portway" in text
    assert "ModelLoadFailed, exit code 1" in text and ARTIFACT in text


def test_image_pull_failure_and_events_are_reported_at_the_timeout(kube):
    kube.statuses = [NOT_YET]
    kube.pods = [pod(containerStatuses=[{"name": "kserve-container", "image": "kserve/mlserver:bad",
                                         "state": {"waiting": {"reason": "ImagePullBackOff",
                                                               "message": "Back-off pulling image"}}}])]
    kube.events = {"churn-predictor-abc": [
        {"type": "Normal", "reason": "Scheduled", "message": "assigned"},
        {"type": "Warning", "reason": "Failed", "message": "manifest unknown", "lastTimestamp": "2026-01-01T00:00:01Z"}]}
    with pytest.raises(DeployError) as caught:
        deploy(kube, timeout=0.2)
    text = str(caught.value)
    assert "is not Ready after 0.2s" in text
    assert "cannot pull image kserve/mlserver:bad for kserve-container (ImagePullBackOff)" in text
    assert "event Failed: manifest unknown" in text and "Scheduled" not in text


def test_no_gpu_node_is_named(kube):
    kube.statuses = [NOT_YET]
    gpu_pod = pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                               "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}])
    gpu_pod["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    kube.pods = [gpu_pod]
    with pytest.raises(DeployError) as caught:
        deploy(kube, timeout=0.1, overrides={"gpu": {"enabled": True}})
    text = str(caught.value)
    assert "cannot be scheduled: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu." in text
    assert "no node offers nvidia.com/gpu" in text and "gpu-nodepool" in text


def test_only_approved_versions_deploy_unless_forced(kube):
    for status in ("PendingManualApproval", "Rejected"):
        with pytest.raises(RegistryError, match=f"churn:3 is {status}; only Approved versions deploy"):
            deploy(kube, record(status))
    assert kube.requests == []
    kube.statuses = [READY]
    said = []
    result = deploy_model(record("PendingManualApproval"), "ml", api_client=kube.client, force=True,
                          poll_seconds=0.01, say=said.append)
    assert result["ready"] and said[0].startswith("warning: churn:3 is PendingManualApproval")


def test_bad_values_and_local_artifacts_are_refused_before_the_cluster(kube):
    local = {**record(), "artifact_uri": "/home/me/runs/registry/groups/churn/artifacts/x/"}
    with pytest.raises(ParameterError, match="a path on this machine"):
        deploy(kube, local)
    with pytest.raises(ParameterError, match="canaryTrafficPercent=10 is set but deploymentMode is Standard"):
        deploy(kube, overrides={"canaryTrafficPercent": 10})
    with pytest.raises(ParameterError, match="autoscaling"):
        deploy(kube, overrides={"autoscaling": {"minReplicas": 5, "maxReplicas": 2}})
    with pytest.raises(ParameterError, match="not a Kubernetes namespace name"):
        deploy_model(record(), "ML_prod", api_client=kube.client, dry_run=True)
    assert kube.requests == []


def test_unreachable_api_server_is_named():
    from conftest import free_port
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = f"http://127.0.0.1:{free_port()}"
    configuration.retries = 0
    with pytest.raises(DeployError, match="Cannot reach the Kubernetes API to create ServiceAccount"):
        deploy_model(record(), "ml", api_client=client.ApiClient(configuration), say=lambda _: None)


def test_cli_dry_run_prints_valid_manifests_with_values_files_and_set(tmp_path, capsys, schemas_dir, trained,
                                                                    monkeypatch):
    from k8s_validation import assert_valid

    from portway.registry import ModelRegistry

    registry = ModelRegistry(str(tmp_path / "registry"))
    registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
                      evaluation_path=trained["evaluation_path"])
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"model": {"storageUri": "s3://bucket/copy/churn/1/"},
                                      "autoscaling": {"maxReplicas": 5}}))
    monkeypatch.setenv("PORTWAY_REGISTRY", str(tmp_path / "registry"))
    code = main(["deploy", "churn:1", "-n", "ml", "--dry-run", "-f", str(values), "--set", "autoscaling.maxReplicas=7",
                 "--set", "serviceAccount.irsaRoleArn=arn:aws:iam::123456789012:role/portway-inference"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "churn:1 is PendingManualApproval" in err and "a real deploy needs --force" in err
    objects = list(yaml.safe_load_all(out))
    assert [o["kind"] for o in objects] == ["ServiceAccount", "InferenceService"]
    isvc = objects[1]
    assert isvc["spec"]["predictor"]["maxReplicas"] == 7  # --set wins over the values file
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://bucket/copy/churn/1/"
    assert objects[0]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/portway-inference")
    assert_valid(objects, schemas_dir)

    code = main(["deploy", "churn:1", "--dry-run", "--set", "model.storageUri=s3://b/x/", "--set", "noequals"])
    assert code == 2 and "--set 'noequals' is not understood: key \"noequals\" has no value" in capsys.readouterr().err
    code = main(["deploy", "churn:1", "--set", "model.storageUri=s3://b/x/"])
    assert code == 2 and "only Approved versions deploy" in capsys.readouterr().err


def test_deploy_component_compiles_with_its_interface(tmp_path):
    from kfp import compiler
    from portway.components.deploy import deploy as deploy_component

    path = tmp_path / "deploy.yaml"
    compiler.Compiler().compile(deploy_component, str(path))
    spec = yaml.safe_load(path.read_text())
    inputs = spec["root"]["inputDefinitions"]["parameters"]
    assert set(inputs) == {"registry_root", "model", "namespace", "timeout_seconds", "force", "values_json"}
    assert inputs["timeout_seconds"]["defaultValue"] == 600 and inputs["force"]["defaultValue"] is False
    # The in-cluster default uses the inference service account the manifests make (RBAC: the
    # deployer may not create service accounts), and the chart accepts it.
    values = json.loads(inputs["values_json"]["defaultValue"])
    rendered = manifests_for(record(), "portway", values)
    assert rendered["service_account"] is None
    assert rendered["inference_service"]["spec"]["predictor"]["serviceAccountName"] == "portway-inference"
    command = json.dumps(spec["deploymentSpec"]["executors"])
    assert "from portway.deploy import deploy_model" in command and "in_cluster=True" in command
