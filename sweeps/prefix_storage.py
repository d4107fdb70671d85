"""How much a shared-prefix sweep's `.prefixes` store holds at its peak (the dry run's line).

A trunk saves its state after round s-1 for every distinct round s at which a configuration of
its group forks: round 1 for the baselines, and one of the rounds a HybridAL rule can switch at
(from its earliest, k+1, to the last but one). The store is removed when the sweep ends cleanly,
so at its peak it holds every group's states at once. A state is the model's weights (fp32
safetensors) plus, when a finetune fork keeps its optimizer, AdamW's two moments per weight.
"""

from __future__ import annotations

from typing import Callable, Optional

from hybridal.config import ExperimentConfig
from hybridal.cost.estimate import earliest_switch_round
from sweeps.sharing import SharePlan

# Parameters of hub models a dry run cannot load offline (their hub configs: vocabulary included).
KNOWN_PARAMETERS = {
    "distilbert-base-uncased": 66_955_010,
    "bert-base-uncased": 109_483_778,
    "roberta-base": 124_647_170,
}
BYTES_PER_WEIGHT = 4  # fp32 weights, as checkpoints store them
ADAM_MOMENTS = 2  # exp_avg and exp_avg_sq per weight, when the optimizer is kept


def model_parameters(cfg: ExperimentConfig, num_labels: int = 2) -> Optional[int]:
    """The model's parameter count from its config, built on the meta device (no weights load);
    None where neither its config nor the table above is at hand."""
    if cfg.model_name_or_path in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[cfg.model_name_or_path]
    try:
        import torch
        from transformers import AutoModelForSequenceClassification

        from hybridal.model.pretrained import load_model_config

        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(
                load_model_config(cfg.model_name_or_path, num_labels)
            )
        return sum(p.numel() for p in model.parameters())
    except Exception:  # noqa: BLE001 - advisory: an unknown model leaves the line out
        return None


def states_saved(plan: SharePlan, rounds: Callable[[ExperimentConfig], int]) -> dict[str, int]:
    """Per trunk, the most states it can save: one for the baselines' fork at round 1, and one per
    round a HybridAL member can switch at (no more than there are members)."""
    out = {}
    for trunk, group in plan.groups.items():
        members = [plan.jobs[n].config for n in group.members]
        hybrids = [c for c in members if c.strategy_class in ("deltaf1", "DeltaF1Strategy")]
        baselines = any(c.strategy_class not in ("deltaf1", "DeltaF1Strategy", "retrain") for c in members)
        switchable = 0
        if hybrids:
            earliest = min(earliest_switch_round(c.strategy_kwargs.get("k", 2), c.monitor) for c in hybrids)
            switchable = min(len(hybrids), max(0, rounds(hybrids[0]) - earliest))
        out[trunk] = switchable + int(baselines)
    return out


def describe_peak_storage(plan: SharePlan, rounds: Callable[[ExperimentConfig], int]) -> Optional[str]:
    """One dry-run line: the `.prefixes` store's peak, or None when the model's size is unknown."""
    counts = states_saved(plan, rounds)
    total = 0
    for trunk, n in counts.items():
        cfg = plan.jobs[trunk].config
        params = model_parameters(cfg)
        if params is None:
            return None
        keeps = any(plan.jobs[m].config.keep_optimizer for m in plan.groups[trunk].members)
        total += n * params * BYTES_PER_WEIGHT * (1 + (ADAM_MOMENTS if keeps else 0))
    states = sum(counts.values())
    return (
        f"shared-prefix storage (.prefixes) at its peak: up to {states} saved states, {total / 1e9:.2f} GB "
        "(removed when the sweep ends cleanly; --keep-prefixes keeps it)"
    )
