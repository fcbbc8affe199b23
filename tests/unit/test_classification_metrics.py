"""NumPy metrics against brute-force definitions (scikit-learn is not a dependency: see the module)."""

import numpy as np
import pytest

from portway.steps import classification_metrics as m


def brute_force_auc(is_positive, score):
    positives, negatives = score[is_positive], score[~is_positive]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", range(8))
def test_auc_equals_the_pairwise_probability_with_ties(seed):
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(120), 1)  # many ties
    is_positive = rng.random(120) < 0.3
    assert m.roc_auc(is_positive, score) == pytest.approx(brute_force_auc(is_positive, score))


def test_auc_is_nan_with_one_class():
    assert np.isnan(m.roc_auc(np.zeros(5, bool), np.arange(5.0)))


def test_confusion_precision_recall_f1_on_a_worked_example():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    predicted = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    confusion = m.confusion_matrix(y, predicted, 2)
    assert confusion.tolist() == [[3, 1], [1, 3]]
    precision, recall, f1 = m.precision_recall_f1(confusion, positive=1)
    assert (precision, recall) == (0.75, 0.75) and f1 == pytest.approx(0.75)
    macro = m.precision_recall_f1(m.confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]), 3), None)
    assert macro == pytest.approx(((1 + 0 + 2 / 3) / 3, (1 + 0 + 1) / 3, (1 + 0 + 0.8) / 3))


def test_log_loss_matches_its_definition():
    y = np.array([0, 1, 2])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    assert m.log_loss(y, p) == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.4])))


def test_roc_and_pr_curves_step_through_every_threshold():
    score = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    is_positive = np.array([True, True, False, False, True])
    fpr, tpr, thresholds = m.roc_curve(is_positive, score)
    assert fpr.tolist() == [0, 0, 0.5, 1, 1] and tpr.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1])
    assert thresholds[0] == np.inf and thresholds[1:].tolist() == [0.9, 0.8, 0.3, 0.1]
    assert np.trapezoid(tpr, fpr) == pytest.approx(m.roc_auc(is_positive, score))
    precision, recall, pr_thresholds = m.precision_recall_curve(is_positive, score)
    assert pr_thresholds.tolist() == [0.1, 0.3, 0.8, 0.9]
    assert precision.tolist() == pytest.approx([3 / 5, 2 / 4, 2 / 3, 1.0])
    assert recall.tolist() == pytest.approx([1, 2 / 3, 2 / 3, 1 / 3])


def test_ovr_macro_auc_averages_per_class_aucs():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 90)
    p = rng.random((90, 3))
    expected = np.mean([brute_force_auc(y == k, p[:, k]) for k in range(3)])
    assert m.roc_auc_ovr_macro(y, p) == pytest.approx(expected)
