"""The first sheet of an .xlsx read as it streams: its XML parsed row by row (zipfile and
ElementTree's iterparse), so a year's export never sits in memory whole.

calamine holds the whole sheet (716 MB for 240,409 rows of 36 columns); this reader keeps
one row, the styles and the shared strings, each string kept once in a joined block. The
cells are calamine's: numbers as float, a number in a date style (built-in or custom) as
a date, a time of day or a date and time (a duration style as a timedelta), the 1900 and
1904 date systems, shared and inline strings, a formula's cached value, an error
(#N/A) blank. It differs only in
giving each row with the sheet's own number and its cells from column A.

A re-import mostly finds rows it knows (the import ledger), so each `<row>` element is cut
from the XML as bytes (`sheet_row_stream`) and parsed only when its cells are asked for:
its `key` (the element's bytes, with the shared strings it names) decides
its cells, and one cell (the order number) can be read without the rest. A sheet written
otherwise (prefixed element names, a comment or CDATA among the rows) is parsed as a
stream instead, its rows with no key.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import IO
from xml.etree.ElementTree import Element, fromstring, iterparse

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

READ_BYTES = 1 << 20
"""The sheet's XML is cut into rows this much at a time."""
KEY_VERSION = b"sheet-xml/1"
"""Begins every row's key: changed when what decides a row's cells changes, so that a key
kept from before is never taken as this reader's."""
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_SIMPLE_CELL = re.compile(
    rb'<c r="[A-Z]+\d+"(?: s="\d+")? t="(s|inlineStr)">'
    rb"(?:<v>(\d+)</v>|<is><t>([^<&\r]*)</t></is>)</c>"
)
"""A shared or inline string's cell as writers mostly write it, read without parsing."""
_SHARED = re.compile(rb'<c\b[^>]*?\st="s"[^>]*><v>(\d+)</v>')
_SHARED_KIND = re.compile(rb"""t\s*=\s*["']s["'][^>]*(?<!/)>""")
"""Whatever may be a shared string's cell: the row has a key only if `_SHARED` found each."""
_ROOT = re.compile(rb"<worksheet\b[^>]*>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")

Row = tuple[int, list[Cell]]
"""A row's number in the sheet (1-based) and its cells from column A."""


class SheetRow:
    """A row of the sheet whose cells are made when asked for."""

    __slots__ = ("_cells", "_sheet", "_xml", "key", "number")

    def __init__(
        self, number: int, key: bytes | None, xml: bytes = b"", sheet: _RowCutter | None = None,
        cells: list[Cell] | None = None,
    ) -> None:  # fmt: skip
        self.number = number
        self.key = key
        """What decides its cells: its XML as bytes (its row number in it, so a row moved
        is another key), the shared strings it names, the styles' kinds and the date
        system; None if not known."""
        self._xml, self._sheet, self._cells = xml, sheet, cells

    @classmethod
    def of(cls, number: int, cells: list[Cell]) -> SheetRow:
        """A row whose cells are read already."""
        return cls(number, None, cells=cells)

    def cells(self) -> list[Cell]:
        """Its cells from column A (none after the last that is not blank)."""
        if self._cells is None:
            assert self._sheet is not None  # a row is given its cells or its sheet
            self._cells = self._sheet.cells(self._xml)
        return self._cells

    def cell(self, index: int) -> Cell:
        """One cell by its column from 0: that cell's XML alone read, when it can be found."""
        if self._cells is None and self._sheet is not None:
            found = self._sheet.cell(self._xml, self.number, index)
            if found is not None:
                return found[0]
        cells = self.cells()
        return cells[index] if index < len(cells) else None


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
    for row in sheet_row_stream(file):
        if cells := row.cells():
            yield row.number, cells


def sheet_row_stream(
    file: IO[bytes], guard: Callable[[], AbstractContextManager[object]] = nullcontext
) -> Iterator[SheetRow]:
    """The first sheet's rows as `SheetRow`s (a row's cells may be none); the same errors
    as `sheet_rows`, a row's ParseError when its cells are asked for, inside `guard()`."""
    with zipfile.ZipFile(file) as package:
        names = set(package.namelist())
        sheet, strings_part, styles_part, date1904 = _parts(package)
        strings = _shared_strings(package, strings_part) if strings_part in names else None
        kinds = _style_kinds(package, styles_part) if styles_part in names else []
        with package.open(sheet) as xml:
            yield from _RowCutter(xml, strings, kinds, date1904, guard).rows()


