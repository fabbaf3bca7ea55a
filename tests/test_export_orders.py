"""Orders out (issue 16): `hotline export orders` and the generator's platform export, read
back from the real files (openpyxl, and the csv module in GB18030).

Through the CLI and the generator script, with the service's rows (`order_row`) and the
check character of a 统一社会信用代码 as units.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from hotline.cli.main import main
from hotline.domain.order import Revealed
from hotline.service.application import HotlineApplication
from hotline.service.order_export import HEADERS, LAYOUT
from test_assessment import one_line_refusal

Cli = Callable[..., tuple[int, str, str]]
SHANGHAI = ZoneInfo("Asia/Shanghai")
GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
MINHANG = "闵行区市场监管局"
QINGPU = "青浦区市场监管局"
MUNICIPAL = "登记注册处"
FORMULA = '=HYPERLINK("http://x")'
NEW_RECEIVED_FIELDS = {"category", "district", "street", "address", "entity", "entity_code"}


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=SHANGHAI)


def three_orders(app: HotlineApplication) -> None:
    """A: closed, extended, revisited, rated (excluded), supervised at fault; B: returned out
    of jurisdiction, rejected, still open; C: returned (other); D in Qingpu, open; E in a
    municipal division; F received before the period."""
    app.receive("A-1", unit=MINHANG, kind="complaint", channel="12315", at=at("2019-03-04", "09:05"),
                summary=FORMULA, citizen_name="张三丰", citizen_phone="13812345678")  # fmt: skip
    app.record("A-1", "first_contact", at=at("2019-03-04", "14:20"), method="sms")
    app.record("A-1", "extended", at=at("2019-03-12"), until=date(2019, 4, 10),
               reason="需抽样送检")  # fmt: skip
    app.record("A-1", "closed", at=at("2019-04-08", "16:45"), result="resolved",
               citizen_informed=False)  # fmt: skip
    app.record("A-1", "revisited", at=at("2019-04-09"), contacted=True, consistent=False)
    app.record("A-1", "rated", at=at("2019-04-10"), rating="dissatisfied", excluded=True)
    app.record("A-1", "supervised", at=at("2019-04-11"), at_fault=True)
    app.receive("B-2", unit=MINHANG, kind="report", channel="12345", at=at("2019-03-05"),
                repeat_of="A-1", citizen_name="李四", citizen_phone="13900001111")  # fmt: skip
    app.record("B-2", "returned", at=at("2019-03-05", "15:00"), reason="非本单位管辖",
               out_of_jurisdiction=True)  # fmt: skip
    app.record("B-2", "return_rejected", at=at("2019-03-06"), reason="属本单位职责")
    app.receive("C-3", unit=MINHANG, kind="consultation", channel="12345", at=at("2019-03-06"))
    app.record("C-3", "returned", at=at("2019-03-07"), reason="重复派单")
    app.receive("D-4", unit=QINGPU, kind="help", channel="12345", at=at("2019-03-07"))
    app.receive("E-5", unit=MUNICIPAL, kind="suggestion", channel="12345", at=at("2019-03-08"))
    app.receive("F-6", unit=MINHANG, kind="complaint", channel="12345", at=at("2019-01-30"))


def xlsx_rows(path: Path) -> tuple[list[Any], list[dict[str, Any]]]:
    """The title rows and the rows under the header (as dicts), as a workbook keeps them."""
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(tuple(HEADERS))
    return rows[:header], [dict(zip(HEADERS, row, strict=True)) for row in rows[header + 1 :]]


def csv_rows(path: Path) -> tuple[list[list[str]], list[dict[str, str]]]:
    with path.open(encoding="gb18030", newline="") as file:
        rows = list(csv.reader(file))
    header = rows.index(list(HEADERS))
    return rows[:header], [dict(zip(HEADERS, row, strict=True)) for row in rows[header + 1 :]]


def reveals(store: str, number: str) -> list[Revealed]:
    app = HotlineApplication(db=store)
    try:
        return [e for e in app.order(number).history if isinstance(e, Revealed)]
    finally:
        app.close()


def test_export_orders_as_a_workbook_one_row_per_order_in_the_default_layout(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    three_orders(app)
    out = tmp_path / "orders.xlsx"
    code, stdout, err = cli("export", "orders", "--period", "2019Q2", "--output", str(out))
    assert code == 0, err
    assert stdout == f"5 orders → {out}\n"
    titles, rows = xlsx_rows(out)
    assert titles[0][0] == "上海市12345市民服务热线工单导出"
    assert "2019Q2" in titles[1][0]
    assert HEADERS[: len(LAYOUT)] == LAYOUT
    assert [r["工单编号"] for r in rows] == ["A-1", "B-2", "C-3", "D-4", "E-5"]
    a, b, c = rows[:3]
    assert (a["派单时间"], a["承办单位"], a["渠道"], a["工单类型"]) == (
        "2019-03-04 09:05", MINHANG, "12315", "投诉")  # fmt: skip
    assert a["诉求内容"] == FORMULA  # text, not a formula (checked in the file below)
    assert (a["诉求人"], a["来电号码"]) == ("张**", "138****5678")
    assert (a["先行联系时间"], a["联系方式"]) == ("2019-03-04 14:20", "短信")
    assert (a["延期申请时间"], a["延期至"], a["延期原因"]) == (
        "2019-03-12 10:00", "2019-04-10", "需抽样送检")  # fmt: skip
    assert (a["办结时间"], a["办理结果"], a["是否告知"]) == ("2019-04-08 16:45", "实际解决", "否")
    assert (a["回访时间"], a["回访是否联系上"], a["回访是否一致"]) == (
        "2019-04-09 10:00",
        "是",
        "否",
    )
    assert (a["满意度"], a["是否纳入测评"]) == ("不满意", "否")
    assert (a["督办时间"], a["督办有责"]) == ("2019-04-11 10:00", "是")
    assert a["退单时间"] is None and a["二次退回时间"] is None  # blank: not reached
    assert (b["关联工单号"], b["退单时间"], b["退单类型"], b["二次退回时间"]) == (
        "A-1", "2019-03-05 15:00", "非本单位管辖", "2019-03-06 10:00")  # fmt: skip
    assert (b["诉求人"], b["来电号码"]) == ("李*", "139****1111")
    assert b["办结时间"] is None and b["满意度"] is None
    assert (c["退单类型"], c["退单原因"]) == ("其他", "重复派单")
    formula = load_workbook(out).active["I4"]  # type: ignore[index]
    assert (formula.value, formula.data_type, formula.quotePrefix) == (FORMULA, "s", True)


def test_each_limit_is_as_order_show_has_it(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    three_orders(app)
    out = tmp_path / "orders.csv"
    assert cli("export", "orders", "--period", "2019", "--output", str(out))[0] == 0
    _, rows = csv_rows(out)
    assert len(rows) == 6
    names = {"first_contact": "先行联系", "return": "退单", "close": "办结"}
    for row in rows:
        code, shown, err = cli("order", "show", row["工单编号"], "--format", "json")
        assert code == 0, err
        checks = {check["limit"]: check for check in json.loads(shown)["limits"]}
        for limit, name in names.items():  # the export's columns are the 1·5·13 limits'
            check = checks.get(limit, {"due": None, "status": ""})
            assert row[f"{name}时限"] == (check["due"] or ""), (row["工单编号"], check)
            assert row[f"{name}状态"] == check["status"], (row["工单编号"], check)


def test_csv_is_gb18030_and_never_a_formula(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    three_orders(app)
    out = tmp_path / "orders.csv"
    assert cli("export", "orders", "--period", "2019-03", "--unit", MINHANG,
               "--output", str(out))[0] == 0  # fmt: skip
    raw = out.read_bytes()
    assert "诉求内容".encode("gb18030") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    _, rows = csv_rows(out)
    assert [r["工单编号"] for r in rows] == ["A-1", "B-2", "C-3"]
    assert rows[0]["诉求内容"] == "'" + FORMULA
    assert rows[2]["办结时间"] == ""  # blank: not reached


@pytest.mark.parametrize(
    ("options", "numbers"),
    [
        (("--group", "district"), ["A-1", "B-2", "C-3", "D-4"]),
        (("--group", "municipal"), ["E-5"]),
        (("--status", "open"), ["B-2", "D-4", "E-5"]),
        (("--status", "closed"), ["A-1"]),
        (("--status", "returned", "--unit", MINHANG), ["C-3"]),
        (("--unit", QINGPU), ["D-4"]),
    ],
)
def test_which_orders(
    app: HotlineApplication, cli: Cli, tmp_path: Path, options: tuple[str, ...], numbers: list[str]
) -> None:
    three_orders(app)
    out = tmp_path / "orders.xlsx"
    code, _, err = cli("export", "orders", "--period", "2019Q2", *options, "--output", str(out))
    assert code == 0, err
    assert [r["工单编号"] for r in xlsx_rows(out)[1]] == numbers


def test_reveal_shows_in_full_and_records_each_order_shown(
    app: HotlineApplication, cli: Cli, store: str, tmp_path: Path
) -> None:
    three_orders(app)
    out = tmp_path / "orders.csv"
    code, _, err = cli("export", "orders", "--period", "2019Q2", "--unit", MINHANG, "--reveal",
                       "--reason", "投诉复核", "--output", str(out))  # fmt: skip
    assert code == 0, err
    rows = {r["工单编号"]: r for r in csv_rows(out)[1]}
    assert (rows["A-1"]["诉求人"], rows["A-1"]["来电号码"]) == ("张三丰", "13812345678")
    assert (rows["B-2"]["诉求人"], rows["B-2"]["来电号码"]) == ("李四", "13900001111")
    for number in ("A-1", "B-2", "C-3"):
        assert [e.reason for e in reveals(store, number)] == ["投诉复核"]
    for number in ("D-4", "E-5", "F-6"):  # not exported, not revealed
        assert reveals(store, number) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--period", "2019", "--reveal"), "--reveal needs --reason"),
        (("--period", "2019", "--reason", "x"), "--reason goes with --reveal"),
        (("--period", "2019", "--unit", MINHANG, "--group", "district"), "either --unit or"),
        (("--period", "2019", "--unit", "no such office", "--reveal", "--reason", "r"),
         "no such office"),
        (("--period", "2019", "--group", "nope", "--reveal", "--reason", "r"), "nope"),
        (("--period", "2019Q5", "--reveal", "--reason", "r"), "2019Q5"),
    ],
)  # fmt: skip
def test_bad_input_writes_nothing(
    app: HotlineApplication,
    cli: Cli,
    store: str,
    tmp_path: Path,
    options: tuple[str, ...],
    message: str,
) -> None:
    three_orders(app)
    out = tmp_path / "orders.xlsx"
    err = one_line_refusal(*cli("export", "orders", *options, "--output", str(out)))
    assert message in err
    assert not out.exists()
    assert reveals(store, "A-1") == []


@pytest.mark.parametrize("name", ["orders.txt", "missing/orders.xlsx"])
def test_a_bad_output_is_refused_before_anything_is_revealed(
    app: HotlineApplication, cli: Cli, store: str, tmp_path: Path, name: str
) -> None:
    three_orders(app)
    out = tmp_path / name
    err = one_line_refusal(*cli("export", "orders", "--period", "2019", "--reveal", "--reason",
                                "r", "--output", str(out)))  # fmt: skip
    assert "--output" in err
    assert not out.exists()
    assert reveals(store, "A-1") == []


# --- the round trip: export → import into an empty store → the same reports -------------


def test_round_trip_export_import_same_reports(
    app: HotlineApplication,
    cli: Cli,
    store: str,
    other_store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    three_orders(app)
    out = tmp_path / "orders.xlsx"
    assert cli("export", "orders", "--period", "2019", "--output", str(out))[0] == 0
    assert main(["--db", other_store, "import", str(out)]) == 0
    capsys.readouterr()
    for command in (("report", "rates", "--period", "2019"), ("orders", "overdue")):
        mine = cli(*command, "--format", "json")
        code = main(["--db", other_store, *command, "--format", "json"])
        theirs = capsys.readouterr()
        assert mine == (code, theirs.out, theirs.err), command


# --- the generator's export --------------------------------------------------------------


def generate(tmp_path: Path, *options: str, name: str = "year.jsonl") -> Path:
    path = tmp_path / name
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "400", "--seed", "11", *options,
         "--output", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def credit_code_valid(code: str) -> bool:
    """GB 32100-2015: 18 characters of 0-9 and A-Y without I O Z S V, the last a check."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    if not re.fullmatch(f"[{alphabet}]{{18}}", code):
        return False
    weights = [3**i % 31 for i in range(17)]
    total = sum(alphabet.index(ch) * w for ch, w in zip(code[:17], weights, strict=True))
    return alphabet[(31 - total % 31) % 31] == code[17]


