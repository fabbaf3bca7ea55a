"""Summary tables as an `.xlsx` workbook, one sheet per table, as the notice prints them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hotline.cli.export import reads_as_formula, replace_file
from hotline.cli.output import printable
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
    """Write `sheets` to `path`; numbers stay numbers, a missing value is "—", and no text
    is a formula.

    The file is replaced whole, never through a symbolic link (`replace_file`); a new one
    is owner-only (0600), like the store: it holds assessment results."""
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"--output {path}: the workbook's name must end in .xlsx")
    if not path.parent.is_dir():
        raise InvalidInput(f"--output {path}: no such directory {path.parent}")
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        _add(book, sheet)
    replace_file(path, book.save)


def _add(book: Workbook, sheet: Sheet) -> None:
    ws = book.create_sheet(_tab_name(sheet.name))
    width = len(sheet.headings)
    row = 1
    for index, title in enumerate(sheet.titles):
        _cell(ws, row, 1, title).font = Font(bold=index == 0, size=12)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
        row += 1
    for column, heading in enumerate(sheet.headings, start=1):
        cell = _cell(ws, row, column, heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    for values in sheet.rows:
        row += 1
        for column, (value, number_format) in enumerate(
            zip(values, sheet.formats, strict=True), start=1
        ):
            cell = _cell(ws, row, column, "—" if value is None else value)
            if number_format and isinstance(value, int | float | Decimal):
                cell.number_format = number_format
            if isinstance(value, Decimal):
                cell.value = float(value)
    row += 1
    for note in sheet.notes:
        row += 1
        _cell(ws, row, 1, note)
    for column, heading in enumerate(sheet.headings, start=1):
        longest = max(
            [len(heading) * 2, *(len(str(r[column - 1])) * 2 for r in sheet.rows)], default=8
        )
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest, 6), 40)


def _cell(ws: Worksheet, row: int, column: int, value: Cell) -> SheetCell:
    """Put `value` in a cell. Text shows its control characters (a worksheet cannot hold
    them); text a spreadsheet could take for a formula is stored as text, marked to stay
    text when edited (as Excel's leading apostrophe does)."""
    shown = printable(value) if isinstance(value, str) else value
    cell: SheetCell = ws.cell(row=row, column=column, value=shown)
    if reads_as_formula(shown):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _tab_name(name: str) -> str:
    """Sheet names: at most 31 characters, none of []:*?/\\, control characters shown."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in printable(name))
    return cleaned[:31] or "sheet"
