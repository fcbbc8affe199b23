"""The registry against a real S3 endpoint on loopback (moto server)."""

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from portway.errors import StorageError
from portway.registry import ModelRegistry


def test_sixteen_concurrent_registrations_end_with_versions_1_to_16(s3_bucket, trained):
    root = f"s3://{s3_bucket}/registry"

    def one(_):
        return ModelRegistry(root).register(
            "churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
            evaluation_path=trained["evaluation_path"])

    with ThreadPoolExecutor(16) as pool:
        records = list(pool.map(one, range(16)))
    assert sorted(r["version"] for r in records) == list(range(1, 17))
    assert ModelRegistry(root).versions("churn") == list(range(1, 17))
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert sum(k.endswith("/model.json") for k in keys) == 16
    record = ModelRegistry(root).get("churn", 16)
    assert record["artifact_uri"].startswith(f"s3://{s3_bucket}/registry/groups/churn/artifacts/")


def test_missing_bucket_is_named(s3_env, trained):
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-portway' does not exist"):
        ModelRegistry("s3://no-such-bucket-portway/reg").register(
            "churn", trained["model_dir"], {}, {}, evaluation_path=trained["evaluation_path"])
