"""select: the hyperparameter search's best candidate, on the validation split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portway.errors import ParameterError
from portway.steps.select import select_best
from portway.steps.train import train_model


def test_the_best_candidate_on_the_validation_split_is_copied(processed, trained, tmp_path):
    weak = tmp_path / "weak"
    train_model(processed["train"], processed["validation"], processed["profile"], str(weak),
                hyperparameters={"max_depth": 1}, num_boost_round=2)
    result = select_best([str(weak), trained["model_dir"]], processed["validation"], "auc", str(tmp_path / "best"))
    assert result["best"] == 1 and result["scores"][1] > result["scores"][0]
    assert (tmp_path / "best" / "model.json").read_bytes() == (Path(trained["model_dir"]) / "model.json").read_bytes()
    # Lower is better for log_loss; a tie goes to the earlier candidate.
    assert select_best([str(weak), trained["model_dir"]], processed["validation"], "log_loss",
                       str(tmp_path / "best2"))["best"] == 1
    assert select_best([trained["model_dir"]] * 2, processed["validation"], "auc", str(tmp_path / "b3"))["best"] == 0
    assert json.loads((tmp_path / "best" / "feature_schema.json").read_text())["target"] == "churned"


def test_no_candidates_or_an_unknown_metric_is_refused(processed, tmp_path):
    with pytest.raises(ParameterError, match="no candidates"):
        select_best([], processed["validation"], "auc", str(tmp_path / "best"))
    with pytest.raises(ParameterError, match="Unknown gate metric 'roc'"):
        select_best(["x"], processed["validation"], "roc", str(tmp_path / "best"))
