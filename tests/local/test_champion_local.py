"""Champion/challenger through kfp.local, as `portway run` runs it: two pipeline runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local


def test_approved_champion_is_rescored_and_an_equal_candidate_fails_the_relative_gate(tmp_path, churn_csv, capsys):
    runs = tmp_path / "runs"
    args = ["run", "--runs-dir", str(runs), "--data", str(churn_csv), "--num-boost-round", "30",
            "--gate", "auc>=champion+0.005"]

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "champion: none approved yet in this model group (relative rules pass)" in out
    assert "registered: churn version 1" in out
    first = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert first["parameters"]["champion"] == "none"
    assert Path(first["report_uri"]).is_file() and f"report: {first['report_uri']}" in out
    registry = ModelRegistry(str(runs / "registry"))
    record = registry.get("churn", 1)
    assert "report.html" in record["files"] and record["lineage"]["gate"]["champion"] is None

    # `models show --report` points at the registered copy of the report.
    assert main(["models", "show", "churn:1", "--report", "--registry", str(runs / "registry")]) == 0
    registered_report = Path(capsys.readouterr().out.strip())
    assert registered_report.read_text() == Path(first["report_uri"]).read_text()

    registry.approve("churn", 1, "baseline")
    assert main(args) == 0  # the same data and parameters: the candidate equals the champion
    out = capsys.readouterr().out
    second = max(runs.glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    second = json.loads(second.read_text())
    assert second["parameters"]["champion"] == "churn:1"
    # The champion is a parameter of evaluate, so approving v1 changed evaluate's cache key.
    assert {s["name"]: s["cached"] for s in second["steps"]} == {
        "process": True, "train": True, "evaluate": False, "gate-failed": False}
    auc = second["metrics"]["auc"]
    champion = second["gate"]["champion"]
    assert champion["reference"] == "churn:1" and champion["metrics"]["auc"] == pytest.approx(auc)
    assert f"champion: churn:1, on this run's test split: auc {auc:.4f} (candidate {auc:.4f})" in out
    assert "gate: FAILED" in out and f"does not satisfy auc>=champion+0.005 (champion scored {auc:.4f}" in out
    assert registry.versions("churn") == [1]
    report = Path(second["report_uri"]).read_text()
    assert "churn:1" in report and 'data-model="champion"' in report
