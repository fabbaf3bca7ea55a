"""The streaming .xlsx reader (adapters/sheet_xml.py) gives calamine's cells: on the
generated year's export, on a workbook openpyxl writes with every kind of date cell, and on
a hand-written package as Excel saves one (shared strings with rich text and phonetic runs,
a merged title row, blank cells, the 1904 date system). Rows come with the sheet's number."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from hotline.adapters.sheet_xml import Row, SheetRow, format_kind, sheet_row_stream, sheet_rows
from hotline.adapters.tables import _cell, read_rows
from hotline.domain.errors import DataFileError
from hotline.domain.mapping import Cell

ROOT = Path(__file__).resolve().parents[1]


def calamine_rows(path: Path) -> dict[int, list[Cell]]:
    """calamine's rows that have a cell, by the sheet's row number, from column A."""
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    offset = sheet.start[1] if sheet.start else 0
    rows: dict[int, list[Cell]] = {}
    for number, values in enumerate(sheet.iter_rows(), start=1):
        cells = [None] * offset + [_cell(value) for value in values]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            rows[number] = cells
    return rows


def streamed(path: Path) -> list[Row]:
    with path.open("rb") as file:
        return list(sheet_rows(file))


def test_the_generated_export_reads_as_calamine_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "year.xlsx"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_year.py"), "--orders", "300",
         "--facts", "--format", "xlsx", "--output", str(path)],
        check=True,
    )  # fmt: skip
    rows = streamed(path)
    assert dict(rows) == calamine_rows(path)
    assert len(rows) == 300 + 4  # two title rows, the header, the orders, 合计
    kinds = {type(cell) for _, cells in rows for cell in cells}
    assert {str, float, datetime} <= kinds  # text, serial numbers and date cells all seen


def test_date_cells_of_every_style_read_as_calamine_reads_them(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["B2"] = "闵行区12345工单导出"
    sheet.merge_cells("B2:F2")
    sheet["B3"] = "导出时间：2019-04-30"
    sheet["B4"], sheet["C4"], sheet["E4"] = "工单编号", "派单时间", "延期至"  # D4 blank
    cells: list[tuple[str, object, str | None]] = [
        ("B5", datetime(2019, 3, 4, 5, 6, 7), None),  # a date cell
        ("C5", date(2019, 3, 4), None),
        ("D5", time(14, 20), None),
        ("E5", 43528.25, None),  # a serial number, no date style: a number
        ("F5", 43528.25, 'yyyy"年"m"月"d"日"'),  # a serial in a Chinese date style
        ("G5", 43529.597222222, "yyyy/m/d h:mm"),
        ("H5", 1.5, "[h]:mm"),  # a duration
        ("I5", 43528, "0.00"),  # a number style: no date
        ("J5", 43528, '"d"0'),  # its d quoted: no date
        ("K5", 43528, "[Red]0"),  # a colour: no date
        ("L5", True, None),
        ("M5", "=HYPERLINK(1)", None),
    ]
    for ref, value, number_format in cells:
        sheet[ref] = value
        if number_format is not None:
            sheet[ref].number_format = number_format
    sheet["M5"].data_type = "s"
    sheet["B7"] = "2019-000002"  # after a blank row
    path = tmp_path / "dates.xlsx"
    book.save(path)
    rows = streamed(path)
    assert dict(rows) == calamine_rows(path)
    assert [number for number, _ in rows] == [2, 3, 4, 5, 7]
    assert rows[3][1][1:] == [
        datetime(2019, 3, 4, 5, 6, 7), date(2019, 3, 4), "14:20:00", 43528.25,
        datetime(2019, 3, 4, 6), datetime(2019, 3, 5, 14, 20), "1 day, 12:00:00",
        43528.0, 43528.0, 43528.0, True, "=HYPERLINK(1)",
    ]  # fmt: skip


SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"/><c r="C1" t="s"/></row>
<row r="3"><c r="A3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c><c r="D3" t="str"><f>A1</f><v>公式</v></c></row>
<row r="4"><c r="A4" t="inlineStr"><is><r><t>行内</t></r><r><t>文字</t></r></is></c><c r="B4" s="1"><v>0</v></c><c r="C4" s="1"><v>1.5</v></c><c r="E4" t="e"><v>#N/A</v></c><c r="F4" s="2"><v>2</v></c></row>
<row><c t="s"><v>3</v></c><c><v>-7</v></c></row>
</sheetData><mergeCells count="1"><mergeCell ref="A1:C1"/></mergeCells></worksheet>"""
SHARED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">
<si><t>12315投诉举报导出</t></si>
<si><r><rPr><b/></rPr><t>工单</t></r><r><t>编号</t></r><rPh sb="0" eb="2"><t>ゴウ</t></rPh></si>
<si><t xml:space="preserve"> 被投诉人 </t></si>
<si><t></t></si>
</sst>"""
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="176"/><xf numFmtId="22"/></cellXfs>
</styleSheet>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<workbookPr{date1904}/><sheets><sheet name="投诉" sheetId="1" r:id="rId1"/>
<sheet name="说明" sheetId="2" r:id="rId2"/></sheets></workbook>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
PACKAGE_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""


def write_package(path: Path, date1904: bool) -> Path:
    """A workbook as Excel writes one: shared strings, its first sheet in sheet2.xml."""
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", PACKAGE_RELS)
        package.writestr("xl/workbook.xml",
                         WORKBOOK.format(date1904=' date1904="1"' if date1904 else ""))  # fmt: skip
        package.writestr("xl/_rels/workbook.xml.rels", RELS)
        package.writestr("xl/worksheets/sheet1.xml", SHEET.replace("12315", "说明"))
        package.writestr("xl/worksheets/sheet2.xml", SHEET)
        package.writestr("xl/sharedStrings.xml", SHARED)
        package.writestr("xl/styles.xml", STYLES)
    return path


@pytest.mark.parametrize("date1904", [False, True])
def test_a_package_as_excel_writes_it_reads_as_calamine_reads_it(
    tmp_path: Path, date1904: bool
) -> None:
    path = write_package(tmp_path / "excel.xlsx", date1904)
    rows = streamed(path)
    assert dict(rows) == calamine_rows(path)
    assert rows == [
        (1, ["12315投诉举报导出"]),
        (3, ["工单编号", None, " 被投诉人 ", "公式"]),
        (4, ["行内文字", "00:00:00", datetime(1904, 1, 2, 12) if date1904 else datetime(1900, 1, 1, 12),
             None, None, date(1904, 1, 3) if date1904 else date(1900, 1, 2)]),
        (5, [None, -7.0]),
    ]  # fmt: skip


def test_a_broken_workbook_is_one_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", "<w/>")
    with pytest.raises(DataFileError, match=r"broken\.xlsx: not a readable workbook"):
        list(read_rows(path, "xlsx"))


def test_number_formats_read_as_dates_as_calamine_reads_them() -> None:
    assert [format_kind(code) for code in (
        "yyyy-mm-dd hh:mm", "m/d/yy", 'yyyy"年"m"月"d"日"', "h:mm AM/PM", "[$-F800]dddd",
        "[h]:mm:ss", "[mm]:ss", "0.00", '"day"0', "\\d0", "[Red]#,##0", "General", "0;[Red]-0",
    )] == ["date", "date", "date", "date", "date", "duration", "duration", None, None, None,
           None, None, None]  # fmt: skip


def keyed(path: Path) -> list[SheetRow]:
    with path.open("rb") as file:
        return list(sheet_row_stream(file))


def test_a_cell_read_alone_is_the_cell_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "year.xlsx"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_year.py"), "--orders", "200",
         "--format", "xlsx", "--output", str(path)],
        check=True,
    )  # fmt: skip
    rows = keyed(path)
    alone = [[row.cell(index) for index in range(40)] for row in rows]  # before the cells
    cells = [row.cells() for row in rows]
    assert alone == [row + [None] * (40 - len(row)) for row in cells]
    assert [(row.number, c) for row, c in zip(rows, cells, strict=True) if c] == streamed(path)
    assert all(row.key is not None for row in rows)
    package = write_package(tmp_path / "excel.xlsx", False)  # cells without references too
    rows = keyed(package)
    assert [[row.cell(i) for i in range(7)] for row in rows] == [
        row.cells() + [None] * (7 - len(row.cells())) for row in rows
    ]


def rewritten(path: Path, target: Path, **parts: Callable[[bytes], bytes]) -> Path:
    """A copy of the package at `path`, each part named (its path's / as __) changed."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as package:
        for name in source.namelist():
            change = parts.get(name.replace("/", "__").replace(".", "_"), lambda data: data)
            package.writestr(name, change(source.read(name)))
    return target


def test_a_key_changes_with_what_decides_the_cells_and_with_the_row_number(tmp_path: Path) -> None:
    path = write_package(tmp_path / "excel.xlsx", False)
    keys = [row.key for row in keyed(path)]
    assert None not in keys and len(set(keys)) == len(keys)
    moved = rewritten(path, tmp_path / "moved.xlsx", xl__worksheets__sheet2_xml=lambda x: x.replace(
        b'r="3"', b'r="13"').replace(b'A3"', b'A13"').replace(b'C3"', b'C13"').replace(
        b'D3"', b'D13"'))  # fmt: skip
    assert [row.number for row in keyed(moved)][1] == 13
    assert [a == b for a, b in zip(keys, [row.key for row in keyed(moved)], strict=True)] == [
        True,
        False,
        True,
        True,
    ]  # a row moved: another key (the ledger compares it)
    edited = rewritten(
        path,
        tmp_path / "edited.xlsx",
        xl__sharedStrings_xml=lambda x: x.replace("被投诉人".encode(), b"X"),
    )
    changed = [row.key for row in keyed(edited)]  # the sheet's XML is the same
    assert [a == b for a, b in zip(keys, changed, strict=True)] == [True, False, True, True]
    restyled = rewritten(
        path,
        tmp_path / "restyled.xlsx",
        xl__styles_xml=lambda x: x.replace(b'numFmtId="22"', b'numFmtId="0"'),
    )
    assert [row.key for row in keyed(restyled)] != keys  # style 2 reads a number, not a date
    assert streamed(restyled)[2][1][5] == 2.0


@pytest.mark.parametrize(
    "change",
    [
        lambda x: x.replace(b'<row r="4">', b'<!-- a comment --><row r="4">'),
        lambda x: x.replace(b"</v></c></row>\n<row>", b"</v></c><!-- --></row>\n<row>"),
        lambda x: (
            x.replace(b"<", b"<x:")
            .replace(b"<x:/", b"</x:")
            .replace(b"<x:?", b"<?")
            .replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x=")
        ),
    ],
    ids=["a comment between rows", "a comment in a row", "prefixed names"],
)
def test_a_sheet_written_otherwise_is_parsed_as_a_stream(
    tmp_path: Path, change: Callable[[bytes], bytes]
) -> None:
    path = write_package(tmp_path / "excel.xlsx", False)
    other = rewritten(path, tmp_path / "other.xlsx", xl__worksheets__sheet2_xml=change)
    with zipfile.ZipFile(other) as package:
        assert package.read("xl/worksheets/sheet2.xml") != package.read("xl/worksheets/sheet1.xml")
    assert streamed(other) == streamed(path)
    assert None in [row.key for row in keyed(other)]  # those rows are not keyed
