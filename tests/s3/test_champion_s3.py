"""The champion downloaded from an S3 registry (moto server on loopback) and scored."""

import boto3
from champion_fixtures import GROUP, approved_champion, run_evaluate

from portway.objectstore import split_s3_uri
from portway.registry import ModelRegistry


def test_champion_in_s3_is_downloaded_and_rescored(s3_bucket, tmp_path, processed, trained):
    root = f"s3://{s3_bucket}/registry"
    approved_champion(root, trained)
    decision = run_evaluate(tmp_path, processed, trained, root, "auc>=champion+0.005")["decision"]
    assert decision["champion"]["reference"] == f"{GROUP}:1"
    assert decision["champion"]["metrics"] == trained["evaluation"]["metrics"]
    assert decision["passed"] is False  # equal to the champion, not better by the margin


def test_corrupt_champion_object_in_s3_fails_closed(s3_bucket, tmp_path, processed, trained):
    root = f"s3://{s3_bucket}/registry"
    record = approved_champion(root, trained)
    registry = ModelRegistry(root)
    _, key = split_s3_uri(registry.store.uri(registry.artifact_key(record, "model.json")))
    boto3.client("s3").put_object(Bucket=s3_bucket, Key=key, Body=b"\x00garbage")
    decision = run_evaluate(tmp_path, processed, trained, root, "auc>=champion")["decision"]
    assert decision["passed"] is False
    assert decision["champion"]["error"].startswith(f"champion {GROUP}:1 cannot be scored: Cannot load the model")
