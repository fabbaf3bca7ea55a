"""`hotline import FILE`: load JSON Lines of events or a platform export (.xlsx, .xls,
CSV) through a mapping; `hotline mappings` lists the mappings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hotline.adapters.mapping_files import (
    DEFAULT_MAPPING,
    load_mapping,
    mapping_path,
    mappings_dir,
    shipped_mappings,
)
from hotline.adapters.tables import file_format
from hotline.cli.context import application
from hotline.cli.options import in_range
from hotline.cli.output import counted, printable
from hotline.domain.errors import DataFileError, InvalidInput, UnknownUnit
from hotline.service.exports import Layout, open_export
from hotline.service.import_workers import ParallelImporter, default_workers
from hotline.service.importer import (
    REJECTION_REASONS,
    Importer,
    ImportResult,
    read_lines,
)

MAX_PROBLEMS_SHOWN = 20
_MISSING_UNIT = (
    "; a unit the registry lacks is added by `hotline units add NAME --group G [--under "
    "BUREAU] [--from DATE]` (docs/units.md)"
)


def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="JSON Lines, one event a line, or an export (docs/import.md).")
    ],
    mapping: Annotated[
        str,
        typer.Option(
            help="An export's mapping: a shipped one's name (`hotline mappings`) or a .toml file."
        ),
    ] = DEFAULT_MAPPING,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Show what would be imported and its problems; write nothing."
        ),
    ] = False,
    correct: Annotated[
        bool,
        typer.Option(
            "--correct",
            help="An export's conflicts recorded as corrections (the file and row the reason).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="JSON Lines: processes applying the order rules, the orders shared out by "
            "number (default: one per core; 1: this process alone).",
        ),
    ] = None,
) -> None:
    """Import order events from JSON Lines or a platform export (.xlsx, .xls, CSV), the
    format found from the content; loading it twice changes nothing."""  # fmt: skip
    if workers is not None:
        in_range("--workers", workers, 1, hint="1 imports in this process alone; leave it out "
                 "for one per core")  # fmt: skip
    form = file_format(file)
    layout: Layout | None = None
    with ExitStack() as opened:
        if form == "jsonl":
            if correct:
                raise InvalidInput(
                    f"{file}: --correct is for an export's conflicts; JSON Lines have none "
                    "(correct an event with `hotline order correct`)"
                )
            try:
                size = file.stat().st_size
                handle = opened.enter_context(file.open("rb"))
            except OSError as error:
                raise DataFileError(f"{file}: cannot read it: {error.strerror}") from None
            count = default_workers() if workers is None else workers
            app = application(ctx)
            if count > 1:
                parallel = opened.enter_context(ParallelImporter(app, count, dry_run=check))
                result = _run(lambda bar: parallel.run(read_lines(handle), bar), size)
            else:
                single = Importer(app, dry_run=check, origin=file.name)
                result = _run(lambda bar: single.run(read_lines(handle), bar), size)
        else:  # an export's rows in this process (its import ledger makes a re-import cheap)
            layout, entries = open_export(file, form, load_mapping(mapping_path(mapping)))
            if check:
                _show_layout(file, form, mapping, layout)
            importer = Importer(application(ctx), dry_run=check, correct=correct, origin=file.name)
            result = _run(lambda bar: importer.run_entries(entries, bar), 0)  # rows: no bar
    _report(file, result, layout, check, correct)


def _run(run: Callable[[Callable[[int], None]], ImportResult], size: int) -> ImportResult:
    """`run` with a progress bar on a terminal, given how far it got out of `size`."""
    err = Console(stderr=True, highlight=False)
    with Progress(
        TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal or not size,
    ) as bar:  # fmt: skip
        task = bar.add_task("import", total=size)
        return run(lambda done: bar.update(task, completed=done))


def _show_layout(file: Path, form: str, mapping: str, layout: Layout) -> None:
    typer.echo(
        f"{printable(str(file))}: {form}, mapping {mapping}, header on row {layout.header_row}"
    )
    for _, header, column in layout.columns:
        typer.echo(f"  {printable(header)} → {', '.join(column.to)}")
    unmapped = ", ".join(printable(h) for h in layout.unmapped) or "none"
    typer.echo(f"  not mapped: {unmapped}")


def _report(
    file: Path, result: ImportResult, layout: Layout | None, check: bool, correct: bool
) -> None:
    said = [*map(str, result.problems), *map(str, result.conflicts)]
    for line in said[:MAX_PROBLEMS_SHOWN]:
        print("hotline:", *printable(f"{file}: {line}").split(), file=sys.stderr)  # one line
    if len(said) > MAX_PROBLEMS_SHOWN:
        more = len(said) - MAX_PROBLEMS_SHOWN
        what = "problem" if layout is not None else "bad line"
        print(f"hotline: … and {counted(more, 'more ' + what)}", file=sys.stderr)
    written = f"{counted(result.written, 'event')} {'would be ' if check else ''}written"
    if layout is None:
        typer.echo(
            f"{printable(str(file))}: {counted(result.lines, 'line')}, {written}, "
            f"{result.already_present} already present"
            + (
                f"; {counted(len(result.problems), 'bad line')}, "
                f"{counted(result.rejected_orders, 'order')} rejected "
                f"({result.not_written} of their events not written): fix the lines above and "
                "import the file again"
                if result.problems
                else ""
            )
        )
    else:
        rejected = sum(result.rows_rejected.values())
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(result.rows_rejected.items()))
        typer.echo(
            f"{printable(str(file))}: {counted(result.rows_imported, 'row')} imported, "
            f"{result.rows_unchanged} unchanged"
            + (f" ({result.rows_known} known from the import ledger)" if result.rows_known else "")
            + f", {result.rows_conflicting} conflicting, "
            f"{rejected} rejected" + (f" ({reasons})" if reasons else "")
            + f"; {written}, {result.already_present} already present"
            + (f", {counted(result.corrected, 'conflict')} {'would be ' if check else ''}corrected"
               if correct else "")
            + (_MISSING_UNIT if result.rows_rejected.get(REJECTION_REASONS[UnknownUnit]) else "")
        )  # fmt: skip
    if said:
        raise typer.Exit(1)


def list_mappings() -> None:
    """The shipped export mappings: name, file, columns known, what it is for."""
    for path in shipped_mappings():
        mapping = load_mapping(path)
        headers = sum(len(column.headers) for column in mapping.column)
        typer.echo(
            f"{path.stem}\t{path.relative_to(mappings_dir().parent.parent)}\t"
            f"{len(mapping.column)} columns ({headers} header names)\t{mapping.description}"
        )
