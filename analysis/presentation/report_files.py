"""Every file a report writes to its folder: the tables, the figures, report.md and report.html.

Each file is written atomically (analysis/presentation/atomic_files.py), so a reader never sees a
half-written one; the command line around this is analysis/report.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence, Union

from analysis.presentation.atomic_files import atomic_path, write_text
from analysis.presentation.frontier_plots import f1_vs_flops, final_scatter
from analysis.presentation.render import to_html, to_markdown
from analysis.presentation.report_content import report_blocks
from analysis.presentation.round_plots import learning_curves, switch_rounds
from analysis.presentation.savings_plot import savings_plane
from analysis.reading.experiment import SWEEP_SUMMARY
from analysis.reading.problems import AnalysisError
from analysis.reading.protocol import PROTOCOL_FILE, Protocol, read_protocol
from analysis.statistics.pipeline import Analysis, analyse

NOTES_FILE = "notes.md"
SAVINGS_PLOT = "plots/savings_vs_retrain.png"  # every dataset in one figure (the headline's)


def plot_name(dataset: str, kind: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(dataset))
    return f"plots/{safe}_{kind}.png"


def write_tables(a: Analysis, out: Path) -> list[str]:
    """Write the CSV/Parquet tables; return their names."""
    tables = {
        "rounds.csv": a.rounds,
        "runs.csv": a.trials,
        "trials.csv": a.metrics,
        "summary.csv": a.summary.drop(columns=["config_id"]),
        "frontier_rounds.csv": a.curves.merge(
            a.summary[["dataset", "config_id", "config"]], on=["dataset", "config_id"], how="left"
        ).drop(columns=["config_id"]),
        "hypervolume.csv": a.hypervolume,
        "headline.csv": a.headline,
        "switches.csv": a.switches,
        "samplers.csv": a.samplers,
        "paired.csv": a.paired,
        "noise.csv": a.noise,
    }
    # written only where some run has stopping criteria, so reports of runs without them are unchanged
    if a.stopping is not None and a.stopping_seeds is not None and a.stopping_halted is not None:
        if len(a.stopping) or len(a.stopping_halted):
            tables |= {
                "stopping.csv": a.stopping.drop(columns=["config_id"]),
                "stopping_seeds.csv": a.stopping_seeds.drop(columns=["config_id"]),
                "stopping_halted.csv": a.stopping_halted,
            }
    if a.multilabel is not None and len(a.multilabel):  # only where some run is multi-label
        tables["multilabel_rounds.csv"] = a.multilabel
    if a.prereg is not None:  # only where the report has a study's protocol.json
        tables |= {
            "findings.csv": a.prereg.findings,
            "arms.csv": a.prereg.arms,
            "targets.csv": a.prereg.targets,
            "stopping_paired.csv": a.prereg.stopping,
        }
    for name, df in tables.items():
        with atomic_path(out / name) as tmp:
            df.to_csv(tmp, index=False)
    with atomic_path(out / "rounds.parquet") as tmp:
        a.rounds.to_parquet(tmp, index=False, engine="pyarrow")
    names = ["rounds.parquet", *tables]
    if a.sweep:
        write_text(out / SWEEP_SUMMARY, json.dumps(a.sweep, indent=2, sort_keys=True) + "\n")
        names.append(SWEEP_SUMMARY)
    return names


def write_plots(a: Analysis, out: Path) -> dict[str, dict[str, str]]:
    """Draw every figure per dataset; return dataset -> kind -> path relative to `out`."""
    made: dict[str, dict[str, str]] = {}
    for ds in sorted(a.summary["dataset"].dropna().unique()):
        s = a.summary[a.summary["dataset"] == ds]
        cv = a.curves[a.curves["dataset"] == ds]
        used = a.used[a.used["dataset"] == ds]
        paths = {
            "learning_curves": plot_name(ds, "learning_curves"),
            "f1_vs_al_flops": plot_name(ds, "f1_vs_al_flops"),
            "final_f1_vs_al_flops": plot_name(ds, "final_f1_vs_al_flops"),
            "switch_rounds": plot_name(ds, "switch_rounds"),
        }
        learning_curves(ds, s, cv, out / paths["learning_curves"])
        f1_vs_flops(ds, s, cv, out / paths["f1_vs_al_flops"])
        final_scatter(ds, s, s["pareto"], out / paths["final_f1_vs_al_flops"])
        if switch_rounds(ds, s, used, out / paths["switch_rounds"]) is None:
            del paths["switch_rounds"]
        made[str(ds)] = paths
    if a.paired is not None and len(a.paired) and savings_plane(a.paired, a.headline, out / SAVINGS_PLOT):
        made[""] = {"savings_vs_retrain": SAVINGS_PLOT}
    return made


def build_report(
    experiments: Union[str, Sequence[str]],
    out_dir: str,
    tolerance_points: Optional[float] = None,
    notes: Optional[str] = None,
    protocol: Optional[Protocol] = None,
) -> Analysis:
    """Analyse `experiments` and write every output to `out_dir`; return the analysis.

    `notes`: Markdown shown as the report's "Scope, limits and notes" section (e.g. a study's
    limits); by default the ``notes.md`` of a single input folder, where it has one. `protocol`: a
    study's pre-registered comparisons; by default the ``protocol.json`` of a single input folder,
    where it has one. `tolerance_points`: by default the protocol's margin, else 0.5.
    """
    notes = notes if notes is not None else _default_notes(experiments)
    protocol = protocol if protocol is not None else _default_protocol(experiments)
    if tolerance_points is None:
        tolerance_points = protocol.margin_points if protocol is not None else 0.5
    a = analyse(experiments, tolerance_points, protocol)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalysisError(f"Cannot create the output folder {out_dir}: {exc.strerror or exc}.") from None
    for stale in [*out.glob(".*.tmp"), *out.glob("plots/.*.tmp")]:  # left by a run that was killed
        stale.unlink(missing_ok=True)
    files = write_tables(a, out)
    made = write_plots(a, out)
    files += sorted(p for d in made.values() for p in d.values())
    files += ["report.md", "report.html"]
    blocks = report_blocks(a, made, files, notes)
    write_text(out / "report.md", to_markdown(blocks))
    write_text(out / "report.html", to_html(blocks, f"hybridal sweep report: {a.root}", out))
    return a


def _single_local(experiments: Union[str, Sequence[str]], name: str) -> Optional[Path]:
    """`name` in the one local input folder, where there is one and it holds that file."""
    folders = [experiments] if isinstance(experiments, str) else list(experiments)
    path = Path(folders[0]) / name if len(folders) == 1 and "://" not in folders[0] else None
    return path if path is not None and path.is_file() else None


def _default_notes(experiments: Union[str, Sequence[str]]) -> Optional[str]:
    path = _single_local(experiments, NOTES_FILE)
    return path.read_text(encoding="utf-8") if path is not None else None


def _default_protocol(experiments: Union[str, Sequence[str]]) -> Optional[Protocol]:
    path = _single_local(experiments, PROTOCOL_FILE)
    return read_protocol(str(path)) if path is not None else None
