"""One small interface over a local directory and an S3 prefix.

The registry and the data readers only need a handful of operations; both backends give
the same guarantees for them:
- `put_if_absent` creates an object only if none exists (S3 `IfNoneMatch="*"`; on a
  filesystem a hard link of a complete temp file, which fails if the name exists);
- `put_if_match` replaces an object only if it is unchanged since it was read (S3 `IfMatch`
  on the ETag; on a filesystem a lock plus an atomic rename);
- nothing is ever visible under its final name half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from portway.errors import InputDataError, ParameterError, PortwayError, StorageError, TransientStorageError

# The one retry policy for every S3 call Portway makes (README "Failure behaviour").
# botocore's "standard" mode retries throttling (503 SlowDown, 429), 500/502/503/504 answers,
# RequestTimeout and dropped or refused connections, waiting rand(0, 1) * min(scale * 2**n, 20 s)
# before retry n (scale 1 s after throttling, 50 ms otherwise), and draws each retry from a
# per-client quota (500 tokens: 5 per throttling retry, 14 per other retry) so a dead endpoint is
# not hammered. It never retries a 4xx answer: 403, 404 and 412 (a lost conditional write) are
# final. PORTWAY_S3_MAX_ATTEMPTS (1-20) overrides the attempt count, e.g. to fail fast in a test.
# botocore's own "max_attempts" key counts retries only; "total_max_attempts" counts every try.
S3_RETRY_POLICY = {"mode": "standard", "total_max_attempts": 6}
S3_MAX_ATTEMPTS_ENV = "PORTWAY_S3_MAX_ATTEMPTS"
S3_MAX_ATTEMPTS_LIMIT = 20
S3_CONNECT_TIMEOUT_SECONDS = 5
S3_READ_TIMEOUT_SECONDS = 30


def s3_retry_policy() -> dict:
    """S3_RETRY_POLICY with the attempt count from PORTWAY_S3_MAX_ATTEMPTS when set."""
    policy = dict(S3_RETRY_POLICY)
    value = os.environ.get(S3_MAX_ATTEMPTS_ENV, "").strip()
    if value:
        if not value.isdigit() or not 1 <= int(value) <= S3_MAX_ATTEMPTS_LIMIT:
            raise ParameterError(
                f"{S3_MAX_ATTEMPTS_ENV}={value!r} is not valid; expected a whole number of attempts "
                f"from 1 (no retry) to {S3_MAX_ATTEMPTS_LIMIT}."
            )
        policy["total_max_attempts"] = int(value)
    return policy


class NotFound(StorageError):
    """The object does not exist."""


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    etag: str


class ObjectStore(Protocol):
    root_uri: str

    def uri(self, key: str) -> str: ...
    def get(self, key: str) -> StoredObject: ...
    def put(self, key: str, data: bytes) -> None: ...
    def put_if_absent(self, key: str, data: bytes) -> bool: ...
    def put_if_match(self, key: str, data: bytes, etag: str) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def list_modified(self, prefix: str) -> dict[str, float]: ...
    def delete(self, key: str) -> None: ...
    def upload_file(self, local_path: str | os.PathLike, key: str) -> None: ...
    def download_file(self, key: str, local_path: str | os.PathLike) -> None: ...


def open_store(root_uri: str) -> ObjectStore:
    """A store rooted at a local path or an `s3://bucket/prefix` URI."""
    if root_uri.startswith("s3://"):
        return S3Store(root_uri)
    if "://" in root_uri:
        raise StorageError(f"Unsupported storage URI {root_uri!r}: expected a local path or s3://bucket/prefix.")
    return LocalStore(root_uri)


def _etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()
        self.root_uri = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root != path and self.root not in path.parents:
            raise StorageError(f"Key {key!r} resolves outside the store root {self.root}.")
        return path

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def get(self, key: str) -> StoredObject:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{self.uri(key)} does not exist.") from None
        return StoredObject(data, _etag_of(data))

    def _write_temp(self, path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = self._write_temp(path, data)
        os.replace(tmp, path)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        tmp = self._write_temp(path, data)
        try:
            os.link(tmp, path)  # atomic, and fails if the name exists
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        import fcntl

        path = self._path(key)
        lock_path = path.with_name(f".{path.name}.lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.get(key)
            except NotFound:
                return False
            if current.etag != etag:
                return False
            self.put(key, data)
            return True

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        keys = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                keys.append(path.relative_to(self.root).as_posix())
        return sorted(keys)

    def list_modified(self, prefix: str) -> dict[str, float]:
        """{key: last-modified time (epoch seconds)} under `prefix`."""
        return {key: self._path(key).stat().st_mtime for key in self.list(prefix)}

    def delete(self, key: str) -> None:
        """Remove an object (absent is fine), then any folders it leaves empty, up to the root."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        for folder in path.parents:
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                break

    def upload_file(self, local_path: str | os.PathLike, key: str) -> None:
        import shutil

        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def download_file(self, key: str, local_path: str | os.PathLike) -> None:
        import shutil

        src = self._path(key)
        if not src.exists():
            raise NotFound(f"{src} does not exist.")
        shutil.copyfile(src, local_path)


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StorageError(f"{uri!r} is not an S3 URI of the form s3://bucket/key.")
    return parsed.netloc, parsed.path.lstrip("/")