def test_credit_code_check_agrees_with_the_standards_example() -> None:
    assert credit_code_valid("91350100M000100Y43")
    assert not credit_code_valid("91350100M000100Y44")
    assert not credit_code_valid("91350100M000100Y4")


def test_facts_leave_the_other_fields_as_they_were(tmp_path: Path) -> None:
    plain = events(generate(tmp_path))
    with_facts = events(generate(tmp_path, "--facts", name="facts.jsonl"))
    assert not any(NEW_RECEIVED_FIELDS & line.keys() for line in plain)
    stripped = [{k: v for k, v in line.items() if k not in NEW_RECEIVED_FIELDS}
                for line in with_facts]  # fmt: skip
    assert stripped == plain
    received = [line for line in with_facts if line["event"] == "received"]
    codes = [line["entity_code"] for line in received if "entity_code" in line]
    assert len(codes) > 50 and all(credit_code_valid(code) for code in codes)
    assert all(len(line["category"]) == 3 for line in received)
    for line in received:
        if line["unit"].endswith("区市场监管局"):
            assert line["unit"].startswith(line["district"]), line
        if "entity_code" in line:
            assert line["entity_code"][2:4] == "31"  # a Shanghai division code
    assert any("address" in line for line in received)


def moment_of(cell: object) -> datetime:
    """A time as the generator writes it in an export, any of its five ways."""
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, int | float):
        return datetime(1899, 12, 30) + timedelta(days=float(cell))
    assert isinstance(cell, str), cell
    text = cell.strip()
    for pattern in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日%H时%M分"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime(1899, 12, 30) + timedelta(days=float(text))
    except ValueError:
        raise AssertionError(f"not a time: {cell!r}") from None


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_generator_writes_the_platform_export(tmp_path: Path, form: str) -> None:
    lines = events(generate(tmp_path, "--facts", name="facts.jsonl"))
    path = generate(tmp_path, "--facts", "--format", form, name=f"year.{form}")
    if form == "xlsx":
        sheet = load_workbook(path).active
        assert sheet is not None
        table: list[list[Any]] = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        with path.open(encoding="gb18030", newline="") as file:
            table = [[cell or None for cell in row] for row in csv.reader(file)]
    header = next(i for i, row in enumerate(table) if row[: len(LAYOUT)] == list(LAYOUT))
    assert header >= 1 and "工单导出" in str(table[0][0])
    body, total = table[header + 1 : -1], table[-1]
    received = [line for line in lines if line["event"] == "received"]
    assert total[:2] == ["合计", f"{len(received)}件"]
    assert [row[0] for row in body] == [line["order"] for line in received]
    column = {name: i for i, name in enumerate(LAYOUT)}
    styles = set()
    for row, line in zip(body, received, strict=True):
        shown = row[column["派单时间"]]
        styles.add(type(shown).__name__ if not isinstance(shown, str) else shown[4])
        moment = datetime.fromisoformat(line["at"]).replace(tzinfo=None)
        assert abs(moment_of(shown) - moment) < timedelta(minutes=1), (shown, line)
        assert row[column["承办单位"]].strip("\u3000") == line["unit"]
        assert row[column["统一社会信用代码"]] == line.get("entity_code")
        assert row[column["一级分类"]] == line["category"][0]
    assert len(styles) >= 4, styles  # text, 2019/…, 2019年…, and a number (or a date cell)
    for name in ("是否告知", "回访是否联系上", "回访是否一致", "是否纳入测评", "督办有责"):
        assert {row[column[name]] for row in body} <= {"是", "否", None}, name
    padded = [
        row[column["承办单位"]] for row in body if row[column["承办单位"]].startswith("\u3000")
    ]
    assert padded, "no full-width spaces"


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_generated_year_as_the_platform_export_gives_the_jsonl_years_reports(
    cli: Cli, store: str, other_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    form: str,
) -> None:  # fmt: skip
    """The same year (the generator's, with its mess) imported as JSON Lines of events and
    as one row per order gives the same rates and official tables: the layout carries every
    fact a report reads."""
    lines = generate(tmp_path, "--facts")
    export = generate(tmp_path, "--facts", "--format", form, name=f"year.{form}")
    assert cli("import", str(lines))[0] == 0
    assert main(["--db", other_store, "import", str(export)]) == 0
    assert "0 rejected" in capsys.readouterr().out
    for command in (
        ("report", "rates", "--period", "2019"),
        ("report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2019"),
        ("report", "hotspots", "--period", "2019"),
    ):
        mine = cli(*command, "--format", "json")
        code = main(["--db", other_store, *command, "--format", "json"])
        theirs = capsys.readouterr()
        assert mine == (code, theirs.out, theirs.err), command