class _RowCutter:
    """Cuts the sheet's `<row>` elements out of its XML as bytes, each parsed on demand
    inside a copy of the sheet's root element (which declares the namespaces its
    attributes may use)."""

    def __init__(
        self, xml: IO[bytes], strings: SharedStrings | None, kinds: list[str | None],
        date1904: bool, guard: Callable[[], AbstractContextManager[object]],
    ) -> None:  # fmt: skip
        self.xml, self.strings, self.kinds, self.date1904 = xml, strings, kinds, date1904
        self.guard = guard
        self.context = KEY_VERSION + repr((kinds, date1904)).encode() + b"\0"
        self.root = b""
        self.buffer = b""
        self.at = 0
        """Where the rows not cut yet start in `buffer`."""
        self.number = 0

    def _more(self) -> bool:
        """Read on (the rows cut dropped from the buffer); False at the end of the file."""
        read = self.xml.read(READ_BYTES)
        self.buffer = self.buffer[self.at :] + read
        self.at = 0
        return bool(read)

    def rows(self) -> Iterator[SheetRow]:
        while not (found := _SHEET_DATA.search(self.buffer)) and self._more():
            pass
        root = _ROOT.search(self.buffer)
        if found is None or root is None or root.start() > found.start():
            yield from self._parsed(self.buffer)  # another spelling: parsed as a stream
            return
        if found[1]:  # <sheetData/>: no rows
            return
        self.root = root[0]
        self.at = found.end()
        while True:
            while (at := _skip_space(self.buffer, self.at)) == len(self.buffer):
                self.at = at
                if not self._more():
                    break
            else:
                self.at = at
            if self.buffer.startswith(b"</sheetData", self.at):
                return
            if not self.buffer.startswith(b"<row", self.at):
                break  # a comment, CDATA or the like: the rest parsed as a stream
            end = self._row_end()
            if end is None:
                break
            element = self.buffer[self.at : end]
            if b"<!" in element:
                break
            given = _ROW_NUMBER.search(element, 0, element.find(b">"))
            self.number = int(given[1]) if given else self.number + 1
            self.at = end
            yield self._row(self.number, element)
        yield from self._parsed(self.root + b"<sheetData>" + self.buffer[self.at :])

    def _row_end(self) -> int | None:
        """Where the `<row>` element starting at `at` ends (None: the file ends first)."""
        while True:
            buffer, at = self.buffer, self.at
            tag_end = buffer.find(b">", at)
            if tag_end >= 0 and buffer[tag_end - 1] == ord("/"):
                return tag_end + 1
            close = buffer.find(b"</row>", at) if tag_end >= 0 else -1
            if close >= 0:
                return close + len(b"</row>")
            if not self._more():
                return None

    def _row(self, number: int, element: bytes) -> SheetRow:
        if not _SHARED_KIND.search(element):
            return SheetRow(number, self.context + element, element, self)
        shared = _SHARED.findall(element)
        if len(shared) != len(_SHARED_KIND.findall(element)):
            return SheetRow(number, None, element, self)
        strings = self.strings
        texts = "\0".join(strings[int(i)] for i in shared) if strings is not None else ""
        return SheetRow(number, self.context + element + b"\0" + texts.encode(), element, self)

    def cells(self, row: bytes) -> list[Cell]:
        with self.guard():
            return _cells(self._element(row), self.strings, self.kinds, self.date1904)

    def cell(self, row: bytes, number: int, index: int) -> tuple[Cell] | None:
        """The row's cell in column `index`, if its reference is found (None if not)."""
        start = row.find(b'<c r="%s%d"' % (_column_letters(index), number))
        if start < 0:
            return None
        tag_end = row.find(b">", start)
        end = tag_end + 1 if row[tag_end - 1] == ord("/") else row.find(b"</c>", start) + 4
        simple = _SIMPLE_CELL.fullmatch(row, start, end)
        if simple is not None and simple[1] == b"inlineStr":
            return (simple[3].decode() or None,)
        if simple is not None and self.strings is not None:
            with self.guard():
                return (self.strings[int(simple[2])] or None,)
        with self.guard():
            return (_value(self._element(row[start:end]), self.strings, self.kinds,
                           self.date1904),)  # fmt: skip

    def _element(self, xml: bytes) -> Element:
        """`xml` (a row or a cell) parsed inside the sheet's root element."""
        return fromstring(self.root + xml + b"</worksheet>")[0]

    def _parsed(self, head: bytes) -> Iterator[SheetRow]:
        """The rest of the sheet (`head`, then what is not read yet) parsed as a stream."""
        for number, cells in _rows(_Joined(head, self.xml), self.strings, self.kinds,
                                   self.date1904, self.number):  # fmt: skip
            yield SheetRow.of(number, cells)


class _Joined:
    """`head`, then the rest of `tail`, read as one file."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self.head, self.tail = head, tail

    def read(self, size: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.tail.read(size)


def _skip_space(buffer: bytes, at: int) -> int:
    while at < len(buffer) and buffer[at] in b" \t\r\n":
        at += 1
    return at


@cache
def _column_letters(index: int) -> bytes:
    """A column's letters from its index from 0: 0 → b"A", 27 → b"AB"."""
    letters = b""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = bytes((65 + rest,)) + letters
    return letters


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
    xml: IO[bytes] | _Joined,
    strings: SharedStrings | None,
    kinds: list[str | None],
    date1904: bool,
    number: int = 0,
) -> Iterator[Row]:
    """The rows parsed as a stream (`number`: the row before the first)."""
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
        cells = _cells(element, strings, kinds, date1904)
        if sheet_data is not None:
            sheet_data.clear()  # the rows read are dropped, not kept as empty elements
        if cells:
            yield number, cells


def _cells(
    row: Element, strings: SharedStrings | None, kinds: list[str | None], date1904: bool
) -> list[Cell]:
    cells: list[Cell] = []
    for cell in row:
        reference = cell.get("r")
        if reference:
            index = _column_index(reference)
            if index > len(cells):
                cells.extend([None] * (index - len(cells)))
        cells.append(_value(cell, strings, kinds, date1904))
    while cells and cells[-1] is None:
        cells.pop()
    return cells


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
