"""Phone and ID numbers typed into free text (issue 17): masked like the citizen's phone
wherever a free text is shown, unless revealed; near-misses (dates, amounts, order numbers,
统一社会信用代码) stay as written.

As units (`mask_numbers`) and through the CLI: `order show` (table and JSON), the audit
trails, `export orders` and its re-import, findings and `report explain`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.domain.personal_data import mask_numbers, mask_phone
from test_export_orders import csv_rows

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
MOBILE, ID, LANDLINE, OTHER_MOBILE = "13812345678", "310104198503120021", "64781234", "13900001111"
SUMMARY = f"消费者称在某超市购买过期牛奶，要求退款。联系电话{MOBILE}，身份证号{ID}。"
REASON = f"需与商家核实，商家电话021-{LANDLINE}"
REPORT = f"已联系消费者（{OTHER_MOBILE}），商家同意退款。"
RAW = (MOBILE, ID, LANDLINE, OTHER_MOBILE)
MASKED = ("138****5678", "310***********0021", "021****1234", "139****1111")

MASKS = [
    ("请回电13812345678，谢谢", "请回电138****5678，谢谢"),
    ("手机：138-1234-5678", "手机：138****5678"),
    ("手机 138 1234 5678 或座机", "手机 138****5678 或座机"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("+8615912345678", "+86159****5678"),
    ("商家电话021-64781234转分机", "商家电话021****1234转分机"),
    ("（021）6478 1234", "021****1234"),
    ("+86 21 6478 1234", "+86 21****1234"),
    ("杭州门店0571-87654321", "杭州门店0571****4321"),
    ("家里电话64781234，白天打6478-1234", "家里电话****1234，白天打****1234"),
    ("身份证号310104198503120021", "身份证号310***********0021"),
    ("身份证31011519900101123x已核对", "身份证310***********123x已核对"),
    ("两个号码13812345678/13900001111", "两个号码138****5678/139****1111"),
]
"""Texts as citizens and staff type them, and as they are shown."""
NEAR_MISSES = [
    "2026年3月12日在门店购买，20260312付款，2026-03-12 10:15取货",
    "订单号13812345678的商品未发货",  # an online shop's order number, not a phone
    "订单编号 56781234，发票号56781235",
    "重复工单 2019-13812345678，原工单2019-000123",
    "被投诉人统一社会信用代码91310000132149237G",
    "统一社会信用代码123101200102030406（全为数字）",  # a valid code, not a valid ID
    "货款23456789元，运费 56781234 元，￥ 23456789，¥34567890",
    "挽回经济损失1234567.89元，重量1.5公斤，13812345678.5",
    "拨打12345热线、12315热线或962000均可",
    "批次20231101A，编码SH13812345678",
]
"""Numbers that are no citizen's: left as written."""


@pytest.mark.parametrize(("text", "shown"), MASKS)
def test_a_phone_or_id_in_a_text_is_masked_as_the_citizens_phone(text: str, shown: str) -> None:
    assert mask_numbers(text) == shown
    assert mask_numbers(shown) == shown  # a masked text is shown as it is


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_dates_amounts_order_numbers_and_credit_codes_are_not_masked(text: str) -> None:
    assert mask_numbers(text) == text


def test_the_mask_is_the_citizen_phones() -> None:
    """One rule: a mobile in a text shows as the citizen's phone field does."""
    assert mask_numbers(f"电话{MOBILE}") == "电话" + mask_phone(MOBILE)


def _order(cli: Cli) -> None:
    steps = [
        ("receive", "--unit", MINHANG, "--kind", "complaint", "--channel", "12345",
         "--summary", SUMMARY, "--citizen-phone", MOBILE, "--at", "2026-03-02 09:00"),
        ("extend", "--until", "2026-04-10", "--reason", REASON, "--at", "2026-03-05 10:00"),
        ("close", "--result", "resolved", "--report", REPORT, "--at", "2026-03-20 16:00"),
    ]  # fmt: skip
    for command, *flags in steps:
        code, _, err = cli("order", command, "A-1", *flags)
        assert code == 0, err


