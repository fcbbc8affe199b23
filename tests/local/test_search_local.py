"""`portway run hyperparameter-search`: one model per candidate, the best one through the gate."""

from __future__ import annotations

import json

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

pytestmark = pytest.mark.local

CANDIDATES = [{"max_depth": 1, "eta": 0.05, "subsample": 1.0}, {"max_depth": 4, "eta": 0.2, "subsample": 0.9},
              {"max_depth": 2, "eta": 0.1, "subsample": 0.8}]


def test_the_best_candidate_is_registered_through_the_gate(tmp_path, churn_csv, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "hyperparameter-search", "--data", str(churn_csv), "--runs-dir", str(runs),
                 "--param", f"candidates={json.dumps(CANDIDATES)}", "--num-boost-round", "30", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["pipeline"] == "hyperparameter-search" and summary["registration"]["registered"]
    # Three trainings (kfp.local runs two at a time), then one choice, one evaluation, one registration.
    assert err.count("started") - err.count("started (attempt") == 3 + 4
    assert "train[3]" in err and "select-best    succeeded" in err
    steps = [s["name"] for s in summary["steps"]]  # each iteration is a step of its own in the summary
    assert sorted(steps) == ["evaluate", "process", "register", "select-best", "train", "train[2]", "train[3]"]
    record = ModelRegistry(str(runs / "registry")).get("churn", 1)
    assert record["lineage"]["pipeline"] == "hyperparameter-search"
    assert record["lineage"]["gate"]["passed"] and record["metrics"] == pytest.approx(summary["metrics"])

    chosen = record["lineage"]["parameters"]
    scores = json.loads(next(runs.glob("*/artifacts/*/select-best/executor_output.json")).read_text()
                        )["parameterValues"]["Output"]
    scores = json.loads(scores)
    best = scores["best"]
    assert scores["scores"][best] == max(scores["scores"])  # the best on the validation split (auc)
    assert chosen["max_depth"] == CANDIDATES[best]["max_depth"] and chosen["eta"] == CANDIDATES[best]["eta"]
