"""Multi-label metrics (issue 25): hand-computed cases, equality with scikit-learn, undefined AUC and F1,
the degenerate flags, and one-sentence errors."""

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, roc_auc_score

from hybridal.errors import ConfigError, DataError
from hybridal.model.multilabel_metrics import MultiLabelEval, multilabel_metrics, predict_labels

Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
S = np.array([[0.9, 0.2, 0.1], [0.6, 0.7, 0.2], [0.4, 0.5, 0.3], [0.1, 0.1, 0.5]])


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


def test_hand_computed_case():
    m = multilabel_metrics(Y, S, label_names=["a", "b", "c"])
    # predictions (score >= 0.5; the 0.5 at row 2 label b and row 3 label c count as positive):
    #   [[1,0,0],[1,1,0],[0,1,0],[0,0,1]]
    assert predict_labels(S).tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]]
    # a: y=[1,0,1,0] p=[1,1,0,0] -> TP 1, FP 1, FN 1 -> F1 = 2*1/(2*1+1+1) = 0.5
    # b: y=[0,1,1,0] p=[0,1,1,0] -> TP 2, FP 0, FN 0 -> F1 = 4/4 = 1.0
    # c: y=[0,0,0,0] p=[0,0,0,1] -> TP 0, FP 1, FN 0 -> F1 = 0/1 = 0.0 (defined: one false positive)
    assert m.per_label_f1 == pytest.approx((0.5, 1.0, 0.0))
    assert m.per_label_f1_defined == (True, True, True)
    # micro: TP 3, FP 2, FN 1 -> 6/(6+2+1) = 2/3; macro: (0.5+1+0)/3 = 0.5
    assert m.micro_f1 == pytest.approx(2 / 3)
    assert m.macro_f1 == pytest.approx(0.5)
    # exact match: row 0 only -> 1/4; wrong cells: (1,a), (2,a), (3,c) -> 3/12
    assert m.subset_accuracy == pytest.approx(0.25)
    assert m.hamming_loss == pytest.approx(0.25)
    # AUC a: positives {0.9, 0.4} vs negatives {0.6, 0.1}: pairs won 0.9>0.6, 0.9>0.1, 0.4>0.1 -> 3/4
    # AUC b: positives {0.7, 0.5} beat negatives {0.2, 0.1} in all 4 pairs -> 1.0; c: all 0 -> undefined
    assert m.per_label_auc[:2] == pytest.approx((0.75, 1.0))
    assert m.per_label_auc[2] is None
    assert m.auc_left_out == ("c",)
    assert m.mean_auc == pytest.approx((0.75 + 1.0) / 2)
    assert m.support == (2, 2, 0) and m.predicted_positive == (2, 2, 1)
    assert (m.n_rows, m.threshold, m.label_names) == (4, 0.5, ("a", "b", "c"))
    assert not m.degenerate and m.degenerate_reason == ""


