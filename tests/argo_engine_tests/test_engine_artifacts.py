"""Artifacts through an S3 artifact repository (moto on 127.0.0.1), as Argo's executor moves them.

Rules cited in tests/argo_engine/artifacts.py: docs/configure-artifact-repository.md (keyFormat),
docs/key-only-artifacts.md, executor.go (tar.gz `<name>.tgz` by default, `archive: none`, optional,
outputs saved whatever the main container's exit code: cmd/argoexec/commands/wait.go).
"""

from __future__ import annotations

import io
import tarfile
import uuid

import boto3
import pytest
from argo_engine import ArgoEngine
from argo_engine.images import standard_image

from tests.conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY


@pytest.fixture
def s3(s3_server):
    bucket = f"argo-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=TEST_AWS_ACCESS_KEY_ID,
                          aws_secret_access_key=TEST_AWS_SECRET_ACCESS_KEY, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return client, bucket, s3_server


@pytest.fixture
def engine(tmp_path, s3):
    _, bucket, url = s3
    repo = {"s3": {"bucket": bucket, "endpoint": url.removeprefix("http://"), "insecure": True,
                   "keyFormat": "runs/{{workflow.name}}/{{pod.name}}",
                   "accessKeySecret": {"name": "s3", "key": "accesskey"},
                   "secretKeySecret": {"name": "s3", "key": "secretkey"}}}
    return ArgoEngine(tmp_path / "engine", standard_image, artifact_repository=repo,
                      secrets={"s3": {"accesskey": TEST_AWS_ACCESS_KEY_ID, "secretkey": TEST_AWS_SECRET_ACCESS_KEY}})


def wf(*templates) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "art-"},
            "spec": {"entrypoint": "main", "templates": list(templates)}}


def sh(name, script, **extra):
    return {"name": name, "container": {"image": "busybox", "command": ["sh", "-c"], "args": [script]}, **extra}


def test_passing_between_tasks_with_default_archive_and_key_format(engine, s3):
    client, bucket, _ = s3
    produce = sh("produce", "mkdir -p /out/d && echo one > /out/d/a.txt && echo two > /out/f.txt && exit 0",
                 outputs={"artifacts": [{"name": "dir", "path": "/out/d"},
                                        {"name": "raw", "path": "/out/f.txt", "archive": {"none": {}}}]})
    consume = sh("consume", "cat /in/d/a.txt /in/f.txt", inputs={"artifacts": [
        {"name": "dir", "path": "/in/d"}, {"name": "raw", "path": "/in/f.txt"}]})
    main = {"name": "main", "dag": {"tasks": [
        {"name": "p", "template": "produce"},
        {"name": "c", "template": "consume", "depends": "p", "arguments": {"artifacts": [
            {"name": "dir", "from": "{{tasks.p.outputs.artifacts.dir}}"},
            {"name": "raw", "from": "{{tasks.p.outputs.artifacts.raw}}"}]}}]}}
    result = engine.run(wf(main, produce, consume))
    assert result.phase == "Succeeded", result.message
    assert result.node("c").outputs["result"] == "one\ntwo"
    producer = result.node("p")
    keys = {a["name"]: a["s3"]["key"] for a in producer.outputs["artifacts"]}
    prefix = f"runs/{result.workflow_name}/{producer.pod_name}"
    assert keys == {"dir": f"{prefix}/dir.tgz", "raw": f"{prefix}/f.txt"}
    tgz = client.get_object(Bucket=bucket, Key=keys["dir"])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        assert sorted(tar.getnames()) == ["d", "d/a.txt"]
    assert client.get_object(Bucket=bucket, Key=keys["raw"])["Body"].read() == b"two\n"


def test_key_only_optional_and_failed_pods(engine, s3):
    client, bucket, _ = s3
    key = f"fixed/{uuid.uuid4().hex}.txt"
    fails_after_writing = sh("main", "echo kept > /tmp/o.txt; exit 3", outputs={"artifacts": [
        {"name": "o", "path": "/tmp/o.txt", "archive": {"none": {}}, "s3": {"key": key}},
        {"name": "never", "path": "/tmp/missing", "optional": True}]})
    result = engine.run(wf(fails_after_writing))
    # wait.go saves outputs whatever the exit code; an optional missing path is skipped
    assert result.phase == "Failed"
    assert [a["name"] for a in result.nodes[0].outputs["artifacts"]] == ["o"]
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"kept\n"
    missing = sh("main", "true", outputs={"artifacts": [{"name": "m", "path": "/tmp/missing"}]})
    result = engine.run(wf(missing))
    assert result.phase == "Error" and "/tmp/missing" in result.message
    reads_key_only = sh("main", "cat /in.txt", inputs={"artifacts": [{"name": "i", "path": "/in.txt",
                                                                     "s3": {"key": key}}]})
    result = engine.run(wf(reads_key_only))
    assert result.phase == "Succeeded" and result.nodes[0].outputs["result"] == "kept"