def _none_raw(text: str) -> None:
    for number in RAW:
        assert number not in text


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that no number in a table is wrapped apart."""
    monkeypatch.setenv("COLUMNS", "400")


def test_order_show_masks_free_texts_unless_revealed(cli: Cli, wide: None) -> None:
    _order(cli)
    code, table, err = cli("order", "show", "A-1")
    assert code == 0, err
    _none_raw(table)
    for masked in MASKED:
        assert masked in table
    code, out, err = cli("order", "show", "A-1", "--format", "json")
    assert code == 0, err
    _none_raw(out)
    events = json.loads(out)["events"]
    assert [e.get("summary") or e.get("reason") or e.get("report") for e in events] == [
        mask_numbers(SUMMARY), mask_numbers(REASON), mask_numbers(REPORT)]  # fmt: skip
    for masked in MASKED:
        assert masked in out
    code, out, err = cli("order", "show", "A-1", "--format", "json", "--reveal", "--reason", "复核")
    assert code == 0, err
    events = json.loads(out)["events"]
    assert (events[0]["summary"], events[1]["reason"], events[2]["report"]) == (
        SUMMARY, REASON, REPORT)  # fmt: skip


def test_a_corrected_free_text_is_masked_on_both_sides(cli: Cli, wide: None) -> None:
    _order(cli)
    code, _, err = cli("order", "correct", "A-1", "--event", "received", "--field", "summary",
                       "--value", f"改为联系{OTHER_MOBILE}", "--reason", f"来电{MOBILE}更正")  # fmt: skip
    assert code == 0, err
    for shown in (cli("order", "show", "A-1"), cli("order", "show", "A-1", "--format", "json"),
                  cli("audit", "A-1", "--format", "json"), cli("audit", "--format", "json")):  # fmt: skip
        assert shown[0] == 0, shown[2]
        _none_raw(shown[1])
        assert "139****1111" in shown[1]


def test_the_audit_trails_mask_free_texts(cli: Cli) -> None:
    _order(cli)
    code, _, err = cli("order", "show", "A-1", "--reveal", "--reason", f"市民{MOBILE}来电复核")
    assert code == 0, err
    code, out, err = cli("audit", "A-1", "--format", "json")
    assert code == 0, err
    _none_raw(out)
    assert mask_numbers(REASON) in out and "138****5678来电复核" in out
    code, out, err = cli("audit", "--format", "json")
    assert code == 0, err
    _none_raw(out)
    assert "市民138****5678来电复核" in [row["detail"] for row in json.loads(out)["rows"]]


def test_export_orders_masks_free_texts_and_reimports_unchanged(
    cli: Cli, other_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _order(cli)
    masked, revealed = tmp_path / "masked.csv", tmp_path / "revealed.csv"
    assert cli("export", "orders", "--period", "2026-03", "--output", str(masked))[0] == 0
    code, _, err = cli("export", "orders", "--period", "2026-03", "--output", str(revealed),
                       "--reveal", "--reason", "复核")  # fmt: skip
    assert code == 0, err
    (row,) = csv_rows(masked)[1]
    assert (row["诉求内容"], row["延期原因"]) == (mask_numbers(SUMMARY), mask_numbers(REASON))
    (full,) = csv_rows(revealed)[1]
    assert (full["诉求内容"], full["延期原因"]) == (SUMMARY, REASON)
    # Read back into the store it came from, a masked text agrees with the one it masks.
    code, out, err = cli("import", str(masked))
    assert (code, err) == (0, "")
    assert "0 rows imported, 1 unchanged, 0 conflicting, 0 rejected" in out
    # Into another store, the text is kept as the export shows it.
    assert main(["--db", other_store, "import", str(masked)]) == 0
    capsys.readouterr()
    assert main(["--db", other_store, "order", "show", "A-1", "--format", "json", "--reveal",
                 "--reason", "r"]) == 0  # fmt: skip
    events = json.loads(capsys.readouterr().out)["events"]
    assert (events[0]["summary"], events[1]["reason"]) == (
        mask_numbers(SUMMARY), mask_numbers(REASON))  # fmt: skip


def test_a_findings_note_is_masked_in_the_list_and_in_explain(cli: Cli) -> None:
    note = f"抽查发现工单录入了市民手机{MOBILE}和身份证{ID}"
    code, _, err = cli("finding", "add", "--rubric", "market-office-2017", "--item",
                       "data_standard", "--unit", MINHANG, "--day", "2026-03-05", "--note", note)  # fmt: skip
    assert code == 0, err
    code, out, err = cli("finding", "list", "--format", "json")
    assert code == 0, err
    assert [row["note"] for row in json.loads(out)["rows"]] == [mask_numbers(note)]
    code, out, err = cli("report", "explain", "--rubric", "market-office-2017", "--unit", MINHANG,
                         "--period", "2026-03", "--format", "json")  # fmt: skip
    assert code == 0, err
    _none_raw(out)
    assert any(mask_numbers(note) in row["reason"] for row in json.loads(out)["rows"])
