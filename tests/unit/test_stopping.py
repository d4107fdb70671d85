"""Stopping criteria (docs/stopping.md): our stop rounds equal small-text's, baal's are derived by hand,
and the per-round signals equal scikit-learn's κ and scipy's entropy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from hybridal.errors import ConfigError
from hybridal.stopping import (
    CRITERIA,
    ClassificationChange,
    DeltaFScore,
    EarlyStopping,
    KappaAverage,
    LabellingBudget,
    LowAverageUncertainty,
    MaxIterations,
    OverallUncertainty,
    RoundSignals,
    StopHistory,
    build_criterion,
    changed_count,
    changed_fraction,
    cohen_kappa,
    criterion_names,
    delta_f_binary,
    history_from_predictions,
    mean_entropy,
    mean_normalised_entropy,
    prediction_kappa,
)
from tests.support.small_text_reference import reference_criterion, reference_stop_round, small_text_stopping

# ---- prediction sequences over a fixed stop set -------------------------------------------------


def stabilising(seed: int, n: int, k: int, rounds: int, flips: int) -> list[np.ndarray]:
    """Round 0 at random, then each round relabels `flips` rows, halving the number every round."""
    rng = np.random.default_rng(seed)
    sequence = [rng.integers(0, k, n)]
    for _ in range(1, rounds):
        p = sequence[-1].copy()
        rows = rng.choice(n, size=min(flips, n), replace=False)
        p[rows] = (p[rows] + rng.integers(1, k, rows.size)) % k
        sequence.append(p)
        flips //= 2
    return sequence


def oscillating(seed: int, n: int, k: int, rounds: int) -> list[np.ndarray]:
    """Two labelings in turn: consecutive rounds never agree fully."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, k, n), rng.integers(0, k, n)
    return [a if r % 2 == 0 else b for r in range(rounds)]


