"""Multi-label samplers: hand-checked binary-uncertainty scores, and small-text's own picks on the same matrices.

small-text is called through its public `query` with a fake classifier (predict_proba returns fixed rows)
and a fake dataset, so no model is trained. small-text 1.4.1 (the pinned test dependency) has only
CategoryVectorInconsistencyAndRanking; LabelCardinalityInconsistency and AdaptiveActiveLearning arrive in
small-text 2.0 (a pre-release), so their picks are compared with small-text 2.0.0.dev3's, recorded on the same
matrices (tests/support/small_text_2_picks.py says how), or with the live library where it has them.
"""

from __future__ import annotations

import numpy as np
import pytest
import small_text
import small_text.query_strategies as st_qs
from scipy.sparse import csr_matrix

from hybridal.samplers.multilabel import (
    aal_scores,
    aal_select,
    binary_entropy,
    cvirs_scores,
    cvirs_select,
    lci_scores,
    lci_select,
    multilabel_entropy,
    multilabel_least_confidence,
    multilabel_margin,
)
from hybridal.samplers.multilabel_samplers import (
    AALSampler,
    CVIRSSampler,
    LCISampler,
    MultiLabelPoolScores,
    MultiLabelUncertaintySampler,
)
from tests.support.small_text_2_picks import NS, recorded


class _FakeDataset:
    def __init__(self, n_rows: int, n_labels: int):
        self.rows, self.is_multi_label, self.target_labels = np.arange(n_rows), True, np.arange(n_labels)

    def __getitem__(self, idx):
        return self.rows[idx]


class _FakeClassifier:
    def __init__(self, proba: np.ndarray):
        self.proba, self.multi_label, self.num_classes = proba, True, proba.shape[1]

    def predict_proba(self, rows):
        return self.proba[np.asarray(rows)]


def _smalltext_picks(strategy, proba: np.ndarray, y_labeled: np.ndarray, n: int) -> np.ndarray:
    n_rows = proba.shape[0]
    indices_labeled = np.arange(n_rows, n_rows + y_labeled.shape[0])
    return strategy.query(
        _FakeClassifier(proba),
        _FakeDataset(n_rows, proba.shape[1]),
        np.arange(n_rows),
        indices_labeled,
        csr_matrix(y_labeled),
        n=n,
    )


def _random_case(seed: int, n_rows: int = 40, n_labels: int = 6, n_labeled: int = 15, quantize: bool = False):
    rng = np.random.default_rng(seed)
    proba = rng.random((n_rows, n_labels))
    if quantize:  # few distinct values: many exactly tied scores, and entries exactly at the 0.5 threshold
        proba = rng.choice(np.array([0.0, 0.1, 0.5, 0.9, 1.0]), size=(n_rows, n_labels))
    y_labeled = (rng.random((n_labeled, n_labels)) < 0.3).astype(np.int64)
    y_labeled[:, 3] = 0  # a label never positive in the labelled set
    return proba, y_labeled


# Hand-made: duplicate rows, permuted rows, values exactly 0.5 / 0 / 1, and label 2 never positive.
HAND_PROBA = np.array(
    [
        [0.9, 0.1, 0.5],
        [0.9, 0.1, 0.5],
        [0.1, 0.9, 0.5],
        [0.5, 0.5, 0.5],
        [1.0, 0.0, 0.0],
        [0.6, 0.7, 0.8],
        [0.2, 0.3, 0.4],
        [0.6, 0.7, 0.8],
    ]
)
HAND_Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]])

CASES = [(HAND_PROBA, HAND_Y)] + [_random_case(s) for s in range(4)] + [_random_case(s, quantize=True) for s in (7, 8)]


# ---- CVIRS against small-text 1.4.1 ------------------------------------------------------------


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("n", [1, 3, 5])
def test_cvirs_picks_equal_smalltext(case, n):
    proba, y_labeled = CASES[case]
    theirs = _smalltext_picks(st_qs.CategoryVectorInconsistencyAndRanking(pbar=None), proba, y_labeled, n)
    np.testing.assert_array_equal(cvirs_select(proba, y_labeled, n), theirs)  # same positions, same order


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("batch_size", [2048, 7])  # 7: uneven chunks, each divided by its own size
def test_cvirs_scores_bit_identical_to_smalltext(case, batch_size):
    proba, y_labeled = CASES[case]
    strategy = st_qs.CategoryVectorInconsistencyAndRanking(batch_size=batch_size, pbar=None)
    theirs = strategy._compute_scores(np.arange(len(proba)), csr_matrix(y_labeled), proba)
    np.testing.assert_array_equal(cvirs_scores(proba, y_labeled, batch_size=batch_size), theirs)
    n = 6
    ours = cvirs_select(proba, y_labeled, n, batch_size=batch_size)
    np.testing.assert_array_equal(ours, _smalltext_picks(strategy, proba, y_labeled, n))


