"""`hotline verify`: whether the stored events are those hotline wrote."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hotline.cli.context import application
from hotline.domain.errors import HotlineError
from hotline.service.application import HotlineApplication
from hotline.service.verify import Verification, verify


class Tampered(HotlineError):
    """The store holds events hotline did not write as they are."""


def verify_store(
    ctx: typer.Context,
    order: Annotated[str | None, typer.Option(help="Check only this order's events.")] = None,
) -> None:
    """Check every stored event against its order's hash chain and the read model's audit
    trail: one line for each event altered, moved or removed (docs/verify.md)."""
    found = checked(application(ctx), order)
    if not found.clean:
        raise Tampered(f"{found.summary()}; see docs/verify.md")
    typer.echo(found.summary())


def checked(hotline: HotlineApplication, order: str | None = None) -> Verification:
    """`verify`, with a progress bar on a terminal and a line on stdout for each problem."""
    err = Console(stderr=True, highlight=False)
    with Progress(
        TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("verify", total=None)
        found = verify(
            hotline, order, lambda done, total: bar.update(task, completed=done, total=total)
        )
    for problem in found.problems:
        typer.echo(str(problem))
    return found
