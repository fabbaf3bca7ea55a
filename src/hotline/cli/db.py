"""`hotline db init | upgrade`: the store's tables, by their owner (docs/scaling.md)."""

from __future__ import annotations

import typer

from hotline.cli.context import Settings
from hotline.service.database import Prepared, prepare

app = typer.Typer(
    help="The store's tables and roles (PostgreSQL), run as the tables' owner.",
    no_args_is_help=True,
)


def _db(ctx: typer.Context) -> str | None:
    settings: Settings = ctx.find_root().obj
    return settings.db


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store's tables, indexes and types; what is there is kept. On PostgreSQL,
    run it as the database role that is to own them, before any other command."""
    typer.echo(_said(prepare(_db(ctx))))


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the tables of an older hotline up to this one's layout (a read model of an older
    layout is replaced and rebuilt from the events), as their owner."""
    typer.echo(_said(prepare(_db(ctx), upgrade=True)))


def _said(done: Prepared) -> str:
    if done.rebuilt is None:
        return f"{done.store}: tables ready"
    return (
        f"{done.store}: tables ready; read model rebuilt in the new layout ({done.rebuilt} events)"
    )
