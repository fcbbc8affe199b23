"""Helpers shared by the champion/challenger and report tests: a second (weak) model on the same
splits, an approved champion in a registry, and one call of the evaluate step's logic."""

from __future__ import annotations

from pathlib import Path

GROUP = "churn"


def train_weak_model(processed: dict, out: Path) -> dict:
    """Two depth-1 trees on the same splits: clearly worse than the `trained` fixture's model."""
    from portway.steps.evaluate import evaluate_model
    from portway.steps.train import train_model

    train_model(processed["train"], processed["validation"], processed["profile"], str(out / "model"),
                hyperparameters={"max_depth": 1}, num_boost_round=2, early_stopping_rounds=0)
    evaluation = evaluate_model(str(out / "model"), processed["test"], str(out / "evaluation.json"))
    return {"model_dir": str(out / "model"), "evaluation": evaluation, "evaluation_path": str(out / "evaluation.json")}


def approved_champion(registry_root: Path | str, model: dict, recorded_metrics: dict | None = None) -> dict:
    """Register `model` and approve it. `recorded_metrics` replaces the metrics stored in the
    record, to show that the gate re-scores the champion instead of trusting them."""
    from portway.registry import ModelRegistry

    registry = ModelRegistry(str(registry_root))
    record = registry.register(GROUP, model["model_dir"], recorded_metrics or model["evaluation"]["metrics"],
                               lineage={}, evaluation_path=model["evaluation_path"])
    return registry.approve(GROUP, record["version"], "champion for a test")["record"]


def run_evaluate(out: Path, processed: dict, candidate: dict, registry_root: Path | str, rules: str,
                 champion: str = "auto") -> dict:
    """The evaluate step's logic for `candidate`, writing evaluation.json and report.html under `out`."""
    from portway.steps.champion import evaluate_against_champion
    from portway.steps.gate import parse_rules

    out.mkdir(parents=True, exist_ok=True)
    return evaluate_against_champion(
        model_dir=candidate["model_dir"], test_path=processed["test"], profile_path=processed["profile_path"],
        evaluation_path=str(out / "evaluation.json"), report_path=str(out / "report.html"),
        rules=parse_rules(rules), registry_root=str(registry_root), model_group=GROUP, champion=champion,
    )
