"""The registry and the object store against an S3 that misbehaves (the fault proxy on loopback)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from faults.conftest import FLAKY_S3, direct_client
from faults.s3_fault_proxy import FaultPlan
from portway.errors import ParameterError, StorageError
from portway.objectstore import S3_RETRY_POLICY, S3Store, s3_retry_policy
from portway.registry import ModelRegistry

pytestmark = pytest.mark.timeout(120)

# FLAKY_S3 with shorter delays: 16 registrations make a few hundred requests.
FLAKY_REGISTRY = dataclasses.replace(FLAKY_S3, max_delay_seconds=0.05, seed=8)


def register(root: str, trained: dict) -> dict:
    return ModelRegistry(root).register(
        "churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
        evaluation_path=trained["evaluation_path"])


def server_keys(s3_server: str, bucket: str) -> list[str]:
    listing = direct_client(s3_server).list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_sixteen_concurrent_registrations_under_faults_lose_and_duplicate_nothing(
        s3_server, fault_proxy, bucket, trained):
    fault_proxy.set_plan(FLAKY_REGISTRY)
    root = f"s3://{bucket}/registry"
    with ThreadPoolExecutor(16) as pool:
        records = list(pool.map(lambda _: register(root, trained), range(16)))

    assert sorted(r["version"] for r in records) == list(range(1, 17))
    assert len({r["artifact_uri"] for r in records}) == 16
    fault_proxy.set_plan(FaultPlan())
    stored = ModelRegistry(root).records("churn")
    assert [r["version"] for r in stored[0]] == list(range(1, 17)) and stored[1] == []
    # Each version points at its own registration's artifacts, and every artifact set has a version.
    assert {r["artifact_uri"] for r in stored[0]} == {r["artifact_uri"] for r in records}
    keys = server_keys(s3_server, bucket)
    assert sum(k.endswith("/model.json") for k in keys) == 16
    outcomes = fault_proxy.stats.outcomes
    assert outcomes["lost_answer"] > 0 and outcomes["drop"] > 0, outcomes
    assert outcomes["error:SlowDown"] > 0 and outcomes["error:InternalError"] > 0, outcomes


def test_an_exclusive_create_whose_answer_was_lost_is_not_registered_twice(s3_server, fault_proxy, bucket, trained):
    # The first write of the version record lands on the server, but its answer is lost; the
    # client's retry then gets 412 for our own object. That must not become version 2.
    fault_proxy.set_plan(FaultPlan(lost_answer_share=1.0, max_faults_in_a_row=1,
                                   path_prefix=f"/{bucket}/registry/groups/churn/versions/"))
    record = register(f"s3://{bucket}/registry", trained)

    assert record["version"] == 1
    versions = [k for k in server_keys(s3_server, bucket) if "/versions/" in k]
    assert versions == ["registry/groups/churn/versions/00000001.json"]
    puts = [r for r in fault_proxy.stats.requests if r[0] == "PUT" and "/versions/" in r[1]]
    assert [r[3] for r in puts] == ["lost_answer", "forwarded"]  # the retry met our own object


@pytest.mark.parametrize("plan, last_error", [
    (FaultPlan(error_share=1.0, error_codes=("SlowDown",), max_faults_in_a_row=None), "SlowDown"),
    (FaultPlan(error_share=1.0, error_codes=("InternalError",), max_faults_in_a_row=None), "InternalError"),
    (FaultPlan(drop_share=1.0, max_faults_in_a_row=None), "ConnectionClosedError"),
])
def test_a_fault_that_outlasts_the_retries_names_the_object_and_the_last_error(
        s3_server, fault_proxy, bucket, trained, monkeypatch, plan, last_error):
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "3")
    fault_proxy.set_plan(plan)
    with pytest.raises(StorageError) as failure:
        register(f"s3://{bucket}/registry", trained)
    message = str(failure.value)
    assert f"s3://{bucket}/registry/groups/churn/artifacts/" in message and last_error in message, message
    assert "\n" not in message
    # Exactly the configured number of attempts went out, then nothing more.
    assert len(fault_proxy.stats.requests) == 3
    assert server_keys(s3_server, bucket) == []  # nothing half-registered

    with pytest.raises(StorageError, match=rf"s3://{bucket}/registry/groups/churn/versions/00000001.json: .*{last_error}"):
        ModelRegistry(f"s3://{bucket}/registry").get("churn", 1)


def test_client_errors_are_final_and_not_retried(fault_proxy, bucket):
    store = S3Store(f"s3://{bucket}/p")
    assert store.put_if_absent("a.json", b"{}") is True
    assert store.put_if_absent("a.json", b"{}") is False  # 412: somebody else's object
    with pytest.raises(StorageError, match=rf"s3://{bucket}/p/missing.json does not exist"):
        store.get("missing.json")
    # One request each: a 412 and a 404 are answers, not faults.
    assert [(method, outcome) for method, _, _, outcome in fault_proxy.stats.requests] == [
        ("PUT", "forwarded"), ("PUT", "forwarded"), ("GET", "forwarded")]


def test_the_retry_policy_is_one_documented_configuration(monkeypatch):
    monkeypatch.delenv("PORTWAY_S3_MAX_ATTEMPTS", raising=False)
    assert s3_retry_policy() == S3_RETRY_POLICY == {"mode": "standard", "total_max_attempts": 6}
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
    assert s3_retry_policy() == {"mode": "standard", "total_max_attempts": 2}
    for bad in ("0", "abc", "21", "-1"):
        monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", bad)
        with pytest.raises(ParameterError, match=f"PORTWAY_S3_MAX_ATTEMPTS='{bad}' is not valid"):
            s3_retry_policy()
