"""`portway serve` as a real subprocess: MLServer + the XGBoost runtime on loopback ports."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import requests
from conftest import free_ports

from portway.registry import ModelRegistry

pytestmark = pytest.mark.local

READY_TIMEOUT_SECONDS = 90
MAX_REQUEST_BYTES = 64 * 1024


def portway(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portway", *args], capture_output=True, text=True, timeout=120,
                          **kwargs)


@pytest.fixture(scope="module")
def registry_root(trained, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("serve") / "registry")
    registry = ModelRegistry(root)
    registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
                      evaluation_path=trained["evaluation_path"])
    registry.approve("churn", 1, "serve test")
    return root


@pytest.fixture(scope="module")
def server(registry_root, tmp_path_factory):
    """`portway serve churn:approved` on free loopback ports; stopped (and reaped) afterwards."""
    http, grpc, metrics = free_ports(3)
    log_path = tmp_path_factory.mktemp("serve-log") / "serve.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "portway", "serve", "churn:approved", "--registry", registry_root,
         "--port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics),
         "--max-request-bytes", str(MAX_REQUEST_BYTES)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path_factory.mktemp("cwd"))
    base = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"portway serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{base}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"portway serve not ready within {READY_TIMEOUT_SECONDS}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield {"base": base, "metrics": f"http://127.0.0.1:{metrics}/metrics", "pid": process.pid,
               "ports": {http, grpc, metrics}, "log": log_path}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def expected_predictions(processed, trained):
    from portway.steps.splits import load_split
    from portway.steps.train import load_booster

    X, _ = load_split(processed["test"], processed["profile"])
    import xgboost as xgb

    booster = load_booster(trained["model_dir"])
    expected = booster.predict(xgb.DMatrix(X, feature_names=booster.feature_names))
    # JSON has no NaN: a missing value travels as null.
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in X]
    return X, rows, expected


def infer(server, body, path="/v2/models/churn/infer", **kwargs):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return requests.post(server["base"] + path, data=data, headers={"Content-Type": "application/json"},
                         timeout=30, **kwargs)


def test_predictions_match_the_model_loaded_in_process(server, processed, trained):
    X, rows, expected = expected_predictions(processed, trained)
    assert np.isnan(X).any(), "the test split should carry missing values, sent as null"
    body = {"inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": "FP32", "data": rows}]}
    response = infer(server, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_name"] == "churn" and answer["model_version"] == "1"
    served = np.asarray(answer["outputs"][0]["data"], dtype=np.float64)
    assert served.shape == (len(X),)
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)

    # Flat data, the versioned path, and the one-tensor-per-feature layout give the same numbers.
    flat = {"inputs": [{"name": "x", "shape": [5, X.shape[1]], "datatype": "FP64",
                        "data": [v for row in rows[:5] for v in row]}]}
    response = infer(server, flat, path="/v2/models/churn/versions/1/infer")
    np.testing.assert_allclose(response.json()["outputs"][0]["data"], expected[:5], rtol=0, atol=1e-6)
    names = trained["record"]["feature_names"]
    columns = {"inputs": [{"name": name, "shape": [5], "datatype": "FP32", "data": [row[j] for row in rows[:5]]}
                          for j, name in reversed(list(enumerate(names)))]}
    response = infer(server, columns)
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["outputs"][0]["data"], expected[:5], rtol=0, atol=1e-6)


def test_predict_proba_is_served_without_scikit_learn(server, processed, trained):
    """The runtime loads a plain Booster (see portway.serving.runtime), so predict_proba works too."""
    X, rows, expected = expected_predictions(processed, trained)
    body = {"inputs": [{"name": "input-0", "shape": [5, X.shape[1]], "datatype": "FP32", "data": rows[:5]}],
            "outputs": [{"name": "predict_proba"}]}
    response = infer(server, body)
    assert response.status_code == 200, response.text
    proba = np.asarray(response.json()["outputs"][0]["data"], dtype=np.float64).reshape(5, 2)
    np.testing.assert_allclose(proba[:, 1], expected[:5], rtol=0, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)

def _row(width, **overrides):
    values = [1.0] * width
    for index, value in overrides.items():
        values[int(index.removeprefix("f"))] = value
    return values


MALFORMED = {
    "too few features": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w - 2], "datatype": "FP32",
                                                "data": [1.0] * (w - 2)}]}, 400, "takes 10 features per row"),
    "too many features": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w + 1], "datatype": "FP32",
                                                 "data": [1.0] * (w + 1)}]}, 400, "expected shape [rows, 10]"),
    "a string": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "datatype": "FP32",
                                        "data": _row(w, f3="month-to-month")}]}, 400,
                 "row 0, feature 'contract' is 'month-to-month'"),
    "a boolean": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "datatype": "FP32",
                                         "data": _row(w, f0=True)}]}, 400, "non-numeric"),
    "data shorter than shape": (lambda w: {"inputs": [{"name": "input-0", "shape": [2, w], "datatype": "FP32",
                                                       "data": [1.0] * w}]}, 400, "carries 10 values"),
    "bytes tensor": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "datatype": "BYTES",
                                            "data": ["a"] * w}]}, 400, "datatype BYTES"),
    "no inputs": (lambda w: {"inputs": []}, 400, "no inputs"),
    "out of FP32 range": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "datatype": "FP64",
                                                 "data": _row(w, f1=1e300)}]}, 400, "too large for FP32"),
    "unknown feature tensor": (lambda w: {"inputs": [{"name": "tenure_months", "shape": [1], "datatype": "FP32",
                                                      "data": [1]}, {"name": "shoe_size", "shape": [1],
                                                                     "datatype": "FP32", "data": [1]}]},
                               400, "unknown: shoe_size"),
    "unknown output": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "datatype": "FP32",
                                              "data": [1.0] * w}], "outputs": [{"name": "explain"}]}, 400,
                       "only supports 'predict'"),
    "not JSON": (lambda w: '{"inputs": [', 422, "JSON decode error"),
    "no datatype": (lambda w: {"inputs": [{"name": "input-0", "shape": [1, w], "data": [1.0] * w}]}, 422,
                    "datatype"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_requests_get_a_4xx_with_a_message_never_a_500(server, case):
    build, status, message = MALFORMED[case]
    response = infer(server, build(10))
    assert response.status_code == status, response.text
    assert message in response.text


def test_oversized_bodies_get_413_declared_or_chunked(server):
    big = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 10], "datatype": "FP32",
                                  "data": [1.0] * 10}], "pad": "x" * MAX_REQUEST_BYTES})
    response = infer(server, big)
    assert response.status_code == 413 and "at most 65536 bytes" in response.json()["error"]

    def chunks():
        encoded = big.encode()
        for start in range(0, len(encoded), 8192):
            yield encoded[start:start + 8192]

    # A generator body goes out chunked: no Content-Length for the server to refuse on.
    response = requests.post(server["base"] + "/v2/models/churn/infer", data=chunks(), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    small = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 10], "datatype": "FP32", "data": [1.0] * 10}]})
    response = requests.post(server["base"] + "/v2/models/churn/infer", data=iter([small.encode()]), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_metadata_metrics_and_loopback_only(server, trained):
    import psutil

    metadata = requests.get(server["base"] + "/v2/models/churn", timeout=10).json()
    assert metadata["versions"] == ["1"]
    assert metadata["inputs"][0]["parameters"]["feature_names"] == trained["record"]["feature_names"]
    infer(server, {"inputs": [{"name": "input-0", "shape": [1, 10], "datatype": "FP32", "data": [1.0] * 10}]})
    text = requests.get(server["metrics"], timeout=10).text
    success = [line for line in text.splitlines() if line.startswith('model_infer_request_success_total{model="churn"')]
    assert success and float(success[0].rsplit(" ", 1)[1]) >= 1
    assert 'rest_server_requests_total{app_name="mlserver",method="POST"' in text
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(server["pid"]).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert {port for _, port in listening} == server["ports"]
    # gRPC reports its IPv4 socket as IPv4-mapped IPv6 (::ffff:127.0.0.1): loopback all the same.
    for ip, port in listening:
        address = ipaddress.ip_address(ip)
        assert (getattr(address, "ipv4_mapped", None) or address) == ipaddress.ip_address("127.0.0.1"), (ip, port)


def test_serve_refuses_a_busy_port_and_an_unknown_version(server, registry_root):
    busy = sorted(server["ports"])[0]
    result = portway("serve", "churn:1", "--registry", registry_root, "--port", str(busy))
    assert result.returncode == 2 and f"Cannot listen on 127.0.0.1:{busy}" in result.stderr
    http, grpc, metrics = free_ports(3)
    result = portway("serve", "churn:7", "--registry", registry_root, "--port", str(http),
                     "--grpc-port", str(grpc), "--metrics-port", str(metrics))
    assert result.returncode == 2 and "churn:7 does not exist" in result.stderr
