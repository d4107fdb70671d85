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

    def tune_trials(self) -> Optional[dict[str, str]]:
        """Trial id -> status in Tune's newest experiment state (JSON); None where there is none."""
        import json

        import pyarrow.fs as pafs

        folder = self.path.rsplit("/", 1)[0]
        names = sorted(
            info.base_name
            for info in self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
            if info.base_name.startswith("experiment_state-") and info.base_name.endswith(".json")
        )
        if not names:
            return None
        with self.fs.open_input_stream(f"{folder}/{names[-1]}") as handle:
            state = json.loads(handle.read().decode())
        trials = [
            json.loads(entry[0]) if isinstance(entry[0], str) else entry[0] for entry in state.get("trial_data", [])
        ]
        return {t["trial_id"]: t.get("status") for t in trials if "trial_id" in t}

    def retire_trial(self, name: str) -> None:
        """Move the folders of `name`'s ended trials to `<experiment>/.superseded/` (hidden, so analysis
        reads only the trial that runs it again on --resume, which then gets the plain folder name)."""
        import json
        import time

        import pyarrow.fs as pafs

        folder = self.path.rsplit("/", 1)[0]
        for info in self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True)):
            if info.type != pafs.FileType.Directory or not info.base_name.startswith(name):
                continue
            params = self.trial_file(info.base_name, "params.json")
            if params is None or json.loads(params).get("trial_name") != name:
                continue
            self.fs.create_dir(f"{folder}/.superseded", recursive=True)
            try:
                self.fs.move(info.path, f"{folder}/.superseded/{info.base_name}-{int(time.time())}")
            except OSError:  # a store that cannot move folders: the old one stays beside the new
                pass

    def remove_entries(self, names: list[str]) -> None:
        """Delete these runs' folders of the store (a trunk's saved states, a run's copy)."""
        import pyarrow.fs as pafs

        for name in names:
            if self.fs.get_file_info(f"{self.path}/{name}").type == pafs.FileType.Directory:
                self.fs.delete_dir(f"{self.path}/{name}")

    def remove(self) -> None:
        """Delete the whole store (the sweep's runs no longer need it)."""
        import pyarrow.fs as pafs

        if self.fs.get_file_info(self.path).type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path)

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
