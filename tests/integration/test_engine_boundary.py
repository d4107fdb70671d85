"""`hybridal/` is the engine: it never imports Ray, `sweeps` or `analysis` (issue 11)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_every_hybridal_module_leaves_ray_sweeps_and_analysis_out():
    code = (
        "import importlib, pkgutil, sys\n"
        "import hybridal\n"
        "names = [m.name for m in pkgutil.walk_packages(hybridal.__path__, 'hybridal.')\n"
        "         if not m.name.endswith('.__main__')]   # importing __main__ runs the command line\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'sweeps', 'analysis'))\n"
        "assert len(names) > 10 and not leaked, leaked[:10]\n"
        "print(len(names))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_hybridal_source_imports_ray_sweeps_or_analysis():
    pattern = re.compile(r"^\s*(import|from)\s+(ray|sweeps|analysis)\b", re.M)
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "hybridal").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
