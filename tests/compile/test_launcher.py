"""portway.launcher: Argo strings in, typed component inputs, artifacts through S3, outputs for Argo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portway.compile.argo_target import render_parameter
from portway.errors import ParameterError
from portway.launcher import METADATA_SUFFIX, OUTPUTS_DIR_ENV, parse_arguments, parse_parameter, render_output

# A component as the KFP IR embeds it (the text after `printf "%s" "$0" > ephemeral_component.py`).
SOURCE = '''
import kfp
from kfp import dsl
from kfp.dsl import *
from typing import *

def summarise(rows: Input[Dataset], scale: float, label: str, flags: dict, limit: int, strict: bool,
              model: Output[Model], metrics: Output[Metrics]) -> NamedTuple("Out", [("total", float), ("ok", bool)]):
    import json, os
    from collections import namedtuple
    if strict and limit < 0:
        raise ValueError("limit must be >= 0 when strict")
    values = [float(v) for v in open(rows.path).read().split()]
    os.makedirs(model.path, exist_ok=True)
    with open(os.path.join(model.path, "weights.json"), "w") as f:
        json.dump({"scale": scale, "label": label, "flags": flags, "upstream": rows.metadata}, f)
    os.makedirs(os.path.join(model.path, "sub"), exist_ok=True)
    open(os.path.join(model.path, "sub", "note.txt"), "w").write(rows.uri)
    metrics.log_metric("n", len(values))
    open(metrics.path, "w").write("{}")
    model.metadata["framework"] = "toy"
    return namedtuple("Out", ["total", "ok"])(sum(values) * scale, bool(values) and limit >= len(values))
'''


def launcher_args(bucket: str, *, limit: str = "5", strict: str = "true", rows: str | None = None) -> list[str]:
    return [
        "--function=summarise", f"--artifact-root=s3://{bucket}/runs/wf-1/pod-7", "--outputs-dir=/tmp/outputs",
        f"--input-artifact=rows:system.Dataset={rows or f's3://{bucket}/in/rows'}",
        "--input-parameter=scale:NUMBER_DOUBLE=2.5", "--input-parameter=label:STRING=--looks like a flag=",
        '--input-parameter=flags:STRUCT={"a": [1, 2]}', f"--input-parameter=limit:NUMBER_INTEGER={limit}",
        f"--input-parameter=strict:BOOLEAN={strict}",
        "--output-parameter=ok:BOOLEAN", "--output-parameter=total:NUMBER_DOUBLE",
        "--output-artifact=model:system.Model", "--output-artifact=metrics:system.Metrics",
    ]


def launch(tmp_path, args: list[str]) -> subprocess.CompletedProcess:
    source = tmp_path / "script"
    source.write_text(SOURCE)
    env = {**os.environ, OUTPUTS_DIR_ENV: str(tmp_path / "outputs")}
    return subprocess.run([sys.executable, "-m", "portway.launcher", *args, str(source)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def get(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_runs_a_component_with_typed_inputs_and_publishes_outputs_for_argo(tmp_path, s3_bucket):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=s3_bucket, Key="in/rows", Body=b"1 2 3.5")
    s3.put_object(Bucket=s3_bucket, Key="in/rows" + METADATA_SUFFIX, Body=b'{"rows": 3}')
    result = launch(tmp_path, launcher_args(s3_bucket))
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    root = f"s3://{s3_bucket}/runs/wf-1/pod-7"
    assert outputs == {"ok": "true", "total": "16.25", "model": f"{root}/model", "metrics": f"{root}/metrics"}
    weights = json.loads(get(s3_bucket, "runs/wf-1/pod-7/model/weights.json"))
    assert weights == {"scale": 2.5, "label": "--looks like a flag=", "flags": {"a": [1, 2]}, "upstream": {"rows": 3}}
    assert get(s3_bucket, "runs/wf-1/pod-7/model/sub/note.txt").decode() == f"s3://{s3_bucket}/in/rows"
    assert json.loads(get(s3_bucket, "runs/wf-1/pod-7/model" + METADATA_SUFFIX)) == {"framework": "toy"}
    assert json.loads(get(s3_bucket, "runs/wf-1/pod-7/metrics" + METADATA_SUFFIX)) == {"n": 3}


def test_a_failing_component_writes_no_output_and_uploads_nothing(tmp_path, s3_bucket):
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="in/rows", Body=b"1")
    result = launch(tmp_path, launcher_args(s3_bucket, limit="-1"))
    assert result.returncode != 0 and "limit must be >= 0 when strict" in result.stderr
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").iterdir())
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix="runs/")
    assert listed.get("KeyCount", 0) == 0


def test_bad_inputs_are_named_before_the_component_runs(tmp_path, s3_bucket):
    result = launch(tmp_path, launcher_args(s3_bucket, limit="five"))
    assert result.returncode == 2
    assert "error: input parameter limit is declared NUMBER_INTEGER but got 'five'" in result.stderr
    missing = launch(tmp_path, launcher_args(s3_bucket, rows=f"s3://{s3_bucket}/in/absent"))
    assert missing.returncode == 2
    assert f"input artifact s3://{s3_bucket}/in/absent does not exist" in missing.stderr


_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=8)


@given(kind=st.sampled_from(["STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT"]), data=st.data())
def test_a_value_survives_the_trip_through_argo(kind, data):
    value = data.draw({
        "STRING": st.text(), "NUMBER_INTEGER": st.integers(-2**53, 2**53),
        "NUMBER_DOUBLE": st.floats(allow_nan=False, allow_infinity=False), "BOOLEAN": st.booleans(),
        "LIST": st.lists(_json, max_size=4), "STRUCT": st.dictionaries(st.text(max_size=6), _json, max_size=4),
    }[kind])
    parsed = parse_parameter("x", kind, render_parameter(value, kind))
    assert parsed == value and type(parsed) is type(value)
    if kind in ("BOOLEAN", "LIST", "STRUCT"):  # what a component returns, read back by the next one
        assert parse_parameter("x", kind, render_output(value)) == value


@pytest.mark.parametrize("kind, raw", [("NUMBER_INTEGER", "1.5"), ("NUMBER_DOUBLE", "abc"), ("BOOLEAN", "yes"),
                                       ("LIST", '{"a": 1}'), ("STRUCT", "[1]"), ("TASK_FINAL_STATUS", "{}")])
def test_a_value_of_the_wrong_type_is_refused(kind, raw):
    with pytest.raises(ParameterError, match="input parameter x"):
        parse_parameter("x", kind, raw)


@pytest.mark.parametrize("argv, message", [
    (["--function=f", "--input-parameter=seed=4", "src.py"], "--input-parameter='seed=4' is malformed"),
    (["--function=f", "--output-artifact=model", "src.py"], "expected --output-artifact=NAME:TYPE"),
    (["--function=f", "--verbose", "src.py"], "unknown argument '--verbose'"),
    (["src.py"], "needs --function=NAME"),
    (["--function=f", "--output-artifact=m:system.Model", "src.py"], "needs --artifact-root"),
])
def test_malformed_launcher_arguments_are_refused(argv, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        parse_arguments(argv)
