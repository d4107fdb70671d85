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

from hybridal.data import jigsaw
from hybridal.data.multi_label import label_matrices
from hybridal.data.single_label import class_labels
from hybridal.data.splits import LoadedDataset, TextData, stratified_holdout
from hybridal.errors import DataError

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
    *,
    label_columns: Optional[list[str]] = None,
    multi_label: Optional[bool] = None,
) -> LoadedDataset:
    """Load `data` (a named dataset, a local file/folder, or a hub id) and validate it.

    Multi-label (docs/multilabel.md) when `label_columns` names 0/1 columns, when `multi_label` is
    true (then `label_column` holds each row's list of labels), or for Jigsaw unless
    `data_kwargs.jigsaw_label` asks for one of its binary tasks."""
    kwargs = dict(data_kwargs)
    name = ALIASES.get(data, data)
    label_names: Optional[list[str]] = None
    declared: Optional[int] = None
    if name in NAMED_DATASETS:
        spec = NAMED_DATASETS[name]
        text_column = text_column or spec.text_column
        label_column = label_column or spec.label_column
        label_names, declared = list(spec.label_names), spec.num_labels
        task = jigsaw.jigsaw_task(kwargs) if name == "jigsaw" else None
        if task is not None:
            kwargs.pop("jigsaw_label", None)  # any other dataset refuses it below, with the other unused keys
        local = _local_named_dir(name)
        frames = _read_local(local, name) if local else _read_hub(spec.hub_id, kwargs)
        source = str(local) if local else f"hub:{spec.hub_id}"
        if task == jigsaw.MULTI_LABEL:
            label_columns = jigsaw.label_columns(label_columns)
            frames = {split: jigsaw.scored_rows(df, label_columns) for split, df in frames.items()}
        elif task is not None:
            frames = {split: jigsaw.binary_frame(df, task, split) for split, df in frames.items()}
            label_column, label_names = "label", jigsaw.BINARY_NAMES[task]
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
    if kwargs:
        raise DataError(
            f"data_kwargs key {sorted(kwargs)[0]!r} is not used by data={data!r}; allowed: jigsaw_label "
            "(jigsaw only), hub load_dataset options (name, revision)."
        )
    texts = {split: _checked_texts(name, split, df, text_column) for split, df in frames.items()}
    if label_columns is not None or multi_label:
        labels, label_names = label_matrices(name, frames, label_columns, label_column, num_labels)
    else:
        columns = {split: _column(name, split, df, label_column) for split, df in frames.items()}
        labels, label_names = class_labels(name, columns, label_column, label_names, declared, num_labels)
    train = TextData(texts["train"], labels["train"])
    if "test" in frames:
        test, holdout = TextData(texts["test"], labels["test"]), False
    else:
        train, test = stratified_holdout(train, fraction=0.2, seed=seed)
        holdout = True
    return LoadedDataset(name, train, test, len(label_names), label_names, holdout, source)


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


def _column(name: str, split: str, df, column: str):
    if column not in df.columns:
        raise DataError(
            f"{name} {split} data has no column {column!r}; columns are: "
            f"{', '.join(map(str, df.columns))} (set text_column/label_column)."
        )
    return df[column]


def _checked_texts(name: str, split: str, df, text_column: str) -> list[str]:
    texts = _column(name, split, df, text_column)
    bad = texts.isna() | (texts.astype(str).str.strip() == "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{name} {split} data has {int(bad.sum())} empty text(s) in column {text_column!r} "
            f"(first at row {row}); allowed: non-empty strings."
        )
    return texts.astype(str).tolist()
