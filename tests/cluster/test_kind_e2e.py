"""End to end on the kind cluster of `make kind-up`: run the pipeline (`make kind-run`'s
script), deploy the registered model with charts/kserve-inference, and call it over the V2
protocol. Skips, with the reason, when no cluster answers or Portway's kind setup is absent."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from portway.devtools.charts import render_chart, rendered_objects

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(3600)]

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "portway"
SECRET = "portway-s3-credentials"
REGISTRY_ROOT = "s3://portway-models/registry"
ISVC = "churn-e2e"


def kubectl(*args: str, check: bool = True, timeout: int = 120, stdin: str | None = None) -> str:
    result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@pytest.fixture(scope="module")
def kind_setup():
    context = kubectl("config", "current-context", check=False).strip()
    if not context.startswith("kind-"):
        pytest.skip(f"the current context {context!r} is not a kind cluster; run `make kind-up`")
    if not kubectl("-n", NAMESPACE, "get", "deployment/minio", "--ignore-not-found", "-o", "name", check=False):
        pytest.skip("Portway's kind overlay (MinIO in namespace portway) is not applied; run `make kind-up`")
    if not kubectl("get", "clusterservingruntime", "kserve-mlserver", "--ignore-not-found", "-o", "name", check=False):
        pytest.skip("KServe's kserve-mlserver runtime is not installed; run `make kind-up`")
    return context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def port_forward(target: str, remote_port: int):
    port = free_port()
    process = subprocess.Popen(["kubectl", "-n", NAMESPACE, "port-forward", target, f"{port}:{remote_port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"port-forward to {target} did not open within 30s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def secret_value(key: str) -> str:
    encoded = kubectl("-n", NAMESPACE, "get", "secret", SECRET, "-o", f"jsonpath={{.data.{key}}}")
    return base64.b64decode(encoded).decode()


def http_json(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read() or b"{}")


def test_pipeline_runs_and_deployed_model_answers(kind_setup, monkeypatch):
    run = subprocess.run(["bash", "scripts/kind.sh", "run"], cwd=REPO, capture_output=True, text=True,
                         timeout=3000, env={**os.environ, "PY": str(REPO / ".venv" / "bin" / "python")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    from portway.registry import open_registry

    with port_forward("svc/minio", 9000) as minio:
        monkeypatch.setenv("AWS_ENDPOINT_URL", minio)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", secret_value("AWS_ACCESS_KEY_ID"))
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_value("AWS_SECRET_ACCESS_KEY"))
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        registry = open_registry(REGISTRY_ROOT)
        record = registry.resolve("churn:latest")
        schema_key = record["artifact_uri"].removeprefix("s3://portway-models/") + "feature_schema.json"
        import boto3

        schema = json.loads(boto3.client("s3").get_object(Bucket="portway-models", Key=schema_key)["Body"].read())

    values = {
        "nameOverride": ISVC,
        "model": {"group": record["group"], "version": str(record["version"]), "storageUri": record["artifact_uri"],
                  "runtime": "kserve-mlserver"},
        "serviceAccount": {"create": False, "name": "portway-inference"},
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "autoscaling": {"minReplicas": 1, "maxReplicas": 1, "scaleTarget": 80, "scaleMetric": "cpu"},
    }
    manifest = "\n---\n".join(json.dumps(o) for o in rendered_objects(
        render_chart(REPO / "charts" / "kserve-inference", values, namespace=NAMESPACE)))
    kubectl("-n", NAMESPACE, "apply", "-f", "-", stdin=manifest)
    try:
        kubectl("-n", NAMESPACE, "wait", "--for=condition=Ready", f"inferenceservice/{ISVC}", "--timeout=900s",
                timeout=960)
        features = schema["feature_names"]
        rows = [[0.0] * len(features), [1.0] * len(features)]
        with port_forward(f"svc/{ISVC}-predictor", 80) as predictor:
            status, ready = http_json(f"{predictor}/v2/models/{ISVC}/ready")
            assert status == 200, ready
            status, answer = http_json(f"{predictor}/v2/models/{ISVC}/infer", {"inputs": [
                {"name": "input-0", "shape": [len(rows), len(features)], "datatype": "FP32",
                 "data": [v for row in rows for v in row]}]})
        assert status == 200, answer
        (output,) = answer["outputs"]
        assert output["shape"][0] == len(rows)
        assert all(0.0 <= p <= 1.0 for p in output["data"]), output
    finally:
        kubectl("-n", NAMESPACE, "delete", "inferenceservice", ISVC, "--ignore-not-found", "--wait=false", check=False)
