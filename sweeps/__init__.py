"""Ray Tune sweep entry points (`python sweeps/grid.py`) and their grid presets (`sweeps/presets/*.yaml`)."""
