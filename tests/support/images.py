"""A PNG figure is readable: large enough, not blank, with coloured marks."""

from __future__ import annotations

from pathlib import Path


def assert_png_readable(path: Path, min_colour: float = 0.002) -> None:
    import matplotlib.image as mpimg

    assert path.stat().st_size > 15_000, path
    img = mpimg.imread(path)
    rgb = img[..., :3]
    assert img.shape[0] > 300 and img.shape[1] > 500
    non_white = (rgb < 0.95).any(axis=-1).mean()
    assert non_white > 0.03, f"{path.name} is nearly blank"
    saturated = (rgb.max(axis=-1) - rgb.min(axis=-1) > 0.3).mean()
    assert saturated > min_colour, f"{path.name} has no coloured marks"
