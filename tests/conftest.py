"""Shared fixtures: the official calendar, the shipped rules, an application on a temp store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.adapters.official_calendar import official_schedules
from hotline.adapters.rubric_files import load_time_limit_rules, rubrics_dir
from hotline.cli.main import main
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.limits import TimeLimitRules
from hotline.service.application import HotlineApplication


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(official_schedules())


@pytest.fixture(scope="session")
def rules() -> TimeLimitRules:
    return load_time_limit_rules(rubrics_dir() / "time-limits.toml")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "hotline.db"


@pytest.fixture
def app(db: Path) -> HotlineApplication:
    return HotlineApplication(db=str(db))


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `hotline --db DB ARGS...` in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
