"""evaluate: metrics on the test split, in SageMaker's evaluation.json layout.

    {"binary_classification_metrics": {"accuracy": {"value": 0.91, "standard_deviation": "NaN"},
                                       "auc": {...}, ..., "confusion_matrix": {"0": {"0": n, "1": n}, ...}}}

Multiclass targets use `multiclass_classification_metrics` with the same inner layout and
macro-averaged precision, recall, F1 and one-vs-rest AUC.
"""

from __future__ import annotations

from pathlib import Path

from portway.fileio import write_json_atomic

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "auc", "log_loss")
# Enough points to draw a smooth curve, few enough for a KFP metadata field.
MAX_CURVE_POINTS = 200


def score(booster, X, y, classes: list[str]) -> dict:
    """Metrics of `booster` on (X, y). Pure function: used for the candidate and the champion."""
    import numpy as np
    import xgboost as xgb

    from portway.steps import classification_metrics as m

    dmatrix = xgb.DMatrix(X, feature_names=booster.feature_names)
    probabilities = booster.predict(dmatrix)
    binary = len(classes) == 2
    if binary:
        positive = probabilities.reshape(-1)
        predicted = (positive >= 0.5).astype(int)
        proba_matrix = np.column_stack([1 - positive, positive])
        auc = m.roc_auc(y == 1, positive)
    else:
        proba_matrix = probabilities.reshape(len(y), len(classes))
        predicted = proba_matrix.argmax(axis=1)
        auc = m.roc_auc_ovr_macro(y, proba_matrix)
    confusion = m.confusion_matrix(y, predicted, len(classes))
    precision, recall, f1 = m.precision_recall_f1(confusion, positive=1 if binary else None)
    result = {
        "accuracy": float((predicted == y).mean()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": auc,
        "log_loss": m.log_loss(y, proba_matrix),
    }
    curves = {}
    if binary:
        fpr, tpr, thresholds = m.roc_curve(y == 1, positive)
        precision_curve, recall_curve, pr_thresholds = m.precision_recall_curve(y == 1, positive)
        curves = {
            "roc": _thin({"fpr": fpr, "tpr": tpr, "thresholds": np.nan_to_num(thresholds, posinf=1.0)}),
            "precision_recall": _thin({"precision": precision_curve, "recall": recall_curve,
                                       "thresholds": pr_thresholds}),
        }
    return {"metrics": result, "confusion_matrix": confusion.tolist(), "curves": curves}


def _thin(curve: dict) -> dict:
    import numpy as np

    length = len(next(iter(curve.values())))
    index = np.unique(np.linspace(0, length - 1, min(length, MAX_CURVE_POINTS)).round().astype(int))
    return {k: [float(x) for x in np.asarray(v)[index]] for k, v in curve.items()}


def sagemaker_report(metrics: dict, confusion: list[list[int]], classes: list[str], curves: dict) -> dict:
    """The evaluation.json document SageMaker Pipelines' JsonGet reads."""
    section = "binary_classification_metrics" if len(classes) == 2 else "multiclass_classification_metrics"
    body = {name: {"value": metrics[name], "standard_deviation": "NaN"} for name in METRIC_NAMES}
    body["confusion_matrix"] = {
        actual: {predicted: int(confusion[i][j]) for j, predicted in enumerate(classes)}
        for i, actual in enumerate(classes)
    }
    if "roc" in curves:
        body["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": curves["roc"]["fpr"], "true_positive_rates": curves["roc"]["tpr"],
        }
        body["precision_recall_curve"] = {
            "precisions": curves["precision_recall"]["precision"], "recalls": curves["precision_recall"]["recall"],
        }
    return {section: body}


def metrics_from_report(report: dict) -> dict:
    """The flat {metric: value} view of an evaluation.json document."""
    section = next(iter(report.values()))
    return {name: float(section[name]["value"]) for name in METRIC_NAMES}


def evaluate_model(model_dir: str, test_path: str, evaluation_path: str) -> dict:
    """Score the model on the test split and write evaluation.json. Returns
    {"metrics", "confusion_matrix", "classes", "curves", "test_rows", "report", "feature_importance"}."""
    from portway.fileio import read_json
    from portway.steps.splits import load_split
    from portway.steps.train import FEATURE_SCHEMA_FILE, load_booster

    schema = read_json(Path(model_dir) / FEATURE_SCHEMA_FILE)
    booster = load_booster(model_dir)
    X, y = load_split(test_path, schema)
    scored = score(booster, X, y, schema["classes"])
    report = sagemaker_report(scored["metrics"], scored["confusion_matrix"], schema["classes"], scored["curves"])
    write_json_atomic(evaluation_path, report)
    return {
        "metrics": scored["metrics"],
        "confusion_matrix": scored["confusion_matrix"],
        "classes": schema["classes"],
        "curves": scored["curves"],
        "test_rows": int(len(y)),
        "report": report,
        # XGBoost's "gain": the mean loss reduction of the splits on a feature; unused features are absent.
        "feature_importance": {name: float(gain) for name, gain in booster.get_score(importance_type="gain").items()},
    }
