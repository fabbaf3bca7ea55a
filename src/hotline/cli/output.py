"""Tabular output in three formats: a rich table, JSON, or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

WIDE = 240
"""Output that is not a terminal (a file, a pipe) is not squeezed to 80 columns."""


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table (for people), json or csv (for programs).")
]


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    output: Format,
    title: str = "",
    document: dict[str, Any] | None = None,
    headed_csv: bool = False,
) -> None:
    """Print `rows` (dicts keyed by the first element of each column) in `output` format.

    `columns` pairs a key with its table heading; JSON wraps the rows in `document`.
    CSV is headed by the keys, or by the headings with `headed_csv` (the official tables).
    """
    if output is Format.JSON:
        payload = {**(document or {}), "rows": list(rows)}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif output is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([heading if headed_csv else key for key, heading in columns])
        for row in rows:
            writer.writerow(["" if row.get(key) is None else row[key] for key, _ in columns])
    else:
        table = Table(*(heading for _, heading in columns), title=title or None)
        for row in rows:
            table.add_row(*("—" if row.get(key) is None else str(row[key]) for key, _ in columns))
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=WIDE)
        console.print(table)
