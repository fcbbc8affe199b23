"""A store that is down or failing is a transient failure (exit 1), never bad input (exit 2) (issue 14)."""

from __future__ import annotations

import pytest

from portway import exitcodes
from portway.cli import main
from portway.objectstore import is_transient_s3_error


def client_error(status: int, code: str):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutObject")


@pytest.mark.parametrize("exc, transient", [
    (client_error(503, "SlowDown"), True),
    (client_error(500, "InternalError"), True),
    (client_error(503, "503"), True),  # a HEAD answer has no body: the code is the status
    (client_error(429, "TooManyRequests"), True),
    (client_error(400, "RequestTimeout"), True),
    (client_error(403, "AccessDenied"), False),
    (client_error(404, "NoSuchBucket"), False),
    (client_error(412, "PreconditionFailed"), False),
])
def test_classification_of_answers(exc, transient):
    assert is_transient_s3_error(exc) is transient


def test_classification_of_connection_errors():
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    assert is_transient_s3_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient_s3_error(ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient_s3_error(ReadTimeoutError(endpoint_url="http://127.0.0.1:1"))
    try:
        try:
            raise client_error(503, "SlowDown")
        except Exception as inner:
            raise S3UploadFailedError("Failed to upload x to b/k: SlowDown") from inner
    except S3UploadFailedError as wrapped:
        assert is_transient_s3_error(wrapped)


@pytest.fixture
def failing_s3(s3_server, monkeypatch):
    """S3 behind a proxy that answers every request 503 SlowDown, with 2 attempts per call."""
    from faults.conftest import new_bucket, point_aws_at
    from faults.s3_fault_proxy import FaultPlan, S3FaultProxy

    bucket = new_bucket(s3_server)
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
    with S3FaultProxy(s3_server, FaultPlan(error_share=1.0, error_codes=("SlowDown",),
                                           max_faults_in_a_row=None)) as proxy:
        point_aws_at(monkeypatch, proxy.url)
        yield bucket


def test_an_s3_outage_before_the_first_step_exits_1(failing_s3, tmp_path, capsys):
    """Issue 14: `portway run` on s3:// data during an outage exited 2, the code for bad input."""
    code = main(["run", "--data", f"s3://{failing_s3}/churn.csv", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == exitcodes.FAILED, err
    assert f"s3://{failing_s3}/churn.csv" in err and "503" in err and "max retries" in err


def test_an_unreachable_store_exits_1(tmp_path, monkeypatch, capsys):
    from conftest import free_port
    from faults.conftest import point_aws_at

    point_aws_at(monkeypatch, f"http://127.0.0.1:{free_port()}")  # connection refused
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "1")
    code = main(["models", "list", "--registry", "s3://bucket/registry"])
    err = capsys.readouterr().err
    assert code == exitcodes.FAILED and "Could not connect to the endpoint URL" in err
    code = main(["run", "--data", "s3://bucket/churn.csv", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == exitcodes.FAILED and "Could not connect" in err


def test_a_missing_object_is_still_bad_input(s3_bucket, tmp_path, capsys):
    code = main(["run", "--data", f"s3://{s3_bucket}/nosuch.csv", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == exitcodes.BAD_INPUT and f"s3://{s3_bucket}/nosuch.csv does not exist" in err
