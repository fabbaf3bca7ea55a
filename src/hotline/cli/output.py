"""Tabular output in three formats: a rich table, JSON, or CSV; and what makes stored text
safe to show in a terminal."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from hotline.cli.export import csv_cell

WIDE = 1000
"""Output that is not a terminal (a file, a pipe) is not squeezed to 80 columns: a table
is as wide as its columns (the rates table of every metric is some 300)."""


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table (for people), json or csv (for programs).")
]

CONTROL_PICTURES: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"},
    0x7F: "\u2421",
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
    **{code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
"""Control characters as visible symbols (ESC as ␛; C1 and bidirectional overrides as �)."""
UNESCAPED_IN_JSON = re.compile(
    f"[{''.join(chr(code) for code in CONTROL_PICTURES if code > 0x7E)}]"
)


def points(
    value: Decimal | Fraction | None, output: Format, trim: bool = True
) -> float | str | None:
    """Points as shown: a number in JSON (and workbooks), else as printed ("6", "1.50";
    "6.00" without `trim`)."""
    from hotline.domain.scoring import POINTS_DECIMALS, shown_points, shown_text  # scores only

    if value is None:
        return None
    rounded = value if isinstance(value, Decimal) else shown_points(value)
    return float(rounded) if output is Format.JSON else shown_text(rounded, POINTS_DECIMALS, trim)


def printable(text: str) -> str:
    """`text` (a summary, a note, an actor, a name from a file) safe to print in a terminal:
    its control characters are shown, not obeyed, so no escape sequence stored can recolour,
    move the cursor, retitle the window or make a link. Newlines and tabs stay."""
    return text.translate(CONTROL_PICTURES)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` of `noun` in a message: "1 row", "0 rows", "2 bad lines"."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def shown(value: object) -> Text:
    """A value for a rich table or line: printable, and never read as markup."""
    return Text(printable(str(value)))


def json_text(document: Any, indent: int | None = 2) -> str:
    """`document` as JSON, each control character escaped (`json` leaves all but C0 raw)."""
    text = json.dumps(document, ensure_ascii=False, indent=indent)
    return UNESCAPED_IN_JSON.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


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
        typer.echo(json_text(payload))
    elif output is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([csv_cell(heading if headed_csv else key) for key, heading in columns])
        for row in rows:
            writer.writerow(
                ["" if row.get(key) is None else csv_cell(row[key]) for key, _ in columns]
            )
    else:
        table = Table(
            *(Column(shown(heading)) for _, heading in columns),
            title=shown(title) if title else None,
        )
        for row in rows:
            table.add_row(*(shown("—" if row.get(key) is None else row[key]) for key, _ in columns))
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=WIDE)
        console.print(table)
