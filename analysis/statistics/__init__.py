"""Statistics: per-trial metrics, seed aggregation, frontiers, paired choices and the headline, from the
tables analysis.reading builds. Imports analysis.reading only; the modules are listed in analysis/__init__.py."""
