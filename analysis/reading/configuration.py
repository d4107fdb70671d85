"""What a configuration is: a trial's canonical columns but the seed, plus its other engine settings.

The settings are the run's whole engine config (summary.json ``config``) less the keys in
``NOT_CONFIGURATION`` and those the canonical columns already hold. Two trials are seeds of one
configuration when ``config_key`` gives both the same string.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Optional

import pandas as pd

from hybridal.records import RECORD_FIELDS, TRIAL_COLUMNS

GROUP_COLUMNS: tuple[str, ...] = tuple(c for c in TRIAL_COLUMNS if c != "seed")
SETTINGS = "settings"  # column: JSON of a trial's settings; missing where no run config was found

# Engine config keys (dotted for nested ones) that are not part of a configuration:
# - seed, sampler_kwargs.seed: the replicate (the sampler's seed reseeds its generator);
# - experiment_name, save_dir: the run's name and output folder;
# - device, num_threads: where the run executes; Ray rewrites device "auto" to "cpu" for a trial
#   that got no GPU, so seeds of one configuration record different values (the device used
#   is in summary.json's environment);
# - tensorboard: whether event files are written.
# Everything else stays, including eval_batch_size and test_every: they change measured
# numbers (padded inference FLOPs, the rounds AULC is computed over).
NOT_CONFIGURATION = (
    "seed",
    "sampler_kwargs.seed",
    "experiment_name",
    "save_dir",
    "device",
    "num_threads",
    "tensorboard",
)
# Engine keys the canonical columns already hold, under canonical names and values
# (strategy_kwargs is deltaf1's after/epsilon/k; monitor_fraction is c where it is used).
IN_TRIAL_COLUMNS = (
    "data",
    "model_name_or_path",
    "strategy_class",
    "strategy_kwargs",
    "sampler_class",
    "epochs",
    "finetune_epochs",
    "replay",
    "monitor",
    "monitor_fraction",
)

# strategy_kwargs keys the canonical columns do not hold: the ΔF1 rule's trigger (monitor_f1 | kappa | change)
# and its threshold, written only by runs that set them, so they stay in those runs' settings (a kappa-triggered
# rule is another configuration than the monitor-F1 one) and every older run's settings are unchanged.
KWARGS_OUTSIDE_TRIAL_COLUMNS = ("strategy_kwargs.trigger", "strategy_kwargs.threshold")

# Engine keys added after records were first committed, with the default that reproduces the older
# engine: a run at that default is the same configuration as an older run that never wrote the key.
# The ΔF1 rule's trigger at its default (the monitor's F1 against ε) is the rule every older run used.
# Jigsaw's binary `toxic` task was its only task before multi-label runs: a run that pins it (the study and
# paper presets now do) is the same configuration as an older one that never wrote it. A multi-label Jigsaw
# run is told apart by its dataset (analysis.reading.trial_as_read.MULTI_LABEL_SUFFIX), not its settings.
LATER_KEYS_AT_OLD_BEHAVIOUR = {
    "deterministic": False,
    "strategy_kwargs.trigger": "monitor_f1",
    "data_kwargs.jigsaw_label": "toxic",
    "multi_label": False,  # written out: the single-label task every older run was
}
# Engine keys only a multi-label run reads (docs/multilabel.md): left out of every other run's settings.
MULTI_LABEL_KEYS = ("decision_threshold", "monitor_metric")
# Engine keys added later that only shrink_perturb rounds read (the shrink_perturb strategy, or
# deltaf1 with after: shrink_perturb): left out of every other run's settings, so a run that does
# not train shrink_perturb is the same configuration as an older run that never wrote them.
SHRINK_PERTURB_KEYS = ("shrink", "perturb")
SHRINK_PERTURB_NAMES = ("shrink_perturb", "ShrinkPerturbStrategy")
_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _plain_setting(v: Any) -> Any:
    """One spelling per value, so that equal settings compare equal across files."""
    if isinstance(v, str) and _SCIENTIFIC.fullmatch(v.strip()):
        v = float(v)  # YAML 1.1 (PyYAML) reads 5e-5 as a string, JSON as a number
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (list, tuple)):
        return [_plain_setting(x) for x in v]
    if isinstance(v, dict):  # e.g. a mapping in the `stopping` list: keys in order, values in one spelling
        return {str(k): _plain_setting(v[k]) for k in sorted(v, key=str)}
    return v


def setting_text(v: Any) -> str:
    """A setting value as text for tables and labels: canonical JSON for lists and mappings (so that equal
    values are written alike, whatever order their file had), the value itself otherwise."""
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return f"{v:g}" if isinstance(v, float) else str(v)


def dotted(d: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dict -> {"optimizer_kwargs.lr": ...}, the keys `hybridal run --set` takes."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= dotted(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _outside_configuration(key: str) -> bool:
    if key in KWARGS_OUTSIDE_TRIAL_COLUMNS:
        return False
    return any(key == p or key.startswith(p + ".") for p in (*NOT_CONFIGURATION, *IN_TRIAL_COLUMNS))


def engine_settings(engine: Optional[dict]) -> Optional[dict[str, Any]]:
    """A run's engine settings beyond the canonical columns (None: no engine config).

    Unset (null or NaN, e.g. the threshold of the monitor-F1 trigger, which reads none) settings are
    left out, so a setting an older engine did not write and one written as null compare equal.
    """
    if not isinstance(engine, dict) or not engine:
        return None
    flat = dotted(engine)
    unread = (() if _trains_shrink_perturb(engine) else SHRINK_PERTURB_KEYS) + (
        () if _multi_label(engine) else MULTI_LABEL_KEYS
    )
    return {
        k: _plain_setting(v)
        for k, v in sorted(flat.items())
        if not _unset(v) and not _outside_configuration(k) and not _at_old_behaviour(k, v) and k not in unread
    }


def _unset(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _trains_shrink_perturb(engine: dict) -> bool:
    kwargs = engine.get("strategy_kwargs")
    after = kwargs.get("after") if isinstance(kwargs, dict) else None
    return engine.get("strategy_class") in SHRINK_PERTURB_NAMES or after in SHRINK_PERTURB_NAMES


def _multi_label(engine: dict) -> bool:
    """Whether an engine config ran multi-label: the rule of hybridal.data.task.is_multi_label, which
    the analysis does not import; a config without `decision_threshold` predates multi-label runs."""
    if "decision_threshold" not in engine:
        return False
    if engine.get("multi_label") is not None:
        return bool(engine["multi_label"])
    if engine.get("label_columns") is not None:
        return True
    kwargs = engine.get("data_kwargs") if isinstance(engine.get("data_kwargs"), dict) else {}
    return engine.get("data") in ("jigsaw", "jigsaw_toxic") and kwargs.get("jigsaw_label", "all") == "all"


def _at_old_behaviour(key: str, value: Any) -> bool:
    return key in LATER_KEYS_AT_OLD_BEHAVIOUR and value == LATER_KEYS_AT_OLD_BEHAVIOUR[key]


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def parse_settings(v: Any) -> Optional[dict[str, Any]]:
    """A ``settings`` cell as a dict; None where the trial had no run config."""
    if isinstance(v, dict):
        return v
    return json.loads(v) if isinstance(v, str) else None


def config_key(row: pd.Series | dict) -> str:
    """A stable string naming a configuration: the canonical columns but the seed, and the settings."""
    key = {c: _plain(row[c]) for c in GROUP_COLUMNS}
    key[SETTINGS] = parse_settings(row.get(SETTINGS))
    return json.dumps(key, sort_keys=True, default=str)


def varying_settings(df: pd.DataFrame) -> list[str]:
    """Setting keys whose value differs between the rows of `df` that have settings (absent = unset)."""
    if SETTINGS not in df.columns:
        return []
    known = [d for d in map(parse_settings, df[SETTINGS]) if d is not None]
    keys = sorted(set().union(*known)) if known else []
    return [k for k in keys if len({json.dumps(d.get(k), sort_keys=True) for d in known}) > 1]


def setting_column(key: str) -> str:
    """The readable column of a setting: its dotted key, prefixed where it would clash."""
    clash = key in TRIAL_COLUMNS or key in RECORD_FIELDS or key in ("trial", "status", "source", "config", "config_id")
    return f"config.{key}" if clash else key


def setting_columns(df: pd.DataFrame) -> list[str]:
    """The readable columns of the settings that vary in `df` (see `varying_settings`)."""
    return [setting_column(k) for k in varying_settings(df)]


def with_setting_columns(df: pd.DataFrame, keys: list[str], after: str) -> pd.DataFrame:
    """`df` with one readable column per setting key, inserted after column `after`."""
    out = df.copy()
    settings = [parse_settings(v) or {} for v in out[SETTINGS]] if SETTINGS in out.columns else [{}] * len(out)
    at = list(out.columns).index(after) + 1
    for i, k in enumerate(keys):
        out.insert(at + i, setting_column(k), _typed([d.get(k) for d in settings], out.index))
    return out


def _typed(values: list, index: pd.Index) -> pd.Series:
    """A setting's column with one type (numbers, booleans or text), so CSV and Parquet keep it."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, index=index, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series(values, index=index, dtype="float64")
    text = [None if v is None else (v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for v in values]
    return pd.Series(text, index=index, dtype=object)
