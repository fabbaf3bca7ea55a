"""The sheets of `hotline.cli.workbook` made into an openpyxl workbook: imported only when
one is written, so that a report without --output does not load openpyxl (start-up,
docs/performance.md)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from hotline.cli.export import reads_as_formula
from hotline.cli.output import printable
from hotline.cli.workbook import Bars, Cell, Highlight, Lines, Sheet

CHART_ROWS = 16
"""The rows a chart takes, so that stacked charts do not overlap."""
NOT_MET = DifferentialStyle(
    fill=PatternFill(fill_type="solid", bgColor="FFC7CE"), font=Font(color="9C0006")
)
"""Excel's light red fill with dark red text."""


def book(sheets: Sequence[Sheet]) -> Workbook:
    """A workbook of `sheets`, one per table."""
    made = Workbook()
    made.remove(made.active)  # type: ignore[arg-type]
    for sheet in sheets:
        _add(made, sheet)
    return made


def _add(book: Workbook, sheet: Sheet) -> None:
    ws = book.create_sheet(_tab_name(sheet.name))
    width = len(sheet.headings)
    row = 1
    for index, title in enumerate(sheet.titles):
        _cell(ws, row, 1, title).font = Font(bold=index == 0, size=12)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
        row += 1
    heading_row = row
    for column, heading in enumerate(sheet.headings, start=1):
        cell = _cell(ws, row, column, heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=sheet.frozen_columns + 1)
    for values in sheet.rows:
        row += 1
        for column, (value, number_format) in enumerate(
            zip(values, sheet.formats, strict=True), start=1
        ):
            if value is None and sheet.blank:
                continue
            cell = _cell(ws, row, column, "—" if value is None else value)
            if number_format and isinstance(value, int | float | Decimal):
                cell.number_format = number_format
            if isinstance(value, Decimal):
                cell.value = float(value)
    last_row = row
    row += 1
    for note in sheet.notes:
        row += 1
        _cell(ws, row, 1, note)
    for column, heading in enumerate(sheet.headings, start=1):
        longest = max([_width(heading), *(_width(r[column - 1]) for r in sheet.rows)])
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest, 6), 40)
    for highlight in sheet.highlights:
        _highlight(ws, highlight, heading_row + 1, last_row)
    beside = f"{get_column_letter(width + 2)}"
    for index, chart in enumerate(sheet.charts):
        made = (
            _bars(ws, chart, heading_row, last_row)
            if isinstance(chart, Bars)
            else (_lines(ws, chart, heading_row))
        )
        ws.add_chart(made, f"{beside}{heading_row + index * CHART_ROWS}")
    _print_setup(ws, heading_row)


def _bars(ws: Worksheet, spec: Bars, heading_row: int, last_row: int) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.title = printable(spec.title)
    chart.legend = None
    chart.width, chart.height = 24, 7.5
    values = Reference(ws, min_col=spec.values + 1, min_row=heading_row, max_row=last_row)
    chart.add_data(values, titles_from_data=True)
    chart.set_categories(
        Reference(ws, min_col=spec.labels + 1, min_row=heading_row + 1, max_row=last_row)
    )
    return chart


def _lines(ws: Worksheet, spec: Lines, heading_row: int) -> LineChart:
    chart = LineChart()
    chart.title = printable(spec.title)
    chart.width, chart.height = 24, 7.5
    first, last = spec.first + 1, spec.last + 1
    for index in spec.rows:
        row = heading_row + 1 + index
        values = Reference(ws, min_col=first, max_col=last, min_row=row, max_row=row)
        series = Series(values)
        label = f"{quote_sheetname(ws.title)}!${get_column_letter(spec.label + 1)}${row}"
        series.tx = SeriesLabel(strRef=StrRef(label))
        chart.series.append(series)
    chart.set_categories(
        Reference(ws, min_col=first, max_col=last, min_row=heading_row, max_row=heading_row)
    )
    return chart


def _highlight(ws: Worksheet, spec: Highlight, first_row: int, last_row: int) -> None:
    column = get_column_letter(spec.column + 1)
    verdict = get_column_letter(spec.verdict + 1)
    text = spec.text.replace('"', '""')
    ws.conditional_formatting.add(
        f"{column}{first_row}:{column}{last_row}",
        Rule(type="expression", formula=[f'${verdict}{first_row}="{text}"'], dxf=NOT_MET),
    )


def _print_setup(ws: Worksheet, heading_row: int) -> None:
    """A4 landscape, as wide as one page, the titles and headings on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"1:{heading_row}"


def _width(value: Cell) -> int:
    """A column's width for `value`: a CJK character takes two, others one, and a margin."""
    text = "—" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text) + 2


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