def test_cvirs_float32_threshold_and_whole_pool_match_smalltext():
    proba, y_labeled = _random_case(3, n_rows=25)
    proba32 = proba.astype(np.float32)
    for thr in (0.5, 0.3):
        strategy = st_qs.CategoryVectorInconsistencyAndRanking(prediction_threshold=thr, pbar=None)
        np.testing.assert_array_equal(
            cvirs_select(proba32, y_labeled, 4, prediction_threshold=thr),
            _smalltext_picks(strategy, proba32, y_labeled, 4),
        )
    everything = _smalltext_picks(st_qs.CategoryVectorInconsistencyAndRanking(pbar=None), proba, y_labeled, 25)
    np.testing.assert_array_equal(cvirs_select(proba, y_labeled, 25), everything)
    np.testing.assert_array_equal(cvirs_select(proba, y_labeled, 99), np.arange(25))  # min(n, N), like top_n
    assert cvirs_select(proba, y_labeled, 0).shape == (0,)


# ---- LCI and AAL: against small-text 2.x when installed, else hand-checked ---------------------


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("n", NS)
def test_lci_and_aal_picks_equal_smalltext_2(case, n):
    proba, y_labeled = CASES[case]
    if hasattr(st_qs, "LabelCardinalityInconsistency"):
        lci = _smalltext_picks(st_qs.LabelCardinalityInconsistency(), proba, y_labeled, n).tolist()
        aal = _smalltext_picks(st_qs.AdaptiveActiveLearning(), proba, y_labeled, n).tolist()
    else:  # small-text 1.4.1: the picks small-text 2.0.0.dev3 made on these matrices
        picks = recorded()
        assert picks["small_text"] == "2.0.0.dev3" and small_text.__version__ == "1.4.1"
        lci, aal = picks["lci"][f"{case}/{n}"], picks["aal"][f"{case}/{n}"]
    assert lci_select(proba, y_labeled, n).tolist() == lci
    assert aal_select(proba, y_labeled, n).tolist() == aal


def test_lci_hand_checked():
    y_labeled = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0]])  # mean cardinality 1.0; label 2 never on
    proba = np.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3], [0.9, 0.1, 0.1], [0.6, 0.6, 0.5]])  # 0.5 is not > 0.5
    np.testing.assert_allclose(lci_scores(proba, y_labeled), [2.0, 1.0, 0.0, 1.0])
    assert lci_select(proba, y_labeled, 1).tolist() == [0]
    assert sorted(lci_select(proba, y_labeled, 3).tolist()) == [0, 1, 3]
    np.testing.assert_allclose(lci_scores(proba, y_labeled, prediction_threshold=0.05), [2.0, 2.0, 2.0, 2.0])


def test_aal_hand_checked():
    y_labeled = np.array([[1, 0]])  # mean cardinality 1
    proba = np.array([[0.9, 0.1], [0.6, 0.6], [0.2, 0.1]])
    # margin across labels 0.8, 0 (floored at eps=0.01), 0.1; LCI + 1 = 1, 2, 2; weight 0.5 -> sqrt of each
    expected = np.sqrt([1.25 * 1.0, 100.0 * 2.0, 10.0 * 2.0])
    np.testing.assert_allclose(aal_scores(proba, y_labeled), expected)
    assert sorted(aal_select(proba, y_labeled, 2).tolist()) == [1, 2]
    np.testing.assert_allclose(aal_scores(proba, y_labeled, uncertainty_weight=1.0), [1.25, 100.0, 10.0])
    np.testing.assert_allclose(aal_scores(proba, y_labeled, uncertainty_weight=0.0), [1.0, 2.0, 2.0])


# ---- per-label binary uncertainty ---------------------------------------------------------------

ROWS = np.array([[0.5, 0.0, 1.0], [0.25, 0.25, 0.25], [0.9, 0.9, 0.9]])
H25 = -(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75))  # 0.8112781...
H90 = -(0.9 * np.log2(0.9) + 0.1 * np.log2(0.1))


def test_binary_entropy_hand_checked():
    np.testing.assert_allclose(binary_entropy(ROWS), [[1.0, 0.0, 0.0], [H25] * 3, [H90] * 3])
    np.testing.assert_allclose(multilabel_entropy(ROWS), [1 / 3, H25, H90])
    np.testing.assert_allclose(multilabel_entropy(ROWS, aggregate="max"), [1.0, H25, H90])
    # mean prefers the uniformly unsure row 1; max saturates on row 0's single coin-flip label
    assert np.argmax(multilabel_entropy(ROWS)) == 1 and np.argmax(multilabel_entropy(ROWS, "max")) == 0


def test_mean_entropy_is_joint_entropy_over_labels():
    proba = np.random.default_rng(0).random((5, 3))
    vectors = np.array(np.meshgrid(*[[0, 1]] * 3, indexing="ij")).reshape(3, -1).T  # all 8 label vectors
    joint = np.prod(np.where(vectors[None], proba[:, None], 1 - proba[:, None]), axis=2)
    np.testing.assert_allclose(multilabel_entropy(proba), -(joint * np.log2(joint)).sum(axis=1) / 3)


