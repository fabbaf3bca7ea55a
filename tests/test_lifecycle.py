"""The 12315 lifecycle (SAMR Order No. 20, domain.md §3): 受理/不予受理, 调解终结, 立案决定 and
告知 as events, with their order rules, exact amounts, corrections, import and `order show`, on
the aggregate, the application service and the CLI."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import InvalidInput, OrderRuleViolation
from hotline.domain.facts import NONE, UNSET, StatusCode, fold
from hotline.domain.lookback import lookback
from hotline.domain.order import Order, OrderStatus
from hotline.domain.vocabulary import (
    Channel,
    Decision,
    DeclineReason,
    Kind,
    MediationOutcome,
)
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def order(kind: Kind = Kind.COMPLAINT, channel: Channel = Channel.HOTLINE_12315) -> Order:
    return Order.receive("C-1", at=T0, unit=MINHANG, kind=kind, channel=channel)


def accepted() -> Order:
    found = order()
    found.accept(at=at(1))
    return found


def refused(result: tuple[int, str, str], *words: str) -> None:
    """One line on stderr, exit 1, no traceback."""
    code, out, err = result
    assert code == 1, (out, err)
    assert err.startswith("hotline:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


# The aggregate's rules


@pytest.mark.parametrize(
    ("kind", "channel", "said"),
    [
        (Kind.COMPLAINT, Channel.HOTLINE_12345, "is a 12345 complaint (投诉)"),
        (Kind.REPORT, Channel.HOTLINE_12315, "is a 12315 report (举报)"),
        (Kind.CONSULTATION, Channel.HOTLINE_12315, "is a 12315 consultation (咨询)"),
    ],
)
def test_only_a_12315_complaint_is_accepted_or_declined(
    kind: Kind, channel: Channel, said: str
) -> None:
    other = order(kind, channel)
    with pytest.raises(OrderRuleViolation, match=rf"{re.escape(said)}: an acceptance .*12315 co"):
        other.accept(at=at(1))
    with pytest.raises(OrderRuleViolation, match=rf"{re.escape(said)}: a decline .*12315 co"):
        other.decline(at=at(1), reason=DeclineReason.TIME_BARRED)
    assert len(other.history) == 1


REFUSED: dict[str, tuple[Callable[[], Order], Callable[[Order], None], str]] = {
    "accepted twice": (accepted, lambda o: o.accept(at=at(2)), "was accepted at"),
    "declined after accepted": (
        accepted, lambda o: o.decline(at=at(2), reason="other"), "accepted or declined once"),
    "accepted when closed": (
        lambda: _then(order(), lambda o: o.close(at=at(1), result="resolved")),
        lambda o: o.accept(at=at(2)), "is closed: an acceptance"),
    "accepted when returned": (
        lambda: _then(order(), lambda o: o.return_(at=at(1), reason="x")),
        lambda o: o.accept(at=at(2)), "is returned: an acceptance"),
    "accepted before received": (order, lambda o: o.accept(at=at(-1)), "before the order was"),
    "mediation before acceptance": (
        order, lambda o: o.end_mediation(at=at(2), outcome="agreement"), "has not been accepted"),
    "mediation on a declined complaint": (
        lambda: _then(order(), lambda o: o.decline(at=at(1), reason="not_our_duty")),
        lambda o: o.end_mediation(at=at(2), outcome="agreement"), "was declined at"),
    "mediation ended twice": (
        lambda: _then(accepted(), lambda o: o.end_mediation(at=at(2), outcome="agreement")),
        lambda o: o.end_mediation(at=at(3), outcome="agreement"), "mediation already ended"),
    "mediation ended before it was accepted": (
        accepted, lambda o: o.end_mediation(at=at(0.5), outcome="agreement"),
        "before accepted"),
    "case on a complaint not accepted": (
        order, lambda o: o.decide_case(at=at(2), filed=True), "has not been accepted"),
    "case on a 12345 report": (
        lambda: order(Kind.REPORT, Channel.HOTLINE_12345),
        lambda o: o.decide_case(at=at(2), filed=True), "is a 12345 report (举报): a case"),
    "case decided twice": (
        lambda: _then(accepted(), lambda o: o.decide_case(at=at(2), filed=False)),
        lambda o: o.decide_case(at=at(3), filed=True), "already decided"),
    "told of no decision": (
        accepted, lambda o: o.notify(at=at(2), of="mediation_ended"), "no mediation_ended"),
    "told of the other acceptance decision": (
        accepted, lambda o: o.notify(at=at(2), of="declined"), "no declined (不予受理)"),
    "told twice": (
        lambda: _then(accepted(), lambda o: o.notify(at=at(2), of="accepted")),
        lambda o: o.notify(at=at(3), of="受理"), "already told"),
    "told before the decision": (
        lambda: _then(accepted(), lambda o: o.decide_case(at=at(3), filed=True)),
        lambda o: o.notify(at=at(2), of="case_decided"), "before case_decided"),
    "closed when declined": (
        lambda: _then(order(), lambda o: o.decline(at=at(1), reason="before_court")),
        lambda o: o.close(at=at(2), result="resolved"), "is declined: a close"),
    "contacted when declined": (
        lambda: _then(order(), lambda o: o.decline(at=at(1), reason="before_court")),
        lambda o: o.contact(at=at(2)), "is declined: a first contact"),
}  # fmt: skip


def _then(start: Order, *steps: Callable[[Order], None]) -> Order:
    for step in steps:
        step(start)
    return start


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_an_event_out_of_order_is_refused_and_nothing_recorded(case: str) -> None:
    make, act, said = REFUSED[case]
    found = make()
    before = len(found.history)
    with pytest.raises(OrderRuleViolation, match=re.escape(said)):
        act(found)
    assert len(found.history) == before


def test_a_report_is_decided_without_acceptance_and_a_declined_complaint_needs_no_close() -> None:
    report = order(Kind.REPORT)
    report.decide_case(at=at(3), filed=False)
    report.notify(at=at(4), of=Decision.CASE_DECIDED)
    assert report.case is not None and not report.case.filed
    assert report.notified == {Decision.CASE_DECIDED}
    declined = order()
    declined.decline(at=at(1), reason="超过三年")
    declined.notify(at=at(2), of="declined")
    assert declined.status is OrderStatus.DECLINED
    row = fold(declined).row
    assert (row["status"], row["declined_day"], row["accepted_day"]) == (
        StatusCode.DECLINED,
        at(1).date().toordinal(),
        NONE,
    )
    assert row["acceptance_notified_day"] == at(2).date().toordinal()


@pytest.mark.parametrize(
    "amount",
    [Decimal("-0.01"), "-5", 12.5, "1e3", "12.345", "NaN", "1,234.50", True, "21474836.48"],
)
def test_recovered_is_an_exact_amount_in_yuan(amount: Any) -> None:
    found = accepted()
    with pytest.raises(InvalidInput, match="recovered"):
        found.end_mediation(at=at(2), outcome="agreement", recovered=amount)
    assert found.mediation is None


@pytest.mark.parametrize(
    ("amount", "fen"), [("0.29", 29), (12, 1200), ("1234.5", 123450), (Decimal("0.07"), 7)]
)
def test_recovered_is_kept_in_fen_exactly(amount: Any, fen: int) -> None:
    found = accepted()
    found.end_mediation(at=at(2), outcome="agreement", recovered=amount)
    row = fold(found).row
    assert row["recovered_fen"] == fen and isinstance(row["recovered_fen"], int)
    assert row["mediation_outcome"] == MediationOutcome.AGREEMENT.code


def test_a_terminated_mediation_needs_a_reason() -> None:
    found = accepted()
    with pytest.raises(InvalidInput, match="needs a reason"):
        found.end_mediation(at=at(2), outcome="终止调解")
    found.end_mediation(at=at(2), outcome="终止调解", reason="被投诉人拒绝调解")
    assert found.mediation is not None
    assert found.mediation.outcome is MediationOutcome.TERMINATED


def test_corrections_of_the_new_fields_refold_and_keep_the_rules() -> None:
    found = accepted()
    found.end_mediation(at=at(2), outcome="agreement", recovered="100.00")
    found.notify(at=at(3), of="mediation_ended")
    found.correct(at(10), 3, "recovered", "250.25", "金额录错")
    assert fold(found).row["recovered_fen"] == 25025
    with pytest.raises(InvalidInput, match="greater than or equal to 0"):
        found.correct(at(10), 3, "recovered", "-1", "x")
    with pytest.raises(InvalidInput, match="needs a reason"):
        found.correct(at(10), 3, "outcome", "terminated", "x")
    with pytest.raises(OrderRuleViolation, match=r"would not stand: .*12345 complaint"):
        found.correct(at(10), 1, "channel", "12345", "渠道录错")
    with pytest.raises(OrderRuleViolation, match=r"would not stand: .*before accepted"):
        found.correct(at(10), 3, "at", at(0.5), "x")
    with pytest.raises(OrderRuleViolation, match=r"would not stand: .*no case_decided"):
        found.correct(at(10), 4, "of", "case_decided", "x")
    found.correct(at(10), 2, "at", at(0.5), "受理时间录错")
    assert fold(found).row["accepted_day"] == at(0.5).date().toordinal()
    assert len(found.corrections) == 2


# The application service and the read model


def test_the_service_records_the_lifecycle_and_the_read_model_folds_it(
    app: HotlineApplication,
) -> None:
    app.receive("S-1", at=T0, unit=MINHANG, kind=Kind.COMPLAINT, channel=Channel.HOTLINE_12315)
    app.record("S-1", "accepted", at=at(1))
    app.record("S-1", "mediation_ended", at=at(20), outcome="agreement", recovered="880.40")
    app.record("S-1", "case_decided", at=at(21), filed=True)
    app.record("S-1", "notified", at=at(22), of="case_decided")
    app.correct("S-1", "mediation_ended", "recovered", "880.45", "金额录错")
    app.receive("S-2", at=T0, unit=MINHANG, kind=Kind.COMPLAINT, channel=Channel.HOTLINE_12315)
    app.record("S-2", "declined", at=at(2), reason="handled_before")
    with pytest.raises(OrderRuleViolation, match="S-2 is declined"):
        app.record("S-2", "closed", at=at(3), result="resolved")
    OrderProjection(app, app.readmodel).catch_up()
    columns = app.readmodel.load(
        lookback(app.calendar(), app.rules, date(2026, 1, 1)), date(2026, 12, 31)
    )
    first, second = (columns.numbers.index(n) for n in ("S-1", "S-2"))
    t = columns.timelines
    assert (t.accepted[first], t.mediation_ended[first], t.case_decided[first]) == (
        at(1).date().toordinal(),
        at(20).date().toordinal(),
        at(21).date().toordinal(),
    )
    assert bool(t.case_filed[first]) and t.case_notified[first] == at(22).date().toordinal()
    assert columns.recovered_fen[first] == 88045
    assert columns.mediation_outcome[first] == MediationOutcome.AGREEMENT.code
    assert (t.status[second], t.declined[second], t.accepted[second]) == (
        StatusCode.DECLINED,
        at(2).date().toordinal(),
        NONE,
    )
    assert columns.mediation_outcome[second] == UNSET


# The CLI


def _json(cli: Cli, number: str) -> dict[str, Any]:
    code, out, err = cli("order", "show", number, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def _receive(cli: Cli, number: str, kind: str = "投诉", channel: str = "12315") -> None:
    code, _, err = cli("order", "receive", number, "--unit", MINHANG, "--kind", kind,
                       "--channel", channel, "--at", "2026-03-02 10:00")  # fmt: skip
    assert code == 0, err


def test_order_show_of_a_complaint_through_acceptance_mediation_and_a_case(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's walk: accepted, told, mediated with a recovered amount, 诉转案, closed."""
    monkeypatch.setenv("COLUMNS", "160")  # the details on one line each
    _receive(cli, "C-1")
    steps = [
        ("accept", "--at", "2026-03-03 09:00"),
        ("notify", "--of", "受理", "--at", "2026-03-03 09:30"),
        ("end-mediation", "--outcome", "达成调解协议", "--recovered", "1234.50",
         "--at", "2026-03-20 15:00"),
        ("decide-case", "--filed", "--at", "2026-03-23 10:00"),
        ("notify", "--of", "case_decided", "--at", "2026-03-24 10:00"),
        ("close", "--result", "resolved", "--at", "2026-03-24 16:00"),
    ]  # fmt: skip
    for command, *flags in steps:
        code, out, err = cli("order", command, "C-1", *flags)
        assert code == 0, err
        assert out.startswith("order C-1: ")
    code, text, err = cli("order", "show", "C-1")
    assert code == 0, err
    for shown in ("accepted", "of=accepted", "mediation_ended", "outcome=agreement",
                  "recovered=1234.50", "case_decided", "filed=True", "of=case_decided"):  # fmt: skip
        assert shown in text, shown
    document = _json(cli, "C-1")
    assert document["status"] == "closed"
    events = [{k: v for k, v in e.items() if k not in ("version", "recorded", "actor", "role")}
              for e in document["events"][1:]]  # fmt: skip
    assert events == [
        {"event": "accepted", "at": "2026-03-03T09:00:00+08:00"},
        {"event": "notified", "at": "2026-03-03T09:30:00+08:00", "of": "accepted"},
        {"event": "mediation_ended", "at": "2026-03-20T15:00:00+08:00", "outcome": "agreement",
         "recovered": "1234.50"},
        {"event": "case_decided", "at": "2026-03-23T10:00:00+08:00", "filed": True},
        {"event": "notified", "at": "2026-03-24T10:00:00+08:00", "of": "case_decided"},
        {"event": "closed", "at": "2026-03-24T16:00:00+08:00", "result": "resolved",
         "citizen_informed": True, "no_reply_requested": False},
    ]  # fmt: skip


