"""Importing platform exports (.xlsx, .xls, CSV) through mappings (issue 16): real files
written with openpyxl, xlwt and the csv module, read back through `hotline import`."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwt

from hotline.adapters.mapping_files import load_mapping, mapping_path
from hotline.adapters.tables import delimiter_of, encoding_of, file_format, read_rows
from hotline.cli.main import main
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import InvalidInput
from hotline.domain.mapping import Mapping
from hotline.service.exports import find_layout
from hotline.service.order_export import LAYOUT, ORDER_20_COLUMNS
from stores import fresh_database, postgres_server

MINHANG = "闵行区市场监管局"
OTHER = "市药监局"
HEADERS = [
    "工单编号", "派单时间", "承办单位", "渠道", "工单类型", "一级分类", "二级分类", "区", "街道",
    "地址", "被投诉对象", "统一社会信用代码", "诉求内容", "诉求人",
    "来电号码", "先行联系时间", "联系方式", "延期申请时间", "延期至", "延期原因", "退单时间",
    "退单类型", "退单原因", "二次退回时间", "办结时间", "办理结果", "是否告知", "回访时间",
    "回访是否联系上", "回访是否一致", "满意度", "是否纳入测评", "督办时间", "督办有责", "当前环节",
]  # fmt: skip
FORMULA = '=HYPERLINK("http://example.org/1","商品质量问题")'
ORDERS: list[dict[str, Any]] = [
    {"工单编号": "2019-000001", "派单时间": "2019-03-04 10:15", "承办单位": MINHANG,
     "渠道": "12345", "工单类型": "投诉", "一级分类": "市场监管", "二级分类": "食品安全",
     "区": "闵行区", "街道": "江川路街道", "地址": "上海市闵行区江川路1号", "被投诉对象": "某某超市",
     "统一社会信用代码": "91310000132149237G", "诉求内容": FORMULA,
     "诉求人": "张三", "来电号码": "13812345678", "先行联系时间": "2019-03-05 09:00",
     "联系方式": "电话", "办结时间": "2019-03-12 16:00", "办理结果": "实际解决", "是否告知": "是",
     "回访时间": "2019-03-20 10:00", "回访是否联系上": "是", "回访是否一致": "是",
     "满意度": "满意", "是否纳入测评": "是", "当前环节": "已归档"},
    {"工单编号": "2019-000002", "派单时间": "2019-03-06 11:00", "承办单位": OTHER,
     "渠道": "12315", "工单类型": "咨询", "办结时间": "2019-03-07 10:00", "办理结果": "解释说明",
     "是否告知": "是"},
    {"工单编号": "2019-000003", "派单时间": "2019-03-08 09:30", "承办单位": MINHANG,
     "渠道": "12345", "工单类型": "举报", "延期申请时间": "2019-03-10 10:00",
     "延期至": "2019-04-10", "延期原因": "需要调查取证", "办结时间": "2019-04-08 15:00",
     "办理结果": "未解决", "是否告知": "否", "回访时间": "2019-04-12 10:00",
     "回访是否联系上": "是", "回访是否一致": "否", "满意度": "不满意", "是否纳入测评": "否"},
    {"工单编号": "2019-000004", "派单时间": "2019-03-11 14:00", "承办单位": MINHANG,
     "渠道": "12345", "工单类型": "投诉", "退单时间": "2019-03-11 16:00",
     "退单类型": "非本单位管辖", "退单原因": "不属于本单位职责", "二次退回时间": "2019-03-12 09:00",
     "办结时间": "2019-03-20 10:00", "办理结果": "已解决", "是否告知": "是"},
    {"工单编号": "2019-000005", "派单时间": "2019-03-12 08:00", "承办单位": MINHANG,
     "渠道": "12345", "工单类型": "求助", "督办时间": "2019-03-25 10:00", "督办有责": "是"},
]  # fmt: skip
EVENTS = {  # column of the event's time → (event, {column: field})
    "派单时间": ("received", {"承办单位": "unit", "渠道": "channel", "工单类型": "kind",
                          "诉求内容": "summary", "诉求人": "citizen_name",
                          "来电号码": "citizen_phone", "区": "district", "街道": "street",
                          "地址": "address", "被投诉对象": "entity",
                          "统一社会信用代码": "entity_code"}),
    "先行联系时间": ("first_contact", {"联系方式": "method"}),
    "延期申请时间": ("extended", {"延期至": "until", "延期原因": "reason"}),
    "退单时间": ("returned", {"退单原因": "reason"}),
    "二次退回时间": ("return_rejected", {}),
    "办结时间": ("closed", {"办理结果": "result"}),
    "督办时间": ("supervised", {}),
}  # fmt: skip
RESULTS = {"已解决": "resolved"}


def jsonl(orders: list[dict[str, Any]]) -> str:
    """The same orders as JSON Lines of events, written by hand from the rows."""
    lines = []
    yes = {"是": True, "否": False}
    for row in orders:
        for column, (event, fields) in EVENTS.items():
            if column not in row:
                continue
            item: dict[str, Any] = {"order": row["工单编号"], "event": event,
                                    "at": row[column].replace(" ", "T") + ":00+08:00"}  # fmt: skip
            item |= {field: row[c] for c, field in fields.items() if c in row}
            if event == "received" and "一级分类" in row:  # the levels, one column each
                item["category"] = [
                    row[c] for c in ("一级分类", "二级分类", "三级分类") if c in row
                ]
            if event == "closed":
                item["result"] = RESULTS.get(item["result"], item["result"])
                item["citizen_informed"] = yes[row["是否告知"]]
            if event == "returned":
                item["out_of_jurisdiction"] = row["退单类型"] == "非本单位管辖"
            if event == "supervised":
                item["at_fault"] = yes[row["督办有责"]]
            lines.append(item)
        if "回访时间" in row:
            at = row["回访时间"].replace(" ", "T") + ":00+08:00"
            lines.append({"order": row["工单编号"], "event": "revisited", "at": at,
                          "contacted": yes[row["回访是否联系上"]],
                          "consistent": yes[row["回访是否一致"]]})  # fmt: skip
            lines.append({"order": row["工单编号"], "event": "rated", "at": at,
                          "rating": row["满意度"], "excluded": not yes[row["是否纳入测评"]]})  # fmt: skip
    lines.sort(key=lambda x: x["at"])
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)


def table(orders: list[dict[str, Any]], messy: bool = False) -> list[list[Any]]:
    """A platform export's rows: two title rows, the header, the orders, a 合计 row and a
    blank one; `messy` writes times as the platforms do."""
    rows: list[list[Any]] = [["闵行区12345工单导出"], ["导出时间：2019-04-30"], HEADERS]
    for n, order in enumerate(orders):
        row = [order.get(h) for h in HEADERS]
        if messy:
            row = [_messy(h, v, n) for h, v in zip(HEADERS, row, strict=True)]
        rows.append(row)
    rows += [["合计", f"{len(orders)}件"], []]
    return rows


def _messy(header: str, value: Any, n: int) -> Any:
    if value is None or not header.endswith("时间"):
        return value
    moment = datetime.strptime(value, "%Y-%m-%d %H:%M")
    forms = [
        lambda: moment.strftime("%Y/%-m/%-d %H:%M:%S"),
        lambda: f"{moment.year}年{moment.month}月{moment.day}日{moment.hour}时{moment.minute}分",
        lambda: f"\u3000{value}\u3000",
    ]
    return forms[n % len(forms)]()


def write_xlsx(path: Path, rows: list[list[Any]], native: bool = True) -> Path:
    """An .xlsx; `native` writes times as date cells (calamine gives datetimes) and a
    serial number for every third order's receipt."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            header = rows[2][c - 1] if len(rows) > 2 and c <= len(rows[2]) else ""
            cell = sheet.cell(row=r, column=c)
            if native and isinstance(value, str) and header.endswith("时间") and value[:2] == "20":
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M")
                cell.value = (
                    (moment - datetime(1899, 12, 30)).total_seconds() / 86400
                    if r % 3 == 0
                    else moment
                )
            elif native and header == "渠道" and str(value).isdigit():
                cell.value = int(value)  # a channel written as a number
            else:
                cell.value = value
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, as the platform wrote it: not a formula
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], encoding: str, delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows(
            [["" if v is None else v for v in row] for row in rows]
        )
    return path


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Fresh stores of the test's backend (SQLite or PostgreSQL), as many as asked for."""
    server = postgres_server()
    with ExitStack() as opened:

        def fresh() -> str:
            if server is None:
                return str(tmp_path / f"store{len(list(tmp_path.glob('store*')))}" / "hotline.db")
            return opened.enter_context(fresh_database(server))

        yield fresh


