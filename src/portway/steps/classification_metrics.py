"""Classification metrics in NumPy.

Written here rather than imported from scikit-learn on purpose: XGBoost imports scikit-learn
whenever it is installed, which added about 1.7 s of import time to every step subprocess
(train and evaluate both import XGBoost). The definitions follow scikit-learn's: the tests
check them against brute-force computations.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows: actual class; columns: predicted class."""
    return np.bincount(y.astype(np.int64) * n_classes + predicted.astype(np.int64),
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=float), where=denominator > 0)


def precision_recall_f1(confusion: np.ndarray, positive: int | None) -> tuple[float, float, float]:
    """For one positive class (binary) or macro-averaged over classes (positive=None); 0 where undefined."""
    true_positive = np.diag(confusion).astype(float)
    precision = _safe_divide(true_positive, confusion.sum(axis=0).astype(float))
    recall = _safe_divide(true_positive, confusion.sum(axis=1).astype(float))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    if positive is not None:
        return float(precision[positive]), float(recall[positive]), float(f1[positive])
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (as the Mann-Whitney U statistic needs)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    boundaries = np.flatnonzero(np.diff(ordered)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(values)]))
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def roc_auc(is_positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative."""
    positives = int(is_positive.sum())
    negatives = len(is_positive) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = _average_ranks(score.astype(float))
    return float((ranks[is_positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def roc_auc_ovr_macro(y: np.ndarray, probabilities: np.ndarray) -> float:
    """One-vs-rest AUC averaged over classes (NaN unless every class is present)."""
    return float(np.mean([roc_auc(y == k, probabilities[:, k]) for k in range(probabilities.shape[1])]))


def log_loss(y: np.ndarray, probabilities: np.ndarray) -> float:
    clipped = np.clip(probabilities, 1e-15, 1 - 1e-15)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(clipped[np.arange(len(y)), y.astype(np.int64)])))


def _cumulative_counts(is_positive: np.ndarray, score: np.ndarray):
    """True and false positives at each distinct threshold, highest threshold first."""
    order = np.argsort(-score, kind="mergesort")
    score, hits = score[order], is_positive[order].astype(float)
    last_of_each_threshold = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    true_positives = np.cumsum(hits)[last_of_each_threshold]
    false_positives = (last_of_each_threshold + 1) - true_positives
    return true_positives, false_positives, score[last_of_each_threshold]


def roc_curve(is_positive: np.ndarray, score: np.ndarray):
    """(false positive rates, true positive rates, thresholds), starting at (0, 0)."""
    tp, fp, thresholds = _cumulative_counts(is_positive, score.astype(float))
    tp, fp = np.r_[0.0, tp], np.r_[0.0, fp]
    return (fp / fp[-1] if fp[-1] else fp), (tp / tp[-1] if tp[-1] else tp), np.r_[np.inf, thresholds]


def precision_recall_curve(is_positive: np.ndarray, score: np.ndarray):
    """(precision, recall, thresholds) with thresholds increasing, as scikit-learn orders them."""
    tp, fp, thresholds = _cumulative_counts(is_positive, score.astype(float))
    precision = tp / (tp + fp)
    recall = tp / tp[-1] if tp[-1] else tp
    return precision[::-1], recall[::-1], thresholds[::-1]
