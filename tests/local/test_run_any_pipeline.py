"""Issue 14 through `portway run`, as a user types it: their own pipeline file, their own data,
bad input that must not be retried, reruns after an approval."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local

USER_PIPELINE = Path(__file__).with_name("user_pipeline.py")


@pytest.fixture
def user_file(tmp_path) -> Path:
    """The user's pipeline file, in a folder of their own (not importable as a package)."""
    path = tmp_path / "project" / "my_pipes.py"
    path.parent.mkdir()
    shutil.copyfile(USER_PIPELINE, path)
    return path


@pytest.fixture(scope="module")
def fraud_csv(tmp_path_factory) -> Path:
    """Another dataset: float features, an is_fraud label that depends on them."""
    import numpy as np

    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=1500), rng.integers(0, 5, size=1500)
    fraud = (x1 + 0.3 * x2 + rng.normal(scale=0.5, size=1500) > 1.5).astype(int)
    path = tmp_path_factory.mktemp("fraud") / "fraud.csv"
    path.write_text("x1,x2,is_fraud\n" + "".join(f"{a:.4f},{b},{c}\n" for a, b, c in zip(x1, x2, fraud, strict=True)))
    return path


def summaries(runs: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(runs.glob("*/summary.json"), key=lambda p: p.stat().st_mtime)]


def test_a_pipeline_from_a_file_runs_with_the_run_folder_summary_cache_and_registry(
        tmp_path, churn_csv, user_file, capsys, monkeypatch):
    runs, registry_root = tmp_path / "runs", tmp_path / "shared-registry"
    monkeypatch.setenv("PORTWAY_REGISTRY", str(registry_root))  # honoured like models/serve/deploy do
    command = ["run", f"{user_file}:training", "--data", str(churn_csv), "--runs-dir", str(runs),
               "--param", "min_auc=0.7", "--json"]
    assert main(command) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)  # --json: stdout is the summary alone, progress went to stderr
    assert summary["pipeline"] == "user-training" and summary["status"] == "SUCCEEDED"
    # gate-rule and process depend on nothing: either may run first.
    assert sorted(s["name"] for s in summary["steps"]) == ["evaluate", "gate-rule", "process", "register", "train"]
    assert summary["parameters"]["min_auc"] == 0.7 and summary["parameters"]["num_boost_round"] == 30
    registration = summary["registration"]
    # The pipeline's own default group; the registry from $PORTWAY_REGISTRY.
    assert registration["registered"] and registration["group"] == "user-model"
    assert registration["artifact_uri"].startswith(str(registry_root))
    assert "auc>=0.7" in [c["rule"] for c in summary["gate"]["checks"]]  # the user's step fed the gate
    assert f"{user_file}:training" in summary["reproduce"] and "--param min_auc=0.7" in summary["reproduce"]
    for step in ("gate-rule", "process", "train", "evaluate", "register"):
        assert f"{step:<14} started" in err and f"{step:<14} succeeded in " in err
    log = (Path(summary["run_dir"]) / "pipeline.log").read_text()
    assert "\x1b[" not in log  # no colour codes in files
    assert "requiring auc >= 0.7" in log  # the user's step's own output
    kfp_warnings = [line for line in log.splitlines() if "will be ignored" in line or "non-Python base image" in line]
    assert kfp_warnings and all(" - WARNING - " in line for line in kfp_warnings)  # kfp's warnings are marked

    assert main(command[:-1] + ["--quiet"]) == 0  # the same command again: served from the cache
    out, err = capsys.readouterr()
    run_id, status, run_dir = out.split()
    assert status == "SUCCEEDED" and err == "" and Path(run_dir).name == run_id
    assert all(s["cached"] for s in summaries(runs)[-1]["steps"])
    assert ModelRegistry(str(registry_root)).versions("user-model") == [1]


@pytest.mark.parametrize("args, message", [
    (["--param", "nosuch=1"], "pipeline user-training has no parameter nosuch; it takes: data_fingerprint, "
                              "data_uri, min_auc"),
    (["--param", "min_auc=high"], "input parameter min_auc is declared NUMBER_DOUBLE but got 'high'"),
    (["--param", "min_auc"], "--param 'min_auc' is not understood; expected NAME=VALUE"),
    (["--max-depth", "3"], "--max-depth sets the parameter max_depth, which pipeline user-training does not have"),
    (["--param", "model_group=../x"], "model group '../x' is not allowed"),  # a component's own check
    (["--target", "nosuch"], "target column 'nosuch' is missing"),  # process's header check, declared by it
])
def test_bad_parameters_of_any_pipeline_fail_before_any_step(tmp_path, churn_csv, user_file, capsys, args, message):
    runs = tmp_path / "runs"
    assert main(["run", f"{user_file}:training", "--data", str(churn_csv), "--runs-dir", str(runs), *args]) == 2
    assert message in capsys.readouterr().err
    assert not runs.exists()


def test_a_float_target_is_bad_input_exit_2_and_not_retried(tmp_path, fraud_csv, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "--data", str(fraud_csv), "--target", "x1", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "target column 'x1' is not categorical" in err and "bad input: not retried" in err
    assert "retrying" not in err and "process        failed in " in err
    (process,) = summaries(runs)[-1]["steps"]
    assert process["attempts"] == 1 and process["status"] == "FAILED"


def test_the_model_group_follows_the_data_and_refuses_another_schema(tmp_path, churn_csv, fraud_csv, capsys):
    runs = tmp_path / "runs"
    base = ["run", "--runs-dir", str(runs), "--num-boost-round", "20"]
    assert main([*base, "--data", str(churn_csv)]) == 0
    assert main([*base, "--data", str(fraud_csv), "--target", "is_fraud"]) == 0
    out = capsys.readouterr().out
    assert "registered: fraud version 1" in out  # the group is named after the data file, not `churn`
    registry = ModelRegistry(str(runs / "registry"))
    assert registry.groups() == ["churn", "fraud"]

    # Sending the fraud model into the churn group on purpose: refused at registration, exit 2, not retried.
    assert main([*base, "--data", str(fraud_csv), "--target", "is_fraud", "--model-group", "churn"]) == 2
    err = capsys.readouterr().err
    assert "step 'register' failed" in err and "model group 'churn' holds models of another feature schema" in err
    assert "new feature(s) x1, x2" in err and "--model-group NAME" in err and "--new-schema" in err
    assert registry.versions("churn") == [1]
    assert main([*base, "--data", str(fraud_csv), "--target", "is_fraud", "--model-group", "churn",
                 "--new-schema"]) == 0
    assert registry.versions("churn") == [1, 2]


def test_after_an_approval_an_identical_rerun_and_a_worse_model_register_nothing(tmp_path, churn_csv, capsys):
    runs = tmp_path / "runs"
    base = ["run", "--runs-dir", str(runs), "--data", str(churn_csv), "--num-boost-round", "30"]
    assert main(base) == 0
    registry = ModelRegistry(str(runs / "registry"))
    registry.approve("churn", 1, "baseline")
    capsys.readouterr()

    assert main(base) == 0  # the same command again: evaluate re-scores against churn:1, register says why not
    out = capsys.readouterr().out
    assert "not registered: same data, parameters and code as churn:1 (Approved)" in out
    assert registry.versions("churn") == [1]  # (--allow-duplicate: tests/unit/test_register_checks.py)

    assert main([*base, "--max-depth", "1", "--num-boost-round", "3"]) == 0  # a worse model
    out = capsys.readouterr().out
    assert "gate: FAILED" in out and "does not satisfy auc>=champion (champion scored" in out
    assert registry.versions("churn") == [1]
