"""The fake servers answer on the real APIs' routes with the real shapes (they are test doubles: tested too)."""

from __future__ import annotations

import json
import re

import pytest

from .fake_servers import ArgoFake, KfpFake

# (method, path template) the Argo fake serves; each must be in the Argo server's swagger.
ARGO_ROUTES = [
    ("post", "/api/v1/workflows/{namespace}"), ("get", "/api/v1/workflows/{namespace}"),
    ("get", "/api/v1/workflows/{namespace}/{name}"), ("put", "/api/v1/workflows/{namespace}/{name}/stop"),
    ("get", "/api/v1/workflows/{namespace}/{name}/log"), ("post", "/api/v1/cron-workflows/{namespace}"),
    ("post", "/api/v1/workflow-templates/{namespace}"),
]
# (method, path) the KFP fake serves; each must be one kfp_server_api's generated client calls.
KFP_ROUTES = [
    ("GET", "/apis/v2beta1/healthz"), ("GET", "/apis/v2beta1/experiments"), ("POST", "/apis/v2beta1/experiments"),
    ("POST", "/apis/v2beta1/runs"), ("GET", "/apis/v2beta1/runs"), ("GET", "/apis/v2beta1/runs/{run_id}"),
    ("POST", "/apis/v2beta1/runs/{run_id}:terminate"), ("POST", "/apis/v2beta1/recurringruns"),
]


@pytest.fixture(scope="module")
def swagger(schemas_dir):
    return json.loads((schemas_dir / "argo-workflows" / "v4.0.5" / "swagger.json").read_text())


@pytest.mark.parametrize("method, path", ARGO_ROUTES)
def test_argo_routes_are_the_servers(swagger, method, path):
    assert method in swagger["paths"][path]


def test_argo_answers_have_the_swagger_shapes(swagger):
    import requests

    definitions = swagger["definitions"]
    log_entry = set(definitions["io.argoproj.workflow.v1alpha1.LogEntry"]["properties"])
    workflow_list = set(definitions["io.argoproj.workflow.v1alpha1.WorkflowList"]["properties"])
    node_status = set(definitions["io.argoproj.workflow.v1alpha1.NodeStatus"]["properties"])
    with ArgoFake() as argo:
        argo.add_workflow("w1", "Running", {"process": "Succeeded", "train": "Running"}, logs=[("w1-p", "hello")])
        listing = requests.get(f"{argo.url}/api/v1/workflows/ml", timeout=10).json()
        lines = requests.get(f"{argo.url}/api/v1/workflows/ml/w1/log", params={"logOptions.container": "main"},
                             timeout=10).text.splitlines()
        stopped = requests.put(f"{argo.url}/api/v1/workflows/ml/w1/stop", json={"name": "w1"}, timeout=10).json()
        again = requests.put(f"{argo.url}/api/v1/workflows/ml/w1/stop", json={"name": "w1"}, timeout=10)
        trimmed = requests.get(f"{argo.url}/api/v1/workflows/ml", params={"fields": "-items.status.nodes"},
                               timeout=10).json()
    assert set(listing) <= workflow_list
    nodes = listing["items"][0]["status"]["nodes"].values()
    assert all(set(node) <= node_status for node in nodes)
    assert "nodes" not in trimmed["items"][0]["status"] and trimmed["items"][0]["status"]["phase"] == "Failed"
    assert [set(json.loads(line)) for line in lines] == [{"result"}]
    assert set(json.loads(lines[0])["result"]) <= log_entry
    assert stopped["spec"]["shutdown"] == "Stop" and stopped["status"]["phase"] == "Failed"
    assert again.status_code == 400  # a completed workflow cannot be stopped again


def test_kfp_routes_are_the_clients():
    import inspect

    import kfp_server_api.api.experiment_service_api as experiments
    import kfp_server_api.api.healthz_service_api as healthz
    import kfp_server_api.api.recurring_run_service_api as recurring
    import kfp_server_api.api.run_service_api as runs

    calls = set()
    for module in (healthz, experiments, recurring, runs):
        calls |= set(re.findall(r"'(/apis/v2beta1/[^']*)', '(GET|POST|PUT|DELETE)'", inspect.getsource(module)))
    assert {(path, method) for method, path in KFP_ROUTES} <= calls


def test_kfp_answers_parse_into_the_clients_models():
    import kfp_server_api
    import requests

    with KfpFake() as kfp:
        run_id = kfp.add_run("ct", "RUNNING", {"train": "RUNNING"})
        listing = requests.get(f"{kfp.url}/apis/v2beta1/runs", params={"page_size": 5}, timeout=10).json()
        assert requests.post(f"{kfp.url}/apis/v2beta1/runs/{run_id}:terminate", timeout=10).json() == {}
        after = requests.get(f"{kfp.url}/apis/v2beta1/runs/{run_id}", timeout=10).json()
    client = kfp_server_api.ApiClient()
    response = type("Response", (), {"data": json.dumps(listing)})()
    parsed = client.deserialize(response, "V2beta1ListRunsResponse")
    assert parsed.total_size == 1 and parsed.runs[0].run_details.task_details[1].display_name == "train"
    assert after["state"] == "CANCELED"