def test_frozen_dataclass():
    m = multilabel_metrics(Y, S)
    assert isinstance(m, MultiLabelEval) and m.label_names == ("label_0", "label_1", "label_2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.micro_f1 = 1.0  # type: ignore[misc]


def test_threshold_moves_predictions():
    # threshold 0.65: predictions [[1,0,0],[0,1,0],[0,0,0],[0,0,0]]
    # a: TP 1, FN 1 -> 2/3; b: TP 1, FN 1 -> 2/3; c: nothing positive -> 0.0, undefined
    m = multilabel_metrics(Y, S, threshold=0.65)
    assert m.per_label_f1 == pytest.approx((2 / 3, 2 / 3, 0.0))
    assert m.per_label_f1_defined == (True, True, False)
    # macro includes the undefined label's 0.0: (2/3 + 2/3 + 0)/3 = 4/9; micro: TP 2, FN 2 -> 4/6
    assert m.macro_f1 == pytest.approx(4 / 9)
    assert m.micro_f1 == pytest.approx(2 / 3)
    # rows 0, 1 and 3 match exactly -> 3/4; wrong cells (2,a), (2,b) -> 2/12
    assert m.subset_accuracy == pytest.approx(0.75) and m.hamming_loss == pytest.approx(2 / 12)


def test_undefined_f1_follows_zero_division_zero():
    y = np.array([[1, 0], [0, 0]])
    s = np.array([[0.8, 0.1], [0.2, 0.3]])
    m = multilabel_metrics(y, s)
    # label 1: no positive, none predicted -> F1 0.0 (zero_division=0), marked undefined; macro = (1 + 0)/2
    assert m.per_label_f1 == (1.0, 0.0) and m.per_label_f1_defined == (True, False)
    assert m.macro_f1 == pytest.approx(0.5)
    assert m.macro_f1 == pytest.approx(f1_score(y, predict_labels(s), average="macro", zero_division=0))
    assert m.per_label_auc == (1.0, None) and m.mean_auc == 1.0 and m.auc_left_out == ("label_1",)


def test_all_ones_label_has_no_auc_and_no_label_gives_none_mean():
    y = np.array([[1, 1], [1, 0]])
    m = multilabel_metrics(y, np.array([[0.9, 0.8], [0.7, 0.1]]), label_names=["all_one", "mixed"])
    assert m.per_label_auc == (None, 1.0) and m.auc_left_out == ("all_one",)
    m = multilabel_metrics(np.zeros((3, 2)), np.full((3, 2), 0.2))
    assert m.mean_auc is None and m.auc_left_out == ("label_0", "label_1")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    n, prevalence = 300, np.array([0.3, 0.1, 0.05, 0.01, 0.5, 0.0])
    y = (rng.random((n, 6)) < prevalence).astype(int)
    y[:, 5] = 0  # a label with no positive: undefined AUC, F1 by zero_division
    scores = np.clip(0.6 * y + 0.5 * rng.random((n, 6)) - 0.05, 0, 1)
    scores[:10, 5] = 0.7  # some false positives on the empty label
    pred = (scores >= 0.5).astype(int)
    m = multilabel_metrics(y, scores)
    assert m.micro_f1 == pytest.approx(f1_score(y, pred, average="micro", zero_division=0))
    assert m.macro_f1 == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    assert m.per_label_f1 == pytest.approx(tuple(f1_score(y, pred, average=None, zero_division=0)))
    with warnings.catch_warnings():  # scikit-learn's default ("warn") gives the same 0.0s
        warnings.simplefilter("ignore")
        assert m.macro_f1 == pytest.approx(f1_score(y, pred, average="macro"))
    defined = [j for j in range(6) if 0 < y[:, j].sum() < n]
    assert [j for j in range(6) if m.per_label_auc[j] is not None] == defined
    expected_auc = [roc_auc_score(y[:, j], scores[:, j]) for j in defined]
    assert [m.per_label_auc[j] for j in defined] == pytest.approx(expected_auc)
    assert m.mean_auc == pytest.approx(np.mean(expected_auc))
    assert m.subset_accuracy == pytest.approx(accuracy_score(y, pred))
    assert m.hamming_loss == pytest.approx(hamming_loss(y, pred))
    assert m.support == tuple(y.sum(axis=0)) and m.predicted_positive == tuple(pred.sum(axis=0))


def test_degenerate_when_nothing_predicted():
    m = multilabel_metrics(Y, np.full(Y.shape, 0.2))
    assert m.degenerate and m.degenerate_reason == "no positive predicted"
    assert m.micro_f1 == 0.0 and m.predicted_positive == (0, 0, 0)


def test_degenerate_when_every_row_gets_the_same_label_set():
    scores = np.tile([0.9, 0.1, 0.6], (4, 1))
    m = multilabel_metrics(Y, scores)
    assert m.degenerate and m.degenerate_reason == "same label set predicted for every row"
    assert m.predicted_positive == (4, 0, 4)


@pytest.mark.parametrize(
    "y, s, cls, words",
    [
        (np.array([1, 0]), np.array([0.5, 0.5]), DataError, "y_true has shape (2,)"),
        (np.zeros((0, 3)), np.zeros((0, 3)), DataError, "y_true has shape (0, 3)"),
        (Y, S[:, :2], DataError, "scores has shape (4, 2); allowed: the shape of y_true, (4, 3)"),
        (Y * 2, S, DataError, "y_true has value 2"),
        (np.where(Y == 1, np.nan, 0), S, DataError, "y_true has value nan"),
        (np.array([[0, "x"]], dtype=object), np.array([[0.1, 0.2]]), DataError, "y_true has value 'x'"),
        (Y, S + 0.6, DataError, "scores has value 1.5"),
        (Y, np.where(S > 0.8, np.nan, S), DataError, "scores has value nan"),
    ],
)
def test_bad_inputs_fail_in_one_sentence(y, s, cls, words):
    with pytest.raises(cls) as info:
        multilabel_metrics(y, s)
    assert words in str(info.value) and one_sentence(str(info.value))


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, float("nan"), "0.5", True])
def test_bad_threshold_fails_in_one_sentence(threshold):
    with pytest.raises(ConfigError) as info:
        multilabel_metrics(Y, S, threshold=threshold)
    assert str(info.value).startswith(f"threshold={threshold!r}") and one_sentence(str(info.value))


def test_wrong_number_of_label_names_fails_in_one_sentence():
    with pytest.raises(DataError) as info:
        multilabel_metrics(Y, S, label_names=["a", "b"])
    assert "label_names has 2 names; allowed: one per label column, 3." == str(info.value)


def test_the_pass_loss_is_binary_cross_entropy_even_for_confident_mistakes():
    """multilabel_result's loss equals torch's BCE on the logits, confident wrong cells (|logit| 40) included."""
    import torch
    import torch.nn.functional as F

    from hybridal.model.multilabel_eval import MultiLabelTask, multilabel_result

    logits = torch.tensor([[40.0, -40.0, 3.0], [-2.0, 40.0, 0.5]])
    y = np.array([[0, 1, 1], [0, 0, 1]])
    result = multilabel_result(
        F.logsigmoid(logits).numpy(), y, MultiLabelTask(0.5, "micro_f1", ("a", "b", "c")), 0, 0.0, False
    )
    expected = F.binary_cross_entropy_with_logits(logits.double(), torch.tensor(y, dtype=torch.float64))
    assert result.loss == pytest.approx(float(expected), rel=1e-6)
