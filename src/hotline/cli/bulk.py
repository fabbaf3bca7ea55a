"""`hotline import FILE.jsonl`: load a platform export or a generated year."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hotline.cli.context import application
from hotline.cli.output import printable
from hotline.domain.errors import DataFileError
from hotline.service.importer import Importer, read_lines

MAX_PROBLEMS_SHOWN = 20


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSON Lines, one event a line (docs/import.md).")],
) -> None:
    """Import order events from a JSON Lines file; loading it twice changes nothing."""
    try:
        size = file.stat().st_size
        handle = file.open("rb")
    except OSError as error:
        raise DataFileError(f"{file}: cannot read it: {error.strerror}") from None
    importer = Importer(application(ctx))
    err = Console(stderr=True, highlight=False)
    with handle, Progress(
        TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("import", total=size)
        result = importer.run(read_lines(handle), lambda done: bar.update(task, completed=done))
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        print("hotline:", *printable(f"{file}: {problem}").split(), file=sys.stderr)  # one line
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        more = len(result.problems) - MAX_PROBLEMS_SHOWN
        print(f"hotline: … and {more} more bad lines", file=sys.stderr)
    typer.echo(
        f"{printable(str(file))}: {result.lines} lines, {result.written} events written, "
        f"{result.already_present} already present"
        + (
            f"; {len(result.problems)} bad lines, {result.rejected_orders} orders rejected "
            f"({result.not_written} of their events not written): fix the lines above and "
            "import the file again"
            if result.problems
            else ""
        )
    )
    if result.problems:
        raise typer.Exit(1)
