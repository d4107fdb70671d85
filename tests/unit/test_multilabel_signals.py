"""Multi-label stop-set signals (issue 25 foundation): hand-checked and against scikit-learn's κ."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from hybridal.stopping.multilabel_signals import (
    binary_entropy_nats,
    changed_label_sets,
    check_label_predictions,
    mean_binary_entropy,
    mean_label_kappa,
    mean_normalised_binary_entropy,
)


def test_mean_label_kappa_is_the_mean_of_scikit_learns_per_label_kappa():
    rng = np.random.default_rng(0)
    a, b = (rng.random((200, 6)) < 0.3).astype(int), (rng.random((200, 6)) < 0.3).astype(int)
    b[:, 0] = a[:, 0]  # one label identical: κ = 1 exactly
    expected = np.mean([1.0] + [cohen_kappa_score(a[:, j], b[:, j]) for j in range(1, 6)])
    assert mean_label_kappa(a, b) == pytest.approx(expected, abs=1e-12)


def test_a_label_predicted_absent_everywhere_in_both_rounds_reads_as_perfect_agreement():
    a = np.array([[1, 0], [0, 0], [1, 0]])
    b = np.array([[1, 0], [1, 0], [1, 0]])
    # label 0: 2 of 3 agree; p_o = 2/3, p_e = (2/3)(3/3) + (1/3)(0) = 2/3 → κ = 0; label 1: all 0 twice → 1.0
    assert mean_label_kappa(a, b) == pytest.approx(0.5)


def test_changed_label_sets_counts_rows_with_any_flip():
    a = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0], [1, 1, 1]])
    b = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]])
    assert changed_label_sets(a, b) == 2


def test_binary_entropies_hand_checked():
    p = np.array([[0.5, 0.0], [1.0, 0.25]])
    h = binary_entropy_nats(p)
    quarter = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert h.ravel().tolist() == pytest.approx([math.log(2), 0.0, 0.0, quarter])
    assert mean_binary_entropy(p) == pytest.approx((math.log(2) + quarter) / 4)
    assert mean_normalised_binary_entropy(p) == pytest.approx((1 + quarter / math.log(2)) / 4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_label_predictions(np.zeros((3, 2)), 3), r"shape \(3, 2\) are invalid"),
        (lambda: check_label_predictions(np.full((3, 2), 2), 2), "values other than 0 and 1"),
        (lambda: check_label_predictions(np.zeros((3, 2)), 2, n_rows=4), "the stop set's 4 rows"),
        (lambda: binary_entropy_nats(np.array([[1.5]])), "proba is invalid"),
    ],
)
def test_bad_inputs_fail_in_one_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()
