"""Summary tables as an `.xlsx` workbook, one sheet per table, as the notice prints them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from hotline.domain.errors import InvalidInput

Cell = str | int | float | Decimal | None


@dataclass(frozen=True)
class Sheet:
    """One table: a name for the tab, title lines, headings, rows and lines below."""

    name: str
    titles: Sequence[str]
    headings: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    formats: Sequence[str | None]
    """A number format per column (`0.0000`), None for text."""
    notes: Sequence[str] = ()


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write `sheets` to `path`; numbers stay numbers, a missing value is "—".

    A new file is owner-only (0600), like the store: it holds assessment results. A file
    replaced keeps its mode."""
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"--output {path}: the workbook's name must end in .xlsx")
    if not path.parent.is_dir():
        raise InvalidInput(f"--output {path}: no such directory {path.parent}")
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        _add(book, sheet)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
            book.save(file)
    except OSError as error:
        raise InvalidInput(f"--output {path}: cannot write: {error.strerror}") from None


def _add(book: Workbook, sheet: Sheet) -> None:
    ws = book.create_sheet(_tab_name(sheet.name))
    width = len(sheet.headings)
    row = 1
    for index, title in enumerate(sheet.titles):
        ws.cell(row=row, column=1, value=title).font = Font(bold=index == 0, size=12)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
        row += 1
    for column, heading in enumerate(sheet.headings, start=1):
        cell = ws.cell(row=row, column=column, value=heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    for values in sheet.rows:
        row += 1
        for column, (value, number_format) in enumerate(
            zip(values, sheet.formats, strict=True), start=1
        ):
            cell = ws.cell(row=row, column=column, value="—" if value is None else value)
            if number_format and isinstance(value, int | float | Decimal):
                cell.number_format = number_format
            if isinstance(value, Decimal):
                cell.value = float(value)
    row += 1
    for note in sheet.notes:
        row += 1
        ws.cell(row=row, column=1, value=note)
    for column, heading in enumerate(sheet.headings, start=1):
        longest = max(
            [len(heading) * 2, *(len(str(r[column - 1])) * 2 for r in sheet.rows)], default=8
        )
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest, 6), 40)


def _tab_name(name: str) -> str:
    """Sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)
    return cleaned[:31] or "sheet"
