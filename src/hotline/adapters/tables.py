"""Reading a platform export's rows from .xlsx, .xls or CSV, the format found from the
file's content (an export is often saved under the wrong name).

An .xlsx's first sheet is streamed from its XML (adapters/sheet_xml.py: calamine holds
the whole sheet, 716 MB for a year's export), each row's cells made only when asked for
(`read_sheet_rows`, which a re-import mostly does not); an .xls, small by nature, is read with
python-calamine. CSV and text files in UTF-8 (with or without BOM) or GB18030 (GBK's
superset, what Chinese Excel saves), with the delimiter (comma, tab or semicolon) found
from the file's start. Each row comes with the number the user sees: the sheet's row, the
text's line (where a record with a line break in a cell starts).
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import ParseError

from python_calamine import CalamineError, CalamineWorkbook

from hotline.adapters.sheet_xml import Row, SheetRow, sheet_row_stream, sheet_rows
from hotline.domain.errors import DataFileError
from hotline.domain.mapping import Cell

Format = Literal["jsonl", "xlsx", "xls", "csv"]
ZIP_MAGIC = b"PK\x03\x04"
"""An .xlsx is a zip package."""
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
"""An .xls (BIFF8) is an OLE2 compound file."""
SAMPLE_BYTES = 1 << 16
"""How much of a text file decides its encoding and delimiter."""
DELIMITERS = (",", "\t", ";")
csv.field_size_limit(1 << 20)  # a cell as long as the longest summary, and more


JSON_LINES_NAMES = (".jsonl", ".ndjson", ".json")


def file_format(path: Path) -> Format:
    """The file's format from its first bytes: a workbook by its magic number (a file named
    JSON Lines only if it really is a zip: else its first line is a bad line); JSON Lines
    when the first line that is not blank is a JSON object or the text file is named so
    (its bad lines are then reported as such), else delimited text. A pipe or a device
    (/dev/stdin), which can be read only once, is JSON Lines."""
    try:
        regular = path.is_file()
    except OSError:  # a name too long, say: reading it as JSON Lines says so in one line
        regular = False
    if not regular:
        return "jsonl"
    head = _sample(path)
    named_json_lines = path.suffix.lower() in JSON_LINES_NAMES
    if head.startswith(ZIP_MAGIC) and not (named_json_lines and not zipfile.is_zipfile(path)):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if named_json_lines:
        return "jsonl"
    first = next((line for line in head.removeprefix(codecs.BOM_UTF8).splitlines()
                  if line.strip()), b"")  # fmt: skip
    return "jsonl" if not first or first.lstrip().startswith(b"{") else "csv"


def read_rows(path: Path, form: Format) -> Iterator[Row]:
    """The rows of the workbook's first sheet or of the delimited text, each with its
    number, blank cells None."""
    if form == "xlsx":
        return _xlsx_rows(path)
    if form == "xls":
        return _workbook_rows(path)
    return _text_rows(path)


def read_sheet_rows(path: Path, form: Format) -> Iterator[SheetRow]:
    """`read_rows` as `SheetRow`s: an .xlsx's with their keys and cells made when asked for
    (a broken row's DataFileError then), other formats' read already, with no key."""
    if form != "xlsx":
        for number, cells in read_rows(path, form):
            yield SheetRow.of(number, cells)
        return
    with _workbook_errors(path), path.open("rb") as file:
        yield from sheet_row_stream(file, lambda: _workbook_errors(path))


def _sample(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(SAMPLE_BYTES)
    except OSError as error:
        raise DataFileError(f"{path}: cannot read it: {error.strerror}") from None


def _xlsx_rows(path: Path) -> Iterator[Row]:
    with _workbook_errors(path), path.open("rb") as file:
        yield from sheet_rows(file)


@contextmanager
def _workbook_errors(path: Path) -> Iterator[None]:
    """A broken or unreadable .xlsx as a DataFileError naming `path`."""
    try:
        yield
    except OSError as error:
        raise DataFileError(f"{path}: cannot read it: {error.strerror}") from None
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError, IndexError) as error:
        raise DataFileError(f"{path}: not a readable workbook: {error}") from None


def _workbook_rows(path: Path) -> Iterator[Row]:
    """calamine's rows: from the sheet's first row, so numbered from 1."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        for number, row in enumerate(sheet.iter_rows(), start=1):
            yield number, [_cell(value) for value in row]
    except CalamineError as error:  # the base of calamine's errors
        raise DataFileError(f"{path}: not a readable workbook: {error}") from None


def _cell(value: object) -> Cell:
    if value == "":
        return None
    if isinstance(value, str | int | float | bool | datetime | date):
        return value
    return str(value)  # a time of day or a duration


def encoding_of(sample: bytes) -> str:
    """UTF-8 (BOM or not) if the sample decodes so, else GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # may end mid-character
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def delimiter_of(text: str) -> str:
    """The delimiter most used in the sample (title rows have none, so counts decide)."""
    return max(DELIMITERS, key=text.count)


def _text_rows(path: Path) -> Iterator[Row]:
    sample = _sample(path)
    encoding = encoding_of(sample)
    delimiter = delimiter_of(sample.decode(encoding, errors="ignore"))
    try:
        with path.open(encoding=encoding, newline="") as file:
            reader = csv.reader(file, delimiter=delimiter)
            start = 1
            for row in reader:
                yield start, [cell if cell.strip() else None for cell in row]
                start = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path}: not {encoding} text past its start ({error.reason}); save it as UTF-8 "
            "or GB18030"
        ) from None
    except csv.Error as error:
        raise DataFileError(f"{path}: not delimited text: {error}") from None