def s3_client():
    """A boto3 S3 client with Portway's retry policy.

    The endpoint comes from the standard AWS settings (AWS_ENDPOINT_URL_S3 or
    AWS_ENDPOINT_URL, e.g. MinIO on kind or a test server); credentials from the usual
    chain (IRSA on EKS, environment, profile).
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries=s3_retry_policy(),
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        s3={"addressing_style": "path"},
    )
    return boto3.session.Session().client("s3", config=config)


def _error_code(exc: Exception, default: str = "") -> str:
    # Connection errors carry no answer: botocore sets their `response` to None.
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", default)


def describe_s3_error(exc: Exception, bucket: str, key: str) -> str:
    """A one-line description of a botocore error, naming the bucket and key."""
    code = _error_code(exc, type(exc).__name__)
    if code in ("NoSuchBucket",):
        return f"bucket {bucket!r} does not exist"
    if code in ("NoSuchKey", "404", "NotFound"):
        return f"s3://{bucket}/{key} does not exist"
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return f"access to s3://{bucket}/{key} was denied ({code}); check the credentials or IAM role"
    return f"s3://{bucket}/{key}: {code}: {exc}"


# Answers that say "try again later" rather than "you asked for something wrong": the ones
# botocore's standard retry mode retries (botocore/retries/standard.py: TRANSIENT_ERROR_CODES,
# THROTTLING_ERROR_CODES, RETRYABLE_STATUS_CODES 500/502/503/504, and 429).
TRANSIENT_S3_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "ServiceUnavailable",
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "EC2ThrottledException", "RequestThrottled", "TransactionInProgressException",
})


def is_transient_s3_error(exc: BaseException) -> bool:
    """Whether a botocore/boto3 error (after the client's retries) is an outage, not a mistake:
    a refused, dropped or timed-out connection, a 5xx or 429 answer, or throttling."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(exc, S3UploadFailedError):
        inner = exc.__cause__ or exc.__context__
        return is_transient_s3_error(inner) if inner is not None else "max retries" in str(exc)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return _error_code(exc) in TRANSIENT_S3_CODES or status >= 500 or status == 429


def s3_storage_error(exc: BaseException, message: str) -> StorageError:
    """TransientStorageError (exit 1) for an outage, StorageError (exit 2) for anything the user must fix."""
    return TransientStorageError(message) if is_transient_s3_error(exc) else StorageError(message)


def s3_read_error(exc: BaseException, data_uri: str, bucket: str, key: str) -> PortwayError:
    """The error for input data that could not be read from S3: an outage is transient (exit 1);
    a missing object or bucket, or denied access, is bad input (exit 2)."""
    message = f"Cannot read the input data {data_uri}: {describe_s3_error(exc, bucket, key)}."
    return TransientStorageError(message) if is_transient_s3_error(exc) else InputDataError(message)


def _is_precondition_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)


class S3Store:
    def __init__(self, root_uri: str):
        self.bucket, prefix = split_s3_uri(root_uri.rstrip("/") + "/")
        self.prefix = prefix
        self.root_uri = f"s3://{self.bucket}/{prefix}".rstrip("/")
        self._client = s3_client()

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise StorageError(f"Key {key!r} is not a relative key inside {self.root_uri}.")
        return f"{self.prefix}{key}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _fail(self, exc: Exception, key: str) -> StorageError:
        message = describe_s3_error(exc, self.bucket, self._key(key))
        code = _error_code(exc)
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(message)
        return s3_storage_error(exc, message)

    def get(self, key: str) -> StoredObject:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            return StoredObject(response["Body"].read(), response["ETag"])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key) from exc

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key) from exc

    def _conditional_put(self, key: str, data: bytes, **condition: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **condition)
            return True
        except ClientError as exc:
            if _is_precondition_failure(exc):
                return False
            raise self._fail(exc, key) from exc
        except BotoCoreError as exc:
            raise self._fail(exc, key) from exc

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self._conditional_put(key, data, IfNoneMatch="*")

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        return self._conditional_put(key, data, IfMatch=etag)

    def list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        keys = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix) if prefix else self.prefix):
                for item in page.get("Contents", []):
                    keys.append(item["Key"][len(self.prefix) :])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, prefix) from exc
        return sorted(keys)

    def list_modified(self, prefix: str) -> dict[str, float]:
        from botocore.exceptions import BotoCoreError, ClientError

        found = {}
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix) if prefix else self.prefix):
                for item in page.get("Contents", []):
                    found[item["Key"][len(self.prefix) :]] = item["LastModified"].timestamp()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, prefix) from exc
        return found

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key) from exc

    def upload_file(self, local_path: str | os.PathLike, key: str) -> None:
        # upload_file uses a multipart upload for large files; the object only appears
        # under its key when the upload completes, so readers never see a partial model.
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.upload_file(str(local_path), self.bucket, self._key(key))
        except S3UploadFailedError as exc:
            raise self._fail(exc.__cause__ or exc.__context__ or exc, key) from exc
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key) from exc

    def download_file(self, key: str, local_path: str | os.PathLike) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.download_file(self.bucket, self._key(key), str(local_path))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key) from exc
