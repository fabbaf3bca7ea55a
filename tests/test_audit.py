"""Who recorded what, corrections, and personal data, through the CLI and the application.

A correction is a new event: the order's state, its limits, the read model and every
report use the corrected value, `--as-of` a moment before it the original, and the
original stays in the trail. A citizen's name and phone never reach a report.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hotline.adapters.readmodel import ReadModel
from hotline.domain.aggregate import now
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from test_projection import at, log, log_everything, rebuilt, rows

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
PHONE = "13812345678"
NAME = "张三丰"


def head(app: HotlineApplication) -> int:
    return int(app.recorder.max_notification_id() or 0)


def receive(cli: Cli, number: str, *extra: str) -> None:
    code, _, err = cli(
        "order", "receive", number, "--unit", MINHANG, "--kind", "complaint",
        "--channel", "12345", "--at", "2026-03-02 09:00", *extra,
    )  # fmt: skip
    assert code == 0, err


def handled(cli: Cli, number: str) -> None:
    """Received 03-02 (Mon), first contact 03-03, closed resolved 03-10: all in time."""
    receive(cli, number, "--citizen-phone", PHONE, "--citizen-name", NAME)
    assert cli("order", "first-contact", number, "--at", "2026-03-03 10:00")[0] == 0
    assert cli("order", "close", number, "--result", "resolved", "--at", "2026-03-10 10:00")[0] == 0


def rates(cli: Cli, unit: str = MINHANG, *extra: str) -> dict[str, Any]:
    code, out, err = cli(
        "report", "rates", "--unit", unit, "--period", "2026-03", "--format", "json", *extra
    )
    assert code == 0, err
    row: dict[str, Any] = json.loads(out)["rows"][0]
    assert row["name"] == unit
    return row


def json_of(cli: Cli, *args: str) -> Any:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# Corrections


def test_a_correction_changes_every_report_and_keeps_the_original(cli: Cli) -> None:
    handled(cli, "C1")
    before = rates(cli)
    assert before["first_contact_rate_numerator"] == 1
    assert before["resolution_rate_numerator"] == 1
    time.sleep(0.01)
    moment = now()
    time.sleep(0.01)
    code, out, err = cli(
        "--actor", "王五", "order", "correct", "C1", "--event", "first_contact",
        "--field", "at", "--value", "2026-03-05 10:00", "--reason", "录入错误",
    )  # fmt: skip
    assert code == 0, err
    assert "corrected" in out
    code, _, err = cli(
        "order", "correct", "C1", "--event", "#3", "--field", "result", "--value", "explained",
        "--reason", "应为解释说明",
    )  # fmt: skip
    assert code == 0, err

    after = rates(cli)
    assert after["first_contact_rate_numerator"] == 0  # contacted on day 3: late
    assert after["resolution_rate_numerator"] == 0  # explained, not resolved
    # As the store stood before the corrections: the original values.
    assert rates(cli, MINHANG, "--as-of", moment.strftime("%Y-%m-%d %H:%M:%S.%f")) == before

    shown = json.loads(cli("order", "show", "C1", "--format", "json")[1])
    contact = shown["events"][1]
    assert contact["at"].startswith("2026-03-05T10:00")
    assert contact["corrected_by"] == [4]
    assert shown["events"][2]["result"] == "explained"
    assert [e["event"] for e in shown["events"]][3:] == ["corrected", "corrected"]
    first = next(c for c in shown["limits"] if c["limit"] == "first_contact")
    assert first["status"] == "missed"

    trail = json_of(cli, "audit", "C1")["rows"]
    assert trail[1]["at"].startswith("2026-03-03T10:00")  # as recorded
    assert trail[1]["corrected_by"] == "#4"
    assert "result=resolved" in trail[2]["detail"]
    assert trail[3]["actor"] == "王五"
    assert trail[3]["detail"] == (
        "#2 first_contact.at: 2026-03-03T10:00:00+08:00 → 2026-03-05T10:00:00+08:00 (录入错误)"
    )
    assert trail[4]["detail"] == "#3 closed.result: resolved → explained (应为解释说明)"


def test_a_corrected_unit_moves_the_order(cli: Cli, app: HotlineApplication) -> None:
    handled(cli, "C2")
    assert rates(cli, MINHANG)["volume"] == 1
    code, _, err = cli(
        "order", "correct", "C2", "--event", "received", "--field", "unit",
        "--value", SONGJIANG, "--reason", "派错单位",
    )  # fmt: skip
    assert code == 0, err
    assert rates(cli, MINHANG)["volume"] == 0
    assert rates(cli, SONGJIANG)["volume"] == 1
    assert app.order("C2").unit == SONGJIANG
    assert json_of(cli, "audit", "--unit", SONGJIANG)["rows"][-1]["event"] == "corrected"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--event", "closed", "--field", "colour", "--value", "x"), "has no field 'colour'"),
        (("--event", "closed", "--field", "number", "--value", "X9"), "has no field 'number'"),
        (("--event", "closed", "--field", "result", "--value", "fixed"), "result: Input should"),
        (("--event", "closed", "--field", "result", "--value", "resolved"), "is already resolved"),
        (("--event", "first_contact", "--field", "at", "--value", "2026-03-01 10:00"),
         "the correction would not stand: order C3: first_contact at 2026-03-01 10:00 is before"),
        (("--event", "closed", "--field", "at", "--value", "2099-01-01 10:00"), "in the future"),
        (("--event", "extended", "--field", "until", "--value", "2026-03-30"),
         "has 2 extended events (#3, #4); name one by its number"),
        (("--event", "#9", "--field", "at", "--value", "2026-03-04 10:00"), "has no event #9"),
        (("--event", "revisited", "--field", "at", "--value", "2026-03-04 10:00"),
         "has no 'revisited' event"),
        (("--event", "closed", "--field", "unit", "--value", "火星市场监管局"), "火星市场监管局"),
        (("--event", "received", "--field", "category", *("--value", "市场监管") * 4),
         "at most 3 items"),
        (("--event", "received", "--field", "category", "--value", "长" * 101),
         "at most 100 characters"),
        (("--event", "closed", "--field", "result", "--value", "resolved", "--value", "explained"),
         "--value is given 2 times; only --field category takes one per level"),
    ],
)  # fmt: skip
def test_a_refused_correction_writes_nothing(
    cli: Cli, app: HotlineApplication, args: tuple[str, ...], message: str
) -> None:
    receive(cli, "C3")
    assert cli("order", "first-contact", "C3", "--at", "2026-03-03 10:00")[0] == 0
    for until in ("2026-03-25", "2026-03-31"):
        extend = ("order", "extend", "C3", "--until", until, "--reason", "核查")
        assert cli(*extend, "--at", "2026-03-10 10:00")[0] == 0
    assert cli("order", "close", "C3", "--result", "resolved", "--at", "2026-03-20 10:00")[0] == 0
    written = head(app)
    code, out, err = cli("order", "correct", "C3", *args, "--reason", "试")
    assert (code, out) == (1, "")
    assert message in err
    assert err.startswith("hotline: ") and err.count("\n") == 1
    assert head(app) == written


def test_the_category_is_corrected_level_by_level_from_the_cli(cli: Cli) -> None:
    receive(cli, "C5", "--category", "市场监管", "--category", "价格")
    code, _, err = cli(
        "order", "correct", "C5", "--event", "received", "--field", "category",
        "--value", "消费维权", "--value", "预付卡", "--value", "退费难", "--reason", "分类录错",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli("order", "show", "C5", "--format", "json")
    assert code == 0, err
    events = json.loads(out)["events"]
    assert events[0]["category"] == ["消费维权", "预付卡", "退费难"]
    assert events[-1]["event"] == "corrected"


def test_a_correction_of_a_correction_is_refused_and_the_later_one_wins(
    app: HotlineApplication,
) -> None:
    app.receive("C4", unit=MINHANG, kind="complaint", channel="12345", at=at("2026-03-02 09:00"))
    log(app, "C4", "closed", "2026-03-04 09:00", result="resolved")
    app.correct("C4", "closed", "result", "unresolved", "第一次")
    app.correct("C4", "closed", "result", "explained", "第二次")
    order = app.order("C4")
    assert order.closed is not None and order.closed.result == "explained"
    assert [e.name for e in order.history] == ["received", "closed", "corrected", "corrected"]
    assert order.history[1].payload()["result"] == "resolved"  # the original, as recorded
    with pytest.raises(Exception, match="#3 is a corrected event, which cannot be corrected"):
        app.correct("C4", "#3", "reason", "x", "y")


def test_read_model_with_corrections_equals_a_rebuild(
    app: HotlineApplication, tmp_path: Path
) -> None:
    projection = OrderProjection(app, app.readmodel, batch_size=2)
    log_everything(app)
    projection.catch_up()
    app.correct("H1", "first_contact", "at", at("2026-03-05 09:00"), "晚了")
    app.correct("H1", "#3", "until", "2026-04-03", "期限录错")
    app.correct("H2", "closed", "result", "resolved", "结果录错")
    app.correct("H3", "returned", "out_of_jurisdiction", False, "属本单位")
    projection.catch_up()
    app.correct("H4", "received", "unit", SONGJIANG, "派错")
    log(app, "H5", "first_contact", "2026-03-31 09:00")
    app.correct("H5", "received", "at", at("2026-03-27 10:00"), "受理时间录错")
    projection.catch_up()
    incremental = rows(app.readmodel)
    assert incremental == rebuilt(app, tmp_path)
    orders = {row[1]: row for row in incremental["rm_orders"]}
    assert orders["H1"][8] == date(2026, 3, 5).toordinal()  # contact_day
    assert orders["H4"][2] == SONGJIANG
    assert orders["H5"][7] == date(2026, 3, 27).toordinal()  # received_day
    assert not orders["H3"][10]  # out_of_jurisdiction
    until = {(r[0], r[1]): r[3] for r in incremental["rm_extensions"]}
    assert date(2026, 4, 3).toordinal() in until.values()
    assert len(incremental["rm_audit"]) == head(app)


def test_as_of_before_a_correction_sees_the_original(
    app: HotlineApplication, tmp_path: Path
) -> None:
    log_everything(app)
    time.sleep(0.01)
    moment = now()
    time.sleep(0.01)
    app.correct("H1", "#3", "until", "2026-04-03", "期限录错")
    past = ReadModel(f"sqlite:///{tmp_path / 'past.db'}")
    OrderProjection(app, app.readmodel).replay_until(moment, past)
    until = {row[1]: row[3] for row in rows(past)["rm_extensions"]}
    assert until[3] == date(2026, 3, 31).toordinal()


# Who recorded what


def test_every_event_records_who_recorded_it(
    cli: Cli, app: HotlineApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    receive(cli, "A1")
    assert (
        cli("--actor", "李四", "order", "first-contact", "A1", "--at", "2026-03-03 10:00")[0] == 0
    )
    monkeypatch.setenv("HOTLINE_ACTOR", "赵六")
    assert cli("order", "close", "A1", "--result", "resolved", "--at", "2026-03-04 10:00")[0] == 0
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        json.dumps({"order": "A1", "event": "rated", "at": "2026-03-05T10:00:00+08:00",
                    "rating": "satisfied"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    assert cli("--actor", "导入员", "import", str(lines))[0] == 0
    history = app.order("A1").history
    # By default the operating-system user on SQLite, the database role on PostgreSQL.
    assert [event.actor for event in history] == [app.role or getpass.getuser(), "李四", "赵六",
                                                  "导入员"]  # fmt: skip
    assert {event.role for event in history} == {app.role}

    by_li = json_of(cli, "audit", "--actor", "李四")["rows"]
    assert [(r["order"], r["event"], r["unit"]) for r in by_li] == [
        ("A1", "first_contact", MINHANG)
    ]
    today = now().date().isoformat()
    assert len(json_of(cli, "audit", "--from", today, "--to", today)["rows"]) == 4
    assert json_of(cli, "audit", "--to", "2026-01-01")["rows"] == []


def test_findings_and_the_calendar_are_in_the_trail(cli: Cli) -> None:
    day = now().date().isoformat()
    code, _, err = cli(
        "--actor", "检查员", "finding", "add", "--rubric", "market-office-2017",
        "--item", "data_standard", "--unit", MINHANG, "--day", day, "--note", "未按时录入",
    )  # fmt: skip
    if code != 0:
        pytest.fail(err)
    assert (
        cli("--actor", "管理员", "calendar", "add-closure", "2026-03-04", "--reason", "台风")[0]
        == 0
    )
    everything = json_of(cli, "audit")["rows"]
    assert [(r["actor"], r["event"], r["unit"]) for r in everything] == [
        ("检查员", "finding_recorded", MINHANG),
        ("管理员", "amendments_started", None),
        ("管理员", "closure_added", None),
    ]
    assert [r["event"] for r in json_of(cli, "audit", "--unit", MINHANG)["rows"]] == [
        "finding_recorded"
    ]


@pytest.mark.parametrize("actor", ["", "   ", "a\nb", "x" * 101])
def test_a_bad_actor_is_refused(cli: Cli, app: HotlineApplication, actor: str) -> None:
    code, _, err = cli("--actor", actor, "order", "receive", "A2", "--unit", MINHANG,
                       "--kind", "complaint", "--channel", "12345")  # fmt: skip
    assert code == 1
    assert err.startswith("hotline: actor") and "--actor" in err
    assert head(app) == 0


def test_an_import_line_cannot_name_its_actor(
    cli: Cli, app: HotlineApplication, tmp_path: Path
) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        json.dumps({"order": "A3", "event": "received", "at": "2026-03-02T09:00:00+08:00",
                    "unit": MINHANG, "kind": "complaint", "channel": "12345",
                    "actor": "别人"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    code, _, err = cli("import", str(lines))
    assert code == 1
    assert "line 1" in err and "actor" in err
    assert head(app) == 0


# Personal data


def test_personal_data_is_masked_and_never_in_a_report(
    cli: Cli, app: HotlineApplication, tmp_path: Path
) -> None:
    handled(cli, "P1")
    receive(cli, "P2", "--citizen-phone", PHONE)  # left open: overdue, flagged
    assert cli("scheduler", "tick", "--as-of", "2026-03-20 09:00")[0] == 0
    workbook = tmp_path / "scores.xlsx"
    outputs = []
    for args in (
        ("order", "show", "P1"),
        ("order", "show", "P1", "--format", "json"),
        ("audit", "P1"),
        ("audit",),
        ("alerts",),
        ("orders", "overdue", "--format", "json"),
        ("report", "rates", "--period", "2026-03", "--format", "csv"),
        ("report", "explain", "--unit", MINHANG, "--period", "2026-03"),
        ("report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2026-03",
         "--output", str(workbook)),
        ("report", "deductions", "--rubric", "market-office-2017", "--period", "2026-03"),
    ):  # fmt: skip
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        outputs.append(out + err)
    outputs.append(workbook.read_bytes().decode("latin-1"))
    shown = "\n".join(outputs)
    assert "138****5678" in outputs[0] and "张**" in outputs[0]
    assert PHONE not in shown and NAME not in shown
    assert not any(event.name == "revealed" for event in app.order("P1").history)


def test_revealing_personal_data_needs_a_reason_and_is_recorded(
    cli: Cli, app: HotlineApplication
) -> None:
    handled(cli, "P3")
    written = head(app)
    code, out, err = cli("order", "show", "P3", "--reveal")
    assert (code, out) == (1, "")
    assert "--reveal needs --reason" in err
    assert head(app) == written
    code, out, err = cli("--actor", "回访员", "order", "show", "P3", "--reveal", "--reason", "回访")
    assert code == 0, err
    assert PHONE in out and NAME in out
    revealed = app.order("P3").history[-1]
    assert (revealed.name, revealed.actor, revealed.payload()) == (
        "revealed", "回访员", {"reason": "回访"}
    )  # fmt: skip
    trail = json_of(cli, "audit", "--actor", "回访员")["rows"]
    assert [(r["event"], r["detail"]) for r in trail] == [("revealed", "回访")]
    # A revealing is not a fact of the order: nothing it is judged on changes.
    assert rates(cli)["first_contact_rate_numerator"] == 1


def test_a_corrected_phone_shows_masked_in_the_trail(cli: Cli) -> None:
    handled(cli, "P4")
    code, _, err = cli(
        "order", "correct", "P4", "--event", "received", "--field", "citizen_phone",
        "--value", "13987654321", "--reason", "号码录错",
    )  # fmt: skip
    assert code == 0, err
    trail = json_of(cli, "audit", "P4")["rows"][-1]["detail"]
    assert trail == "#1 received.citizen_phone: 138****5678 → 139****4321 (号码录错)"
    everything = json.dumps(json_of(cli, "audit"), ensure_ascii=False)
    assert "13987654321" not in everything and PHONE not in everything
