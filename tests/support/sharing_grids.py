"""A small grid of sweep trials and a trunk F1 series, shared by the prefix-sharing tests."""

from __future__ import annotations

from types import SimpleNamespace

from hybridal import ExperimentConfig


def trial(name: str, strategy: str = "retrain", seed: int = 1, **kwargs):
    strategy_kwargs = {}
    if strategy == "deltaf1":
        strategy_kwargs = {"epsilon": kwargs.pop("eps"), "k": kwargs.pop("k"), "after": kwargs.pop("after", "finetune")}
    cfg = ExperimentConfig(
        seed=seed,
        strategy_class=strategy,
        strategy_kwargs=strategy_kwargs,
        total_rounds=6,
        experiment_name=name,
        finetune_epochs=1,
        **kwargs,
    )
    return SimpleNamespace(name=name, config=cfg)


def grid(seed: int = 1):
    return [
        trial("retrain", seed=seed),
        trial("finetune", "finetune", seed=seed),
        trial("new_only", "new_only", seed=seed),
        trial("d-e0.05-k1", "deltaf1", eps=0.05, k=1, seed=seed),
        trial("d-e0.05-k2", "deltaf1", eps=0.05, k=2, seed=seed),
        trial("d-e0.02-k1", "deltaf1", eps=0.02, k=1, seed=seed),
        trial("d-e0.001-k1", "deltaf1", eps=0.001, k=1, seed=seed),
        trial("d-e0.05-k1-new", "deltaf1", eps=0.05, k=1, after="new_only", seed=seed),
    ]


# Δ: -, 0.10, 0.03, 0.01, 0.004, 0.002  ->  ε 0.05 k1 switches at 3; ε 0.05 k2 at 4; ε 0.02 k1 at 4; ε 0.001 never.
F1S = [0.50, 0.60, 0.63, 0.64, 0.644, 0.646]
