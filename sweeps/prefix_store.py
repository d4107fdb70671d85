"""Where a shared sweep keeps what its runs hand to each other, under the experiment folder
(local or s3://, gs://, ...), so forks and copies can run on any node:

    <experiment>/.prefixes/<trunk>/after-round-<r>/   a trunk's state after round r (a checkpoint)
    <experiment>/.prefixes/<run>/run/                 a finished trunk's or fork's rounds.jsonl + summary.json

The folder is hidden, so analysis (which skips hidden folders) never reads these copies as runs.
Imports no Ray.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

PREFIX_DIR = ".prefixes"
RUN_FILES = ("rounds.jsonl", "summary.json")


class PrefixStore:
    def __init__(self, experiment_uri: str):
        import pyarrow.fs as pafs

        self.uri = f"{experiment_uri.rstrip('/')}/{PREFIX_DIR}"
        if "://" in experiment_uri:
            self.fs, self.path = pafs.FileSystem.from_uri(self.uri)
        else:
            self.fs, self.path = pafs.LocalFileSystem(), str(Path(self.uri).resolve())

    # ---- a trunk's states --------------------------------------------------------------------
    def prefix_rel(self, trunk: str, round_idx: int) -> str:
        return f"{trunk}/after-round-{round_idx}"

    def put_prefix(self, trunk: str, round_idx: int, folder: Path) -> None:
        self._put(Path(folder), self.prefix_rel(trunk, round_idx))

    def get_prefix(self, trunk: str, round_idx: int, folder: Path) -> bool:
        """Copy the state into `folder`; False if the trunk never saved it (or it was removed)."""
        return self._get(self.prefix_rel(trunk, round_idx), Path(folder))

    def describe_prefix(self, trunk: str, round_idx: int) -> str:
        return f"{self.uri}/{self.prefix_rel(trunk, round_idx)}"

    # ---- finished runs -------------------------------------------------------------------------
    def put_run(self, name: str, run_dir: Path) -> None:
        """Publish a finished run's records and summary (what copies of it read)."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="hybridal-run-") as tmp:
            for file in RUN_FILES:
                shutil.copy2(Path(run_dir) / file, Path(tmp) / file)
            self._put(Path(tmp), f"{name}/run")

    def get_run(self, name: str, folder: Path) -> bool:
        return self._get(f"{name}/run", Path(folder))

    # ---- what a restored sweep reads back ------------------------------------------------------
    def saved_prefixes(self, trunk: str) -> list[int]:
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(f"{self.path}/{trunk}", allow_not_found=True)
        names = [info.base_name for info in self.fs.get_file_info(selector) if info.type == pafs.FileType.Directory]
        return sorted(int(n.rsplit("-", 1)[1]) for n in names if n.startswith("after-round-"))

    def trial_file(self, name: str, file: str) -> Optional[str]:
        """A file of the trial folder `<experiment>/<name>/` (what Tune synced), or None."""
        import pyarrow.fs as pafs

        target = f"{self.path.rsplit('/', 1)[0]}/{name}/{file}"
        if self.fs.get_file_info(target).type != pafs.FileType.File:
            return None
        with self.fs.open_input_stream(target) as handle:
            return handle.read().decode()

    # ---- transfer --------------------------------------------------------------------------------
    def _put(self, local: Path, rel: str) -> None:
        import pyarrow.fs as pafs

        target = f"{self.path}/{rel}"
        self.fs.create_dir(target, recursive=True)
        pafs.copy_files(str(local), target, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=self.fs)

    def _get(self, rel: str, local: Path) -> bool:
        import pyarrow.fs as pafs

        source = f"{self.path}/{rel}"
        if self.fs.get_file_info(source).type != pafs.FileType.Directory:
            return False
        local.mkdir(parents=True, exist_ok=True)
        pafs.copy_files(source, str(local), source_filesystem=self.fs, destination_filesystem=pafs.LocalFileSystem())
        return True
