"""What every command shares: where the store and the rubrics are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from hotline.service.application import HotlineApplication


@dataclass(frozen=True)
class Settings:
    db: str | None
    rubrics: Path | None
    actor: str | None


def application(ctx: typer.Context) -> HotlineApplication:
    """The application over the store chosen by `--db` / `$HOTLINE_DB`, recording as
    `--actor` / `$HOTLINE_ACTOR` (default: the operating-system user)."""
    settings: Settings = ctx.find_root().obj
    return HotlineApplication(db=settings.db, rubrics=settings.rubrics, actor=settings.actor)
