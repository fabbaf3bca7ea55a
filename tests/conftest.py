"""Shared fixtures: the official calendar, the shipped rules, an application on a temp store.

The store is SQLite, or a fresh PostgreSQL database per test when $HOTLINE_TEST_POSTGRES holds
a server's URL (see tests/stores.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.adapters.official_calendar import official_schedules
from hotline.adapters.rubric_files import load_time_limit_rules, rubrics_dir
from hotline.cli.main import main
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.limits import TimeLimitRules
from hotline.service.application import HotlineApplication
from stores import fresh_database, postgres_server


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(official_schedules())


@pytest.fixture(scope="session")
def rules() -> TimeLimitRules:
    return load_time_limit_rules(rubrics_dir() / "time-limits.toml")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A SQLite store's path (for tests about SQLite files; others take `store`)."""
    return tmp_path / "store" / "hotline.db"


@pytest.fixture
def store(db: Path) -> Iterator[str]:
    """The test's store: the SQLite `db`, or a fresh PostgreSQL database's URL."""
    server = postgres_server()
    if server is None:
        yield str(db)
        return
    with fresh_database(server) as url:
        yield url


@pytest.fixture
def other_store(tmp_path: Path) -> Iterator[str]:
    """A second store of the same kind as `store` (to compare with): SQLite or PostgreSQL."""
    server = postgres_server()
    if server is None:
        yield str(tmp_path / "other" / "hotline.db")
        return
    with fresh_database(server) as url:
        yield url


@pytest.fixture
def app(store: str) -> Iterator[HotlineApplication]:
    application = HotlineApplication(db=store)
    yield application
    application.close()


@pytest.fixture
def cli(store: str, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `hotline --db STORE ARGS...` in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
