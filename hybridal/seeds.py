"""Per-round seeds: every random draw of a run is a function of (seed, round, purpose), so a run
resumed from a checkpoint makes exactly the draws an uninterrupted run makes."""

from __future__ import annotations

import numpy as np

# Purposes (the numbers are part of the results: changing one changes every run).
INITIAL, QUERY, MONITOR, TORCH, SHUFFLE, REPLAY = range(6)
MC_DROPOUT = 6  # BALD's dropout passes at acquisition
SHRINK_PERTURB = 7  # the noise ξ of a shrink_perturb round (hybridal.model.shrink_perturb)


def derive_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def round_rng(*parts: int) -> np.random.Generator:
    """A numpy generator seeded from (seed, round, purpose)."""
    return np.random.default_rng(derive_seed(*parts))


STOP_SET = 8  # the stop set: unlabelled pool rows drawn once at round 0 (hybridal.loop.stop_set)
