"""Fixtures for the fault tests: the fault proxy in front of the loopback S3 server."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

from faults.s3_fault_proxy import FaultPlan, S3FaultProxy


def direct_client(s3_server: str):
    """A boto3 client that talks to the S3 server directly (no faults), for setup and checks."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                        aws_access_key_id=TEST_AWS_ACCESS_KEY_ID, aws_secret_access_key=TEST_AWS_SECRET_ACCESS_KEY)


@pytest.fixture
def fault_proxy(s3_server, monkeypatch):
    """A fault proxy (no faults until a test sets its plan); boto3 here and in step
    subprocesses reaches S3 only through it."""
    with S3FaultProxy(s3_server, FaultPlan()) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_AWS_ACCESS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_AWS_SECRET_ACCESS_KEY)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        yield proxy


@pytest.fixture
def bucket(s3_server, fault_proxy) -> str:
    """A fresh bucket, made directly on the server."""
    name = f"portway-faults-{uuid.uuid4().hex[:10]}"
    direct_client(s3_server).create_bucket(Bucket=name)
    return name


# The training settings every pipeline-level fault test uses, so their results compare.
TRAINING_ARGS = ["--num-boost-round", "40"]


@pytest.fixture(scope="session")
def reference_run(churn_csv, tmp_path_factory) -> dict:
    """The summary of an undisturbed `portway run` on `churn_csv`: the result every faulted,
    interrupted or resumed run must reproduce."""
    from portway.cli import main

    runs = tmp_path_factory.mktemp("reference") / "runs"
    assert main(["run", "--data", str(churn_csv), "--runs-dir", str(runs), *TRAINING_ARGS]) == 0
    (summary,) = runs.glob("*/summary.json")
    return json.loads(summary.read_text())
