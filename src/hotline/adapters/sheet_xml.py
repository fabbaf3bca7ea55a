"""The first sheet of an .xlsx read as it streams: its XML parsed row by row (zipfile and
ElementTree's iterparse), so a year's export never sits in memory whole.

calamine holds the whole sheet (716 MB for 240,409 rows of 36 columns); this reader keeps
one row, the styles and the shared strings, each string kept once in a joined block. The
cells are calamine's: numbers as float, a number in a date style (built-in or custom) as
a date, a time of day or a date and time (a duration style as a timedelta), the 1900 and
1904 date systems, shared and inline strings, a formula's cached value, an error
(#N/A) blank. It differs only in
giving each row with the sheet's own number and its cells from column A.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from hotline.domain.mapping import Cell

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ROW, CELL, VALUE, INLINE, TEXT, RUN = (MAIN + t for t in ("row", "c", "v", "is", "t", "r"))
BLOCK = 4096
"""Shared strings joined into one text per this many (a str each costs ~60 bytes more)."""
DATE_FORMAT_IDS = frozenset((*range(14, 23), 45, 47))
"""The built-in number formats calamine takes for dates and times."""
DURATION_FORMAT_IDS = frozenset((46,))
EXCEL_EPOCH = datetime(1899, 12, 30)
DAYS_1904 = 1462
"""The 1904 date system's day 0 is the 1900 system's day 1462."""
MS_A_DAY = 86_400_000
_CELL_REFERENCE = re.compile(r"[A-Z]+")

Row = tuple[int, list[Cell]]
"""A row's number in the sheet (1-based) and its cells from column A."""


