"""The champion/challenger gate: the newest Approved version is re-scored on the candidate's test
split, and a relative rule (`auc>=champion+0.005`) compares the two."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from champion_fixtures import GROUP, approved_champion, run_evaluate, train_weak_model

from portway.errors import ParameterError
from portway.registry import ModelRegistry
from portway.steps.champion import ChampionError, champion_features, current_champion, parse_champion

MARGIN = 0.005


@pytest.fixture(scope="module")
def weak(processed, tmp_path_factory) -> dict:
    return train_weak_model(processed, tmp_path_factory.mktemp("weak"))


def auc(model: dict) -> float:
    return model["evaluation"]["metrics"]["auc"]


def relative_check(decision: dict) -> dict:
    return next(c for c in decision["checks"] if "champion" in c["rule"])


def test_better_candidate_passes_and_the_champion_is_rescored_not_trusted(tmp_path, processed, trained, weak):
    assert auc(trained) > auc(weak) + MARGIN  # the premise: the stump is clearly worse
    # The record claims a perfect AUC; the gate must not believe it.
    approved_champion(tmp_path / "registry", weak, recorded_metrics={**weak["evaluation"]["metrics"], "auc": 1.0})
    result = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry", f"auc>=champion+{MARGIN}")
    decision = result["decision"]
    assert decision["passed"] is True
    champion = decision["champion"]
    assert champion == {"reference": f"{GROUP}:1", "metrics": champion["metrics"], "error": ""}
    # Scored on the candidate's test split: the same rows the weak model's own evaluation used.
    assert champion["metrics"] == pytest.approx(weak["evaluation"]["metrics"])
    check = relative_check(decision)
    assert check["value"] == pytest.approx(auc(trained))
    assert check["bound"] == pytest.approx(auc(weak) + MARGIN)
    assert f"champion scored {auc(weak):.4f}" in decision["summary"]
    json.dumps(decision)  # goes into KFP metadata and the registry's lineage as it is


@pytest.mark.parametrize("rule, passed", [
    (f"auc>=champion+{MARGIN}", False),  # equal is not better by the margin
    (f"auc>=champion-{MARGIN}", True),   # a tolerance lets an equal model through
    ("auc>=champion", True),
    ("log_loss<champion", False),
])
def test_equal_candidate_within_margin(tmp_path, processed, trained, rule, passed):
    approved_champion(tmp_path / "registry", trained)
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry", rule)["decision"]
    check = relative_check(decision)
    assert decision["champion"]["metrics"] == pytest.approx(trained["evaluation"]["metrics"])
    assert check["passed"] is passed and decision["passed"] is passed
    if not passed:
        assert decision["summary"].startswith("failed:") and rule in decision["summary"]


def test_worse_candidate_fails_with_both_scores(tmp_path, processed, trained, weak):
    approved_champion(tmp_path / "registry", trained)
    decision = run_evaluate(tmp_path / "out", processed, weak, tmp_path / "registry",
                            f"auc>=0.5;auc>=champion+{MARGIN}")["decision"]
    assert decision["passed"] is False
    check = relative_check(decision)
    assert (check["value"], check["bound"]) == pytest.approx((auc(weak), auc(trained) + MARGIN))
    assert f"auc={auc(weak):.4f} does not satisfy auc>=champion+{MARGIN}" in decision["summary"]
    assert f"champion scored {auc(trained):.4f}" in decision["summary"]
    assert decision["checks"][0]["passed"] is True  # the absolute rule alone would have passed


def test_no_champion_passes_and_says_so(tmp_path, processed, trained):
    # A pending version is not a champion: only Approved ones are.
    ModelRegistry(str(tmp_path / "registry")).register(GROUP, trained["model_dir"], trained["evaluation"]["metrics"],
                                                       lineage={})
    assert current_champion(str(tmp_path / "registry"), GROUP) == "none"
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry",
                            f"auc>=champion+{MARGIN}")["decision"]
    assert decision["passed"] is True and decision["champion"] is None
    assert "no approved champion yet: relative rule passes" in decision["summary"]


def corrupt_model_file(registry_root: Path, record: dict, data: bytes | None) -> Path:
    registry = ModelRegistry(str(registry_root))
    path = Path(registry.store.uri(registry.artifact_key(record, "model.json")))
    if data is None:
        path.unlink()
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("damage, expected", [
    (b'{"learner": {"truncated', "Cannot load the model"),
    (None, "does not exist"),
])
def test_unloadable_champion_fails_closed_with_a_clear_message(tmp_path, processed, trained, damage, expected):
    record = approved_champion(tmp_path / "registry", trained)
    corrupt_model_file(tmp_path / "registry", record, damage)
    result = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry", f"auc>=champion+{MARGIN}")
    decision = result["decision"]
    assert decision["passed"] is False
    error = decision["champion"]["error"]
    assert error.startswith(f"champion {GROUP}:1 cannot be scored: ") and expected in error
    assert relative_check(decision)["note"] == error and error in decision["summary"]
    # The candidate is still evaluated and reported; the report says why there is no comparison.
    assert (tmp_path / "out" / "evaluation.json").is_file()
    assert error.split(": ", 1)[0] in (tmp_path / "out" / "report.html").read_text()


def test_unloadable_champion_does_not_block_a_gate_without_relative_rules(tmp_path, processed, trained):
    record = approved_champion(tmp_path / "registry", trained)
    corrupt_model_file(tmp_path / "registry", record, b"not a model")
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry", "auc>=0.5")["decision"]
    assert decision["passed"] is True and "cannot be scored" in decision["champion"]["error"]


def test_champion_with_other_features_is_a_clear_error(tmp_path, processed, trained):
    record = approved_champion(tmp_path / "registry", trained)
    registry = ModelRegistry(str(tmp_path / "registry"))
    schema_path = Path(registry.store.uri(registry.artifact_key(record, "feature_schema.json")))
    schema = json.loads(schema_path.read_text())
    schema["features"][0]["name"] = "legacy_score"
    schema_path.write_text(json.dumps(schema))
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry",
                            f"auc>=champion+{MARGIN}")["decision"]
    assert decision["passed"] is False
    assert "needs feature(s) legacy_score that the candidate's test split lacks" in decision["champion"]["error"]


def test_pinned_champion_that_was_rejected_since_fails_closed(tmp_path, processed, trained):
    approved_champion(tmp_path / "registry", trained)
    pinned = current_champion(str(tmp_path / "registry"), GROUP)
    assert pinned == f"{GROUP}:1"
    ModelRegistry(str(tmp_path / "registry")).reject(GROUP, 1, "found a leak")
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry",
                            f"auc>=champion+{MARGIN}", champion=pinned)["decision"]
    assert decision["passed"] is False
    assert "now Rejected, not Approved" in decision["champion"]["error"]


def test_champion_none_skips_the_comparison(tmp_path, processed, trained):
    approved_champion(tmp_path / "registry", trained)
    decision = run_evaluate(tmp_path / "out", processed, trained, tmp_path / "registry",
                            f"auc>=champion+{MARGIN}", champion="none")["decision"]
    assert decision["passed"] is True and decision["champion"] is None


@pytest.mark.parametrize("value", ["latest", "churn:0", "churn:x", "other:1", "churn"])
def test_bad_champion_parameter(value):
    with pytest.raises(ParameterError, match="champion .* is not understood"):
        parse_champion(value, GROUP)


def test_category_codes_are_translated_by_name():
    # Each run numbers categories in the order it met them: the same code can mean different things.
    champion = {"classes": ["0", "1"], "features": [{"name": "plan", "type": "categorical", "categories": ["a", "b"]},
                                                    {"name": "age", "type": "numeric"}]}
    candidate = {"classes": ["0", "1"], "features": [{"name": "age", "type": "numeric"},
                                                     {"name": "extra", "type": "numeric"},
                                                     {"name": "plan", "type": "categorical",
                                                      "categories": ["b", "c", "a"]}]}
    X = np.array([[30, 1, 0], [40, 2, 1], [50, 3, 2], [60, 4, np.nan]], dtype=np.float32)
    matrix = champion_features(champion, candidate, X, "churn:1")
    assert matrix[:, 1].tolist() == [30, 40, 50, 60]
    plan = matrix[:, 0].tolist()
    assert plan[0] == 1 and math.isnan(plan[1]) and plan[2] == 0 and math.isnan(plan[3])  # b, c (unseen), a, missing


def test_champion_with_other_classes_is_refused():
    schema = {"classes": ["0", "1"], "features": []}
    with pytest.raises(ChampionError, match="predicts classes"):
        champion_features(schema, {**schema, "classes": ["no", "yes"]}, np.zeros((1, 0)), "churn:1")


def test_run_refuses_a_bad_champion_before_any_step(tmp_path, churn_csv):
    from portway.embedded.runner import run_pipeline

    with pytest.raises(ParameterError, match="champion 'other:1' is not understood"):
        run_pipeline({"data_uri": str(churn_csv), "registry_root": str(tmp_path / "registry"), "champion": "other:1"},
                     runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("champion, line", [
    (None, "champion: none approved yet in this model group (relative rules pass)"),
    ({"reference": "churn:3", "metrics": {"auc": 0.81}, "error": ""},
     "champion: churn:3, on this run's test split: auc 0.8100 (candidate 0.8300)"),
    ({"reference": "churn:3", "metrics": {}, "error": "champion churn:3 cannot be scored: Cannot load the model x"},
     "champion: champion churn:3 cannot be scored: Cannot load the model x"),
])
def test_run_summary_names_the_champion_and_both_scores(champion, line):
    from portway.embedded.runner import RunResult, format_summary
    from portway.steps.gate import decide, parse_rules

    metrics = {"auc": 0.83}
    gate = decide(parse_rules("auc>=champion+0.005"), metrics,
                  champion["metrics"] if champion and not champion["error"] else None,
                  champion_error=champion["error"] if champion else "")
    gate["champion"] = champion
    result = RunResult("r1", "/tmp/r1", "SUCCEEDED", 1.0, [], {}, metrics=metrics, gate=gate,
                       report_uri="/tmp/r1/report.html")
    text = format_summary(result)
    assert f"  {line}" in text.splitlines()
    assert "  report: /tmp/r1/report.html" in text
