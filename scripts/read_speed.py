"""Time reading an export's rows: hotline's streaming reader (adapters/sheet_xml.py),
python-calamine and openpyxl's read-only mode.

`scripts/read_speed.py [--rows 240409] [--file PATH]` writes (once) an .xlsx of that many
rows in the default export layout's 36 columns, then reads every row with each library
and prints seconds and rows/s (the figures in docs/import.md).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from hotline.adapters.sheet_xml import sheet_rows

HEADERS = [
    "工单编号", "派单时间", "承办单位", "渠道", "工单类型", "一级分类", "二级分类", "三级分类",
    "诉求内容", "诉求人", "来电号码", "地址", "区", "街道", "被投诉对象", "统一社会信用代码",
    "关联工单号", "先行联系时间", "联系方式", "延期申请时间", "延期至", "延期原因", "退单时间",
    "退单类型", "退单原因", "二次退回时间", "办结时间", "办理结果", "是否告知", "回访时间",
    "回访是否联系上", "回访是否一致", "满意度", "是否纳入测评", "督办时间", "督办有责",
]  # fmt: skip


def write(path: Path, rows: int) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    start = datetime(2019, 1, 2, 9, 0)
    for n in range(rows):
        at = start + timedelta(minutes=2 * n)
        row: list[object] = [f"2019-{n:06d}", at, "闵行区市场监管局", "12345", "投诉", "市场监管",
                             "食品安全", "过期食品", "在超市买到过期食品，要求退一赔十" * 3, "张三",
                             "13812345678", "某路1号", "闵行区", "莘庄镇", "某超市", None, None,
                             at + timedelta(hours=20), "电话", None, None, None, None, None, None,
                             None, at + timedelta(days=6), "实际解决", "是", at + timedelta(days=9),
                             "是", "是", "满意", "是", None, None]  # fmt: skip
        sheet.append(row)
    book.save(path)


def with_sheet_xml(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _ in sheet_rows(file))


def with_calamine(path: Path) -> int:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sum(1 for _ in sheet.iter_rows())


def with_openpyxl(path: Path) -> int:
    book = openpyxl.load_workbook(path, read_only=True)
    count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return count


READERS: dict[str, Callable[[Path], int]] = {
    "sheet-xml": with_sheet_xml,
    "python-calamine": with_calamine,
    "openpyxl-read-only": with_openpyxl,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=240_409)
    parser.add_argument("--file", type=Path, default=Path("read-speed.xlsx"))
    parser.add_argument("--only", choices=READERS, help="time one reader (in this process)")
    args = parser.parse_args()
    if args.only is None:
        if not args.file.exists():
            write(args.file, args.rows)
        for name in READERS:  # each in its own process, so that its peak memory is its own
            command = [sys.executable, __file__, "--file", str(args.file), "--only", name]
            subprocess.run(command, check=True)
        return
    began = time.perf_counter()
    count = READERS[args.only](args.file)
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{args.only}: {count:,} rows in {took:.1f} s ({count / took:,.0f} rows/s), "
          f"peak RSS {peak} MB")  # fmt: skip


if __name__ == "__main__":
    main()
