"""Where the rubric data files live (`rubrics/`), and loading the ones kept as TOML."""

from __future__ import annotations

import os
from pathlib import Path

from hotline.adapters.toml_file import load_toml
from hotline.domain.limits import TimeLimitRules

RUBRICS_ENV = "HOTLINE_RUBRICS"


def rubrics_dir() -> Path:
    """`$HOTLINE_RUBRICS`, else the copy installed with the package, else the source tree's."""
    if configured := os.environ.get(RUBRICS_ENV):
        return Path(configured)
    installed = Path(__file__).resolve().parents[1] / "rubrics"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / "rubrics"


def load_time_limit_rules(path: Path) -> TimeLimitRules:
    """The 1·5·13 rule parameters in the TOML file at `path`."""
    return load_toml(path, TimeLimitRules, "time-limit rules")
