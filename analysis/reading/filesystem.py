"""Where an experiment lives: a local folder, or a URL read through pyarrow.fs or fsspec.

``s3://``, ``gs://`` and ``hdfs://`` go through ``pyarrow.fs`` (no extra package needed);
other schemes (``memory://``, ``az://``, ...) through fsspec and the package it asks for.
"""

from __future__ import annotations

import os
import posixpath

import pyarrow.fs as pafs

from analysis.reading.problems import AnalysisError

_PYARROW_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs")


def open_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """Return a pyarrow file system and the path of `uri` on it (local paths stay local)."""
    if "://" not in uri:
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(uri))
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "file":
        return pafs.LocalFileSystem(), os.path.abspath(uri.split("://", 1)[1])
    if scheme in _PYARROW_SCHEMES:
        try:
            fs, path = pafs.FileSystem.from_uri(uri)
        except Exception as exc:  # noqa: BLE001 - reported as one sentence
            raise AnalysisError(f"Cannot open {uri}: {exc}") from None
        return fs, path.rstrip("/")
    try:
        import fsspec

        ffs, path = fsspec.core.url_to_fs(uri)
    except Exception as exc:  # noqa: BLE001 - reported as one sentence
        raise AnalysisError(f"Cannot open {uri}: {exc}") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(ffs)), str(path).rstrip("/")


class Reader:
    """Reads text files of one experiment folder through a pyarrow file system."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.fs, self.root = open_filesystem(uri)

    def list_files(self) -> list[str]:
        """All file paths under the root, relative to it, with '/' separators."""
        try:
            info = self.fs.get_file_info(self.root)
        except Exception as exc:  # noqa: BLE001
            raise AnalysisError(f"Cannot read {self.uri}: {exc}") from None
        if info.type == pafs.FileType.NotFound:
            raise AnalysisError(f"The experiment folder {self.uri} does not exist.")
        if info.type != pafs.FileType.Directory:
            raise AnalysisError(f"{self.uri} is not a folder: pass the experiment folder.")
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=True))
        except Exception as exc:  # noqa: BLE001
            raise AnalysisError(f"Cannot list {self.uri}: {exc}") from None
        root = self.root.rstrip("/") + "/"
        out = []
        for i in infos:
            if i.type != pafs.FileType.File:
                continue
            path = i.path.replace(os.sep, "/") if isinstance(self.fs, pafs.LocalFileSystem) else i.path
            root_n = root.replace(os.sep, "/")
            rel = path[len(root_n) :] if path.startswith(root_n) else path.lstrip("/")
            out.append(rel)
        return sorted(out)

    def read_bytes(self, rel: str) -> bytes:
        path = posixpath.join(self.root, rel) if rel else self.root
        if isinstance(self.fs, pafs.LocalFileSystem):
            path = os.path.join(self.root, *rel.split("/"))
        with self.fs.open_input_stream(path) as f:
            return f.read()

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8", errors="replace")
