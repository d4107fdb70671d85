"""What the stopping criteria read: one `RoundSignals` per round, in a `StopHistory`.

The signals are scalars (κ, a count of changed predictions, mean entropies, labels bought, a
metric), so a run's records can carry them and any criterion can be replayed from records without
the stop set's predictions. `round_signals` computes one round's signals from the stop set's
predictions; `history_from_predictions` does a whole run at once (the tests drive it that way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from . import signals


@dataclass(frozen=True)
class RoundSignals:
    """One round's signals: None means not recorded (the fields comparing two rounds are None at round 0).

    - `n_labeled`: labels bought so far (the initial set included); None if not recorded.
    - `kappa`: κ between this round's and the previous round's stop-set predictions, small-text's
      way (identical predictions give 1.0).
    - `n_changed`: stop-set rows whose predicted label changed since the previous round.
    - `delta_f`: small-text's binary ΔF since the previous round; None for multi-class tasks, nan
      when neither round predicts class 1 (ΔF is then undefined, and small-text records nan too).
    - `mean_normalised_entropy`, `mean_entropy`: the stop set's mean entropy over log K, and in nats;
      None without the stop set's probabilities.
    - `metric`: a monitored number such as validation macro-F1; None if not recorded this round.
    """

    n_labeled: Optional[int] = None
    kappa: Optional[float] = None
    n_changed: Optional[int] = None
    delta_f: Optional[float] = None
    mean_normalised_entropy: Optional[float] = None
    mean_entropy: Optional[float] = None
    metric: Optional[float] = None


@dataclass(frozen=True)
class StopHistory:
    """A run's signals so far over one fixed stop set of `n_rows` rows, for a task of `num_classes` classes.

    A criterion's `stop_round` over a prefix of the history (`prefix(n)`) answers what it would have
    answered after round n-1, so the engine can ask after every round.
    """

    num_classes: int
    n_rows: int
    rounds: tuple[RoundSignals, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 2:
            raise ValueError(f"num_classes={self.num_classes!r} is invalid; allowed: an integer >= 2.")
        if isinstance(self.n_rows, bool) or not isinstance(self.n_rows, int) or self.n_rows < 1:
            raise ValueError(f"n_rows={self.n_rows!r} is invalid; allowed: an integer >= 1 (the stop set's size).")
        object.__setattr__(self, "rounds", tuple(self.rounds))
        for r, s in enumerate(self.rounds):
            if s.n_changed is not None and not 0 <= s.n_changed <= self.n_rows:
                raise ValueError(f"round {r}'s n_changed={s.n_changed!r} is invalid; allowed: 0..{self.n_rows}.")

    def __len__(self) -> int:
        return len(self.rounds)

    def prefix(self, n: int) -> StopHistory:
        """The history after rounds 0..n-1 only."""
        return StopHistory(self.num_classes, self.n_rows, self.rounds[:n])

    def require(self, field: str, criterion: str, first_round: int = 0) -> list:
        """`field`'s values for rounds first_round, first_round+1, …; one-sentence error if any round lacks it."""
        values = [getattr(s, field) for s in self.rounds[first_round:]]
        missing = [r for r, v in enumerate(values, start=first_round) if v is None]
        if missing:
            raise ValueError(f"{criterion} reads {field}, which round {missing[0]} of the history does not have.")
        return values


def round_signals(
    num_classes: int,
    predictions: object,
    previous: Optional[object] = None,
    proba: Optional[object] = None,
    n_labeled: Optional[int] = None,
    metric: Optional[float] = None,
) -> RoundSignals:
    """One round's signals from its stop-set `predictions` and (after round 0) the `previous` round's."""
    before = None if previous is None else signals.check_predictions(previous, num_classes)
    current = signals.check_predictions(predictions, num_classes, None if before is None else before.shape[0])
    n_rows = current.shape[0]
    kappa = n_changed = delta_f = None
    if before is not None:
        kappa = signals.prediction_kappa(current, before, num_classes)
        n_changed = signals.changed_count(current, before)
        delta_f = signals.delta_f_binary(current, before) if num_classes == 2 else None
    normalised = nats = None
    if proba is not None:
        p = signals.check_proba(proba, n_rows, num_classes)
        normalised, nats = signals.mean_normalised_entropy(p), signals.mean_entropy(p)
    return RoundSignals(
        n_labeled=n_labeled,
        kappa=kappa,
        n_changed=n_changed,
        delta_f=delta_f,
        mean_normalised_entropy=normalised,
        mean_entropy=nats,
        metric=None if metric is None else float(metric),
    )


def history_from_predictions(
    num_classes: int,
    predictions: Sequence[object],
    proba: Optional[Sequence[Optional[object]]] = None,
    n_labeled: Optional[Sequence[Optional[int]]] = None,
    metric: Optional[Sequence[Optional[float]]] = None,
) -> StopHistory:
    """The whole history of a run whose round r predicted `predictions[r]` on the stop set (and, if
    given, `proba[r]`, `n_labeled[r]` labels bought, `metric[r]`)."""
    n = len(predictions)
    for name, column in (("proba", proba), ("n_labeled", n_labeled), ("metric", metric)):
        if column is not None and len(column) != n:
            raise ValueError(f"{name} has {len(column)} rounds; allowed: one per round of predictions ({n}).")
    if n == 0:
        raise ValueError("predictions has no rounds; allowed: at least one round's stop-set predictions.")
    rounds = tuple(
        round_signals(
            num_classes,
            predictions[r],
            previous=predictions[r - 1] if r > 0 else None,
            proba=proba[r] if proba is not None else None,
            n_labeled=n_labeled[r] if n_labeled is not None else None,
            metric=metric[r] if metric is not None else None,
        )
        for r in range(n)
    )
    return StopHistory(num_classes, int(np.asarray(predictions[0]).shape[0]), rounds)
