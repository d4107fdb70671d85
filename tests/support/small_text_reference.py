"""small-text's stopping criteria driven round by round: the reference `hybridal.stopping` must match.

small-text is a test-only dependency pinned to the version `hybridal.stopping` mirrors. Without it
the parity tests fail with an install hint instead of skipping, so they cannot pass vacuously.
"""

from __future__ import annotations

import warnings
from typing import Optional, Sequence

import numpy as np
import pytest

SMALL_TEXT_REQUIREMENT = "small-text==1.4.1"

# hybridal.stopping's registry names → small-text's class names (same parameter names).
CLASS_NAMES = {
    "kappa_average": "KappaAverage",
    "delta_f_score": "DeltaFScore",
    "classification_change": "ClassificationChange",
    "overall_uncertainty": "OverallUncertainty",
    "max_iterations": "MaxIterations",
}


def small_text_stopping():
    """`small_text.stopping_criteria`, or a test failure saying how to install the pinned version."""
    try:
        import small_text
        import small_text.stopping_criteria as module
    except ImportError as error:
        missing = str(error)
    else:
        missing = ""
    if missing:  # failed outside the `except`, so the report shows this message, not a chained traceback
        pytest.fail(
            f"small-text is not installed ({missing}); the stopping-criteria parity tests need it: "
            f"pip install '{SMALL_TEXT_REQUIREMENT}' (a test-only dependency).",
            pytrace=False,
        )
    wanted = SMALL_TEXT_REQUIREMENT.split("==")[1]
    if small_text.__version__ != wanted:
        pytest.fail(
            f"small-text {small_text.__version__} is installed; hybridal.stopping mirrors {wanted}: "
            f"pip install '{SMALL_TEXT_REQUIREMENT}'.",
            pytrace=False,
        )
    return module


def reference_criterion(name: str, num_classes: int, **params):
    """small-text's criterion for our registry `name`, built with the same parameters."""
    cls = getattr(small_text_stopping(), CLASS_NAMES[name])
    return cls(**params) if name == "max_iterations" else cls(num_classes, **params)


def reference_stop_round(
    criterion, predictions: Sequence[np.ndarray], proba: Optional[Sequence[np.ndarray]] = None
) -> Optional[int]:
    """The first round r at which `criterion.stop(...)`, called once per round with round r's stop-set
    predictions (and probabilities, every row as `indices_stopping`), says True; None if it never does.

    small-text's DeltaFScore divides 0 by 0 when no row is positive in two rounds; the warning is muted."""
    for r, predicted in enumerate(predictions):
        kwargs: dict = {"predictions": np.asarray(predicted)}
        if proba is not None:
            kwargs["proba"] = np.asarray(proba[r])
            kwargs["indices_stopping"] = np.arange(len(predicted))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if criterion.stop(**kwargs):
                return r
    return None
