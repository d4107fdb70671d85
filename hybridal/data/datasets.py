"""Datasets, loaded through the `datasets` library and checked (splitting them: hybridal.data.splits).

Named datasets load from the Hugging Face hub by default and from `$HYBRIDAL_DATA_DIR/<name>/`
when that variable is set; any local CSV/parquet/JSON-lines file or folder, or a hub id,
works with named text/label columns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from hybridal.data.label_matrix import JIGSAW_LABELS
from hybridal.data.splits import LoadedDataset, TextData, stratified_holdout
from hybridal.errors import DataError, choice_error

DATA_DIR_ENV = "HYBRIDAL_DATA_DIR"
FILE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".json": "json"}


@dataclass(frozen=True)
class NamedDataset:
    hub_id: str
    text_column: str
    label_column: str
    num_labels: int
    label_names: tuple[str, ...]


NAMED_DATASETS = {
    "agnews": NamedDataset("fancyzhx/ag_news", "text", "label", 4, ("World", "Sports", "Business", "Sci/Tech")),
    "imdb": NamedDataset("stanfordnlp/imdb", "text", "label", 2, ("negative", "positive")),
    # Kaggle's CSV schema; on the hub the same files are mirrored under this id.
    "jigsaw": NamedDataset(
        "thesofakillers/jigsaw-toxic-comment-classification-challenge", "comment_text", "toxic", 2, ("clean", "toxic")
    ),
}
ALIASES = {"ag_news": "agnews", "ag-news": "agnews", "jigsaw_toxic": "jigsaw"}


# ---- loading ------------------------------------------------------------------------------


def load_named_or_path(
    data: str,
    text_column: Optional[str],
    label_column: Optional[str],
    data_kwargs: dict,
    seed: int,
    num_labels: Optional[int],
) -> LoadedDataset:
    """Load `data` (a named dataset, a local file/folder, or a hub id) and validate it."""
    kwargs = dict(data_kwargs)
    name = ALIASES.get(data, data)
    if name in NAMED_DATASETS:
        spec = NAMED_DATASETS[name]
        text_column = text_column or spec.text_column
        label_column = label_column or spec.label_column
        label_names = list(spec.label_names)
        jigsaw_label = kwargs.pop("jigsaw_label", "toxic") if name == "jigsaw" else None
        if jigsaw_label is not None and jigsaw_label not in ("toxic", "any"):
            raise choice_error("data_kwargs.jigsaw_label", jigsaw_label, ("toxic", "any"))
        local = _local_named_dir(name)
        frames = _read_local(local, name) if local else _read_hub(spec.hub_id, kwargs)
        source = str(local) if local else f"hub:{spec.hub_id}"
        if jigsaw_label is not None:
            frames = {split: _jigsaw_binary(df, jigsaw_label, split) for split, df in frames.items()}
            label_column = "label"
            label_names = ["clean", "toxic"] if jigsaw_label == "toxic" else ["clean", "any_toxic"]
        declared = spec.num_labels
    else:
        path = Path(data).expanduser()
        if path.exists():
            frames, source = _read_local(path, data), str(path)
        elif _looks_like_path(data):
            raise DataError(
                f"data file {data!r} does not exist; allowed: agnews, imdb, jigsaw, a CSV/parquet/JSON-lines file "
                "or folder, or a hub dataset id."
            )
        else:
            frames, source = _read_hub(data, kwargs), f"hub:{data}"
        text_column, label_column = text_column or "text", label_column or "label"
        label_names, declared = None, None
    if kwargs:
        raise DataError(
            f"data_kwargs key {sorted(kwargs)[0]!r} is not used by data={data!r}; allowed: jigsaw_label "
            "(jigsaw only), hub load_dataset options (name, revision)."
        )
    return _assemble(name, frames, text_column, label_column, label_names, declared, num_labels, seed, source)


def _local_named_dir(name: str) -> Optional[Path]:
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    folder = Path(root).expanduser() / name
    if not folder.is_dir():
        where = "" if Path(root).is_absolute() else f" (resolved from {os.getcwd()} to {folder.parent.resolve()})"
        raise DataError(
            f"{DATA_DIR_ENV}={root}{where} has no folder {name!r}; allowed: a folder holding {name}/train.csv "
            "(and test.csv), or unset it to load from the hub."
        )
    return folder


def _looks_like_path(data: str) -> bool:
    return data.startswith((".", "/", "~")) or Path(data).suffix.lower() in FILE_SUFFIXES


def _split_files(path: Path) -> dict[str, Path]:
    if path.is_file():
        return {"train": path}
    found = {}
    for split in ("train", "test"):
        for suffix in FILE_SUFFIXES:
            candidate = path / f"{split}{suffix}"
            if candidate.is_file():
                found[split] = candidate
                break
    if "train" not in found:
        raise DataError(
            f"data folder {str(path)!r} has no train file; allowed: train.csv/.parquet/.jsonl (and optionally test.*)."
        )
    return found


def _read_local(path: Path, label: str) -> dict:
    """Read local files through `datasets` into pandas frames per split."""
    import datasets

    files = _split_files(path)
    out = {}
    for split, file in files.items():
        builder = FILE_SUFFIXES.get(file.suffix.lower())
        if builder is None:
            raise DataError(f"data file {str(file)!r} has suffix {file.suffix!r}; allowed: {', '.join(FILE_SUFFIXES)}.")
        try:
            ds = datasets.load_dataset(builder, data_files=str(file), split="train", cache_dir=_hf_cache())
        except Exception as exc:  # unreadable file: name it
            raise DataError(
                f"data file {str(file)!r} could not be read as {builder} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})."
            ) from exc
        out[split] = ds.to_pandas()
    return out


def _read_hub(hub_id: str, kwargs: dict) -> dict:
    import datasets

    options = {k: kwargs.pop(k) for k in ("name", "revision") if k in kwargs}
    try:
        dsd = datasets.load_dataset(hub_id, **options)
    except Exception as exc:
        raise DataError(
            f"data={hub_id!r} could not be loaded from the Hugging Face hub ({type(exc).__name__}); "
            f"allowed offline: set {DATA_DIR_ENV} or pass a local file."
        ) from exc
    return {split: dsd[split].to_pandas() for split in ("train", "test") if split in dsd}


def _hf_cache() -> Optional[str]:
    from hybridal.data.cache import cache_root

    return str(cache_root() / "hf-datasets")


def _jigsaw_binary(df, mode: str, split: str):
    missing = [c for c in JIGSAW_LABELS if c not in df.columns]
    needed = ["toxic"] if mode == "toxic" else list(JIGSAW_LABELS)
    if any(c in missing for c in needed):
        raise DataError(
            f"jigsaw {split} file lacks column(s) {', '.join(c for c in needed if c in missing)}; "
            f"allowed: Kaggle's schema id,comment_text,{','.join(JIGSAW_LABELS)}."
        )
    df = df.copy()
    values = df[needed].to_numpy()
    keep = (values >= 0).all(axis=1)  # Kaggle's test_labels mark unscored rows with -1
    df = df[keep]
    df["label"] = (df[needed].to_numpy() > 0).any(axis=1).astype("int64")
    return df


def _assemble(
    name, frames, text_column, label_column, label_names, declared, num_labels, seed, source
) -> LoadedDataset:
    import pandas as pd

    parts = {}
    for split, df in frames.items():
        for column in (text_column, label_column):
            if column not in df.columns:
                raise DataError(
                    f"{name} {split} data has no column {column!r}; columns are: "
                    f"{', '.join(map(str, df.columns))} (set text_column/label_column)."
                )
        texts = df[text_column]
        bad = texts.isna() | (texts.astype(str).str.strip() == "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{name} {split} data has {int(bad.sum())} empty text(s) in column {text_column!r} "
                f"(first at row {row}); allowed: non-empty strings."
            )
        parts[split] = (texts.astype(str).tolist(), df[label_column])
    labels_all = pd.concat([p[1] for p in parts.values()], ignore_index=True)
    if labels_all.isna().any():
        raise DataError(
            f"{name} column {label_column!r} has {int(labels_all.isna().sum())} missing (NaN) label(s); "
            "allowed: a label (integer >= 0 or string) on every row."
        )
    if declared is not None and num_labels is not None and num_labels != declared:
        raise DataError(
            f"num_labels={num_labels} disagrees with {name}, which has {declared} classes; allowed: {declared}."
        )
    if pd.api.types.is_numeric_dtype(labels_all):
        classes = _numeric_classes(name, label_column, labels_all, declared, num_labels)
        mapping = None
        n_labels = len(classes)
        if declared is None:  # the run's class i is the i-th smallest value: name it by that value
            label_names = [str(int(c)) for c in classes]
    else:  # string labels: a stable, sorted mapping
        names = sorted(labels_all.astype(str).unique())
        mapping = {c: i for i, c in enumerate(names)}
        label_names = names
        n_labels = len(names)
        if num_labels is not None and num_labels != n_labels:
            raise DataError(
                f"num_labels={num_labels} disagrees with the {n_labels} classes in {name} column {label_column!r} "
                f"({', '.join(names[:6])}); allowed: {n_labels}."
            )
    if n_labels < 2:
        raise DataError(f"{name} has {n_labels} class; allowed: at least 2 classes.")
    if label_names is None or len(label_names) != n_labels:
        label_names = [str(i) for i in range(n_labels)]

    def to_text_data(split):
        texts, labels = parts[split]
        if mapping is not None:
            arr = labels.astype(str).map(mapping).to_numpy(dtype=np.int64)
        else:
            arr = np.searchsorted(classes, labels.astype("float64").to_numpy()).astype(np.int64)
        return TextData(texts, arr)

    train = to_text_data("train")
    if "test" in parts:
        test, holdout = to_text_data("test"), False
    else:
        train, test = stratified_holdout(train, fraction=0.2, seed=seed)
        holdout = True
    return LoadedDataset(name, train, test, n_labels, list(label_names), holdout, source)


def _numeric_classes(name, column, labels, declared, num_labels) -> np.ndarray:
    """The sorted label values that become classes 0..K-1, so no class goes without examples.

    Any set of non-negative integers works (labels 1..4 make 4 classes, not 5 with an empty
    class 0); a named dataset's ids are fixed: they must be exactly 0..declared-1.
    """
    values = labels.astype("float64").to_numpy()
    if not np.all(values == np.round(values)):
        raise DataError(
            f"{name} column {column!r} holds non-integer labels such as {values[values != np.round(values)][0]}; "
            "allowed: integers >= 0 or strings."
        )
    if (values < 0).any():
        raise DataError(
            f"{name} column {column!r} has negative label {int(values[values < 0][0])}; allowed: integers >= 0 "
            "or strings (drop unlabeled rows, recode -1/+1 labels as 0/1)."
        )
    classes = np.unique(values)
    if declared is not None:
        if classes[-1] >= declared:
            raise DataError(
                f"{name} column {column!r} has label {int(classes[-1])} outside [0, {declared}); "
                f"allowed: integers in [0, {declared})."
            )
        if len(classes) < declared:
            missing = sorted(set(range(declared)) - set(classes.astype(int)))
            raise DataError(
                f"{name} column {column!r} has no example of class {missing[0]}; "
                f"allowed: data holding every class 0..{declared - 1}."
            )
    elif num_labels is not None and num_labels != len(classes):
        shown = ", ".join(str(int(c)) for c in classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise DataError(
            f"num_labels={num_labels} disagrees with {name} column {column!r}, which holds {len(classes)} "
            f"distinct labels ({shown}); allowed: {len(classes)}."
        )
    return classes
