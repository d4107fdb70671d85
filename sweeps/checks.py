"""What the driver checks before Ray starts: every model and dataset, and that each trial's
splits fit its rounds; optionally warms the machine's token cache. Imports no Ray."""

from __future__ import annotations

import json
from typing import Any

from hybridal.data.splits import make_run_splits
from hybridal.data.tokenization import tokenize_cached
from hybridal.errors import ConfigError, DataError
from hybridal.loop.run_parts import check_pool_fits, load_dataset
from hybridal.model.pretrained import check_model, load_tokenizer
from sweeps.trials import Trial


def quiet_datasets() -> None:
    """One progress bar per split file ("Generating train split ...") and transformers' advisories
    are noise in a sweep's output: off in the driver and in every trial."""
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except (ImportError, AttributeError):
        pass
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except (ImportError, AttributeError):
        pass


def check_trial_data(trials: list[Trial], warm_cache: bool = False) -> None:
    """Check each distinct model name, load each distinct dataset once and check every trial's
    splits fit its rounds.

    Raises ConfigError/DataError (naming the trial) so a bad model or dataset stops the sweep
    before it starts. With `warm_cache`, also tokenizes each distinct (splits, tokenizer,
    max_length) into the machine's cache, so trials starting together read it instead of
    waiting on each other.
    """
    quiet_datasets()
    loaded: dict[str, Any] = {}
    checked: set[str] = set()
    tokenizers: dict[str, Any] = {}
    warmed: set[str] = set()
    models: set[str] = set()
    for t in trials:
        cfg = t.config
        with _naming(t):
            if cfg.model_name_or_path not in models:
                models.add(cfg.model_name_or_path)
                check_model(cfg.model_name_or_path)
            data_key = json.dumps(
                [
                    cfg.data,
                    cfg.text_column,
                    cfg.label_column,
                    cfg.data_kwargs,
                    cfg.num_labels,
                    cfg.label_columns,
                    cfg.multi_label,
                ],
                default=str,
            )
            load_key = data_key + (f"|{cfg.seed}" if warm_cache else "")  # splits depend on the seed: warm per seed
            if load_key not in loaded:
                loaded[load_key] = load_dataset(cfg)
            split_key = json.dumps(
                [
                    load_key,
                    cfg.seed if warm_cache else None,
                    cfg.val_size,
                    cfg.max_train_size,
                    cfg.max_test_size,
                    cfg.initial_pool_size,
                    cfg.acquisition_batch_size,
                    cfg.total_rounds,
                ],
                default=str,
            )
            if split_key in checked:
                continue
            checked.add(split_key)
            splits = make_run_splits(loaded[load_key], cfg.seed, cfg.val_size, cfg.max_train_size, cfg.max_test_size)
            check_pool_fits(cfg, len(splits.pool))
        if warm_cache:
            if cfg.model_name_or_path not in tokenizers:
                tokenizers[cfg.model_name_or_path] = load_tokenizer(cfg.model_name_or_path)
            warm_key = json.dumps([split_key, cfg.model_name_or_path, cfg.max_length], default=str)
            if warm_key not in warmed:
                warmed.add(warm_key)
                for split in ("pool", "validation", "test"):
                    tokenize_cached(getattr(splits, split).texts, tokenizers[cfg.model_name_or_path], cfg.max_length)


class _naming:
    """Re-raise a ConfigError/DataError with the trial's name in front."""

    def __init__(self, trial: Trial):
        self.trial = trial

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, (ConfigError, DataError)):
            raise type(exc)(f"trial {self.trial.name}: {exc}") from None
        return False