def sharpening(seed: int, n: int, k: int, rounds: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Probabilities from fixed logits at a rising inverse temperature (entropy falls), and their argmax."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k))
    proba = []
    for r in range(rounds):
        z = logits * (0.3 + 1.5 * r)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        proba.append(e / e.sum(axis=1, keepdims=True))
    return [p.argmax(axis=1) for p in proba], proba


ALL_ZERO = [np.zeros(12, dtype=int)] * 6  # one class everywhere: κ undefined in scikit-learn, ΔF undefined
ZEROS_THEN_ONES = [np.zeros(12, dtype=int)] * 2 + [np.ones(12, dtype=int)] * 4

BINARY = {
    "stabilising": [stabilising(s, 40, 2, 9, 16) for s in range(6)],
    "oscillating": [oscillating(s, 30, 2, 7) for s in range(3)],
    "window not full": [stabilising(7, 20, 2, 2, 0), stabilising(8, 20, 2, 3, 0), stabilising(9, 20, 2, 1, 4)],
    "one class everywhere": [ALL_ZERO, ZEROS_THEN_ONES, ALL_ZERO[:3] + stabilising(3, 12, 2, 4, 2)],
}
MULTICLASS = {  # labels 0..4 (stabilising over 4 or 5 classes, oscillating over 3), read as a 5-class task
    "stabilising": [stabilising(s, 40, 4, 9, 20) for s in range(6)],
    "oscillating": [oscillating(s, 30, 3, 7) for s in range(3)],
    "window not full": [stabilising(11, 20, 5, 3, 0)],
    "one class everywhere": [[np.full(10, 2)] * 5],
}

PARAMS = {
    "kappa_average": [
        {},
        {"window_size": 1},
        {"window_size": 2, "kappa": 0.9},
        {"window_size": 3, "kappa": 0.6},
        {"kappa": 1.0},
    ],
    "delta_f_score": [{}, {"window_size": 1, "threshold": 0.1}, {"window_size": 2, "threshold": 0.02}],
    "classification_change": [{}, {"threshold": 0.05}, {"threshold": 0.25}],
}


def both_stop_rounds(name, params, num_classes, predictions, proba=None):
    ours = build_criterion(name, **params).stop_round(history_from_predictions(num_classes, predictions, proba))
    theirs = reference_stop_round(reference_criterion(name, num_classes, **params), predictions, proba)
    return ours, theirs


@pytest.mark.parametrize("name", ["kappa_average", "classification_change", "delta_f_score"])
def test_agreement_criteria_stop_when_small_text_does(name):
    """Every sequence × parameter setting: our stop round equals small-text's `stop()` called round by round.
    Binary sequences for all three, multi-class ones for the two that support them."""
    tasks = [(2, BINARY)] + ([] if name == "delta_f_score" else [(5, MULTICLASS)])
    outcomes = set()
    for num_classes, families in tasks:
        for family, sequences in families.items():
            for predictions in sequences:
                for params in PARAMS[name]:
                    ours, theirs = both_stop_rounds(name, params, num_classes, predictions)
                    assert ours == theirs, (family, params, ours, theirs)
                    outcomes.add(ours is None)
    assert outcomes == {True, False}, "the sequences must include runs that stop and runs that do not"


def test_overall_uncertainty_stops_when_small_text_does():
    """Sharpening probabilities, binary and multi-class, several thresholds: the same first round as small-text."""
    outcomes = set()
    for k in (2, 3, 5):
        for seed in range(4):
            predictions, proba = sharpening(seed, 25, k, 8)
            for threshold in (0.05, 0.1, 0.2, 0.5, 0.99):
                ours, theirs = both_stop_rounds("overall_uncertainty", {"threshold": threshold}, k, predictions, proba)
                assert ours == theirs, (k, seed, threshold)
                outcomes.add(ours)
    assert None in outcomes and 0 in outcomes and len(outcomes) > 3


def test_max_iterations_stops_when_small_text_does():
    predictions = stabilising(0, 10, 2, 5, 2)
    for m in (1, 2, 5, 6):
        assert both_stop_rounds("max_iterations", {"max_iterations": m}, 2, predictions) == (
            (m - 1,) * 2 if m <= 5 else (None, None)
        )


def test_kappa_with_one_class_everywhere_reads_as_perfect_agreement_as_in_small_text():
    """scikit-learn's κ is nan when both rounds predict one class everywhere; small-text checks for identical
    predictions first and reads 1.0, so an all-one-class plateau stops KappaAverage once the window is full."""
    zeros = np.zeros(12, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sklearn.metrics import cohen_kappa_score

        assert math.isnan(cohen_kappa_score(zeros, zeros, labels=[0, 1]))
    assert math.isnan(cohen_kappa(zeros, zeros, 2))
    assert prediction_kappa(zeros, zeros, 2) == 1.0
    assert both_stop_rounds("kappa_average", {}, 2, ALL_ZERO) == (3, 3)
    assert cohen_kappa(zeros, np.ones(12, dtype=int), 2) == 0.0  # all 0 then all 1: defined, no agreement


def test_delta_f_is_undefined_without_positives_and_never_stable():
    """No row predicted 1 in two rounds: small-text's ΔF is 0/0 = nan, below no threshold; a window holding
    such a round cannot stop, even with threshold 1."""
    history = history_from_predictions(2, ALL_ZERO)
    assert all(math.isnan(s.delta_f) for s in history.rounds[1:])
    assert DeltaFScore(window_size=1, threshold=1.0).stop_round(history) is None
    assert both_stop_rounds("delta_f_score", {"window_size": 1, "threshold": 1.0}, 2, ALL_ZERO) == (None, None)


def test_delta_f_score_refuses_multiclass_like_small_text():
    history = history_from_predictions(3, [np.array([0, 1, 2])] * 4)
    with pytest.raises(ConfigError, match="binary tasks only.*kappa_average, classification_change or overall_unc"):
        DeltaFScore().stop_round(history)
    with pytest.raises(ValueError, match="only applicable for binary"):
        small_text_stopping().DeltaFScore(num_classes=3)
    assert history.rounds[1].delta_f is None


def test_classification_change_compares_counts_exactly_as_small_text():
    """10 rows, threshold 0.7, 7 changed: 3 unchanged < 10 × (1 − 0.7) = 3.0000000000000004, so small-text does
    not stop, though 7/10 ≤ 0.7. With 6 changed it stops."""
    before = np.zeros(10, dtype=int)
    seven, six = before.copy(), before.copy()
    seven[:7], six[:6] = 1, 1
    assert both_stop_rounds("classification_change", {"threshold": 0.7}, 2, [before, seven]) == (None, None)
    assert both_stop_rounds("classification_change", {"threshold": 0.7}, 2, [before, six]) == (1, 1)


def test_a_prefix_answers_what_the_full_history_would_have_answered_then():
    """The engine may ask after every round: the stop round over rounds 0..n-1 is the full answer if it is < n."""
    predictions, proba = sharpening(1, 30, 2, 8)
    history = history_from_predictions(
        2,
        predictions,
        proba,
        n_labeled=[10 * (r + 1) for r in range(8)],
        metric=[0.5, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8],
    )
    criteria = [KappaAverage(kappa=0.8), DeltaFScore(), ClassificationChange(threshold=0.1), OverallUncertainty(0.3)]
    criteria += [MaxIterations(4), LabellingBudget(35), LowAverageUncertainty(0.2), EarlyStopping(patience=2)]
    for criterion in criteria:
        full = criterion.stop_round(history)
        assert full is not None, criterion
        for n in range(len(history) + 1):
            assert criterion.stop_round(history.prefix(n)) == (full if full < n else None), (criterion, n)


# ---- baal's criteria and MaxIterations: expectations derived by hand from baal 2.1.0's code -----


def metric_history(values) -> StopHistory:
    return StopHistory(2, 1, tuple(RoundSignals(metric=v) for v in values))


def test_labelling_budget_counts_labels_bought_after_round_0():
    """Hand-derived from baal's LabellingBudgetStoppingCriterion (len(dataset) − initial length ≥ budget) and its
    own test: 10 initial labels, +10 (10 < 50), +40 (50 ≥ 50) stops."""
    history = StopHistory(2, 1, tuple(RoundSignals(n_labeled=n) for n in (10, 20, 60, 70)))
    assert LabellingBudget(50).stop_round(history) == 2
    assert LabellingBudget(51).stop_round(history) == 3
    assert LabellingBudget(61).stop_round(history) is None
    assert LabellingBudget(0).stop_round(history) == 0


def test_max_iterations_stops_after_that_many_models():
    """Hand-derived from small-text's MaxIterations: its m-th `stop()` call (round m − 1) says True."""
    history = metric_history([0.5] * 4)
    assert [MaxIterations(m).stop_round(history) for m in (1, 2, 4, 5)] == [0, 1, 3, None]


def test_low_average_uncertainty_is_a_strict_bound_on_mean_entropy_in_nats():
    """Hand-derived from baal's LowAverageUncertaintyStoppingCriterion (mean(uncertainty) < threshold), read on
    the stop set's entropy: rows (½, ½) and (1, 0) average ln 2 / 2 ≈ 0.347 nats; it can stop at round 0."""
    uncertain, half, sure = np.full((2, 2), 0.5), np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([[1.0, 0.0]] * 2)
    history = history_from_predictions(2, [np.array([0, 0])] * 3, proba=[uncertain, half, sure])
    assert LowAverageUncertainty(0.35).stop_round(history) == 1
    assert LowAverageUncertainty(math.log(2) / 2).stop_round(history) == 2  # not strictly below at round 1
    assert LowAverageUncertainty(0.7).stop_round(history) == 0


def test_early_stopping_mirrors_baal_including_its_first_window():
    """Hand-derived from baal 2.1.0's EarlyStoppingCriterion: with m values, stop when m ≥ patience and the last
    patience + 1 (all m when m = patience) are np.isclose(atol=epsilon) to the latest."""
    # baal's own test: 1/(i+1) for ten rounds, then 0.1; the fifth 0.1 after them (round 14) stops.
    assert EarlyStopping(patience=5).stop_round(metric_history([1 / (i + 1) for i in range(10)] + [0.1] * 5)) == 14
    assert EarlyStopping(patience=5).stop_round(metric_history([0.1] * 5)) == 4  # only 5 values: all 5 suffice
    # Later windows need patience + 1 values: [0.1, 0.9, 0.9] does not stop with patience 2, a third 0.9 does.
    assert EarlyStopping(patience=2).stop_round(metric_history([0.1, 0.9, 0.9, 0.9])) == 3
    assert EarlyStopping(patience=2, epsilon=1e-4).stop_round(metric_history([0.5, 0.50005])) == 1
    assert EarlyStopping(patience=2, epsilon=1e-4).stop_round(metric_history([0.5, 0.5002, 0.5004])) is None
    assert EarlyStopping(patience=2, epsilon=0.0).stop_round(metric_history([1000.0, 1000.005])) == 1  # rtol 1e-5
    assert EarlyStopping(patience=2).stop_round(metric_history([None, 0.3, 0.3])) == 2  # round 0 without a metric
    assert EarlyStopping(patience=2).stop_round(metric_history([0.3, float("nan"), 0.3, 0.3, 0.3])) == 4


# ---- the signals ------------------------------------------------------------------------------


def test_kappa_by_hand_and_equal_to_scikit_learn():
    """[0,0,1,1] vs [0,1,1,1]: p_o = 3/4, p_e = ½·¼ + ½·¾ = ½, κ = (¾ − ½)/(1 − ½) = ½; a 3-class one gives ½ too
    (p_o = 2/3, p_e = 1/3). Random pairs give scikit-learn's float bit for bit."""
    from sklearn.metrics import cohen_kappa_score

    assert cohen_kappa(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2) == pytest.approx(0.5, abs=1e-15)
    assert cohen_kappa(np.array([0, 1, 2, 2, 1, 0]), np.array([0, 1, 2, 1, 1, 2]), 3) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    for trial in range(200):
        k = int(rng.integers(2, 6))
        y1, y2 = rng.integers(0, k, 50), rng.integers(0, k, 50)
        y2[: trial % 50] = y1[: trial % 50]
        assert cohen_kappa(y1, y2, k) == cohen_kappa_score(y1, y2, labels=np.arange(k))


def test_change_delta_f_and_entropy_by_hand():
    before, now = np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])
    assert changed_count(now, before) == 2 and changed_fraction(now, before) == 0.5
    assert delta_f_binary(now, before) == 0.5  # a = 1, b = 1, c = 1: 1 − 2/(2 + 1 + 1)
    assert delta_f_binary(before, before) == 0.0
    proba = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert mean_normalised_entropy(proba) == pytest.approx(0.5)
    assert mean_entropy(proba) == pytest.approx(math.log(2) / 2)
    from scipy.stats import entropy

    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4), size=30)
    assert mean_normalised_entropy(p) == pytest.approx(np.mean(entropy(p, axis=1) / np.log(4)), rel=1e-12)


