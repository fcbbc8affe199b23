"""The metric gate: parsing rules and deciding."""

import pytest

from portway.errors import ParameterError
from portway.steps.gate import build_rules, decide, parse_rule

METRICS = {"accuracy": 0.9, "precision": 0.8, "recall": 0.7, "f1": 0.75, "auc": 0.86, "log_loss": 0.3}


@pytest.mark.parametrize("text, passed", [
    ("auc>=0.85", True), ("auc>=0.87", False), ("auc>0.86", False), ("log_loss<=0.3", True),
    ("log_loss<0.3", False), ("f1 >= 0.75", True),
])
def test_absolute_rules(text, passed):
    assert decide([parse_rule(text)], METRICS)["passed"] is passed


def test_pipeline_gate_uses_the_right_direction_for_log_loss():
    assert str(build_rules("log_loss", 0.35)[0]) == "log_loss<=0.35"
    assert str(build_rules("auc", 0.8)[0]) == "auc>=0.8"


@pytest.mark.parametrize("champion_auc, margin, passed", [(0.80, 0.005, True), (0.857, 0.005, False),
                                                          (0.86, 0.0, True), (0.90, -0.05, True)])
def test_relative_rules_against_a_champion(champion_auc, margin, passed):
    rule = parse_rule(f"auc>=champion{'+' if margin >= 0 else '-'}{abs(margin)}")
    decision = decide([rule], METRICS, {**METRICS, "auc": champion_auc})
    assert decision["passed"] is passed


def test_relative_rule_without_champion_passes_and_says_so():
    decision = decide([parse_rule("auc>=champion+0.01")], METRICS, None)
    assert decision["passed"] and "no approved champion" in decision["checks"][0]["note"]


@pytest.mark.parametrize("metric, threshold, message", [
    ("auc", 1.5, "within \\[0, 1\\], got 1.5"), ("auc", -0.1, "within \\[0, 1\\]"),
    ("roc", 0.5, "Unknown gate metric 'roc'"), ("log_loss", -1, "0 or more"),
])
def test_bad_gate_parameters(metric, threshold, message):
    with pytest.raises(ParameterError, match=message):
        build_rules(metric, threshold)


@pytest.mark.parametrize("text", ["auc=>0.8", "auc", "auc>=lots", "speed>=1"])
def test_unparseable_rules(text):
    with pytest.raises(ParameterError):
        parse_rule(text)


def test_the_default_gate_refuses_a_regression_against_the_champion():
    # Issue 14: a model worse than the approved champion registered by default.
    rules = build_rules("auc", 0.8)
    assert [str(r) for r in rules] == ["auc>=0.8", "auc>=champion"]
    worse = decide(rules, METRICS, {**METRICS, "auc": 0.87})
    assert not worse["passed"] and "does not satisfy auc>=champion (champion scored 0.8700" in worse["summary"]
    assert decide(rules, METRICS, {**METRICS, "auc": 0.86})["passed"]  # not worse: passes
    assert [str(r) for r in build_rules("log_loss", 0.5)] == ["log_loss<=0.5", "log_loss<=champion"]


def test_a_relative_rule_on_the_gate_metric_replaces_the_default():
    assert [str(r) for r in build_rules("auc", 0.8, "auc>=champion-0.01")] == ["auc>=0.8", "auc>=champion-0.01"]
    assert decide(build_rules("auc", 0.8, "auc>=champion-0.02"), METRICS, {**METRICS, "auc": 0.87})["passed"]
    # A rule on another metric keeps the default on the gate metric.
    assert [str(r) for r in build_rules("auc", 0.8, "f1>=champion")] == ["auc>=0.8", "auc>=champion", "f1>=champion"]
