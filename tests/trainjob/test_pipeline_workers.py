"""`portway run --workers 3`: the whole pipeline with 3 local XGBoost workers (kfp.local)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

from .test_local_workers import AUC_TOLERANCE

pytestmark = pytest.mark.local


def test_run_with_three_workers_registers_workers_in_lineage_at_the_single_process_auc(tmp_path, capsys):
    from portway.datasets import bundled_dataset_path
    from portway.steps.evaluate import evaluate_model
    from portway.steps.process import process_dataset
    from portway.steps.train import train_model

    assert main(["run", "--runs-dir", str(tmp_path / "runs"), "--workers", "3"]) == 0
    out = capsys.readouterr().out
    assert "--workers 3" in out  # the reproduce line keeps it
    registry = ModelRegistry(str(tmp_path / "runs" / "registry"))
    (group,) = registry.groups()
    record = registry.get(group, 1)
    assert record["lineage"]["parameters"]["workers"] == 3
    train_dirs = list((tmp_path / "runs").glob("*/artifacts/**/process/train_data"))
    assert train_dirs and sorted(p.name for p in train_dirs[0].iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]

    # The same data, split and settings in one process (the pipeline's defaults).
    out_dir = tmp_path / "single"
    paths = {n: str(out_dir / f"{n}.parquet") for n in ("train", "validation", "test")}
    profile = process_dataset(bundled_dataset_path(), "churned", paths["train"], paths["validation"], paths["test"],
                              str(out_dir / "profile.json"))
    train_model(paths["train"], paths["validation"], profile, str(out_dir / "model"))
    single = evaluate_model(str(out_dir / "model"), paths["test"], str(out_dir / "e.json"))["metrics"]["auc"]
    assert record["metrics"]["auc"] >= single - AUC_TOLERANCE, (record["metrics"]["auc"], single)
    assert Path(record["artifact_uri"], "model.json").is_file()
