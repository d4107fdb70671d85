"""Samplers on hand-made score arrays: expected picks, seeded tie-breaking, distinctness, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hybridal.samplers import (
    SAMPLERS,
    BADGESampler,
    BALDSampler,
    CoresetSampler,
    LeastConfidenceSampler,
    PoolScores,
    Sampler,
    build_sampler,
    sampler_names,
)
from hybridal.samplers.badge import gradient_factors
from hybridal.samplers.bald import mutual_information

# Rows: 0 confident, 1 uniform (max entropy, min confidence, zero margin), 2 two-way tie,
# 3 fairly confident, 4 mildly uncertain over three classes.
PROBS = np.array(
    [
        [0.98, 0.01, 0.01],
        [1 / 3, 1 / 3, 1 / 3],
        [0.5, 0.5, 0.0],
        [0.8, 0.1, 0.1],
        [0.6, 0.3, 0.1],
    ]
)


def _scores(probs: np.ndarray = PROBS, **extra) -> PoolScores:
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    return PoolScores(candidates=np.arange(100, 100 + len(probs)), probs=probs, log_probs=log_probs, **extra)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    "name, expected",
    [
        # entropy: uniform (log 3) > [0.6,0.3,0.1] (0.898) > [0.5,0.5,0] (log 2 = 0.693)
        ("entropy", [1, 4, 2, 3, 0]),
        # max prob: 1/3 < 0.5 < 0.6 < 0.8 < 0.98
        ("least_confidence", [1, 2, 4, 3, 0]),
        # top-2 gap: 0 (rows 1, 2 tie) < 0.3 < 0.7 < 0.97
        ("margin", None),
    ],
)
def test_uncertainty_samplers_rank_hand_made_probabilities(name, expected):
    picks = build_sampler(name).select(_scores(), 5, _rng())
    if expected is None:
        assert set(picks[:2]) == {1, 2}
        assert list(picks[2:]) == [4, 3, 0]
    else:
        assert list(picks) == expected


def test_entropy_ignores_zero_probability_classes_without_nan():
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    picks = build_sampler("entropy").select(_scores(probs), 1, _rng())
    assert list(picks) == [1]


def test_selection_returns_positions_not_pool_indices():
    picks = build_sampler("least_confidence").select(_scores(), 1, _rng())
    assert list(picks) == [1]  # position 1, i.e. pool index 101


def _tied_scores(n: int = 40) -> PoolScores:
    # Every row is the same distribution (up to permutation): all scores tie exactly.
    base = np.array([0.7, 0.2, 0.1])
    probs = np.stack([np.roll(base, i) for i in range(n)])
    return _scores(probs)


@pytest.mark.parametrize("name", ["random", "entropy", "least_confidence", "margin"])
def test_ties_are_broken_by_the_seeded_generator(name):
    sampler = build_sampler(name)
    scores = _tied_scores()
    first = sampler.select(scores, 5, _rng(7))
    again = sampler.select(scores, 5, _rng(7))
    assert list(first) == list(again)
    others = {tuple(sampler.select(scores, 5, _rng(seed))) for seed in range(10)}
    assert len(others) > 1


def test_k_center_picks_the_farthest_point_first_and_never_a_labeled_point():
    labeled = np.array([[0.0, 0.0], [10.0, 0.0]])
    emb = np.array(
        [
            [0.0, 0.0],  # 0: duplicate of a labeled point -> distance 0, picked last
            [5.0, 0.0],  # 1: 5 from both centers
            [0.0, 9.0],  # 2: farthest (9)
            [10.0, 1.0],  # 3: 1 from a center
            [1.0, 1.0],  # 4: sqrt 2 from a center
        ]
    )
    scores = PoolScores(candidates=np.arange(5), embeddings=emb, labeled_embeddings=labeled)
    picks = CoresetSampler(chunk_size=2).select(scores, 5, _rng())
    assert picks[0] == 2
    assert picks[-1] == 0
    assert sorted(picks) == list(range(5))
    # After picking 2, point 1 is still 5 away; the greedy order is fully determined.
    assert list(picks) == [2, 1, 4, 3, 0]


def test_k_center_chunking_does_not_change_the_picks():
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(300, 8)).astype(np.float32)
    labeled = rng.normal(size=(50, 8)).astype(np.float32)
    scores = PoolScores(candidates=np.arange(300), embeddings=emb, labeled_embeddings=labeled)
    big = CoresetSampler(chunk_size=4096).select(scores, 20, _rng())
    small = CoresetSampler(chunk_size=7).select(scores, 20, _rng())
    assert list(big) == list(small)


def test_k_center_without_labeled_points_starts_from_a_seeded_random_pick():
    emb = np.random.default_rng(0).normal(size=(30, 4))
    scores = PoolScores(candidates=np.arange(30), embeddings=emb, labeled_embeddings=np.empty((0, 4)))
    a = CoresetSampler().select(scores, 10, _rng(1))
    b = CoresetSampler().select(scores, 10, _rng(1))
    assert list(a) == list(b) and len(set(a)) == 10
    firsts = {int(CoresetSampler().select(scores, 1, _rng(s))[0]) for s in range(20)}
    assert len(firsts) > 1


def test_k_center_with_all_candidates_on_labeled_points_still_returns_distinct_points():
    emb = np.ones((6, 3))
    scores = PoolScores(candidates=np.arange(6), embeddings=emb, labeled_embeddings=np.ones((2, 3)))
    picks = CoresetSampler().select(scores, 4, _rng())
    assert len(set(picks)) == 4


def _badge_scores(n: int = 60, seed: int = 0) -> PoolScores:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return PoolScores(candidates=np.arange(n), probs=probs, embeddings=rng.normal(size=(n, 16)).astype(np.float32))


def test_kmeans_pp_is_reproducible_and_picks_distinct_points():
    scores = _badge_scores()
    a = BADGESampler().select(scores, 15, _rng(5))
    b = BADGESampler().select(scores, 15, _rng(5))
    assert list(a) == list(b)
    assert len(set(a)) == 15
    runs = {tuple(BADGESampler().select(scores, 15, _rng(s))) for s in range(5)}
    assert len(runs) > 1


def test_badge_first_pick_is_the_largest_gradient_norm():
    scores = _badge_scores()
    a = gradient_factors(scores.probs)
    norms = (a**2).sum(1) * (scores.embeddings.astype(np.float64) ** 2).sum(1)
    assert BADGESampler().select(scores, 1, _rng())[0] == int(np.argmax(norms))


def test_badge_distances_match_explicit_gradient_embeddings():
    # The factored distance must equal the distance between materialized a ⊗ h vectors: with a
    # single far-away candidate left, D² sampling has to choose it.
    probs = np.array([[0.4, 0.6], [0.4, 0.6], [0.9, 0.1]])
    h = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    scores = PoolScores(candidates=np.arange(3), probs=probs, embeddings=h)
    picks = BADGESampler().select(scores, 2, _rng())
    assert list(picks) == [0, 2] or list(picks) == [1, 2]


def test_badge_with_all_zero_gradients_still_returns_distinct_points():
    # One-hot predictions: p - onehot(argmax p) = 0, so every gradient embedding is 0.
    probs = np.tile([1.0, 0.0, 0.0], (10, 1))
    scores = PoolScores(candidates=np.arange(10), probs=probs, embeddings=np.ones((10, 5)))
    picks = BADGESampler().select(scores, 7, _rng())
    assert len(picks) == 7 and len(set(picks)) == 7


def test_bald_is_zero_when_all_passes_agree():
    # A model without dropout gives T identical passes: no disagreement, no information.
    mc = np.repeat(PROBS[None], 5, axis=0)
    assert np.all(mutual_information(mc) == 0.0)


def test_bald_matches_a_hand_computed_value():
    # One candidate, two passes: p1 = [0.9, 0.1], p2 = [0.1, 0.9] -> mean [0.5, 0.5].
    # MI = log 2 - (0.9 log(1/0.9) + 0.1 log(1/0.1)).
    mc = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    h_each = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    assert mutual_information(mc)[0] == pytest.approx(np.log(2) - h_each, abs=1e-12)
    # Second candidate: both passes say [0.5, 0.5] (ambiguous, not disagreeing) -> MI 0.
    mc2 = np.concatenate([mc, np.full((2, 1, 2), 0.5)], axis=1)
    picks = BALDSampler(T=2).select(PoolScores(candidates=np.arange(2), mc_probs=mc2), 1, _rng())
    assert list(picks) == [0]


@pytest.mark.parametrize("T", [0, -1, 2.5, True])
def test_bald_rejects_bad_T(T):
    with pytest.raises(ValueError, match="T="):
        BALDSampler(T=T)


def test_bald_declares_its_passes():
    sampler = build_sampler("bald", T=7)
    assert sampler.mc_passes == 7 and "mc_probs" in sampler.requires


def _full_scores(n: int, seed: int = 0) -> PoolScores:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=n)
    return PoolScores(
        candidates=np.arange(n),
        probs=probs,
        log_probs=np.log(probs),
        embeddings=rng.normal(size=(n, 6)).astype(np.float32),
        labeled_embeddings=rng.normal(size=(4, 6)).astype(np.float32),
        mc_probs=rng.dirichlet(np.ones(3), size=(3, n)),
    )


@pytest.mark.parametrize("name", sampler_names())
@pytest.mark.parametrize("n", [0, 1, 9, 25])
def test_every_sampler_returns_min_n_pool_distinct_positions(name, n):
    scores = _full_scores(25)
    picks = build_sampler(name).select(scores, n, _rng())
    assert len(picks) == n and len(set(picks.tolist())) == n
    assert np.all((picks >= 0) & (picks < 25))


@pytest.mark.parametrize("name", sampler_names())
def test_every_sampler_returns_the_whole_pool_when_n_exceeds_it(name):
    picks = build_sampler(name).select(_full_scores(8), 50, _rng())
    assert sorted(picks.tolist()) == list(range(8))


@pytest.mark.parametrize("name", sampler_names())
def test_every_sampler_declares_requires_that_suffice(name):
    sampler = build_sampler(name)
    full = _full_scores(10)
    only = PoolScores(candidates=full.candidates, **{f: getattr(full, f) for f in sampler.requires})
    assert len(sampler.select(only, 3, _rng())) == 3


def test_missing_required_field_is_a_clear_error():
    with pytest.raises(ValueError, match="needs PoolScores.log_probs"):
        build_sampler("entropy").select(PoolScores(candidates=np.arange(3)), 1, _rng())


def test_registry_accepts_names_class_names_and_the_uncertainty_alias():
    for name in sampler_names():
        cls = SAMPLERS[name]
        assert SAMPLERS[cls.__name__] is cls and cls.name == name
        assert isinstance(build_sampler(name), Sampler)
    assert isinstance(build_sampler("UncertaintySampler"), LeastConfidenceSampler)
    assert sampler_names() == sorted(["random", "entropy", "least_confidence", "margin", "bald", "coreset", "badge"])


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_accepts_and_ignores_seed(name):
    assert isinstance(build_sampler(name, seed=42), Sampler)


def test_unknown_sampler_name_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match="did you mean") as info:
        build_sampler("entropi")
    message = str(info.value)
    assert "'entropi'" in message and "entropy" in message
    assert ", ".join(sampler_names()) in message


def test_unknown_sampler_kwarg_names_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match="'t'") as info:
        build_sampler("bald", t=5)
    assert "T" in str(info.value) and "bald" in str(info.value)
    with pytest.raises(ValueError, match="'chunk'"):
        build_sampler("coreset", chunk=5)
    with pytest.raises(ValueError, match="'T'"):
        build_sampler("entropy", T=5)


def test_negative_n_is_rejected():
    with pytest.raises(ValueError, match="n=-1"):
        build_sampler("random").select(_full_scores(3), -1, _rng())
