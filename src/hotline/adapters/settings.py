"""The settings a command runs with, read from the environment once: each `HOTLINE_*`
variable, else its default, with the command's options laid over them (README: Settings).

Nothing else reads these variables, so an option and its variable cannot disagree on
what a command uses.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.adapters.shipped import projections_dir, rubrics_dir

DB_ENV = "HOTLINE_DB"
RUBRICS_ENV = "HOTLINE_RUBRICS"
PROJECTIONS_ENV = "HOTLINE_PROJECTIONS"
ACTOR_ENV = "HOTLINE_ACTOR"
KEY_ENV = "HOTLINE_KEY"
KEY_FILE_ENV = "HOTLINE_KEY_FILE"
DEBUG_ENV = "HOTLINE_DEBUG"
ALERTS_ENV = "HOTLINE_ALERTS"


@dataclass(frozen=True)
class Settings:
    db: str
    """The store: a SQLite file or a `postgresql://` URL."""
    rubrics: Path
    """The rubrics folder: the unit registry, the time limits, the rubrics."""
    projections: Path
    """The metric definitions folder (`projections/*.py`)."""
    actor: str | None
    """Who records what the command writes (录入人); None: the operating-system user on
    SQLite, the database role on PostgreSQL."""
    key: str | None
    """The store's key as set (checked when the store is opened)."""
    key_file: str | None
    """The file holding the store's key, as named."""
    debug: bool
    """Show the traceback of an internal error."""
    alerts: Path | None = None
    """The alert routing file (docs/alerts.md); None: alerts are not delivered."""

    def given(
        self,
        *,
        db: str | None = None,
        rubrics: Path | None = None,
        projections: Path | None = None,
        actor: str | None = None,
    ) -> Settings:
        """These settings with each option given (not None; a store not empty) in place of
        what it overrides."""
        return dataclasses.replace(
            self,
            db=db or self.db,
            rubrics=self.rubrics if rubrics is None else rubrics,
            projections=self.projections if projections is None else projections,
            actor=self.actor if actor is None else actor,
        )


def read_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings `environ` (default: the process's environment) makes: each variable set
    and not empty, else its default."""
    env = os.environ if environ is None else environ
    return Settings(
        db=env.get(DB_ENV) or str(default_db_path(env)),
        rubrics=Path(env.get(RUBRICS_ENV) or rubrics_dir()),
        projections=Path(env.get(PROJECTIONS_ENV) or projections_dir()),
        actor=env.get(ACTOR_ENV) or None,
        key=env.get(KEY_ENV),
        key_file=env.get(KEY_FILE_ENV),
        debug=bool(env.get(DEBUG_ENV)),
        alerts=Path(env[ALERTS_ENV]) if env.get(ALERTS_ENV) else None,
    )


def default_db_path(environ: Mapping[str, str]) -> Path:
    """`$XDG_DATA_HOME/hotline/hotline.db` (usually `~/.local/share/hotline/hotline.db`)."""
    data_home = environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "hotline" / "hotline.db"