def test_least_confidence_and_margin_hand_checked():
    np.testing.assert_allclose(multilabel_least_confidence(ROWS), [0.5, 1 - 0.75**3, 1 - 0.9**3])
    np.testing.assert_allclose(multilabel_margin(ROWS), [1 / 3, 0.5, 0.2])
    np.testing.assert_allclose(multilabel_margin(ROWS, aggregate="min"), [1.0, 0.5, 0.2])


def test_permuted_rows_tie_exactly_and_sampler_breaks_ties_with_rng():
    proba = np.array([[0.31, 0.77, 0.05, 0.5], [0.05, 0.5, 0.77, 0.31], [0.9, 0.9, 0.9, 0.9]])
    for scores in (multilabel_entropy(proba), multilabel_margin(proba), multilabel_least_confidence(proba)):
        assert scores[0] == scores[1] != scores[2]
    pool = MultiLabelPoolScores(candidates=np.array([10, 11, 12]), probs=proba)
    picks = {
        tuple(MultiLabelUncertaintySampler().select(pool, 1, np.random.default_rng(s)).tolist()) for s in range(20)
    }
    assert picks == {(0,), (1,)}
    sampler = MultiLabelUncertaintySampler("margin", "min")
    first = sampler.select(pool, 2, np.random.default_rng(5))
    np.testing.assert_array_equal(first, sampler.select(pool, 2, np.random.default_rng(5)))


def test_smalltext_sampler_classes_match_functions():
    proba, y_labeled = CASES[1]
    pool = MultiLabelPoolScores(candidates=np.arange(len(proba)), probs=proba, labeled_labels=y_labeled)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(CVIRSSampler().select(pool, 5, rng), cvirs_select(proba, y_labeled, 5))
    np.testing.assert_array_equal(LCISampler().select(pool, 5, rng), lci_select(proba, y_labeled, 5))
    np.testing.assert_array_equal(AALSampler(0.3).select(pool, 5, rng), aal_select(proba, y_labeled, 5, 0.3))
    with pytest.raises(ValueError, match="labeled_labels"):
        CVIRSSampler().select(MultiLabelPoolScores(candidates=np.arange(len(proba)), probs=proba), 5, rng)


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: multilabel_entropy(np.array([0.5, 0.5])), "matrix"),
        (lambda: multilabel_entropy(np.array([[0.5, 1.2]])), r"\[0, 1\]"),
        (lambda: multilabel_margin(np.array([[-0.1, 0.5]])), r"\[0, 1\]"),
        (lambda: multilabel_least_confidence(np.array([[np.nan, 0.5]])), "finite"),
        (lambda: multilabel_entropy(ROWS, aggregate="min"), "aggregate"),
        (lambda: multilabel_margin(ROWS, aggregate="max"), "aggregate"),
        (lambda: lci_select(ROWS, np.array([[1, 0]]), 1), "shape"),
        (lambda: lci_select(ROWS, np.array([[1, 0, 2]]), 1), "0 and 1"),
        (lambda: lci_select(ROWS, np.zeros((0, 3)), 1), "no rows"),
        (lambda: cvirs_select(ROWS, np.array([1, 0, 0]), 1), "shape"),
        (lambda: aal_select(ROWS[:, :1], np.array([[1]]), 1), "at least 2 labels"),
        (lambda: lci_select(ROWS, HAND_Y, -1), "n=-1"),
        (lambda: MultiLabelUncertaintySampler("bald"), "measure"),
        (lambda: MultiLabelUncertaintySampler("least_confidence", "mean"), "aggregate"),
    ],
)
def test_errors_are_one_sentence(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    message = str(info.value)
    assert message.endswith(".") and message.count(". ") == 0, message


def test_multilabel_bald_is_the_mean_of_each_labels_bernoulli_mutual_information():
    from hybridal.samplers.multilabel_samplers import MultiLabelBALDSampler, bernoulli_mutual_information

    # Candidate 0: the passes disagree confidently on label 0 (p = 0 or 1) and agree on label 1 (0.5):
    # label 0's MI = H(0.5) - mean(H(0), H(1)) = 1 bit, label 1's = 1 - 1 = 0, so the mean is 0.5.
    # Candidate 1: every pass says 0.5 for both labels (ambiguous, not disagreeing): MI 0.
    mc = np.array([[[0.0, 0.5], [0.5, 0.5]], [[1.0, 0.5], [0.5, 0.5]]])  # (T=2, N=2, L=2)
    np.testing.assert_allclose(bernoulli_mutual_information(mc), [0.5, 0.0])
    picks = MultiLabelBALDSampler(T=2).select(MultiLabelPoolScores(candidates=np.array([7, 8]), mc_probs=mc), 1, RNG())
    assert picks.tolist() == [0]


def RNG():
    return np.random.default_rng(0)
