"""Loading the shipped data (`rubrics/`, `projections/`; where it lives: `shipped`)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

# Re-exported: where the shipped rubrics and metrics are, beside loading them.
from hotline.adapters.shipped import projections_dir as projections_dir
from hotline.adapters.shipped import rubrics_dir as rubrics_dir
from hotline.adapters.toml_file import load_toml, read_toml, validate
from hotline.domain.errors import DataFileError, InvalidInput
from hotline.domain.limits import TimeLimitRules
from hotline.domain.units import UnitRegistry

if TYPE_CHECKING:  # loaded by the commands that score: an order's commands need neither
    from hotline.domain.metrics import Metric
    from hotline.domain.rubric import GroupSpec, Rubric


def load_time_limit_rules(path: Path) -> TimeLimitRules:
    """The 1·5·13 rule parameters in the TOML file at `path`."""
    return load_toml(path, TimeLimitRules, "time-limit rules")


def rubric_path(name: str, directory: Path) -> Path:
    """The rubric file `name` names: a path to a `.toml` file, or a rubric's name
    (`shanghai-12345-2019`) looked up in `directory`."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return Path(name)
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in available_rubrics(directory))
        raise InvalidInput(
            f"unknown rubric {name!r}; use one of: {known}, or a path to a .toml file"
        )
    return path


def available_rubrics(directory: Path) -> list[Path]:
    """The rubric files in `directory` (every `*.toml` with a `kind`)."""
    return sorted(p for p in directory.glob("*.toml") if "kind" in read_toml(p, "rubric"))


def load_rubric(
    name: str, metrics: Collection[str], units: UnitRegistry, directory: Path
) -> Rubric:
    """The rubric `name` names (in `directory`, or a file), checked against the known
    metrics and units."""
    from hotline.domain.rubric import KINDS, WeightedRubric, metric_keys

    path = rubric_path(name, directory)
    raw = read_toml(path, "rubric")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DataFileError(f"{path}: kind: must be one of {', '.join(KINDS)}, not {kind!r}")
    rubric = validate(KINDS[kind], raw, str(path))
    for where, key in metric_keys(rubric):
        if key not in metrics:
            raise DataFileError(
                f"{path}: {where}: unknown metric {key!r}; use one of: {', '.join(sorted(metrics))}"
            )
    if isinstance(rubric, WeightedRubric):
        for index, group in enumerate(rubric.group):
            _check_group(path, index, group, units)
    else:
        for index, key in enumerate(getattr(rubric, "groups", ())):
            if key not in {g.key for g in units.groups}:
                raise DataFileError(f"{path}: groups[{index}]: unknown unit group {key!r}")
    return rubric


def _check_group(path: Path, index: int, group: GroupSpec, units: UnitRegistry) -> None:
    where = f"{path}: group[{index}]"
    if group.key not in {g.key for g in units.groups}:
        known = ", ".join(g.key for g in units.groups)
        raise DataFileError(f"{where}.key: unknown unit group {group.key!r}; use one of: {known}")
    for position, name in enumerate(group.units):
        if name not in units:
            raise DataFileError(f"{where}.units[{position}]: unknown unit {name!r}")
        if units.get(name).group != group.key:
            raise DataFileError(
                f"{where}.units[{position}]: {name} belongs to group "
                f"{units.get(name).group!r} in the unit registry, not {group.key!r}"
            )


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
    from hotline.domain.metrics import Metric

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