def lifecycle_orders(app: HotlineApplication) -> None:
    """12315 complaints (SAMR Order No. 20): G accepted, mediation terminated with a loss
    recovered, filed as a case (诉转案), closed, and told of all three decisions (告知); H
    declined, and told; I accepted, an agreement, no case, closed, never told of its
    acceptance; J a report with a phone, not filed, told late."""
    app.receive("G-7", unit=MINHANG, kind="complaint", channel="12315", at=at("2019-03-04"),
                summary="购买的电热水器漏水，商家拒绝维修，联系电话13812345678",
                citizen_name="王五", citizen_phone="13812345678")  # fmt: skip
    app.record("G-7", "accepted", at=at("2019-03-05"))
    app.record("G-7", "notified", at=at("2019-03-05", "15:30"), of="accepted")
    app.record("G-7", "mediation_ended", at=at("2019-03-12"), outcome="terminated",
               reason="被投诉人拒绝调解，其电话021-64781234无人接听", recovered="88.80")  # fmt: skip
    app.record("G-7", "case_decided", at=at("2019-03-13"), filed=True)
    app.record("G-7", "notified", at=at("2019-03-13"), of="case_decided")  # as it was decided
    app.record("G-7", "notified", at=at("2019-03-14"), of="mediation_ended")
    app.record("G-7", "closed", at=at("2019-03-20"), result="unresolved")
    app.receive("H-8", unit=MINHANG, kind="complaint", channel="12315", at=at("2019-03-05"))
    app.record("H-8", "declined", at=at("2019-03-06"), reason="not_our_duty")
    app.record("H-8", "notified", at=at("2019-03-07"), of="declined")
    app.receive("J-10", unit=MINHANG, kind="report", channel="12315", at=at("2019-03-07"),
                citizen_phone="13900002222")  # fmt: skip
    app.record("J-10", "case_decided", at=at("2019-03-08"), filed=False)
    app.record("J-10", "notified", at=at("2019-03-29"), of="case_decided")
    app.receive("I-9", unit=MINHANG, kind="complaint", channel="12315", at=at("2019-03-06"))
    app.record("I-9", "accepted", at=at("2019-03-07"))
    app.record("I-9", "mediation_ended", at=at("2019-03-15"), outcome="agreement",
               recovered="1234.50")  # fmt: skip
    app.record("I-9", "case_decided", at=at("2019-03-18"), filed=False)
    app.record("I-9", "closed", at=at("2019-03-19"), result="resolved")


