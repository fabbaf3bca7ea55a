"""Where the shipped data lives (`rubrics/`, `projections/`), and loading it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from hotline.adapters.toml_file import load_toml
from hotline.domain.errors import DataFileError
from hotline.domain.limits import TimeLimitRules
from hotline.domain.metrics import Metric

RUBRICS_ENV = "HOTLINE_RUBRICS"
PROJECTIONS_ENV = "HOTLINE_PROJECTIONS"


def _shipped(name: str) -> Path:
    """The copy installed with the package, else the source tree's."""
    installed = Path(__file__).resolve().parents[1] / name
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / name


def rubrics_dir() -> Path:
    """`$HOTLINE_RUBRICS`, else the rubrics shipped with hotline."""
    return Path(os.environ.get(RUBRICS_ENV) or _shipped("rubrics"))


def projections_dir() -> Path:
    """`$HOTLINE_PROJECTIONS`, else the metric definitions shipped with hotline."""
    return Path(os.environ.get(PROJECTIONS_ENV) or _shipped("projections"))


def load_time_limit_rules(path: Path) -> TimeLimitRules:
    """The 1·5·13 rule parameters in the TOML file at `path`."""
    return load_toml(path, TimeLimitRules, "time-limit rules")


def load_metrics(directory: Path) -> list[Metric]:
    """The metrics defined in `directory`, one `METRIC` per `*.py` file."""
    files = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise DataFileError(f"{directory}: no metric definitions (*.py files) found")
    metrics = [_load_metric(path) for path in files]
    keys = [metric.key for metric in metrics]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise DataFileError(f"{directory}: metric key(s) defined twice: {', '.join(twice)}")
    return metrics


def _load_metric(path: Path) -> Metric:
    spec = importlib.util.spec_from_file_location(f"hotline_projections.{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise DataFileError(f"{path}: cannot load: {type(error).__name__}: {error}") from None
    metric = getattr(module, "METRIC", None)
    if not isinstance(metric, Metric):
        raise DataFileError(f"{path}: defines no METRIC = hotline.domain.metrics.Metric(...)")
    return metric
