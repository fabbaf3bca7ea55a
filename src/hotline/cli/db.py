"""`hotline db init | upgrade | grant | allow | disallow`: the store's tables and roles, by
their owner (docs/scaling.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from hotline.adapters.postgres import Part
from hotline.adapters.settings import Settings
from hotline.cli.context import settings
from hotline.cli.output import counted
from hotline.service.database import Prepared, grant, permit, prepare

app = typer.Typer(
    help="The store's tables and roles (PostgreSQL), run as the tables' owner.",
    no_args_is_help=True,
)


def _db(ctx: typer.Context) -> Settings:
    return settings(ctx)


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
    rebuilt = counted(done.rebuilt, "event")
    return f"{done.store}: tables ready; read model rebuilt in the new layout ({rebuilt})"


RoleArgument = Annotated[str, typer.Argument(help="A PostgreSQL role (login).")]
ActorOption = Annotated[str, typer.Option("--actor", help="A person (录入人), e.g. 王芳.")]


@app.command("grant")
def grant_part(
    ctx: typer.Context,
    role: RoleArgument,
    part: Annotated[Part, typer.Option("--as", help="The role's part in the deployment.")],
    script: Annotated[
        bool, typer.Option("--print", help="Print the SQL instead of running it.")
    ] = False,
) -> None:
    """Give a PostgreSQL role exactly the rights of its part, taking back any others: every
    part reads the events and keeps the read model; operators, importers and the scheduler
    also append events (never change or delete them), the scheduler keeps its job too."""
    sql = grant(_db(ctx), role, part, script)
    typer.echo(sql.rstrip("\n") if sql is not None else f"{role} granted the part of {part}")


@app.command("allow")
def allow_actor(ctx: typer.Context, role: RoleArgument, actor: ActorOption) -> None:
    """Let a PostgreSQL role record events as a person (`--actor`); its own name is on them."""
    done = permit(_db(ctx), role, actor, allowed=True)
    typer.echo(f"{role} may record as {actor}" + ("" if done else " (it already could)"))


@app.command("disallow")
def disallow_actor(ctx: typer.Context, role: RoleArgument, actor: ActorOption) -> None:
    """Stop a PostgreSQL role recording as a person."""
    done = permit(_db(ctx), role, actor, allowed=False)
    typer.echo(f"{role} may no longer record as {actor}" + ("" if done else " (it could not)"))
