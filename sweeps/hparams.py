"""A trial's TensorBoard HParams session, next to its round scalars: one run per trial.

The session goes into the run's own event folder (`<run>/tensorboard/`, where the engine logs
`round/*`), so TensorBoard lists one run per trial, and its metrics are the round scalars
already there (the HParams tab shows each tag's last value: the final round's). The values
come from the run's one description, summary.json's "trial". Every trial writes the same
experiment summary (the columns' types and the metric tags, no per-trial domains), so
whichever one TensorBoard picks fits all of them and the tab lists only these metrics, not
every scalar; the driver names the columns that vary across the sweep (`differs`), which the
tab shows first. Imports no Ray.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional

from hybridal.config import ExperimentConfig
from hybridal.loop.run_writer import TB_DIR
from hybridal.loop.trial_columns import knob_columns
from hybridal.records import KNOB_COLUMNS, TRIAL_COLUMNS

# Round scalars the HParams tab shows (last value = after the final round; round/test_f1 is
# then measured on the full test split).
METRICS = (
    "round/test_f1",
    "round/val_f1",
    "round/cum_train_flops",
    "round/cum_total_flops",
    "round/n_labeled",
    "round/labels_used",
    "round/switched",
    "round/degenerate",
)
# Columns that are null for baselines: always text ('0.01', '2', 'none'), so every trial gives
# them the same type whether a grid mixes strategies or not. The knobs (trigger, threshold, shrink,
# perturb) follow the canonical columns in every session, 'none' where a run does not read them.
TEXT_COLUMNS = ("after", "epsilon", "k", "c", "guard", *KNOB_COLUMNS)
NUMBER_TEXT = ("epsilon", "c", "threshold", "shrink", "perturb")
COLUMNS = (*TRIAL_COLUMNS, *KNOB_COLUMNS)
SUFFIX = ".hparams"  # our event file among the engine's, to replace it on a rewrite


def varying_columns(trials) -> tuple:
    """The columns (canonical, then knobs) whose values differ across a sweep's trials (shown first in the tab)."""
    return tuple(c for c in COLUMNS if len({json.dumps(t.columns.get(c), default=str) for t in trials}) > 1)


def hparam_values(trial: dict) -> dict:
    """HParams values of the canonical columns and the knobs, None shown as 'none'."""
    out = {}
    for key in COLUMNS:
        value = trial.get(key)
        if value is None:
            value = "none"
        elif key in TEXT_COLUMNS:
            value = f"{float(value):g}" if key in NUMBER_TEXT else str(value)
        out[key] = value
    return out


def write_hparams(run_dir: Path, varying: Iterable[str] = ()) -> Optional[Path]:
    """Write the session of the finished run in `run_dir`; returns its event folder (None: TensorBoard off).

    `varying`: the columns whose values differ across the sweep.
    """
    from torch.utils.tensorboard.summary import hparams
    from torch.utils.tensorboard.writer import FileWriter

    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    if not (summary.get("config") or {}).get("tensorboard", True):
        return None
    folder = Path(run_dir) / TB_DIR
    for old in folder.glob(f"events.out.tfevents.*{SUFFIX}"):
        old.unlink()
    knobs = knob_columns(ExperimentConfig.from_dict(summary["config"])) if summary.get("config") else {}
    experiment, start, end = hparams(hparam_values({**summary["trial"], **knobs}), dict.fromkeys(METRICS, 0.0))
    _mark_differing(experiment, set(varying))
    writer = FileWriter(str(folder), filename_suffix=SUFFIX)
    try:
        for part in (experiment, start, end):
            writer.add_summary(part)
    finally:
        writer.close()
    return folder


def _mark_differing(experiment, varying: set) -> None:
    """Set HParamInfo.differs on the varying columns of an experiment summary (in place)."""
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    plugin_data = experiment.value[0].metadata.plugin_data
    data = HParamsPluginData.FromString(plugin_data.content)
    for info in data.experiment.hparam_infos:
        info.differs = info.name in varying
    plugin_data.content = data.SerializeToString()
