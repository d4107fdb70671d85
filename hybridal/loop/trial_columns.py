"""The canonical, flat description of a run: what sweeps, TensorBoard's HParams tab and
analysis group and label by. The engine writes it into summary.json ("trial"), and every
reader takes it from there rather than rebuilding it."""

from __future__ import annotations

from hybridal.config import ExperimentConfig
from hybridal.data.task import is_multi_label, monitor_metric
from hybridal.records import KNOB_COLUMNS, TRIAL_COLUMNS
from hybridal.samplers import build_sampler
from hybridal.strategies import DeltaF1Strategy, strategy_for


def trial_columns(cfg: ExperimentConfig) -> dict:
    """The canonical columns of `cfg`, in the order readers show them."""
    strategy = strategy_for(cfg)
    hybrid = strategy if isinstance(strategy, DeltaF1Strategy) else None  # the ΔF1 rule's knobs, else None
    columns = {
        "dataset": cfg.data,
        "strategy": strategy.name,
        "after": hybrid.after if hybrid is not None else None,
        "epsilon": hybrid.epsilon if hybrid is not None else None,
        "k": hybrid.k if hybrid is not None else None,
        "c": cfg.monitor_fraction if cfg.monitor == "acquired" else None,
        "guard": hybrid.guard if hybrid is not None else None,
        "monitor": cfg.monitor,
        "seed": cfg.seed,
        "model": cfg.model_name_or_path,
        "sampler": build_sampler(cfg.sampler_class, multi_label=is_multi_label(cfg), **cfg.sampler_kwargs).name,
        "epochs": cfg.epochs,
        "finetune_epochs": cfg.steady_finetune_epochs,
        "replay": cfg.replay,
    }
    assert tuple(columns) == TRIAL_COLUMNS, "trial_columns and records.TRIAL_COLUMNS must list the same columns"
    return columns


def knob_columns(cfg: ExperimentConfig) -> dict:
    """The knobs added after the canonical columns, where the run reads them: a label-free switch's
    `trigger` and `threshold`, a shrink_perturb round's `shrink` (λ) and `perturb` (σ), a multi-label
    run's `task` and `monitor_metric`. Sweeps show
    them beside the canonical columns (the dry run, Tune's params, HParams); summary.json's "trial"
    stays the canonical columns, so older records and their reports read as before."""
    strategy = strategy_for(cfg)
    knobs: dict = {}
    if isinstance(strategy, DeltaF1Strategy) and strategy.trigger != "monitor_f1":
        knobs |= {"trigger": strategy.trigger, "threshold": strategy.threshold}
    after = strategy.after if isinstance(strategy, DeltaF1Strategy) else strategy.steady_mode
    if after == "shrink_perturb":
        knobs |= {"shrink": cfg.shrink, "perturb": cfg.perturb}
    if is_multi_label(cfg):  # so a multi-label Jigsaw run never reads as the binary one (docs/multilabel.md)
        knobs |= {"task": "multi_label", "monitor_metric": monitor_metric(cfg)}
    assert set(knobs) <= set(KNOB_COLUMNS), "knob_columns and records.KNOB_COLUMNS must agree"
    return knobs
