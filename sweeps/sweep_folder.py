"""Where a sweep lives: `<storage>/<name>/` (a local folder or s3://, gs://, ...), and the sweep
file `hybridal-sweep.json` (the trial list) next to Tune's state. Imports no Ray."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from sweeps.errors import SweepError, first_line
from sweeps.trials import Trial, grid_key

SWEEP_FILE = "hybridal-sweep.json"
DEFAULT_STORAGE = "./ray_results"
REMOTE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "abfs", "az", "file")


def resolve_storage(path: str) -> str:
    """A URI as given (known schemes only) or an absolute local folder."""
    if "://" in path:
        scheme = path.split("://", 1)[0].lower()
        if scheme not in REMOTE_SCHEMES:
            raise SweepError(
                f"--storage-path {path!r} has scheme {scheme!r}; allowed: a local folder or "
                f"{', '.join(s + '://' for s in REMOTE_SCHEMES)}."
            )
        return path.rstrip("/")
    return str(Path(path).expanduser().resolve())


def experiment_uri(storage: str, name: str) -> str:
    return f"{storage}/{name}" if "://" in storage else str(Path(storage) / name)


class SweepStore:
    """The experiment folder of one sweep, through pyarrow's filesystem (local or cloud)."""

    def __init__(self, uri: str):
        import pyarrow.fs as pafs

        self.uri = uri
        if "://" not in uri:
            self.fs, self.path = pafs.LocalFileSystem(), uri
            return
        try:
            self.fs, self.path = pafs.FileSystem.from_uri(uri)
        except Exception as exc:  # noqa: BLE001 - reported as one sentence
            raise SweepError(f"cannot open the storage path {uri} ({type(exc).__name__}: {first_line(exc)}).") from None

    def check_writable(self) -> None:
        probe = f"{self.path}/.hybridal-write-test-{os.getpid()}"
        try:
            self.fs.create_dir(self.path, recursive=True)
            with self.fs.open_output_stream(probe) as handle:
                handle.write(b"ok")
            self.fs.delete_file(probe)
        except Exception as exc:  # noqa: BLE001 - permission, read-only, a file in the way, credentials...
            raise SweepError(
                f"cannot write to the storage path {self.uri} ({type(exc).__name__}: {first_line(exc)}); "
                "pass a writable --storage-path."
            ) from None

    def read(self) -> Optional[dict]:
        """The sweep file, or None where there is none."""
        import pyarrow.fs as pafs

        target = f"{self.path}/{SWEEP_FILE}"
        if self.fs.get_file_info(target).type != pafs.FileType.File:
            return None
        with self.fs.open_input_stream(target) as handle:
            return json.loads(handle.read().decode())

    def write(self, content: dict) -> None:
        with self.fs.open_output_stream(f"{self.path}/{SWEEP_FILE}") as handle:
            handle.write(json.dumps(content, indent=1, default=str).encode())

    def shared(self, restorable: bool, asked: bool) -> bool:
        """Whether the sweep shares prefixes: as stored for a sweep being resumed (sweeps from before
        shared prefixes ran standalone), else as asked."""
        if not restorable:
            return asked
        return bool((self.read() or {}).get("share", False))

    def write_json(self, file: str, content: dict) -> None:
        """A JSON file in the experiment folder, written whole (a temporary name, then a move)."""
        tmp = f"{self.path}/.{file}.tmp"
        with self.fs.open_output_stream(tmp) as handle:
            handle.write(json.dumps(content, indent=1, default=str).encode())
        self.fs.move(tmp, f"{self.path}/{file}")

    def trials_to_run(self, asked: Optional[list[Trial]], restorable: bool, resume: bool) -> list[Trial]:
        """The trials of this sweep: the stored ones where Tune's state is here, else `asked`.

        Refuses a resume with nothing stored, Tune state that is not a sweep's, and another grid
        under the same name.
        """
        if resume and not restorable:
            raise SweepError(
                f"nothing to resume at {self.uri}: no Tune state there; leave out --resume to start the sweep."
            )
        self.check_writable()
        if not restorable:
            return list(asked or [])
        stored = self.read()
        if stored is None:
            raise SweepError(
                f"{self.uri} holds a Ray Tune experiment that sweeps/grid.py did not start; pass another --name."
            )
        trials = [Trial.from_json(t) for t in stored["trials"]]
        if asked is not None and grid_key(trials) != grid_key(asked):
            raise SweepError(
                f"{self.uri} holds a sweep with a different grid ({len(trials)} trials there, {len(asked)} "
                "asked for now); pass a new --name, or --resume without --preset/--config to continue it."
            )
        return trials
