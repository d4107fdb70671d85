"""One active-learning run (docs/design.md §2-4, 6): its rounds, their records and its outputs.

A round follows its plan (hybridal.loop.schedule) through three phases (hybridal.loop.phases): acquire
labels, train, evaluate. This module composes them, records the round (hybridal.loop.round_record,
costed by hybridal.loop.accounting) and writes the outputs; checkpoints: hybridal.loop.checkpoints.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Iterator, Optional, Union

import torch

from hybridal.atomic_write import atomic_write_text
from hybridal.config import ExperimentConfig
from hybridal.data.task import is_multi_label
from hybridal.errors import ConfigError
from hybridal.loop import phases
from hybridal.loop.accounting import charge, policy_labels
from hybridal.loop.checkpoints import eval_from_state, eval_state, read_checkpoint, write_checkpoint
from hybridal.loop.pool import LabelPool
from hybridal.loop.prefix_forks import adopt_records, group_key
from hybridal.loop.round_record import measured_record
from hybridal.loop.run_parts import build_run_parts
from hybridal.loop.run_stopping import RunStopping
from hybridal.loop.run_writer import RunWriter
from hybridal.loop.schedule import RoundStep, round_plan
from hybridal.loop.summary import environment, run_summary
from hybridal.model.metrics import EvalResult
from hybridal.model.optimization import build_optimizer
from hybridal.records import RoundRecord
from hybridal.samplers import build_sampler
from hybridal.strategies import DeltaF1Strategy, strategy_for, trained_switch_round, with_resolved_guard

# A multi-label run's final test metrics besides f1_score (the monitored metric), for callers and the CLI.
FINAL_MULTILABEL = ("micro_f1", "macro_f1", "mean_auc", "subset_accuracy", "hamming_loss")


class ActiveLearning:
    """One AL experiment, built in one step: `ActiveLearning(cfg)` validates the config (before
    any data or model loads), then loads and checks the data, tokenizes it and loads the model.
    Nothing is written until a round runs, into `<save_dir>/<experiment_name>/` (or `run_dir`).

    `run_full_pipeline()` runs every round; `iter_rounds()` yields each round's record;
    `save_checkpoint`/`load_checkpoint` let a Ray trial resume at its last finished round.
    """

    def __init__(self, cfg: Union[ExperimentConfig, dict], run_dir: Optional[Union[str, Path]] = None):
        if isinstance(cfg, dict):
            cfg = ExperimentConfig.from_dict(cfg)
        self.strategy = strategy_for(cfg.validate())
        # The rule's guard is recorded resolved (config.yaml, summary.json), so a config without the
        # key is one written before the guard existed, which ran the rule unguarded.
        cfg = cfg.replace(strategy_kwargs=with_resolved_guard(self.strategy, cfg.strategy_kwargs))
        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir is not None else cfg.run_dir
        self.sampler = build_sampler(cfg.sampler_class, multi_label=is_multi_label(cfg), **cfg.sampler_kwargs)
        self.sampler_seed = int(cfg.sampler_kwargs.get("seed", cfg.seed))
        self.parts = build_run_parts(cfg)
        self.pool = LabelPool(len(self.parts.splits.pool))
        self.stopping = RunStopping(cfg, self.parts, self.strategy)  # the stop set, the criteria and halt_on
        self.environment = environment(self.parts.device, self.parts.precision)
        self.writer = RunWriter(self.run_dir, cfg.tensorboard)
        self.records: list[RoundRecord] = []
        self.next_round = 0
        self.finished = False
        self.final_test: Optional[EvalResult] = None  # from the full test split, after the last round
        self.final_validation: Optional[EvalResult] = None
        self._optimizer: Optional[torch.optim.Optimizer] = None  # kept between rounds (keep_optimizer only)
        # How a shared-prefix sweep produced this run (role, source, FLOPs it spent), for summary.json.
        self.provenance: Optional[dict] = None
        self._outputs_started = False

    def prepare(self) -> "ActiveLearning":
        """Deprecated (the constructor does the work now); kept for one release, returns self."""
        return self

    # ---- the loop -----------------------------------------------------------------------
    def iter_rounds(self) -> Iterator[RoundRecord]:
        while not self.finished:
            yield self.run_round()
        self.save_experiment()

    def run_full_pipeline(self) -> dict:
        """Run every round; returns the final test metrics (`f1_score`, `accuracy`, `loss`, ...)."""
        for _ in self.iter_rounds():
            pass
        return self.final_metrics()

    def planned_rounds(self) -> list[RoundStep]:
        """The run's rounds as planned now: HybridAL's switch as the ΔF1 rule has decided it so far."""
        switch, halt = self.strategy.switch_decided_round, self.stopping.halted_round
        return round_plan(self.cfg, len(self.pool), len(self.parts.splits.test), switch, halt)

    def run_round(self) -> RoundRecord:
        """Run the next round: acquire, train, evaluate; then record it and write the outputs."""
        if self.finished:
            raise RuntimeError("the run has finished; no rounds are left.")
        self._start_outputs()  # the output folder appears only once a round runs
        started = time.perf_counter()
        step = self.planned_rounds()[self.next_round]
        acquisition = phases.acquire(self.cfg, self.parts, self.pool, self.sampler, self.sampler_seed, step)
        trained, optimizer = phases.train(self.cfg, self.parts, self.pool, step, self._optimizer)
        self._optimizer = optimizer if self.cfg.keep_optimizer else None
        evaluation = phases.evaluate(self.cfg, self.parts, self.pool, step)
        f1, n_labeled = evaluation.monitor_f1, self.pool.n_labeled
        stop = self.stopping.measure(self.cfg, self.parts, self.pool, step, f1)
        if self.stopping.halts_after(self.records, step, stop, n_labeled, f1):
            step, evaluation = self._end_here(step, evaluation)
        # Read before observing: the round that decides still reads. halt_on's criterion reads every round.
        reads_monitor = self.strategy.reads_monitor or self.stopping.halt_reads == "labels"
        reads_stop_set = self.strategy.reads_stop_set or self.stopping.halt_reads == "stop_set"
        observation = stop.observation() if stop else None
        delta, count = self.strategy.observe(step.round, f1, evaluation.monitor_degenerate, observation)
        prev = self.records[-1] if self.records else None
        wall_seconds = time.perf_counter() - started
        record = measured_record(
            step, acquisition, trained, evaluation, delta, count, wall_seconds, prev, self.parts, self.pool, stop
        )
        record = charge(record, prev, reads_monitor, self.policy_labels, reads_stop_set)
        self._finish_round(step, record, evaluation)
        return record

    def _end_here(self, step: RoundStep, evaluation: phases.Evaluation) -> tuple[RoundStep, phases.Evaluation]:
        """halt_on's criterion said stop: this round is the last, with the full test pass the final
        metrics need (the plan's per-round test pass, if any, stays counted in its FLOPs)."""
        if step.test_rows != "full":
            full = phases.full_test(self.cfg, self.parts)
            spent = evaluation.test.flops if evaluation.test else 0
            evaluation = dataclasses.replace(evaluation, test=dataclasses.replace(full, flops=full.flops + spent))
        return dataclasses.replace(step, last=True, test_rows="full"), evaluation

    @property
    def policy_labels(self) -> int:
        """Validation labels the run's policy reads (docs/accounting.md): charged as labels used."""
        validation = len(self.parts.splits.validation)
        return policy_labels(self.strategy, self.cfg.monitor, validation, self.stopping.halt_reads)

    def _finish_round(self, step: RoundStep, record: RoundRecord, evaluation: phases.Evaluation) -> None:
        self.records.append(record)
        self.next_round = step.round + 1
        self.final_validation = evaluation.validation
        if step.test_rows == "full":  # final metrics only ever come from the full split
            self.final_test = evaluation.test
        self.finished = step.last
        self.writer.write_records(self.records)
        self.writer.log_scalars(record)
        self.writer.write_summary(self.summary())

    def _start_outputs(self) -> None:
        """(Re)start the run folder: config, the records so far, and summary.json (status running)."""
        if self._outputs_started:
            return
        self.writer.start(self.cfg.to_yaml(), self.records)
        self.writer.write_summary(self.summary())
        self._outputs_started = True

    # ---- results ------------------------------------------------------------------------
    @property
    def switch_round(self) -> Optional[int]:
        """The first round that trained with the cheaper strategy so far; None if none has
        (a switch the ΔF1 rule decides after the last round never trains, so it is None)."""
        return trained_switch_round(self.strategy.switch_decided_round, len(self.records))

    def switch_columns(self) -> dict:
        """`switch_round` and the round the ΔF1 rule chose (`switch_decided_round`), for outputs."""
        return {"switch_round": self.switch_round, "switch_decided_round": self.strategy.switch_decided_round}

    def final_metrics(self) -> dict:
        if self.final_test is None:
            raise RuntimeError("no test evaluation yet: run the pipeline first.")
        last = self.records[-1]
        return {
            "f1_score": self.final_test.f1,
            "accuracy": self.final_test.accuracy,
            "loss": self.final_test.loss,
            "per_class_f1": dict(zip(self.parts.splits.label_names, self.final_test.per_class_f1)),
            **{k: v for k, v in (self.final_test.multilabel or {}).items() if k in FINAL_MULTILABEL},
            **self.switch_columns(),
            "rounds": len(self.records),
            "n_labeled": last.n_labeled,
            "labels_used": last.labels_used,
            "cum_train_flops": last.cum_train_flops,
            "cum_total_flops": last.cum_total_flops,
        }

    def summary(self) -> dict:
        """What summary.json holds (hybridal.loop.summary)."""
        return run_summary(self)

    def save_experiment(self) -> Path:
        """Write config.yaml, rounds.jsonl and summary.json (all are kept current every round)."""
        atomic_write_text(self.run_dir / "config.yaml", self.cfg.to_yaml())
        self.writer.write_records(self.records)
        self.writer.write_summary(self.summary())
        self.writer.close()
        return self.run_dir

    # ---- checkpoints (safetensors + JSON, never pickle) -----------------------------------
    def save_checkpoint(self, folder: Union[str, Path]) -> None:
        state = {
            "next_round": self.next_round,
            "finished": self.finished,
            "pool": self.pool.state_dict(),
            "strategy": self.strategy.state_dict(),
            "stopping": self.stopping.state_dict(),
            "records": [r.to_dict() for r in self.records],
            "final_test": eval_state(self.final_test),
            "final_validation": eval_state(self.final_validation),
            "config": self.cfg.to_dict(),
            "precision": self.parts.precision,
            "device_type": self.parts.device.type,
        }
        write_checkpoint(folder, self.parts.model.model, self._optimizer, state)

    def load_checkpoint(self, folder: Union[str, Path]) -> None:
        model = self.parts.model.model
        state, optimizer_state = read_checkpoint(folder, model, self.parts.device)
        if optimizer_state is not None:
            self._optimizer = build_optimizer(self.cfg.optimizer_class, self.cfg.optimizer_kwargs, model)
            self._optimizer.load_state_dict(optimizer_state)
        self.next_round, self.finished = state["next_round"], state["finished"]
        self.pool.load_state_dict(state["pool"])
        self.strategy.load_state_dict(state["strategy"])
        self.stopping.load_state_dict(state.get("stopping"), len(state["records"]), self.strategy.reads_stop_set)
        self.records = [RoundRecord.from_dict(r) for r in state["records"]]
        self.final_test = eval_from_state(state["final_test"])
        self.final_validation = eval_from_state(state["final_validation"])
        self._outputs_started = False
        self._start_outputs()

    def continue_from_prefix(self, folder: Union[str, Path]) -> None:
        """Continue, as this run's config, another run's checkpoint from the same group (a
        shared-prefix trunk, docs/design.md §11): its weights, labels and records up to the
        checkpoint, with the ΔF1 rule's fields and state replayed for this config. The rounds
        that follow are exactly those a standalone run of this config would train."""
        model = self.parts.model.model
        state, optimizer_state = read_checkpoint(folder, model, self.parts.device)
        if group_key(state["config"]) != group_key(self.cfg.to_dict()):
            raise ConfigError(
                f"the prefix checkpoint {str(folder)!r} was written by a run that differs from "
                f"{self.cfg.experiment_name!r} in more than the strategy and its post-switch knobs; "
                "allowed: a checkpoint of a run of the same group."
            )
        self._check_prefix_runs_here(folder, state, optimizer_state)
        # The strategy is fresh here; replaying the prefix leaves it where this config would be.
        source = [RoundRecord.from_dict(r) for r in state["records"]]
        records = adopt_records(self.strategy, source, self.policy_labels, self.stopping.halt_reads)
        # A kept optimizer continues the prefix's last round, as it would have in a standalone run.
        self._optimizer = None
        if optimizer_state is not None and self.cfg.keep_optimizer:
            self._optimizer = build_optimizer(self.cfg.optimizer_class, self.cfg.optimizer_kwargs, model)
            self._optimizer.load_state_dict(optimizer_state)
        self.next_round, self.finished = state["next_round"], state["finished"]
        self.pool.load_state_dict(state["pool"])
        self.stopping.load_state_dict(state.get("stopping"), len(records), self.strategy.reads_stop_set)
        self.records = records
        self.final_test = eval_from_state(state["final_test"])
        self.final_validation = eval_from_state(state["final_validation"])
        self._outputs_started = False
        self._start_outputs()

    def _check_prefix_runs_here(self, folder: Union[str, Path], state: dict, optimizer_state: Optional[dict]) -> None:
        """A fork continues its trunk exactly only in the trunk's precision and device kind, and with
        its optimizer where a kept-optimizer finetune round continues it: anything else is refused."""
        last = state["records"][-1] if state["records"] else {}
        theirs = (state.get("precision") or last.get("precision"), state.get("device_type"))
        ours = (self.parts.precision, self.parts.device.type)
        if theirs[0] != ours[0] or theirs[1] not in (None, ours[1]):
            raise ConfigError(
                f"the prefix checkpoint {str(folder)!r} trained in {theirs[0]} "
                f"on {theirs[1] or 'an unrecorded device'} "
                f"but {self.cfg.experiment_name!r} would run in {ours[0]} on {ours[1]}; allowed: the trunk's "
                "precision and device kind (set precision and device explicitly for the whole sweep)."
            )
        after = self.strategy.after if isinstance(self.strategy, DeltaF1Strategy) else self.strategy.steady_mode
        if self.cfg.keep_optimizer and after == "finetune" and optimizer_state is None and not state["finished"]:
            raise ConfigError(
                f"the prefix checkpoint {str(folder)!r} holds no optimizer state, but {self.cfg.experiment_name!r} "
                "keeps its optimizer into its finetune rounds; allowed: a checkpoint of a trunk run with "
                "keep_optimizer: true."
            )