class SharedStrings:
    """The workbook's shared strings, by index, stored compactly: per block of `BLOCK`
    strings one joined text and the offsets where each ends."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._ends: list[array[int]] = []
        self._pending: list[str] = []

    def append(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) == BLOCK:
            self._close_block()

    def _close_block(self) -> None:
        ends = array("L")
        end = 0
        for text in self._pending:
            end += len(text)
            ends.append(end)
        self._texts.append("".join(self._pending))
        self._ends.append(ends)
        self._pending = []

    def finish(self) -> SharedStrings:
        if self._pending:
            self._close_block()
        return self

    def __getitem__(self, index: int) -> str:
        block, at = divmod(index, BLOCK)
        ends = self._ends[block]
        return self._texts[block][ends[at - 1] if at else 0 : ends[at]]


def sheet_rows(file: IO[bytes]) -> Iterator[Row]:
    """The first sheet's rows that have cells, numbered as the sheet numbers them.
    Raises zipfile.BadZipFile, KeyError (a part missing) or ParseError on a broken file."""
    with zipfile.ZipFile(file) as package:
        names = set(package.namelist())
        sheet, strings_part, styles_part, date1904 = _parts(package)
        strings = _shared_strings(package, strings_part) if strings_part in names else None
        kinds = _style_kinds(package, styles_part) if styles_part in names else []
        with package.open(sheet) as xml:
            yield from _rows(xml, strings, kinds, date1904)


def _parts(package: zipfile.ZipFile) -> tuple[str, str, str, bool]:
    """The first sheet's part, the shared strings' and the styles', and whether the
    workbook counts dates from 1904."""
    book_part = "xl/workbook.xml"
    targets: dict[str, tuple[str, str]] = {}
    with package.open("xl/_rels/workbook.xml.rels") as xml:
        for _, element in iterparse(xml):
            if element.tag == PACKAGE_RELATIONSHIPS + "Relationship":
                target = element.get("Target", "")
                part = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target)))  # fmt: skip
                targets[element.get("Id", "")] = (element.get("Type", "").rsplit("/")[-1], part)
    first: str | None = None
    date1904 = False
    with package.open(book_part) as xml:
        for _, element in iterparse(xml):
            if element.tag == MAIN + "workbookPr":
                date1904 = element.get("date1904", "false").lower() in ("1", "true")
            elif element.tag == MAIN + "sheet" and first is None:
                first = targets[element.get(RELATIONSHIPS + "id", "")][1]
    if first is None:
        raise KeyError("the workbook has no sheet")
    by_type = {kind: part for kind, part in targets.values()}
    return (first, by_type.get("sharedStrings", "xl/sharedStrings.xml"),
            by_type.get("styles", "xl/styles.xml"), date1904)  # fmt: skip


def _shared_strings(package: zipfile.ZipFile, part: str) -> SharedStrings:
    strings = SharedStrings()
    with package.open(part) as xml:
        for _, element in iterparse(xml):
            if element.tag == MAIN + "si":
                strings.append(_text(element))
                element.clear()
    return strings.finish()


def _text(element: Element) -> str:
    """A string item's text: its own <t>, or its runs' (phonetic runs left out)."""
    own = element.find(TEXT)
    if own is not None:
        return own.text or ""
    return "".join(run.findtext(TEXT) or "" for run in element.iter(RUN))


def _style_kinds(package: zipfile.ZipFile, part: str) -> list[str | None]:
    """Per cell style (cellXfs), "date", "duration" or None, from its number format."""
    custom: dict[int, str] = {}
    kinds: list[str | None] = []
    in_cell_xfs = False
    with package.open(part) as xml:
        for event, element in iterparse(xml, events=("start", "end")):
            if element.tag == MAIN + "cellXfs":
                in_cell_xfs = event == "start"
            elif event == "end" and element.tag == MAIN + "numFmt":
                custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
            elif event == "end" and element.tag == MAIN + "xf" and in_cell_xfs:
                kinds.append(_format_kind(int(element.get("numFmtId", "0")), custom))
    return kinds


def _format_kind(number_format: int, custom: dict[int, str]) -> str | None:
    if number_format in custom:
        return format_kind(custom[number_format])
    if number_format in DATE_FORMAT_IDS:
        return "date"
    return "duration" if number_format in DURATION_FORMAT_IDS else None


def format_kind(code: str) -> str | None:
    """Whether a number format shows a date or time ("date"), a duration ("duration",
    [h]:mm and the like) or a number (None), as calamine reads it: quoted text, escaped
    characters and [colour] brackets do not count, and only the first section does."""
    escaped = quoted = am_pm = elapsed = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return None
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and elapsed:
            return "duration"
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and char in "aA" and not am_pm:
            am_pm = True
        elif brackets == 0 and char in ("pmPM/" if am_pm else "dmhysDMHYS"):
            return "date"
        elif not (elapsed and char.lower() == previous.lower()):
            elapsed = previous == "[" and char in "mhsMHS"
        previous = char
    return None


def _rows(
    xml: IO[bytes], strings: SharedStrings | None, kinds: list[str | None], date1904: bool
) -> Iterator[Row]:
    number = 0
    sheet_data: Element | None = None
    for event, element in iterparse(xml, events=("start", "end")):
        if event == "start":
            if element.tag == MAIN + "sheetData":
                sheet_data = element
            continue
        if element.tag != ROW:
            continue
        given = element.get("r")
        number = int(given) if given else number + 1
        cells: list[Cell] = []
        for cell in element:
            reference = cell.get("r")
            if reference:
                index = _column_index(reference)
                if index > len(cells):
                    cells.extend([None] * (index - len(cells)))
            cells.append(_value(cell, strings, kinds, date1904))
        while cells and cells[-1] is None:
            cells.pop()
        if sheet_data is not None:
            sheet_data.clear()  # the rows read are dropped, not kept as empty elements
        if cells:
            yield number, cells


def _column_index(reference: str) -> int:
    """A cell reference's column from 0: "A7" → 0, "AB7" → 27."""
    letters = _CELL_REFERENCE.match(reference)
    index = 0
    for letter in letters.group() if letters else "A":
        index = index * 26 + ord(letter) - 64
    return index - 1


def _value(
    cell: Element, strings: SharedStrings | None, kinds: list[str | None], date1904: bool
) -> Cell:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(INLINE)
        return (_text(inline) or None) if inline is not None else None
    text = cell.findtext(VALUE)
    if not text:
        return None
    if kind == "s":
        return (strings[int(text)] or None) if strings is not None else None
    if kind == "str":
        return text
    if kind == "e":
        return None  # #N/A and the like: calamine gives them blank
    if kind == "b":
        return text == "1"
    if kind == "d":
        return datetime.fromisoformat(text)
    value = float(text)
    style = int(cell.get("s", "0"))
    form = kinds[style] if style < len(kinds) else None
    if form is None:
        return value
    return _moment(value, form, date1904)


def _moment(value: float, form: str, date1904: bool) -> Cell:
    """An Excel serial number as calamine gives it (to the millisecond); a time of day or
    a duration as text, as hotline reads those."""
    if form == "duration":
        return str(timedelta(milliseconds=_milliseconds(value)))
    days = value + DAYS_1904 if date1904 else value
    if days < 60:  # Excel's day 60 is the 29 February 1900 that never was
        days += 1
    moment = EXCEL_EPOCH + timedelta(milliseconds=_milliseconds(days))
    if value < 1:
        return str(moment.time())
    if moment.time() == time(0):
        return date(moment.year, moment.month, moment.day)
    return moment


def _milliseconds(days: float) -> int:
    """Rounded half away from zero, as Rust's f64::round."""
    scaled = days * MS_A_DAY
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)
