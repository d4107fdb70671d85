"""The round-record schema (``hybridal/records.py``), loaded without importing the ``hybridal`` package.

``hybridal/__init__.py`` imports the AL engine (torch, transformers): seconds of start-up, and
a hard dependency that a laptop analysing a sweep copied from a bucket should not need. So
``records.py`` is executed on its own, under a private module name, unless ``hybridal.records``
is already imported (then that module is used).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

_PRIVATE_NAME = "_hybridal_records_for_analysis"


def records_module() -> ModuleType:
    if "hybridal.records" in sys.modules:
        return sys.modules["hybridal.records"]
    if _PRIVATE_NAME in sys.modules:
        return sys.modules[_PRIVATE_NAME]
    spec = importlib.util.find_spec("hybridal")  # locates the package without running its __init__
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(location, "records.py")
        if os.path.isfile(path):
            file_spec = importlib.util.spec_from_file_location(_PRIVATE_NAME, path)
            module = importlib.util.module_from_spec(file_spec)
            sys.modules[_PRIVATE_NAME] = module  # dataclasses look their module up here
            file_spec.loader.exec_module(module)
            return module
    import hybridal.records as module  # e.g. a zipped install: import it the ordinary way

    return module


RECORD_FIELDS: tuple[str, ...] = tuple(records_module().RECORD_FIELDS)
