"""Input data on S3 that is not there: the run stops before any step, naming the bucket or key."""

import boto3
import pytest

from portway.cli import main


@pytest.mark.parametrize("uri, message", [
    ("s3://portway-no-such-bucket-x1/churn.csv", "portway-no-such-bucket-x1"),
    (None, "does not exist"),
])
def test_missing_bucket_or_key_fails_before_any_step(tmp_path, s3_bucket, capsys, uri, message):
    uri = uri or f"s3://{s3_bucket}/missing/churn.csv"
    assert main(["run", "--data", uri, "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert message in err and uri.split("/")[2] in err
    assert not (tmp_path / "runs").exists()


def test_an_empty_object_is_refused_before_any_step(tmp_path, s3_bucket, capsys):
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="empty.csv", Body=b"")
    code = main(["run", "--data", f"s3://{s3_bucket}/empty.csv", "--runs-dir", str(tmp_path / "runs")])
    assert code == 2
    assert f"s3://{s3_bucket}/empty.csv is empty (0 bytes)" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
