"""KEY=VALUE overrides (`hybridal run --set`, and the sweeps' `--set`): a dotted key names a nested
key (`strategy_kwargs.epsilon=0.02`) and the value is parsed as YAML. They apply to the plain mapping
read from a YAML file, before an ExperimentConfig is built from it (docs/configuration.md), so the
engine and the sweeps read overrides the same way."""

from __future__ import annotations

from typing import Any

import yaml

from hybridal.errors import ConfigError


def parse_override(text: str) -> tuple[list[str], Any]:
    """'a.b=value' → (['a', 'b'], YAML-parsed value)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} is invalid; allowed: KEY=VALUE, e.g. --set strategy_kwargs.epsilon=0.02.")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """A copy of `values` with each override applied in order (nested mappings copied, not changed)."""
    out = dict(values)
    for text in overrides:
        path, value = parse_override(text)
        target = out
        for part in path[:-1]:
            nested = target.get(part)
            target[part] = dict(nested) if isinstance(nested, dict) else {}
            target = target[part]
        target[path[-1]] = value
    return out
