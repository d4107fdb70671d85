"""`hybridal` command line: run a YAML config with a progress bar and a line per round."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Optional

from hybridal.errors import ConfigError, DataError


def format_record(rec) -> str:
    test = f"test F1 {rec.test_f1:.3f}" if rec.test_f1 is not None else "test F1 -"
    if rec.test_rows == "subsample":
        test += f" ({rec.test_n}-row subsample)"
    delta = f"ΔF1 {rec.delta_f1:+.3f} (stable {rec.stable_count})" if rec.delta_f1 is not None else "ΔF1 -"
    short = " (short batch)" if rec.short_batch else ""
    one_class = " | predicts one class" if rec.degenerate else ""  # a failed round says so where it happens
    if rec.val_micro_f1 is not None:  # multi-label: val_f1/test_f1 are the monitored metric
        one_class = " | trivial predictions" if rec.degenerate else ""
        auc = "-" if rec.test_mean_auc is None else f"{rec.test_mean_auc:.3f}"
        test += f" | test micro/macro F1 {_num(rec.test_micro_f1)}/{_num(rec.test_macro_f1)} AUC {auc}"
    return (
        f"round {rec.round:>2} | labels {rec.n_labeled} (+{rec.n_new}{short}) | {rec.strategy_used:<8} | "
        f"val F1 {rec.val_f1:.3f} | {test} | {delta} | train {rec.train_flops:.2e} FLOPs | "
        f"{rec.wall_seconds:.1f} s{one_class}"
    )


def _num(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def cmd_run(args) -> int:
    from tqdm import tqdm

    from . import ActiveLearning, ExperimentConfig

    cfg = ExperimentConfig.from_yaml(args.config, args.set)
    run_dir = Path(args.out) if args.out else None
    al = ActiveLearning(cfg, run_dir=run_dir)  # data and model problems surface here, before any output is written
    bar = tqdm(total=cfg.total_rounds, desc=cfg.experiment_name, unit="round", file=sys.stderr, disable=args.quiet)
    for rec in al.iter_rounds():
        bar.update(1)
        tqdm.write(format_record(rec), file=sys.stdout)
    bar.close()
    m = al.final_metrics()
    scores = f"test macro-F1 {m['f1_score']:.4f}, accuracy {m['accuracy']:.4f}"
    if "micro_f1" in m:
        scores = (
            f"test micro-F1 {m['micro_f1']:.4f}, macro-F1 {m['macro_f1']:.4f}, mean ROC AUC {_num(m['mean_auc'])}, "
            f"subset accuracy {m['subset_accuracy']:.4f}"
        )
    print(
        f"done: {scores}, switch round {m['switch_round']}, "
        f"labels used {m['labels_used']}, AL cost {m['cum_total_flops']:.3e} FLOPs "
        f"(training {m['cum_train_flops']:.3e}); "
        f"results in {al.run_dir}"
    )
    return 0


def cmd_validate(args) -> int:
    from . import ActiveLearning, ExperimentConfig

    cfg = ExperimentConfig.from_yaml(args.config, args.set)
    parts = ActiveLearning(cfg).parts
    s = parts.splits
    print(
        f"ok: {cfg.data}: pool {len(s.pool)}, validation {len(s.validation)}, test {len(s.test)}, "
        f"{s.num_labels} labels{' (multi-label)' if s.multi_label else ''}; "
        f"model {cfg.model_name_or_path} on {parts.device} ({parts.precision})"
    )
    return 0


def cmd_keys(args) -> int:
    from hybridal.config import ExperimentConfig

    for f in dataclasses.fields(ExperimentConfig):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        print(f"{f.name}: {default!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybridal", description="Pool-based active learning with measured training strategies."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one AL experiment from a YAML config")
    run.add_argument("config", help="YAML file with ExperimentConfig keys")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key (dots for nested keys, e.g. strategy_kwargs.epsilon=0.02); repeatable",
    )
    run.add_argument("--out", help="output folder for this run (default: <save_dir>/<experiment_name>)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)
    val = sub.add_parser("validate", help="check a config and its data without training")
    val.add_argument("config")
    val.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    val.set_defaults(func=cmd_validate)
    keys = sub.add_parser("keys", help="list every config key with its default")
    keys.set_defaults(func=cmd_keys)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DataError) as exc:
        print(f"hybridal: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