def test_a_declined_complaint_shows_no_close_limit(cli: Cli) -> None:
    _receive(cli, "C-2")
    code, out, err = cli("order", "decline", "C-2", "--reason", "超过三年", "--at",
                         "2026-03-04 10:00")  # fmt: skip
    assert code == 0, err
    assert "(status declined)" in out and "close 办结" not in out
    document = _json(cli, "C-2")
    assert document["status"] == "declined"
    assert document["events"][-1]["reason"] == "time_barred"
    (close,) = [limit for limit in document["limits"] if limit["limit"] == "close"]
    assert (close["status"], close["due"]) == ("not_required", None)
    assert "needs no close" in close["note"]


BAD = {
    "accept a 12345 complaint": ("C-3", "12345", [("accept",)], "is a 12345 complaint"),
    "mediation not accepted": (
        "C-3", "12315", [("end-mediation", "--outcome", "agreement")], "has not been accepted"),
    "negative recovered": (
        "C-3", "12315", [("accept",), ("end-mediation", "--outcome", "agreement",
                                       "--recovered", "-3")], "greater than or equal to 0"),
    "float-looking recovered": (
        "C-3", "12315", [("accept",), ("end-mediation", "--outcome", "agreement",
                                       "--recovered", "1.5e2")], "written like 1234.50"),
    "three places": (
        "C-3", "12315", [("accept",), ("end-mediation", "--outcome", "agreement",
                                       "--recovered", "0.125")], "2 decimal places"),
    "unknown reason": ("C-3", "12315", [("decline", "--reason", "lazy")], "unknown declinereason"),
    "unknown outcome": (
        "C-3", "12315", [("accept",), ("end-mediation", "--outcome", "maybe")],
        "unknown mediationoutcome"),
    "told of nothing": ("C-3", "12315", [("notify", "--of", "受理")], "no accepted (受理)"),
    "unknown decision": ("C-3", "12315", [("notify", "--of", "everything")], "unknown decision"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_one_line_and_writes_nothing(cli: Cli, store: str, case: str) -> None:
    number, channel, commands, said = BAD[case]
    _receive(cli, number, channel=channel)
    *before, last = commands
    for command, *flags in before:
        assert cli("order", command, number, *flags, "--at", "2026-03-03 10:00")[0] == 0
    written = stored_events(store)
    refused(cli("order", last[0], number, *last[1:], "--at", "2026-03-04 10:00"), said)
    assert stored_events(store) == written


def test_corrections_of_the_new_fields_through_the_cli(cli: Cli, store: str) -> None:
    _receive(cli, "C-4")
    assert cli("order", "accept", "C-4", "--at", "2026-03-03 10:00")[0] == 0
    assert cli("order", "end-mediation", "C-4", "--outcome", "agreement", "--recovered", "10",
               "--at", "2026-03-05 10:00")[0] == 0  # fmt: skip
    correct = ("order", "correct", "C-4", "--event", "mediation_ended", "--reason", "录错")
    written = stored_events(store)
    refused(cli(*correct, "--field", "recovered", "--value", "10.999"), "2 decimal places")
    refused(cli(*correct, "--field", "outcome", "--value", "terminated"), "needs a reason")
    refused(cli("order", "correct", "C-4", "--event", "received", "--field", "kind", "--value",
                "举报", "--reason", "x"), "would not stand", "12315 report")  # fmt: skip
    assert stored_events(store) == written
    assert cli(*correct, "--field", "recovered", "--value", "10.50")[0] == 0
    mediation = _json(cli, "C-4")["events"][2]
    assert (mediation["recovered"], mediation["corrected_by"]) == ("10.50", [4])


LINES = [
    {"order": "J-1", "event": "received", "at": "2026-03-02T10:00:00+08:00", "unit": MINHANG,
     "kind": "complaint", "channel": "12315"},
    {"order": "J-1", "event": "accepted", "at": "2026-03-03T10:00:00+08:00"},
    {"order": "J-1", "event": "notified", "at": "2026-03-03T11:00:00+08:00", "of": "accepted"},
    {"order": "J-1", "event": "mediation_ended", "at": "2026-04-01T10:00:00+08:00",
     "outcome": "terminated", "reason": "投诉人撤回投诉", "recovered": "0.50"},
    {"order": "J-1", "event": "notified", "at": "2026-04-02T10:00:00+08:00",
     "of": "mediation_ended"},
    {"order": "J-1", "event": "case_decided", "at": "2026-04-03T10:00:00+08:00", "filed": True},
    {"order": "J-2", "event": "received", "at": "2026-03-02T10:00:00+08:00", "unit": MINHANG,
     "kind": "report", "channel": "12315"},
    {"order": "J-2", "event": "case_decided", "at": "2026-03-10T10:00:00+08:00", "filed": False},
    {"order": "J-3", "event": "received", "at": "2026-03-02T10:00:00+08:00", "unit": MINHANG,
     "kind": "complaint", "channel": "12315"},
    {"order": "J-3", "event": "declined", "at": "2026-03-04T10:00:00+08:00",
     "reason": "not_our_duty"},
]  # fmt: skip


def test_json_lines_with_the_new_events_import_and_reimport_idempotently(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert "10 events written, 0 already present" in out
    written = stored_events(store)
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert "0 events written, 10 already present" in out
    assert stored_events(store) == written
    mediation = _json(cli, "J-1")["events"][3]
    assert (mediation["outcome"], mediation["recovered"]) == ("terminated", "0.50")
    assert _json(cli, "J-2")["events"][-1]["filed"] is False
    assert _json(cli, "J-3")["status"] == "declined"


def test_a_json_number_with_a_point_for_recovered_is_refused(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    float_line = {**LINES[3], "recovered": 0.5}
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in [*LINES[:2], float_line]), "utf-8")
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 3" in err and "written like 1234.50" in err
    assert cli("order", "show", "J-1")[0] != 0  # the order's events are written together or not


def test_the_12315_mapping_reads_acceptance_mediation_and_case_columns(
    cli: Cli, tmp_path: Path
) -> None:
    headers = ["投诉举报编号", "登记时间", "处理机构", "业务类型", "受理时间", "不予受理原因",
               "调解结果", "挽回经济损失", "立案时间", "办结时间", "处理结果"]  # fmt: skip
    rows = [
        ["3101-1", "2026-03-02 10:00", MINHANG, "投诉", "2026-03-03 10:00", "", "调解成功",
         "1234.5", "2026-03-20 10:00", "2026-03-19 15:00", "调解成功"],
        ["3101-2", "2026-03-02 10:00", MINHANG, "投诉", "2026-03-04 10:00",
         "不属于市场监督管理部门职责", "", "", "", "", ""],
        ["3101-3", "2026-03-02 10:00", MINHANG, "举报", "", "", "", "", "2026-03-12 10:00", "",
         ""],
    ]  # fmt: skip
    path = tmp_path / "12315.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([headers, *rows])
    code, out, err = cli("import", "--mapping", "12315", str(path))
    assert code == 0, err
    assert "3 rows imported" in out
    code, out, err = cli("import", "--mapping", "12315", str(path))
    assert code == 0, err
    assert "0 rows imported, 3 unchanged" in out and "0 events written" in out
    first = [(e["event"], e.get("outcome"), e.get("recovered"), e.get("filed"))
             for e in _json(cli, "3101-1")["events"]]  # fmt: skip
    assert first == [
        ("received", None, None, None),
        ("accepted", None, None, None),
        ("mediation_ended", "agreement", "1234.5", None),
        ("closed", None, None, None),
        ("case_decided", None, None, True),
    ]
    second = _json(cli, "3101-2")
    assert second["status"] == "declined"
    assert [e["event"] for e in second["events"]] == ["received", "declined"]
    assert second["events"][-1]["reason"] == "not_our_duty"
    third = _json(cli, "3101-3")
    assert [(e["event"], e.get("filed")) for e in third["events"]] == [
        ("received", None),
        ("case_decided", True),
    ]
