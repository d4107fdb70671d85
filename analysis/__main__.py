"""``python -m analysis EXPERIMENT_DIR --out OUT_DIR``: same as ``python -m analysis.report``."""

import sys

from analysis.report import main

sys.exit(main())
