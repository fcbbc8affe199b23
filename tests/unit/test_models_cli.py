"""`portway models ...` end to end through the CLI's main(), on a filesystem registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import APPROVED, PENDING, ModelRegistry

GATE = {"passed": True, "summary": "passed: f1=0.6 (f1>=0.5)",
        "checks": [{"rule": "f1>=0.5", "metric": "f1", "value": 0.6, "bound": 0.5, "passed": True,
                    "note": "absolute threshold"}]}


@pytest.fixture
def registry(tmp_path, trained, monkeypatch):
    """Three versions: v2 has other metrics and parameters, v3 carries a report.html."""
    monkeypatch.setenv("PORTWAY_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("PORTWAY_USER", "tester")
    registry = ModelRegistry(str(tmp_path / "registry"))
    metrics = trained["evaluation"]["metrics"]
    lineage = {"data_uri": "/data/churn.csv", "data_sha256": "sha256:" + "ab12" * 16, "pipeline": "continuous-training",
               "run_id": "run-1", "code_version": "0.1.0", "parameters": {"max_depth": 6, "eta": 0.1}, "gate": GATE}
    registry.register("churn", trained["model_dir"], metrics, lineage, evaluation_path=trained["evaluation_path"])
    better = {**metrics, "auc": metrics["auc"] + 0.01, "log_loss": metrics["log_loss"] + 0.02}
    registry.register("churn", trained["model_dir"], better, {**lineage, "parameters": {"max_depth": 4, "eta": 0.1}},
                      evaluation_path=trained["evaluation_path"])
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    registry.register("churn", trained["model_dir"], metrics, lineage, evaluation_path=trained["evaluation_path"],
                      extra_files={"report.html": report})
    return registry


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_version_status_gate_metric_created_and_short_data_hash(registry, capsys, trained):
    code, out, _ = run(capsys, "models", "list", "churn")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["version", "status", "metric", "created", "data", "hash"]
    first = lines[1].split()
    assert first[:2] == ["1", PENDING]
    assert first[2] == f"f1={trained['evaluation']['metrics']['f1']:.4f}"  # the gate's metric
    assert first[-1] == "sha256:" + ("ab12" * 3)
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]


def test_list_names_a_corrupt_entry_and_still_lists_the_rest(registry, capsys):
    Path(registry.store.uri(registry.version_key("churn", 2))).write_text('{"version": 2, "gro')
    code, out, err = run(capsys, "models", "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1", "3"]
    assert "warning:" in err and "00000002.json is corrupt" in err


def test_approve_reject_and_their_refusals(registry, capsys):
    code, out, _ = run(capsys, "models", "approve", "churn:1", "--reason", "beats the baseline")
    assert code == 0
    assert out.startswith(f"churn:1: {PENDING} -> {APPROVED} by tester at ")
    assert "events/churn/00000001-0001-Approved.json" in out
    code, _, err = run(capsys, "models", "approve", "churn:1", "--reason", "again")
    assert code == 2 and "churn:1 is already Approved (by tester at" in err and "'beats the baseline'" in err
    code, out, _ = run(capsys, "models", "reject", "churn:1", "--reason", "revoked: data drift")
    assert code == 0 and f"{APPROVED} -> Rejected" in out
    code, _, err = run(capsys, "models", "approve", "churn:1", "--reason", "changed my mind")
    assert code == 2 and "Rejected -> Approved is not allowed" in err
    code, _, err = run(capsys, "models", "approve", "churn:latest", "--reason", "x")
    assert code == 2 and "must name one version as GROUP:VERSION" in err
    code, _, err = run(capsys, "models", "approve", "churn:2", "--reason", "  ")
    assert code == 2 and "reason is required" in err
    assert registry.get("churn", 2)["approval_status"] == PENDING
    code, out, _ = run(capsys, "models", "events", "churn")
    assert code == 0 and len(out.splitlines()) == 2


def test_show_text_json_and_history(registry, capsys):
    registry.approve("churn", 2, "better auc", by="alice")
    code, out, _ = run(capsys, "models", "show", "churn:approved")
    assert code == 0 and out.startswith(f"churn:2  {APPROVED}")
    assert "/data/churn.csv" in out and "better auc" in out and "alice" in out
    code, out, _ = run(capsys, "models", "show", "churn:2", "--format", "json")
    assert json.loads(out) == registry.get("churn", 2)


def test_model_card_has_data_metrics_parameters_gate_lineage_history(registry, capsys, trained):
    registry.approve("churn", 1, "ship it", by="alice")
    code, card, _ = run(capsys, "models", "show", "churn:1", "--format", "md")
    assert code == 0
    for heading in ("# Model card: churn:1", "## Data", "## Metrics (test split)", "## Parameters",
                    "## Gate decision", "## Lineage", "## Status history"):
        assert heading in card
    schema = json.loads(Path(trained["model_dir"], "feature_schema.json").read_text())
    for feature in schema["feature_names"]:
        assert f"`{feature}`" in card
    assert f"| auc | {trained['evaluation']['metrics']['auc']:.4f} |" in card
    assert "| max_depth | 6 |" in card and "f1>=0.5" in card and "run-1" in card
    assert f"| {PENDING} | {APPROVED} | alice | ship it |" in card
    assert "Confusion matrix" in card


def test_report_path_or_a_clear_no(registry, capsys):
    code, out, _ = run(capsys, "models", "show", "churn:3", "--report")
    assert code == 0 and out.strip().endswith("/report.html") and Path(out.strip()).is_file()
    code, out, err = run(capsys, "models", "show", "churn:1", "--report")
    assert code == 2 and out == "" and "churn:1 has no report" in err


def test_compare_puts_metrics_side_by_side_with_deltas(registry, capsys, trained):
    code, out, _ = run(capsys, "models", "compare", "churn:1", "churn:2")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    auc = trained["evaluation"]["metrics"]["auc"]
    assert rows["metric"] == ["metric", "churn:1", "churn:2", "delta", "better"]
    assert rows["auc"][1:] == [f"{auc:.4f}", f"{auc + 0.01:.4f}", "+0.0100", "churn:2"]
    assert rows["log_loss"][3:] == ["+0.0200", "churn:1"]  # lower is better
    assert rows["accuracy"][3:] == ["+0.0000", "="]
    assert rows["max_depth"][1:] == ["6", "4"]


def test_unknown_things_are_named(registry, capsys, tmp_path):
    code, _, err = run(capsys, "models", "show", "churn:9")
    assert code == 2 and "churn:9 does not exist" in err
    code, _, err = run(capsys, "models", "show", "churn:newest")
    assert code == 2 and "not understood" in err
    code, _, err = run(capsys, "models", "list", "--registry", str(tmp_path / "typo"))
    assert code == 2 and "No registry at" in err and "typo" in err
    # `models list nosuch` exits 2 like `models show nosuch` (issue 14: it exited 0, "no model versions")
    code, out, err = run(capsys, "models", "list", "nosuch")
    assert code == 2 and out == ""
    assert "Model group 'nosuch' has no versions" in err and "its groups: churn" in err
    code, out, err = run(capsys, "models", "events", "nosuch")
    assert code == 2 and out == "" and "Model group 'nosuch' has no versions" in err


def test_every_command_that_prints_records_has_json(registry, capsys):
    """Issue 14: `models show --json` did not exist; compare and events had no JSON."""
    registry.approve("churn", 2, "better auc", by="alice")
    code, out, _ = run(capsys, "models", "show", "churn:2", "--json")
    assert code == 0 and json.loads(out) == registry.get("churn", 2)
    code, out, _ = run(capsys, "models", "list", "churn", "--json")
    assert code == 0 and [r["version"] for r in json.loads(out)["groups"]["churn"]] == [1, 2, 3]
    code, out, _ = run(capsys, "models", "compare", "churn:1", "churn:2", "--json")
    document = json.loads(out)
    assert code == 0 and (document["first"], document["second"]) == ("churn:1", "churn:2")
    auc = document["metrics"]["auc"]
    assert auc["delta"] == pytest.approx(0.01) and auc["better"] == "churn:2"
    assert document["metrics"]["log_loss"]["better"] == "churn:1"  # lower is better
    assert document["metrics"]["accuracy"]["better"] is None and document["metrics"]["accuracy"]["delta"] == 0
    assert document["parameters_changed"] == {"max_depth": {"first": 6, "second": 4}}
    assert document["approval_status"] == {"first": PENDING, "second": APPROVED}
    code, out, _ = run(capsys, "models", "events", "churn", "--json")
    events = json.loads(out)["events"]
    assert code == 0 and [(e["version"], e["status"], e["by"]) for e in events] == [(2, APPROVED, "alice")]
