"""The whole pipeline through kfp.local, as `portway run` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local


def portway_run(tmp_path: Path, *args: str) -> int:
    return main(["run", "--runs-dir", str(tmp_path / "runs"), *args])


def summaries(tmp_path: Path) -> list[dict]:
    paths = sorted((tmp_path / "runs").glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    return [json.loads(p.read_text()) for p in paths]


def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(str(tmp_path / "runs" / "registry"))


def test_run_registers_then_reruns_from_cache_then_reruns_only_what_changed(tmp_path, churn_csv, capsys):
    data = ["--data", str(churn_csv), "--num-boost-round", "40"]
    assert portway_run(tmp_path, *data) == 0
    out = capsys.readouterr().out
    assert "registered: churn version 1, PendingManualApproval" in out
    assert "reproduce: portway run --data" in out
    first = summaries(tmp_path)[-1]
    assert [s["name"] for s in first["steps"]] == ["process", "train", "evaluate", "register"]
    assert not any(s["cached"] for s in first["steps"])
    assert all(s["seconds"] > 0 for s in first["steps"])
    record = registry(tmp_path).get("churn", 1)
    assert record["metrics"] == pytest.approx(first["metrics"])
    assert record["lineage"]["data_sha256"].startswith("sha256:")
    assert record["lineage"]["parameters"]["num_boost_round"] == 40
    assert Path(record["artifact_uri"], "model.json").is_file()

    assert portway_run(tmp_path, *data) == 0
    second = summaries(tmp_path)[-1]
    assert all(s["cached"] for s in second["steps"]), second["steps"]
    assert registry(tmp_path).versions("churn") == [1]  # a cached rerun registers nothing new
    assert "hit (reused earlier output)" in capsys.readouterr().out

    assert portway_run(tmp_path, *data, "--max-depth", "3") == 0
    third = {s["name"]: s["cached"] for s in summaries(tmp_path)[-1]["steps"]}
    assert third == {"process": True, "train": False, "evaluate": False, "register": False}
    assert registry(tmp_path).versions("churn") == [1, 2]


def test_gate_below_threshold_registers_nothing_and_says_why(tmp_path, churn_csv, capsys):
    assert portway_run(tmp_path, "--data", str(churn_csv), "--num-boost-round", "20", "--threshold", "0.999") == 0
    out = capsys.readouterr().out
    assert "gate: FAILED" in out and "not registered: failed: auc=" in out and "auc>=0.999" in out
    assert registry(tmp_path).groups() == []
    steps = [s["name"] for s in summaries(tmp_path)[-1]["steps"]]
    assert "register" not in steps and "gate-failed" in steps


@pytest.mark.parametrize("args, message", [
    (["--threshold", "1.2"], "Gate threshold for auc must be within [0, 1], got 1.2"),
    (["--metric", "roc"], "Unknown gate metric 'roc'"),
    (["--model-group", "../up"], "model group '../up' is not allowed"),
    (["--approval-status", "Yes"], "approval_status 'Yes' is not valid"),
])
def test_bad_parameters_fail_before_any_step(tmp_path, churn_csv, capsys, args, message):
    assert portway_run(tmp_path, "--data", str(churn_csv), *args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("content, message", [
    ("", "is empty (0 bytes)"),
    ("a;b;churned\n1;2;0\n", "semicolon-delimited"),
    ("a,b,label\n1,2,0\n", "target column 'churned' is missing"),
])
def test_header_level_mistakes_fail_before_any_step(tmp_path, capsys, content, message):
    source = tmp_path / "input.csv"
    source.write_text(content)
    assert portway_run(tmp_path, "--data", str(source)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_missing_data_file(tmp_path, capsys):
    assert portway_run(tmp_path, "--data", str(tmp_path / "absent.csv")) == 2
    assert f"Input data file {tmp_path / 'absent.csv'} does not exist" in capsys.readouterr().err


def test_bad_data_fails_in_process_with_its_message_and_registers_nothing(tmp_path, capsys):
    source = tmp_path / "bad.csv"
    source.write_text("a,b,churned\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(100)) + "1,zzz,0\n")
    assert portway_run(tmp_path, "--data", str(source)) == 2  # bad input: exit 2, and not retried
    err = capsys.readouterr().err
    assert "step 'process' failed" in err and "column 'b' is numeric but holds 'zzz'" in err
    assert "full log:" in err and "bad input: not retried" in err and "retrying" not in err
    (process,) = [s for s in summaries(tmp_path)[-1]["steps"] if s["name"] == "process"]
    assert process["attempts"] == 1 and process["status"] == "FAILED"
    assert registry(tmp_path).groups() == []
    process_dir = next((tmp_path / "runs").glob("*/artifacts/*/process"))
    assert not any(p.suffix == ".parquet" or p.name.endswith("_data") for p in process_dir.iterdir())


def test_bundled_dataset_is_the_default(tmp_path, capsys):
    assert portway_run(tmp_path, "--num-boost-round", "30") == 0
    out = capsys.readouterr().out
    assert "portway/datasets/churn.csv" in out and "gate: PASSED" in out
