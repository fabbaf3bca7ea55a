"""A table of rows out to a file: an .xlsx workbook, or CSV in GB18030 (what a spreadsheet
in China opens without asking). No cell is a formula, and the file is replaced whole
(`replace_file`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from hotline.cli.export import csv_cell, reads_as_formula, replace_file
from hotline.cli.output import printable
from hotline.domain.errors import InvalidInput

TableCell = str | int | float | datetime | None
"""A cell: text, a number, or a time (a date cell in a workbook)."""
SUFFIXES = (".xlsx", ".csv")


def write_csv(file: BinaryIO, rows: Iterable[Sequence[TableCell]]) -> None:
    """`rows` as CSV in GB18030 with CRLF line ends, no cell a formula, a time as
    "YYYY-MM-DD HH:MM"."""
    text = io.TextIOWrapper(file, encoding="gb18030", newline="")
    writer = csv.writer(text)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    text.flush()
    text.detach()


def _csv_value(value: TableCell) -> object:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return "" if value is None else csv_cell(value)


def write_xlsx(file: BinaryIO, sheet: str, rows: Iterable[Sequence[TableCell]]) -> None:
    """`rows` as a one-sheet workbook, written as they come (openpyxl's write-only mode: a
    year of orders does not sit in memory as cells)."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    book.save(file)


def _xlsx_cell(worksheet: WriteOnlyWorksheet, value: TableCell) -> Cell:
    """A cell: numbers stay numbers, a time is a date cell, text shows its control
    characters (a worksheet cannot hold them), and text a spreadsheet could take for a
    formula is stored as text, marked to stay text when edited."""
    shown = printable(value) if isinstance(value, str) else value
    cell = WriteOnlyCell(worksheet, value=shown)
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    if reads_as_formula(shown):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def check_table_path(path: Path) -> None:
    """Refuse an `--output` that is neither .xlsx nor .csv, or whose folder is missing,
    before anything is read or recorded."""
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"--output {path}: the file's name must end in .xlsx or .csv")
    if not path.parent.is_dir():
        raise InvalidInput(f"--output {path}: no such directory {path.parent}")


def write_table(path: Path, sheet: str, rows: Iterable[Sequence[TableCell]]) -> None:
    """`rows` to `path` (.xlsx or .csv by its suffix), replaced whole."""
    check_table_path(path)
    if path.suffix.lower() == ".csv":
        replace_file(path, lambda file: write_csv(file, rows))
    else:
        replace_file(path, lambda file: write_xlsx(file, sheet, rows))
