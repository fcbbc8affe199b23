"""The metric gate (SageMaker's ConditionStep over a JsonGet of evaluation.json).

A gate is a list of rules, all of which must hold:
    auc>=0.85                  absolute: the candidate's metric against a number
    auc>=champion+0.005        relative: against the newest approved version's score on the
                               candidate's test split, plus a margin (minus for a tolerance)
With no champion, a relative rule passes and says so.

By default the gate also holds "not worse than the approved champion" on the gate metric
(`auc>=champion`, `log_loss<=champion`): a candidate that clears the absolute threshold but
scores below the model already serving (on the same test rows) would be a regression, and
SageMaker's threshold-only ConditionStep lets it through. Any relative rule on the gate metric
replaces the default (`auc>=champion-0.01` tolerates a small drop; `auc>=champion-1` turns
the comparison off).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from portway.errors import ParameterError

# Metrics the gate can read, and which way is better.
HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "auc"}
LOWER_IS_BETTER = {"log_loss"}
GATE_METRICS = sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)
_OPERATORS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}
_RULE = re.compile(
    r"^\s*(?P<metric>[a-z_][a-z0-9_]*)\s*(?P<op>>=|<=|>|<)\s*"
    r"(?:(?P<champion>champion)\s*(?:(?P<sign>[+-])\s*(?P<margin>[0-9.eE+-]+))?|(?P<number>[-+0-9.eE]+))\s*$"
)


@dataclass(frozen=True)
class GateRule:
    metric: str
    op: str
    threshold: float | None = None  # absolute rule
    margin: float | None = None  # relative rule: champion + margin

    @property
    def relative(self) -> bool:
        return self.margin is not None

    def __str__(self) -> str:
        if self.relative:
            if self.margin == 0:
                return f"{self.metric}{self.op}champion"
            sign = "+" if self.margin >= 0 else "-"
            return f"{self.metric}{self.op}champion{sign}{abs(self.margin):g}"
        return f"{self.metric}{self.op}{self.threshold:g}"


def check_metric(metric: str) -> str:
    if metric not in GATE_METRICS:
        raise ParameterError(f"Unknown gate metric {metric!r}; expected one of {', '.join(GATE_METRICS)}.")
    return metric


def check_threshold(metric: str, threshold: float) -> float:
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ParameterError(f"Gate threshold for {metric} must be a number, got {threshold!r}.") from None
    if metric == "log_loss":
        if not threshold >= 0:
            raise ParameterError(f"Gate threshold for log_loss must be 0 or more, got {threshold}.")
    elif not 0 <= threshold <= 1:
        raise ParameterError(f"Gate threshold for {metric} must be within [0, 1], got {threshold}.")
    return threshold


def parse_rule(text: str) -> GateRule:
    match = _RULE.match(text or "")
    if not match:
        raise ParameterError(
            f"Gate rule {text!r} is not understood; expected METRIC OP NUMBER (auc>=0.85) or "
            "METRIC OP champion[+/-MARGIN] (auc>=champion+0.005)."
        )
    metric = check_metric(match["metric"])
    if match["champion"]:
        margin = 0.0
        if match["margin"]:
            try:
                margin = float(match["margin"])
            except ValueError:
                raise ParameterError(f"Gate rule {text!r}: margin {match['margin']!r} is not a number.") from None
            margin = -margin if match["sign"] == "-" else margin
        return GateRule(metric, match["op"], margin=margin)
    return GateRule(metric, match["op"], threshold=check_threshold(metric, match["number"]))


def parse_rules(text: str) -> list[GateRule]:
    """Rules separated by ';' (the form a pipeline parameter carries)."""
    return [parse_rule(part) for part in (text or "").split(";") if part.strip()]


def build_rules(metric: str, threshold: float, extra_rules: str = "") -> list[GateRule]:
    """The pipeline's gate: `metric >= threshold` (or <= for log_loss), "not worse than the
    champion" on `metric` unless an extra rule compares `metric` with the champion, and the
    extra rules."""
    check_metric(metric)
    op = "<=" if metric in LOWER_IS_BETTER else ">="
    extra = parse_rules(extra_rules)
    rules = [GateRule(metric, op, threshold=check_threshold(metric, threshold))]
    if not any(rule.relative and rule.metric == metric for rule in extra):
        rules.append(GateRule(metric, op, margin=0.0))
    return [*rules, *extra]


@dataclass
class GateCheck:
    rule: str
    metric: str
    value: float
    bound: float | None
    passed: bool
    note: str


def decide(rules: list[GateRule], metrics: dict, champion_metrics: dict | None = None,
           champion_error: str = "") -> dict:
    """Apply every rule; the gate passes only if all pass. Returns a JSON-able decision.

    `champion_error` says an approved champion exists but could not be scored: every
    relative rule then fails (fail closed), its note carrying the error."""
    checks = []
    for rule in rules:
        value = float(metrics[rule.metric])
        if rule.relative:
            if champion_error:
                checks.append(GateCheck(str(rule), rule.metric, value, None, False, champion_error))
                continue
            if champion_metrics is None:
                checks.append(GateCheck(str(rule), rule.metric, value, None, True,
                                        "no approved champion yet: relative rule passes"))
                continue
            bound = float(champion_metrics[rule.metric]) + rule.margin
            note = f"champion scored {float(champion_metrics[rule.metric]):.4f} on this test split"
        else:
            bound = rule.threshold
            note = "absolute threshold"
        passed = _OPERATORS[rule.op](value, bound)
        checks.append(GateCheck(str(rule), rule.metric, value, bound, passed, note))
    passed = all(c.passed for c in checks)
    failed = [c for c in checks if not c.passed]
    # A relative rule's note names the champion's score (or why there is none): keep it in the summary.
    if passed:
        summary = "passed: " + "; ".join(
            f"{c.metric}={c.value:.4f} ({c.rule}" + (f"; {c.note})" if "champion" in c.rule else ")") for c in checks
        )
    else:
        summary = "failed: " + "; ".join(
            f"{c.metric}={c.value:.4f} does not satisfy {c.rule}" + (f" ({c.note})" if "champion" in c.rule else "")
            for c in failed
        )
    return {"passed": passed, "summary": summary, "checks": [asdict(c) for c in checks],
            "champion": champion_metrics is not None}
