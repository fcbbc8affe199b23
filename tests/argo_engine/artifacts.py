"""Argo's executor moving artifacts to and from an S3 artifact repository (through boto3).

Rules (argo-workflows workflow/executor/executor.go, docs/configure-artifact-repository.md,
docs/key-only-artifacts.md, docs/walk-through/artifacts.md):
- output artifacts are saved after the main container ends, whatever its exit code
  (cmd/argoexec/commands/wait.go: SaveParameters and SaveArtifacts always run); a missing path is
  an error unless the artifact is `optional`;
- default archiving is tar+gzip of the path under its base name, stored as `<name>.tgz`;
  `archive: {none: {}}` stores the file itself under its base name (a directory: each file under
  the key as a prefix);
- with no explicit `s3.key` the key is `<keyFormat>/<file name>`, keyFormat from the repository
  (default `{{workflow.name}}/{{pod.name}}`, config/config.go DefaultArchivePattern), substituted
  with the pod's variables;
- input artifacts are loaded before the main container starts; a tarball is extracted, and a
  tarball holding one entry becomes the path itself; an S3 key with objects below it is a
  directory; an `optional` input with no location is skipped; `raw.data` is written as is.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"


class ArtifactError(Exception):
    pass


class ArtifactNotFound(ArtifactError):
    pass


class S3Repository:
    def __init__(self, config: dict, secrets: dict[str, dict[str, str]]):
        self.config = config
        self.secrets = secrets
        self._client = None

    def secret(self, ref: dict | None) -> str | None:
        if not ref:
            return None
        name, key = ref.get("name"), ref.get("key")
        try:
            return self.secrets[name][key]
        except KeyError:
            raise ArtifactError(f"secret {name!r} has no key {key!r} (artifact repository credentials)") from None

    def client(self, s3: dict | None = None):
        import boto3

        cfg = {**self.config, **{k: v for k, v in (s3 or {}).items() if v not in (None, "")}}
        endpoint = cfg.get("endpoint")
        if not endpoint:
            raise ArtifactError("the S3 artifact repository has no endpoint")
        scheme = "http" if cfg.get("insecure") else "https"
        url = endpoint if "://" in endpoint else f"{scheme}://{endpoint}"
        return boto3.client("s3", endpoint_url=url, region_name=cfg.get("region") or "us-east-1",
                            aws_access_key_id=self.secret(cfg.get("accessKeySecret")),
                            aws_secret_access_key=self.secret(cfg.get("secretKeySecret")))

    def bucket(self, s3: dict | None) -> str:
        bucket = (s3 or {}).get("bucket") or self.config.get("bucket")
        if not bucket:
            raise ArtifactError("no bucket: neither the artifact nor the artifact repository names one")
        return bucket

    # -- save -------------------------------------------------------------------------------------------------
    def save(self, art: dict, local: Path, key_prefix: str) -> dict:
        """Upload an output artifact from `local`; returns the node's record of it."""
        s3 = art.get("s3") or {}
        archive = art.get("archive") or {}
        client = self.client(s3)
        bucket = self.bucket(s3)
        if "none" in archive:
            file_name = Path(art["path"]).name
            key = s3.get("key") or f"{key_prefix}/{file_name}"
            if local.is_dir():
                for file in sorted(p for p in local.rglob("*") if p.is_file()):
                    client.upload_file(str(file), bucket, f"{key.rstrip('/')}/{file.relative_to(local).as_posix()}")
            else:
                client.upload_file(str(local), bucket, key)
        else:
            file_name = f"{art['name']}.tgz"
            key = s3.get("key") or f"{key_prefix}/{file_name}"
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(str(local), arcname=Path(art["path"]).name)
            client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        record = {k: v for k, v in art.items() if k not in ("s3", "from", "fromExpression", "optional", "globalName")}
        record["s3"] = {"key": key, **({"bucket": s3["bucket"]} if s3.get("bucket") else {})}
        if art.get("globalName"):
            record["globalName"] = art["globalName"]
        return record

    # -- load -------------------------------------------------------------------------------------------------
    def load(self, art: dict, dest: Path) -> None:
        s3 = art.get("s3") or {}
        key = s3.get("key")
        if not key:
            raise ArtifactError(f"input artifact {art.get('name')!r} has no S3 key")
        client = self.client(s3)
        bucket = self.bucket(s3)
        import botocore.exceptions

        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise ArtifactError(f"failed to load artifact {art.get('name')!r}: {exc}") from None
            listed = client.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/").get("Contents", [])
            if not listed:
                raise ArtifactNotFound(f"key {key} does not exist in bucket {bucket}") from None
            for obj in listed:
                target = dest / obj["Key"][len(key.rstrip("/")) + 1:]
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, obj["Key"], str(target))
            return
        write_loaded(body, dest, art.get("archive") or {})


def write_loaded(body: bytes, dest: Path, archive: dict | None = None) -> None:
    """executor.go unarchiveArtifact: `archive: none` is written as is; otherwise a gzipped tarball is
    extracted (one entry becomes `dest` itself, util/archive unpack) and anything else written as is."""
    if "none" not in (archive or {}) and _is_targz(body):
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
                tar.extractall(tmp, filter="data")
            entries = os.listdir(tmp)
            if len(entries) == 1:
                shutil.move(os.path.join(tmp, entries[0]), dest)
            else:
                dest.mkdir(parents=True, exist_ok=True)
                for entry in entries:
                    shutil.move(os.path.join(tmp, entry), dest / entry)
        return
    dest.write_bytes(body)


def _is_targz(body: bytes) -> bool:
    """isTarball: gzip whose first tar header reads."""
    import gzip

    if body[:2] != b"\x1f\x8b":
        return False
    try:
        head = gzip.decompress(body)[:512]
    except OSError:
        return False
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
        return True
    except tarfile.TarError:
        return False
