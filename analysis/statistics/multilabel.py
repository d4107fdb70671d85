"""A multi-label run's metrics per round (docs/multilabel.md): per dataset x configuration x round, the
seed means of micro-F1, macro-F1 and mean ROC AUC on validation and test, and how many seed-rounds had
some metric undefined (a label without positives among the rows: its AUC left out of the mean).

Empty where no run is multi-label, so reports of single-label runs are unchanged."""

from __future__ import annotations

import json

import pandas as pd

METRICS = ("micro_f1", "macro_f1", "mean_auc")
COLUMNS = (
    "dataset",
    "config",
    "round",
    "seeds",
    "n_labeled",
    *(f"{split}_{m}" for split in ("test", "val") for m in METRICS),
    "test_undefined_seeds",
    "undefined_labels",
)


def multilabel_rounds(rounds: pd.DataFrame, used: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The per-round table of the `used` multi-label trials (those whose records carry val_micro_f1)."""
    if "val_micro_f1" not in rounds.columns or not len(used):
        return pd.DataFrame(columns=list(COLUMNS))
    ids = dict(zip(used["trial"], used["config_id"]))
    r = rounds[rounds["trial"].isin(ids.keys()) & rounds["val_micro_f1"].notna()]
    if not len(r):
        return pd.DataFrame(columns=list(COLUMNS))
    r = r.assign(config_id=r["trial"].map(ids), test_undefined_list=r["test_undefined"].map(_as_list))
    labels = summary.drop_duplicates("config_id").set_index("config_id")["config"]
    g = r.groupby(["dataset", "config_id", "round"], sort=True)
    out = pd.DataFrame(
        {
            "seeds": g["trial"].nunique(),
            "n_labeled": g["n_labeled"].mean().astype(float),
            **{f"{split}_{m}": g[f"{split}_{m}"].mean() for split in ("test", "val") for m in METRICS},
            "test_undefined_seeds": g["test_undefined_list"].agg(lambda s: int(sum(1 for x in s if x))),
            "undefined_labels": g["test_undefined_list"].agg(lambda s: ", ".join(sorted({u for x in s for u in x}))),
        }
    ).reset_index()
    out.insert(1, "config", out["config_id"].map(labels))
    return out.drop(columns=["config_id"])[list(COLUMNS)]


def _as_list(value) -> list:
    """A list field as read: a list, its JSON text (a report's own tables), or missing (no test that round)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        return list(json.loads(value))
    return []
