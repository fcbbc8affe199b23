"""train and evaluate as plain functions."""

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from portway.errors import ParameterError
from portway.steps.evaluate import METRIC_NAMES, metrics_from_report, score
from portway.steps.splits import load_split
from portway.steps.train import choose_device, train_model


def test_model_is_xgboost_json_with_feature_schema(trained, processed):
    model_dir = Path(trained["model_dir"])
    document = json.loads((model_dir / "model.json").read_text())  # JSON, not pickle
    assert "learner" in document
    schema = json.loads((model_dir / "feature_schema.json").read_text())
    assert schema["feature_names"] == [f["name"] for f in processed["profile"]["features"]]
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "model.json"))
    assert booster.feature_names == schema["feature_names"]


def test_early_stopping_keeps_the_best_round(trained):
    record = trained["record"]
    assert record["trees"] == record["best_iteration"] + 1 <= 60
    assert record["parameters"]["tree_method"] == "hist"


def test_gpu_requested_without_cuda_falls_back_to_cpu_and_says_so(processed, tmp_path, capsys):
    assert choose_device(1, cuda_present=True)[0] == "cuda"
    device, note = choose_device(1, cuda_present=False)
    assert device == "cpu" and "falling back to CPU" in note
    record = train_model(processed["train"], processed["validation"], processed["profile"], str(tmp_path / "m"),
                         num_boost_round=5, gpus=1)
    assert record["device"] == "cpu"  # no GPU on this machine or in CI
    assert "falling back to CPU" in capsys.readouterr().out


def test_bad_hyperparameters_are_refused(processed, tmp_path):
    with pytest.raises(ParameterError, match="max_depth"):
        train_model(processed["train"], processed["validation"], processed["profile"], str(tmp_path / "m"),
                    hyperparameters={"max_depth": 0})
    with pytest.raises(ParameterError, match="gpus"):
        choose_device(-1)


def test_evaluation_json_has_sagemaker_layout_and_matches_a_direct_computation(trained, processed):
    from portway.steps.classification_metrics import roc_auc

    report = json.loads(Path(trained["evaluation_path"]).read_text())
    section = report["binary_classification_metrics"]
    for name in METRIC_NAMES:
        assert isinstance(section[name]["value"], float)
    X, y = load_split(processed["test"], processed["profile"])
    booster = xgb.Booster()
    booster.load_model(str(Path(trained["model_dir"]) / "model.json"))
    expected_auc = roc_auc(y == 1, booster.predict(xgb.DMatrix(X, feature_names=booster.feature_names)))
    assert section["auc"]["value"] == pytest.approx(expected_auc)
    matrix = section["confusion_matrix"]
    assert sum(sum(row.values()) for row in matrix.values()) == len(y)
    assert metrics_from_report(report)["auc"] == section["auc"]["value"]
    assert 0.7 < expected_auc < 1.0  # the synthetic data carries a learnable signal


def test_multiclass_metrics_are_macro_with_the_same_layout(tmp_path):
    from portway.steps.evaluate import sagemaker_report

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 0).astype(int)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, label=y,
                        feature_names=["a", "b", "c"]), 20)
    scored = score(booster, X, y, ["x", "y", "z"])
    report = sagemaker_report(scored["metrics"], scored["confusion_matrix"], ["x", "y", "z"], scored["curves"])
    section = report["multiclass_classification_metrics"]
    assert set(METRIC_NAMES) <= set(section) and section["confusion_matrix"]["x"].keys() == {"x", "y", "z"}
    assert 0.5 < section["auc"]["value"] <= 1.0
