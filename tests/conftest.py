"""Shared fixtures: datasets, an S3 server on loopback, the shared upstream schemas."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Upstream CRDs and JSON schemas live beside the project, never inside it.
SCHEMAS_DIR = Path(os.environ.get("PORTWAY_SHARED_SCHEMAS", REPO_ROOT.parent / "shared" / "schemas"))

TEST_AWS_ACCESS_KEY_ID = "AKIAPORTWAYTESTKEY01"
TEST_AWS_SECRET_ACCESS_KEY = "portway-test-secret-Zx9Qw7Lm3Vb5Nc1Kd8"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    if not SCHEMAS_DIR.is_dir():
        # On CI ../shared is always laid beside the clone: missing, it is a broken setup, never a pass.
        if os.environ.get("CI"):
            pytest.fail(f"upstream schemas not found at {SCHEMAS_DIR} (CI is set; set PORTWAY_SHARED_SCHEMAS)")
        pytest.skip(f"upstream schemas not found at {SCHEMAS_DIR} (set PORTWAY_SHARED_SCHEMAS)")
    return SCHEMAS_DIR


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on 127.0.0.1 (a real HTTP endpoint; honours IfNoneMatch/IfMatch)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def point_boto3_at(patch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Point boto3 (in this process and in step subprocesses) at the S3 server at `endpoint`."""
    patch.setenv("AWS_ENDPOINT_URL", endpoint)
    patch.setenv("AWS_ACCESS_KEY_ID", TEST_AWS_ACCESS_KEY_ID)
    patch.setenv("AWS_SECRET_ACCESS_KEY", TEST_AWS_SECRET_ACCESS_KEY)
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    """Point boto3 (in this process and in step subprocesses) at the loopback S3 server."""
    point_boto3_at(monkeypatch, s3_server)
    return s3_server


@pytest.fixture
def s3_bucket(s3_env):
    """A fresh, empty bucket; returns its name."""
    import uuid

    import boto3

    name = f"portway-test-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def churn_csv(tmp_path_factory) -> Path:
    """2,000 rows of the synthetic churn data (quick to train on)."""
    from portway.datasets.generate import generate

    return generate(tmp_path_factory.mktemp("data") / "churn.csv", rows=2000, seed=11)


@pytest.fixture(scope="session")
def processed(churn_csv, tmp_path_factory) -> dict:
    """The churn data run through `process`: paths of the splits and the profile."""
    from portway.steps.process import process_dataset

    out = tmp_path_factory.mktemp("processed")
    paths = {name: str(out / f"{name}.parquet") for name in ("train", "validation", "test")}
    profile = process_dataset(str(churn_csv), "churned", paths["train"], paths["validation"], paths["test"],
                              str(out / "profile.json"))
    return {**paths, "profile": profile, "profile_path": str(out / "profile.json"), "dir": out}


@pytest.fixture(scope="session")
def trained(processed, tmp_path_factory) -> dict:
    """A model trained on `processed`, with its evaluation."""
    from portway.steps.evaluate import evaluate_model
    from portway.steps.train import train_model

    out = tmp_path_factory.mktemp("model")
    record = train_model(processed["train"], processed["validation"], processed["profile"], str(out / "model"),
                         num_boost_round=60)
    evaluation = evaluate_model(str(out / "model"), processed["test"], str(out / "evaluation.json"))
    return {"model_dir": str(out / "model"), "record": record, "evaluation": evaluation,
            "evaluation_path": str(out / "evaluation.json")}


def cluster_unreachable_reason() -> str | None:
    """Why no Kubernetes cluster can be used (None when one answers)."""
    import shutil
    import subprocess

    kubeconfigs = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    has_config = any(Path(p).is_file() for p in kubeconfigs) or (Path.home() / ".kube" / "config").is_file()
    if not has_config and not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "no Kubernetes cluster configured (no KUBECONFIG, no ~/.kube/config); run `make kind-up` first"
    if not shutil.which("kubectl"):
        return "kubectl is not on PATH"
    try:
        probe = subprocess.run(["kubectl", "cluster-info", "--request-timeout=5s"],
                               capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the configured Kubernetes cluster did not answer within 20s"
    if probe.returncode != 0:
        return f"the configured Kubernetes cluster is not reachable: {probe.stderr.strip()[:200]}"
    return None


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden files under tests/golden from the current compilers (make golden)")


@pytest.fixture
def update_goldens(request) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def pytest_collection_modifyitems(config, items):
    """Skip `cluster` tests, with the reason, when no cluster answers (checked once, lazily)."""
    cluster_items = [item for item in items if item.get_closest_marker("cluster")]
    if not cluster_items:
        return
    reason = cluster_unreachable_reason()
    if reason:
        for item in cluster_items:
            item.add_marker(pytest.mark.skip(reason=reason))
