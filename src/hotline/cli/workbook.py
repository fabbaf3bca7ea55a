"""Summary tables as an `.xlsx` workbook, one sheet per table, as the notice prints them:
frozen headings, columns as wide as their text, A4 landscape fitted to the width with the
titles repeated on every page; native charts and conditional formats, so they stay
editable in Excel and WPS. The sheets are described here; `hotline.cli.workbook_file` makes
them with openpyxl, loaded only when a workbook is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from hotline.cli.export import replace_file
from hotline.domain.errors import InvalidInput

Cell = str | int | float | Decimal | None


@dataclass(frozen=True)
class Bars:
    """A bar chart of one column against another over every row (totals by unit)."""

    title: str
    labels: int
    """The column (from 0) naming each bar."""
    values: int


@dataclass(frozen=True)
class Lines:
    """A line chart with a line per row of `rows` (from 0), across the columns `first` …
    `last`, whose headings are the categories (a unit's months); `label`'s cell names each
    line."""

    title: str
    rows: Sequence[int]
    label: int
    first: int
    last: int


@dataclass(frozen=True)
class Highlight:
    """The cells of `column` filled where `verdict`'s cell in the row reads `text` (未达标):
    a conditional format, a rule rather than a fill, so it follows the cells."""

    column: int
    verdict: int
    text: str


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
    charts: Sequence[Bars | Lines] = ()
    highlights: Sequence[Highlight] = ()
    frozen_columns: int = 0
    """Columns kept in view when scrolling right (序号, 承办部门)."""
    blank: bool = False
    """A missing value left empty (a chart skips it) rather than "—"."""


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write `sheets` to `path`; numbers stay numbers, a missing value is "—", and no text
    is a formula.

    The file is replaced whole, never through a symbolic link (`replace_file`); a new one
    is owner-only (0600), like the store: it holds assessment results."""
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"--output {path}: the workbook's name must end in .xlsx")
    if not path.parent.is_dir():
        raise InvalidInput(f"--output {path}: no such directory {path.parent}")
    from hotline.cli.workbook_file import book  # openpyxl, only where a workbook is written

    replace_file(path, book(sheets).save)
