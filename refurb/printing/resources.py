"""Where label templates, stock presets and fonts live: `labels/`, editable without touching code."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ("font_path", "labels_dir")


def labels_dir() -> Path:
    """`REFURB_LABELS_DIR`, else `labels/` of a source checkout or its copy inside an installed wheel."""
    configured = os.environ.get("REFURB_LABELS_DIR")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_labels", package.parent / "labels"):
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError(f"no labels/ folder next to {package}")


def font_path(bold: bool = False) -> Path:
    """The TrueType font every label format measures and draws text with."""
    name = "DejaVuSansCondensed-Bold.ttf" if bold else "DejaVuSansCondensed.ttf"
    return labels_dir() / "fonts" / name
