"""What every command shares: its settings, read once, and the application over them."""

from __future__ import annotations

import typer

from hotline.adapters.settings import Settings
from hotline.service.application import HotlineApplication


def settings(ctx: typer.Context) -> Settings:
    """The command's settings: the environment's, with the root options (`--db`, `--rubrics`,
    `--projections`, `--actor`) laid over them."""
    found: Settings = ctx.find_root().obj
    return found


def application(ctx: typer.Context) -> HotlineApplication:
    """The application over the command's settings."""
    return HotlineApplication(settings=settings(ctx))
