"""`hotline projections ...`: the read model the reports use."""

from __future__ import annotations

import typer

from hotline.cli.report import reports

app = typer.Typer(help="The read model: where it stands, and rebuilding it.", no_args_is_help=True)


@app.command()
def status(ctx: typer.Context) -> None:
    """How far the read model has followed the event store."""
    found = reports(ctx).projection.status()
    typer.echo(
        f"read model at event {found.position} of {found.head} ({found.lag} behind); "
        f"{found.orders} orders"
    )


@app.command()
def rebuild(ctx: typer.Context) -> None:
    """Empty the read model and project every event again."""
    projection = reports(ctx).projection
    applied = projection.rebuild()
    typer.echo(f"read model rebuilt from {applied} events; {projection.status().orders} orders")
