"""Where the data shipped with hotline lives (`rubrics/`, `projections/`, the mappings): the
settings' defaults, found without loading any of it (every command's start-up reads them)."""

from __future__ import annotations

from pathlib import Path


def shipped(name: str) -> Path:
    """The copy installed with the package, else the source tree's."""
    installed = Path(__file__).resolve().parents[1] / name
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / name


def rubrics_dir() -> Path:
    """The rubrics shipped with hotline (the default of `--rubrics`)."""
    return shipped("rubrics")


def projections_dir() -> Path:
    """The metric definitions shipped with hotline (the default of `--projections`)."""
    return shipped("projections")