def run(capsys: pytest.CaptureFixture[str], store: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", store, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rates(capsys: pytest.CaptureFixture[str], store: str) -> Any:
    code, out, err = run(
        capsys, store, "report", "rates", "--period", "2019-03", "--format", "json"
    )
    assert code == 0, err
    return json.loads(out)


def shown(capsys: pytest.CaptureFixture[str], store: str, order: str) -> dict[str, Any]:
    code, out, err = run(capsys, store, "order", "show", order, "--format", "json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def test_the_same_orders_as_jsonl_xlsx_and_gb18030_csv_give_the_same_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    events = tmp_path / "orders.jsonl"
    events.write_text(jsonl(ORDERS), encoding="utf-8")
    xlsx = write_xlsx(tmp_path / "export.xlsx", table(ORDERS))
    gb = write_csv(tmp_path / "export.csv", table(ORDERS, messy=True), "gb18030")
    assert gb.read_bytes().decode("gb18030") and not _is_utf8(gb.read_bytes())
    reports = []
    for file in (events, xlsx, gb):
        store = stores()
        code, out, err = run(capsys, store, "import", str(file))
        assert code == 0, err
        events_of = [shown(capsys, store, f"2019-00000{n}")["events"] for n in range(1, 6)]
        reports.append((rates(capsys, store), [_facts(e) for e in events_of]))
    assert reports[1] == reports[0]
    assert reports[2] == reports[0]
    assert "5 rows imported, 0 unchanged, 0 conflicting, 0 rejected" in out


def _facts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events without when they were recorded (which differs between imports)."""
    return [{k: v for k, v in e.items() if k != "recorded"} for e in events]


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_formula_looking_summary_stays_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    for file in (write_xlsx(tmp_path / "e.xlsx", table(ORDERS[:1])),
                 write_csv(tmp_path / "e.csv", table(ORDERS[:1]), "utf-8-sig")):  # fmt: skip
        store = stores()
        assert run(capsys, store, "import", str(file))[0] == 0
        assert shown(capsys, store, "2019-000001")["events"][0]["summary"] == FORMULA


def test_importing_the_same_export_again_adds_nothing_and_a_later_one_only_what_is_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    early = [dict(o) for o in ORDERS]
    for key in ("办结时间", "办理结果", "是否告知", "回访时间", "回访是否联系上", "回访是否一致",
                "满意度", "是否纳入测评"):  # fmt: skip
        early[0].pop(key)
    first = write_xlsx(tmp_path / "week1.xlsx", table(early))
    assert run(capsys, store, "import", str(first))[0] == 0
    before = shown(capsys, store, "2019-000001")["events"]
    code, out, err = run(capsys, store, "import", str(first))
    assert (code, err) == (0, "")
    assert (
        "0 rows imported, 5 unchanged (5 known from the import ledger), 0 conflicting, "
        "0 rejected; 0 events written" in out
    )
    later = write_csv(tmp_path / "week2.csv", table(ORDERS), "utf-8-sig")
    code, out, err = run(capsys, store, "import", str(later))
    assert (code, err) == (0, "")
    assert "1 row imported, 4 unchanged, 0 conflicting, 0 rejected; 3 events written" in out
    after = shown(capsys, store, "2019-000001")["events"]
    assert _facts(after[: len(before)]) == _facts(before)
    assert [e["event"] for e in after[len(before) :]] == ["closed", "revisited", "rated"]


def test_a_row_that_disagrees_with_the_store_is_a_conflict_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    early = [dict(o) for o in ORDERS[:2]]
    for key in ("回访时间", "回访是否联系上", "回访是否一致", "满意度", "是否纳入测评"):
        early[0].pop(key)
    assert run(capsys, store, "import", str(write_xlsx(tmp_path / "a.xlsx", table(early))))[0] == 0
    before = shown(capsys, store, "2019-000001")["events"]
    changed = [dict(o) for o in ORDERS[:2]]
    changed[0]["派单时间"] = "2019-03-04 10:45"
    changed[0]["办理结果"] = "未解决"
    changed[1]["办结时间"] = "2019-03-07 10:00"  # unchanged row
    code, out, err = run(
        capsys, store, "import", str(write_xlsx(tmp_path / "b.xlsx", table(changed)))
    )
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2
    assert (
        "row 4: order 2019-000001: 派单时间: stored 2019-03-04 10:15, the export says 2019-03-04 10:45; not written"
        in lines[0]
    )
    assert "办理结果: stored 'resolved', the export says 'unresolved'" in lines[1]
    assert (
        "0 rows imported, 1 unchanged (1 known from the import ledger), 1 conflicting, "
        "0 rejected; 0 events written" in out
    )
    assert shown(capsys, store, "2019-000001")["events"] == before  # the revisit not added either


def test_messages_name_the_row_the_user_sees_below_two_title_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    """The sheet's own row (a blank row between orders counted) and the CSV's own line (a
    summary of three lines counted three times), title rows and the header counted."""
    orders = [dict(o) for o in ORDERS[:3]]
    orders[0]["诉求内容"] = "第一行\n第二行\n第三行"
    orders[2]["是否告知"] = "也许"
    rows = table(orders)
    rows.insert(4, [])  # a blank row after the first order
    for file, line in ((write_xlsx(tmp_path / "titled.xlsx", rows), 7),
                       (write_csv(tmp_path / "titled.csv", rows, "gb18030"), 9)):  # fmt: skip
        code, out, err = run(capsys, stores(), "import", str(file))
        assert code == 1
        assert err.splitlines() == [
            f"hotline: {file}: row {line}: order 2019-000003: column 是否告知 '也许': Input "
            "should be a valid boolean, unable to interpret input"
        ], err
        assert "2 rows imported, 0 unchanged, 0 conflicting, 1 rejected (1 bad cell)" in out


def test_shuxi_alone_is_no_result_but_bushushi_is_unsubstantiated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    """是否属实 属实 says the complaint was true, not whether it was resolved: refused."""
    store = stores()
    rows = [["工单编号", "派单时间", "承办单位", "渠道", "工单类型", "办结时间", "是否属实"]]
    rows += [[f"2019-00000{n}", "2019-03-04 10:00", MINHANG, "12345", "投诉", "2019-03-05 10:00",
              value] for n, value in ((1, "属实"), (2, "不属实"))]  # fmt: skip
    code, out, err = run(capsys, store, "import", str(write_csv(tmp_path / "t.csv", rows, "utf-8")))
    assert code == 1
    assert "row 2: order 2019-000001: column 是否属实 '属实': Input should be 'resolved'" in err
    assert "1 row imported, 0 unchanged, 0 conflicting, 1 rejected (1 bad cell)" in out
    assert shown(capsys, store, "2019-000002")["events"][-1]["result"] == "unsubstantiated"


def test_a_bad_cell_rejects_its_row_naming_row_column_value_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    bad = [dict(o) for o in ORDERS]
    bad[0]["办结时间"] = "下周一"
    bad[1]["承办单位"] = "闵行区市场监督局"
    bad[2]["是否告知"] = "也许"
    bad[3]["延期原因"] = "无"  # given without 延期申请时间
    file = write_csv(tmp_path / "bad.csv", table(bad), "gb18030")
    code, out, err = run(capsys, store, "import", str(file))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert "row 4: order 2019-000001: column 办结时间 '下周一': '下周一' is not a time" in lines[0]
    assert (
        "row 5: order 2019-000002: unknown unit '闵行区市场监督局'; did you mean 闵行区市场监管局"
        in lines[1]
    )
    assert (
        "row 6: order 2019-000003: column 是否告知 '也许': Input should be a valid boolean"
        in lines[2]
    )
    assert (
        "row 7: order 2019-000004: column 延期原因 is given but 延期申请时间 (when the extended happened) is blank"
        in lines[3]
    )
    assert (
        "1 row imported, 0 unchanged, 0 conflicting, 4 rejected (3 bad cell, 1 unknown unit)" in out
    )
    for number in ("2019-000001", "2019-000002", "2019-000003", "2019-000004"):
        assert run(capsys, store, "order", "show", number)[0] != 0  # nothing of them written
    assert shown(capsys, store, "2019-000005")["events"][0]["event"] == "received"


def test_check_shows_where_each_column_went_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    bad = [dict(o) for o in ORDERS]
    bad[4]["督办有责"] = "不知道"
    file = write_csv(tmp_path / "e.txt", table(bad), "utf-8", delimiter="\t")
    code, out, err = run(capsys, store, "import", "--check", str(file))
    assert code == 1
    assert "e.txt: csv, mapping default, header on row 3" in out
    assert "  派单时间 → received.at" in out and "  回访时间 → revisited.at, rated.at" in out
    assert "  一级分类 → received.category" in out and "  not mapped: 当前环节" in out
    assert "row 8: order 2019-000005: column 督办有责 '不知道'" in err
    assert (
        "4 rows imported, 0 unchanged, 0 conflicting, 1 rejected (1 bad cell); 16 events would be written"
        in out
    )
    assert run(capsys, store, "order", "show", "2019-000001")[0] != 0


def test_the_12315_mapping_reads_an_xls_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("投诉举报")
    rows = [["全国12315平台投诉举报导出"],
            ["投诉举报编号", "登记时间", "处理机构", "业务类型", "投诉内容", "被投诉人", "统一社会信用代码", "办结时间", "处理结果"],
            ["3101120190001", "2019-03-04 10:15:00", MINHANG, "投诉件", "买到过期食品", "某超市", "91310000132149237G", "2019-03-08 15:00:00", "调解成功"],
            ["3101120190002", 43529.4375, MINHANG, "举报件", "无证经营", "某餐馆", None, None, None]]  # fmt: skip
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    path = tmp_path / "12315.xls"
    book.save(str(path))
    store = stores()
    code, out, err = run(capsys, store, "import", "--mapping", "12315", str(path))
    assert code == 0, err
    assert "2 rows imported" in out
    first = shown(capsys, store, "3101120190001")
    assert (first["channel"], first["kind"], first["status"]) == ("12315", "complaint", "closed")
    assert first["events"][-1]["result"] == "resolved"
    received = first["events"][0]
    assert (received["entity"], received["entity_code"]) == ("某超市", "91310000132149237G")
    second = shown(capsys, store, "3101120190002")
    assert (second["kind"], second["events"][0]["at"]) == ("report", "2019-03-05T10:30:00+08:00")


def test_a_broken_mapping_is_one_line_naming_the_file_the_key_and_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "e.xlsx", table(ORDERS))
    shipped = mapping_path("default").read_text(encoding="utf-8")
    cases = {
        'to = ["received.summary"]': ('to = ["received.borough"]', "column[5].to: Value error, 'received.borough': received has no field 'borough'"),
        'values = "yes_no"': ('values = "yesno"', "no [values.yesno] table"),
        'read = "date"': ('read = "day"', "column[20].read: Input should be 'text', 'time' or 'date'"),
        'time_zone = "Asia/Shanghai"': ('time_zone = "Asia/Shanghia"', "time_zone: Value error, unknown time zone 'Asia/Shanghia'"),
    }  # fmt: skip
    for n, (good, (broken, problem)) in enumerate(cases.items()):
        mapping = tmp_path / f"mine{n}.toml"
        mapping.write_text(shipped.replace(good, broken, 1), encoding="utf-8")
        code, out, err = run(capsys, store, "import", "--mapping", str(mapping), str(export))
        assert code != 0 and out == ""
        assert err.count("\n") == 1 and f"mine{n}.toml: " in err and problem in err, err
    assert run(capsys, store, "order", "show", "2019-000001")[0] != 0


def test_mappings_lists_the_shipped_ones(
    capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    code, out, err = run(capsys, stores(), "mappings")
    assert code == 0, err
    names = [line.split("\t")[0] for line in out.splitlines()]
    assert names == ["12315", "default"]
    columns = len(LAYOUT) + len(ORDER_20_COLUMNS)  # a column for each the export writes
    assert f"rubrics/mappings/default.toml\t{columns} columns" in out


def test_the_format_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    rows = table(ORDERS[:1])
    workbook = write_xlsx(tmp_path / "really-a-workbook.csv", rows)
    text = write_csv(tmp_path / "really-text.xlsx", rows, "utf-8")
    events = tmp_path / "events.txt"
    events.write_text(jsonl(ORDERS[:1]), encoding="utf-8")
    named = write_csv(tmp_path / "events.jsonl", rows, "utf-8")  # its lines are bad lines
    renamed = write_xlsx(tmp_path / "renamed.jsonl", rows)  # a workbook whatever its name
    zip_like = tmp_path / "zip-like.jsonl"  # a first line that only starts like a zip
    zip_like.write_bytes(b"PK\x03\x04\n" + jsonl(ORDERS[:1]).encode())
    forms = [file_format(p) for p in (workbook, text, events, named, renamed, zip_like)]
    assert forms == ["xlsx", "csv", "jsonl", "jsonl", "xlsx", "jsonl"]
    os.mkfifo(tmp_path / "pipe")
    assert file_format(tmp_path / "pipe") == "jsonl"  # not opened: a pipe is read once
    assert list(read_rows(workbook, "xlsx"))[2][1][:2] == ["工单编号", "派单时间"]
    assert list(read_rows(text, "csv"))[3][1][0] == "2019-000001"


def test_encoding_and_delimiter_are_found() -> None:
    sample = "导出\n工单编号;派单时间;承办单位\n1;2019-03-04 10:15;闵行区\n"
    assert encoding_of(sample.encode("gb18030")) == "gb18030"
    assert encoding_of(sample.encode("utf-8")) == "utf-8"
    assert encoding_of(sample.encode("utf-8-sig")) == "utf-8-sig"
    assert encoding_of(sample.encode("utf-8") + "管".encode()[:2]) == "utf-8"  # cut mid-character
    assert [delimiter_of(sample.replace(";", d)) for d in ",\t;"] == [",", "\t", ";"]


def test_times_read_in_every_form_the_platforms_write() -> None:
    mapping = load_mapping(mapping_path("default"))
    column = next(c for c in mapping.column if "received.at" in c.to)
    expected = datetime(2019, 3, 5, 14, 20, tzinfo=SHANGHAI)
    for cell in ("2019-03-05 14:20", "2019/3/5 14:20:00", "2019年3月5日14时20分",
                 "\u30002019-03-05\u300014:20 ", 43529.597222222, "43529.597222222",
                 datetime(2019, 3, 5, 14, 20)):  # fmt: skip
        assert mapping.read(column, "received.at", cell) == expected, cell
    assert mapping.read(column, "received.at", None) is None
    with pytest.raises(InvalidInput, match="'2019-13-05 14:20' is not a time"):
        mapping.read(column, "received.at", "2019-13-05 14:20")
    with pytest.raises(InvalidInput, match="'=NOW\\(\\)' is not a time"):
        mapping.read(column, "received.at", "=NOW()")
    summary = next(c for c in mapping.column if "received.summary" in c.to)
    assert (
        mapping.read(summary, "received.summary", f"\u3000{FORMULA}\u3000买\u3000到 ")
        == f"{FORMULA}\u3000买\u3000到"
    )
    utc = Mapping.model_validate({**mapping.model_dump(), "time_zone": "UTC"})
    assert utc.read(column, "received.at", "2019-03-05 06:20") == expected


def test_the_header_is_found_below_title_rows_by_its_synonyms() -> None:
    mapping = load_mapping(mapping_path("default"))
    rows = iter(enumerate([["某区工单"], [None], ["诉求编号", "交办时间", "办理单位", "诉求类型"],
                           ["1"]], start=1))  # fmt: skip
    layout = find_layout(rows, mapping, "f")
    assert layout.header_row == 3
    assert [c.to for _, _, c in layout.columns] == [
        ["order"],
        ["received.at"],
        ["received.unit"],
        ["received.kind"],
    ]
    assert next(rows) == (4, ["1"])  # the rows after it are left to read
    with pytest.raises(
        InvalidInput, match="no header row in its first 30 rows: none names the order number"
    ):
        find_layout(iter([(1, ["诉求内容", "派单时间"])]), mapping, "f")


def test_an_offices_own_mapping_names_its_units_and_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    shipped = mapping_path("default").read_text(encoding="utf-8")
    mine = tmp_path / "my-office.toml"
    mine.write_text(
        shipped.replace("[units]\n", '[units]\n"闵行所" = "闵行区市场监管局"\n', 1).replace(
            'headers = ["督办时间"]', 'headers = ["督办时间", "催办时间"]', 1
        ),
        encoding="utf-8",
    )
    rows = table([{**ORDERS[4], "承办单位": "闵行所"}])
    rows[2] = [{"督办时间": "催办时间"}.get(h, h) for h in rows[2]]
    export = write_csv(tmp_path / "mine.csv", rows, "utf-8")
    store = stores()
    assert run(capsys, store, "import", str(export))[0] == 1  # the default knows neither
    code, out, err = run(capsys, store, "import", "--mapping", str(mine), str(export))
    assert (code, err) == (0, ""), err
    assert "1 row imported" in out
    events = shown(capsys, store, "2019-000005")["events"]
    assert events[0]["unit"] == MINHANG
    assert [e["event"] for e in events] == ["received", "supervised"]
