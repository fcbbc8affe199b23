"""A writer SIGKILLed while writing its outputs leaves nothing under a final name.

Local outputs are written to temporary names and renamed when complete; an S3 object of any
size appears only when its upload completes (a multipart upload is invisible until then).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faults.conftest import direct_client
from faults.s3_fault_proxy import FaultPlan
from portway.objectstore import S3Store
from portway.steps.process import process_dataset

pytestmark = pytest.mark.timeout(120)

WAIT_SECONDS = 60
SPLITS = ("train", "validation", "test")

PROCESS_WRITER = """
import sys
import portway.steps.process as process
process.CSV_BLOCK_BYTES = 256 << 10  # many small batches, so the outputs are being written for a while
out = sys.argv[2]
process.process_dataset(sys.argv[1], "churned", f"{out}/train.parquet", f"{out}/validation.parquet",
                        f"{out}/test.parquet", f"{out}/profile.json")
"""

S3_UPLOADER = """
import sys
from portway.objectstore import S3Store
S3Store(sys.argv[1]).upload_file(sys.argv[2], "models/big.bin")
"""


def wait_until(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the writer finished before {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} within {WAIT_SECONDS}s")
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_process_killed_while_writing_its_splits_leaves_no_split_under_its_final_name(tmp_path):
    from portway.datasets.generate import generate

    data = generate(tmp_path / "big.csv", rows=150_000, seed=5)
    out = tmp_path / "out"
    out.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", PROCESS_WRITER, str(data), str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: (out / ".train.parquet.partial").exists(), writer, "partial train split")
    kill(writer)

    assert (out / ".train.parquet.partial").exists()  # it really died mid-write
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []

    # The rerun (the step's retry, or the next run) overwrites the leftovers and completes.
    paths = {name: str(out / f"{name}.parquet") for name in SPLITS}
    profile = process_dataset(str(data), "churned", *paths.values(), str(out / "profile.json"))
    assert sum(profile["splits"].values()) == profile["rows"] == 150_000
    assert sorted(p.name for p in out.iterdir()) == sorted([*(f"{n}.parquet" for n in SPLITS), "profile.json"])


def test_an_upload_killed_midway_never_appears_under_its_key(s3_server, fault_proxy, bucket, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(24 << 20))  # three 8 MiB parts: boto3 uses a multipart upload above 8 MiB
    fault_proxy.set_plan(FaultPlan(min_delay_seconds=0.4, max_delay_seconds=0.5))  # a slow link
    root = f"s3://{bucket}/registry"
    uploader = subprocess.Popen([sys.executable, "-c", S3_UPLOADER, root, str(big)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: any("partNumber=" in query for _, _, query, _ in fault_proxy.stats.requests),
               uploader, "part upload")
    kill(uploader)

    s3 = direct_client(s3_server)
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == [
        "registry/models/big.bin"]  # started, never completed
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    fault_proxy.set_plan(FaultPlan())
    S3Store(root).upload_file(big, "models/big.bin")
    body = s3.get_object(Bucket=bucket, Key="registry/models/big.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(big.read_bytes()).digest()


def test_the_local_store_never_shows_a_partial_file(tmp_path):
    # The same guarantee on a filesystem, checked at the point of failure: an upload whose
    # copy fails leaves neither the final name nor its temporary file behind.
    from portway.objectstore import LocalStore

    store = LocalStore(tmp_path / "registry")
    with pytest.raises(FileNotFoundError):
        store.upload_file(tmp_path / "absent.bin", "models/big.bin")
    assert [p for p in (tmp_path / "registry").rglob("*") if p.is_file()] == []
    assert not Path(store.uri("models/big.bin")).exists()
