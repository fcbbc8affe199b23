"""Benchmarks 5 (serving under load, against in-process predict) and 6 (compile scale)."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

SERVE_RATE_RPS = 100
READY_TIMEOUT_SECONDS = 120
LOAD_WORKERS = 8


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _prepare_model(work: Path):
    """A model trained on 5,000 synthetic rows, registered; returns (registry root, test matrix, booster)."""
    import xgboost as xgb

    from portway.datasets.generate import generate
    from portway.registry import ModelRegistry
    from portway.steps.evaluate import evaluate_model
    from portway.steps.process import process_dataset
    from portway.steps.splits import load_split
    from portway.steps.train import train_model

    root = work / "serving"
    data = generate(root / "churn.csv", rows=5_000, seed=3)
    profile = process_dataset(str(data), "churned", str(root / "train.parquet"), str(root / "validation.parquet"),
                              str(root / "test.parquet"), str(root / "profile.json"))
    train_model(str(root / "train.parquet"), str(root / "validation.parquet"), profile, str(root / "model"),
                num_boost_round=100)
    evaluation = evaluate_model(str(root / "model"), str(root / "test.parquet"), str(root / "evaluation.json"))
    registry = ModelRegistry(str(root / "registry"))
    registry.register("bench", str(root / "model"), evaluation["metrics"], {"data_uri": str(data)},
                      evaluation_path=str(root / "evaluation.json"))
    X, _ = load_split(str(root / "test.parquet"), profile)
    booster = xgb.Booster()
    booster.load_model(str(root / "model" / "model.json"))
    return str(root / "registry"), X, booster


def _load(port: int, body: bytes, count: int, rate: float) -> tuple[list[float], int, float]:
    """Open-loop load at `rate` req/s on loopback: (latencies in ms, errors, achieved req/s)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.05
    next_index = [0]

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= count:
                break
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                connection.request("POST", "/v2/models/bench/infer", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = (time.perf_counter() - sent) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(LOAD_WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], count / (time.perf_counter() - start)


def bench_serving(work: Path, requests: int, repeats: int) -> dict:
    import xgboost as xgb

    registry_root, X, booster = _prepare_model(work)
    http_port, grpc_port, metrics_port = _free_ports(3)
    log = open(work / "serve.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "portway", "serve", "bench:1", "--registry", registry_root, "--port", str(http_port),
         "--grpc-port", str(grpc_port), "--metrics-port", str(metrics_port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"portway serve exited: {(work / 'serve.log').read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=2)
                connection.request("GET", "/v2/health/ready")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("portway serve did not become ready")
            time.sleep(0.3)
        batches = {}
        per_repeat = max(1, requests // repeats)
        for batch in (1, 64):
            rows = X[:batch]
            body = json.dumps({"inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP32",
                                           "data": [None if v != v else float(v) for v in rows.ravel()]}]}).encode()
            _load(http_port, body, 20, SERVE_RATE_RPS)  # warm up the connection pool and the model
            latencies, errors, achieved, floor = [], 0, [], []
            matrix = xgb.DMatrix(rows, feature_names=booster.feature_names)
            for _ in range(repeats):  # alternate: a slice of load, then the in-process floor
                lat, err, rps = _load(http_port, body, per_repeat, SERVE_RATE_RPS)
                latencies += lat
                errors += err
                achieved.append(rps)
                for _ in range(200):
                    t = time.perf_counter()
                    booster.predict(xgb.DMatrix(rows, feature_names=booster.feature_names))
                    floor.append((time.perf_counter() - t) * 1000)
            del matrix
            batches[str(batch)] = {
                "rate": SERVE_RATE_RPS, "requests": len(latencies), "errors": errors,
                "achieved_rps": statistics.median(achieved),
                "p50_ms": _percentile(latencies, 0.50), "p99_ms": _percentile(latencies, 0.99),
                "max_ms": max(latencies), "floor_ms": statistics.median(floor),
                "floor_p99_ms": _percentile(floor, 0.99),
            }
        return {"batches": batches, "load_generator": f"open loop, {LOAD_WORKERS} keep-alive connections, loopback",
                "floor": "booster.predict(DMatrix(batch)) in this process, same model and rows"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


COMPILE_ONE = r"""
import copy, json, statistics, sys, time, warnings
import yaml
target, fanout, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
from portway.compile.argo import compile_argo
from portway.compile.kfp_target import compile_kfp
from portway.pipelines.hyperparameter_search import build_search_pipeline
pipeline = build_search_pipeline(fanout)
compile_fn = compile_argo if target == "argo" else compile_kfp
seconds = []
for _ in range(repeats):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = compile_fn(pipeline)
    text = yaml.safe_dump(document, sort_keys=False)
    seconds.append(time.perf_counter() - t)
# The loop's input list (the default candidates) is data; without it, what is left is structure.
structure = copy.deepcopy(document)
if target == "argo":
    for parameter in structure["spec"]["arguments"]["parameters"]:
        if parameter["name"] == "candidates":
            parameter["value"] = "[]"
else:
    structure["pipeline_spec"]["root"]["inputDefinitions"]["parameters"]["candidates"]["defaultValue"] = []
print(json.dumps({"seconds": seconds, "bytes": len(text.encode()),
                  "structure_bytes": len(yaml.safe_dump(structure, sort_keys=False).encode())}))
"""


def bench_compile(fanouts: list[int], repeats: int) -> dict:
    """Each (target, fan-out) compiles in a fresh interpreter, so no compile sees another's state;
    the timing starts after the imports."""
    from benchmarks import run_python

    targets: dict[str, dict] = {"kfp": {}, "argo": {}}
    for fanout in fanouts:
        for target in targets:
            r = run_python(COMPILE_ONE, target, str(fanout), str(repeats))
            seconds = r["seconds"]
            targets[target][str(fanout)] = {
                "seconds": {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds),
                            "runs": len(seconds), "samples": seconds},
                "bytes": r["bytes"], "structure_bytes": r["structure_bytes"],
            }
    # The loop stays a loop: without its input list, the document is the same size at every fan-out.
    size_independent = {target: len({r["structure_bytes"] for r in sizes.values()}) == 1
                        for target, sizes in targets.items()}
    return {"targets": targets, "size_independent": size_independent,
            "note": "bytes include the default candidates list (data); structure_bytes is the document without it"}