def test_signal_inputs_are_checked():
    with pytest.raises(ValueError, match="have 2 rows; allowed: the stop set.s 3 rows every round"):
        history_from_predictions(2, [np.array([0, 1, 0]), np.array([0, 1])])
    with pytest.raises(ValueError, match="allowed: 0..1"):
        history_from_predictions(2, [np.array([0, 2])])
    with pytest.raises(ValueError, match="integer labels"):
        history_from_predictions(2, [np.array([0.0, 1.0])])
    with pytest.raises(ValueError, match=r"allowed: shape \(2, 2\)"):
        history_from_predictions(2, [np.array([0, 1])], proba=[np.ones((2, 3))])
    with pytest.raises(ValueError, match="overall_uncertainty reads mean_normalised_entropy, which round 0"):
        OverallUncertainty().stop_round(history_from_predictions(2, [np.array([0, 1])]))
    with pytest.raises(ValueError, match="num_classes=1 is invalid"):
        StopHistory(1, 3)


# ---- parameters and the registry -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("kappa_average", {"window_size": 0}, r"kappa_average.window_size=0 is invalid; allowed: an integer >= 1\."),
        ("kappa_average", {"window_size": True}, "window_size=True is invalid"),
        ("kappa_average", {"kappa": 1.5}, r"kappa_average.kappa=1.5 is invalid; allowed: a number in \[-1, 1\]\."),
        ("delta_f_score", {"threshold": 0}, r"delta_f_score.threshold=0 is invalid; allowed: a number in \(0, 1\]\."),
        ("classification_change", {"threshold": -0.1}, r"allowed: a number in \[0, 1\]\."),
        ("overall_uncertainty", {"threshold": 1.0}, r"overall_uncertainty.threshold=1.0 .* in \[0, 1\)\."),
        ("max_iterations", {"max_iterations": 0}, "max_iterations.max_iterations=0 is invalid"),
        ("labelling_budget", {"labelling_budget": -1}, r"allowed: an integer >= 0\."),
        ("low_average_uncertainty", {"avg_uncertainty_thresh": 0}, r"allowed: a number in \(0, inf\)\."),
        ("early_stopping", {"patience": 0}, "early_stopping.patience=0 is invalid"),
        ("early_stopping", {"epsilon": float("nan")}, "early_stopping.epsilon=nan is invalid"),
    ],
)
def test_bad_parameters_are_refused_in_one_sentence(name, params, message):
    with pytest.raises(ConfigError, match=message):
        build_criterion(name, **params)


