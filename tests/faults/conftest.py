"""Fixtures for the fault tests: the fault proxy in front of the loopback S3 server, and the
pipeline runs on S3 that several tests examine."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

from faults.s3_fault_proxy import FaultPlan, S3FaultProxy

# The training settings every pipeline-level fault test uses, so their results compare.
TRAINING_ARGS = ["--num-boost-round", "40"]
# About one request in five faulted (errors, dropped connections, lost answers), the others
# delayed up to 200 ms. The cap keeps one request from being faulted more often in a row
# than the retry budget allows; persistent faults are tested on their own.
FLAKY_S3 = FaultPlan(error_share=0.08, drop_share=0.04, lost_answer_share=0.08, max_delay_seconds=0.2,
                     max_faults_in_a_row=3, seed=24)


def direct_client(s3_server: str):
    """A boto3 client that talks to the S3 server directly (no faults), for setup and checks."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                        aws_access_key_id=TEST_AWS_ACCESS_KEY_ID, aws_secret_access_key=TEST_AWS_SECRET_ACCESS_KEY)


def new_bucket(s3_server: str) -> str:
    """A fresh bucket, made directly on the server."""
    name = f"portway-faults-{uuid.uuid4().hex[:10]}"
    direct_client(s3_server).create_bucket(Bucket=name)
    return name


def point_aws_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """boto3 here and in step subprocesses (they inherit the environment) uses `endpoint`
    with the test credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_AWS_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)


@pytest.fixture
def fault_proxy(s3_server, monkeypatch):
    """A fault proxy (no faults until a test sets its plan); S3 is reached only through it."""
    with S3FaultProxy(s3_server, FaultPlan()) as proxy:
        point_aws_at(monkeypatch, proxy.url)
        yield proxy


@pytest.fixture
def bucket(s3_server, fault_proxy) -> str:
    return new_bucket(s3_server)


@dataclass
class Invocation:
    exit_code: int
    stdout: str
    stderr: str


def invoke(argv: list[str]) -> Invocation:
    """`portway ARGV` in this process, with its console output captured."""
    from portway.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return Invocation(code, out.getvalue(), err.getvalue())


def last_summary(runs: Path) -> dict:
    paths = sorted(runs.glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(paths[-1].read_text())


@pytest.fixture(scope="session")
def reference_run(churn_csv, tmp_path_factory) -> dict:
    """The summary of an undisturbed `portway run` on `churn_csv`: the result every faulted,
    interrupted or resumed run must reproduce."""
    runs = tmp_path_factory.mktemp("reference") / "runs"
    assert invoke(["run", "--data", str(churn_csv), "--runs-dir", str(runs), *TRAINING_ARGS]).exit_code == 0
    return last_summary(runs)


@dataclass
class S3Runs:
    bucket: str
    registry_root: str
    runs_dir: Path
    fault_outcomes: Counter  # what the proxy did to the requests of the flaky run
    flaky: Invocation        # data and registry on S3, ~20 % of requests faulted
    flaky_summary: dict
    failed: Invocation       # the same, rerun with the registry's artifact uploads failing every attempt
    failed_summary: dict


@pytest.fixture(scope="session")
def s3_runs(s3_server, churn_csv, tmp_path_factory) -> S3Runs:
    """Two `portway run`s with data and registry on S3 behind the fault proxy (test credentials):
    one on flaky S3, then one whose registry uploads fail past the retry budget. Run once per
    session (they are the slowest part); the environment is restored before any test runs."""
    runs_dir = tmp_path_factory.mktemp("s3-runs") / "runs"
    with S3FaultProxy(s3_server) as proxy, pytest.MonkeyPatch.context() as monkeypatch:
        point_aws_at(monkeypatch, proxy.url)
        bucket = new_bucket(s3_server)
        direct_client(s3_server).upload_file(str(churn_csv), bucket, "data/churn.csv")
        registry_root = f"s3://{bucket}/registry"
        command = ["run", "--data", f"s3://{bucket}/data/churn.csv", "--registry", registry_root,
                   "--runs-dir", str(runs_dir), *TRAINING_ARGS]

        proxy.set_plan(FLAKY_S3)
        flaky = invoke(command)
        flaky_summary = last_summary(runs_dir)
        fault_outcomes = Counter(proxy.stats.outcomes)

        monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
        proxy.set_plan(FaultPlan(error_share=1.0, error_codes=("SlowDown",), max_faults_in_a_row=None,
                                 path_prefix=f"/{bucket}/registry/groups/churn/artifacts/"))
        # A changed register parameter: process, train and evaluate come from cache, register runs.
        failed = invoke([*command, "--approval-status", "Approved"])
        failed_summary = last_summary(runs_dir)
    return S3Runs(bucket, registry_root, runs_dir, fault_outcomes, flaky, flaky_summary, failed, failed_summary)