def test_the_order_20_columns_are_the_events(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    lifecycle_orders(app)
    out = tmp_path / "orders.csv"
    assert cli("export", "orders", "--period", "2019-03", "--output", str(out))[0] == 0
    rows = {r["工单编号"]: r for r in csv_rows(out)[1]}
    g, h, i = rows["G-7"], rows["H-8"], rows["I-9"]
    assert (g["受理决定时间"], g["不予受理原因"]) == ("2019-03-05 10:00", "")
    assert (g["调解终结时间"], g["调解结果"], g["挽回经济损失（元）"]) == (
        "2019-03-12 10:00", "终止调解", "88.80")  # fmt: skip
    assert g["终止调解原因"] == "被投诉人拒绝调解，其电话021****1234无人接听"  # masked
    assert (g["立案决定时间"], g["是否立案"]) == ("2019-03-13 10:00", "是")
    assert (h["受理决定时间"], h["不予受理原因"]) == (
        "2019-03-06 10:00",
        "不属于市场监督管理部门职责",
    )
    assert h["调解终结时间"] == h["立案决定时间"] == ""
    assert (i["调解结果"], i["挽回经济损失（元）"], i["是否立案"]) == (
        "达成调解协议",
        "1234.50",
        "否",
    )
    notices = ("受理决定告知时间", "调解终结告知时间", "立案决定告知时间")
    assert [g[n] for n in notices] == ["2019-03-05 15:30", "2019-03-14 10:00", "2019-03-13 10:00"]
    assert [h[n] for n in notices] == ["2019-03-07 10:00", "", ""]
    assert [i[n] for n in notices] == ["", "", ""]
    assert rows["J-10"]["立案决定告知时间"] == "2019-03-29 10:00"


def _events(document: dict[str, Any]) -> list[dict[str, Any]]:
    """An order's events as `order show --format json` has them, less who recorded them
    when, and the reveals (a record of the export, not of the order)."""
    return [
        {k: v for k, v in e.items() if k not in ("version", "recorded", "actor", "role")}
        for e in document["events"]
        if e["event"] != "revealed"
    ]


def test_a_12315_lifecycle_goes_out_and_back_unchanged(
    app: HotlineApplication,
    cli: Cli,
    other_store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lifecycle_orders(app)
    three_orders(app)
    out = tmp_path / "orders.xlsx"
    code, _, err = cli("export", "orders", "--period", "2019", "--output", str(out),
                       "--reveal", "--reason", "迁移")  # fmt: skip
    assert code == 0, err
    assert main(["--db", other_store, "import", str(out)]) == 0
    code, again, err = cli("import", str(out))  # into the store it came from: nothing new
    assert code == 0, err
    assert "0 rows imported, 10 unchanged, 0 conflicting, 0 rejected; 0 events written" in again
    capsys.readouterr()
    for number in ("G-7", "H-8", "I-9", "J-10"):
        show = ("order", "show", number, "--format", "json", "--reveal", "--reason", "核对")
        code, mine, err = cli(*show)
        assert code == 0, err
        assert main(["--db", other_store, *show]) == 0
        theirs = capsys.readouterr().out
        assert _events(json.loads(theirs)) == _events(json.loads(mine)), number
    for command in (("report", "rates", "--period", "2019"), ("orders", "overdue")):
        mine = cli(*command, "--format", "json")
        code = main(["--db", other_store, *command, "--format", "json"])
        theirs = capsys.readouterr()
        assert mine == (code, theirs.out, theirs.err), command
    minhang = next(r for r in json.loads(cli("report", "rates", "--period", "2019",
                   "--format", "json")[1])["rows"] if r["name"] == MINHANG)  # fmt: skip
    told, owed = minhang["on_time_notice_numerator"], minhang["on_time_notice_denominator"]
    assert 0 < told < owed  # 按时告知率 compared above has notices on time and late


def test_notices_recorded_out_of_time_order_are_unchanged_on_reimport(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    """The row gives its notices in time order; the store has the later one first. Each is
    compared with the stored notice of its own decision, so nothing conflicts."""
    lifecycle_orders(app)
    app.receive("K-11", unit=MINHANG, kind="complaint", channel="12315", at=at("2019-03-04"))
    app.record("K-11", "accepted", at=at("2019-03-05"))
    app.record("K-11", "mediation_ended", at=at("2019-03-06"), outcome="terminated",
               reason="投诉人撤回投诉")  # fmt: skip
    app.record("K-11", "case_decided", at=at("2019-03-07"), filed=True)
    app.record("K-11", "notified", at=at("2019-03-08"), of="case_decided")
    app.record("K-11", "notified", at=at("2019-03-07"), of="mediation_ended")
    out = tmp_path / "orders.csv"
    assert cli("export", "orders", "--period", "2019", "--output", str(out))[0] == 0
    code, again, err = cli("import", str(out))
    assert code == 0, err
    assert "0 rows imported, 5 unchanged, 0 conflicting, 0 rejected; 0 events written" in again


def test_docs_list_the_default_layout_in_order() -> None:
    """docs/export.md's column list is LAYOUT (it had left out 无需回复, 回访评价, 测评时间)."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text("utf-8")
    listed = page.split("the default layout, in this order:", 1)[1].split("; then a", 1)[0]
    assert [name.strip() for name in " ".join(listed.split()).split(",")] == list(LAYOUT)