def test_the_registry_builds_every_criterion_by_its_snake_case_name():
    assert criterion_names() == sorted(CRITERIA) and len(CRITERIA) == 8
    assert build_criterion("kappa_average", window_size=3, kappa=0.99) == KappaAverage()
    assert build_criterion("delta_f_score") == DeltaFScore(window_size=3, threshold=0.05)
    assert build_criterion("classification_change") == ClassificationChange(threshold=0.0)
    assert build_criterion("overall_uncertainty") == OverallUncertainty(threshold=0.05)
    assert build_criterion("early_stopping") == EarlyStopping(patience=10, epsilon=1e-4)
    assert build_criterion("max_iterations", max_iterations=3) == MaxIterations(3)
    assert build_criterion("labelling_budget", labelling_budget=100) == LabellingBudget(100)
    assert build_criterion("low_average_uncertainty", avg_uncertainty_thresh=0.1) == LowAverageUncertainty(0.1)
    for name, cls in CRITERIA.items():
        assert cls.name == name and name == name.lower()
    with pytest.raises(
        ConfigError, match=r"'kapa_average' is not known \(did you mean \"kappa_average\"\?\); allowed: c"
    ):
        build_criterion("kapa_average")
    with pytest.raises(ConfigError, match="unknown parameter 'window'.*allowed: window_size, kappa"):
        build_criterion("kappa_average", window=3)
    with pytest.raises(ConfigError, match="'labelling_budget' needs the parameter 'labelling_budget'"):
        build_criterion("labelling_budget")
