"""Issue 17's rule fixes (item 5), each through the CLI on the test's store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., tuple[int, str, str]]
UNIT = "闵行区市场监管局"


def receive(cli: Cli, number: str, kind: str, at: str, *extra: str) -> None:
    code, _, err = cli("order", "receive", number, "--unit", UNIT, "--kind", kind,
                       "--channel", "12345", "--at", at, *extra)  # fmt: skip
    assert code == 0, err


def step(cli: Cli, command: str, number: str, *options: str) -> None:
    code, _, err = cli("order", command, number, *options)
    assert code == 0, err


def limits(cli: Cli, number: str) -> dict[str, dict[str, Any]]:
    code, out, err = cli("order", "show", number, "--format", "json")
    assert code == 0, err
    return {limit["limit"]: limit for limit in json.loads(out)["limits"]}


# March 2026 has no holidays: received Monday 03-02, day 4 is 03-06, day 5 03-09, day 8 03-12.
def test_a_revisit_review_extension_counts_only_within_its_five_days(cli: Cli) -> None:
    for number, applied in (
        ("2026-000001", "2026-03-09 09:00"),
        ("2026-000002", "2026-03-12 09:00"),
    ):
        receive(cli, number, "回访复核单", "2026-03-02 10:00")
        step(cli, "extend", number, "--until", "2026-03-31", "--reason", "需现场核查",
             "--at", applied)  # fmt: skip
        step(cli, "close", number, "--result", "实际解决", "--at", "2026-03-20 15:00")
    on_day_five = limits(cli, "2026-000001")["close"]
    assert (on_day_five["status"], on_day_five["due"]) == ("met", "2026-03-30")
    on_day_eight = limits(cli, "2026-000002")["close"]
    assert (on_day_eight["status"], on_day_eight["due"]) == ("missed", "2026-03-06")
    assert "applied for after day 5 is not counted" in on_day_eight["note"]


def test_an_ordinary_order_extended_on_day_eight_still_counts(cli: Cli) -> None:
    receive(cli, "2026-000003", "投诉", "2026-03-02 10:00")
    step(cli, "extend", "2026-000003", "--until", "2026-03-31", "--reason", "需现场核查",
         "--at", "2026-03-12 09:00")  # fmt: skip
    close = limits(cli, "2026-000003")["close"]
    assert close["due"] == "2026-03-30"


def returned_and_rejected(cli: Cli, number: str) -> None:
    receive(cli, number, "投诉", "2026-03-02 10:00")
    step(cli, "return", number, "--reason", "非本单位职责", "--out-of-jurisdiction",
         "--at", "2026-03-03 09:00")  # fmt: skip
    step(cli, "reject-return", number, "--reason", "属本单位职责", "--at", "2026-03-04 09:00")


def test_a_return_after_a_rejected_return_is_refused(cli: Cli) -> None:
    returned_and_rejected(cli, "2026-000004")
    code, out, err = cli("order", "return", "2026-000004", "--reason", "非本单位职责",
                         "--at", "2026-03-05 09:00")  # fmt: skip
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "二次退回" in err and "Traceback" not in err
    code, out, _ = cli("order", "show", "2026-000004", "--format", "json")
    shown = json.loads(out)
    assert shown["status"] == "open"
    assert [e["event"] for e in shown["events"]][-1] == "return_rejected"


def test_an_import_line_returning_a_rejected_return_again_is_rejected(
    cli: Cli, tmp_path: Path
) -> None:
    returned_and_rejected(cli, "2026-000005")
    again = {"order": "2026-000005", "event": "returned", "at": "2026-03-05T09:00:00+08:00",
             "reason": "非本单位职责"}  # fmt: skip
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps(again, ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 1: order 2026-000005" in err and "二次退回" in err
    code, out, _ = cli("order", "show", "2026-000005", "--format", "json")
    assert json.loads(out)["status"] == "open"


def test_a_tick_as_of_a_past_time_judges_each_order_as_it_stood_then(
    cli: Cli, tmp_path: Path
) -> None:
    """A back-filled store: every order is closed now, yet on 2026-02-24 08:00 (the first
    working day after the Spring Festival) BF1 was open and its first contact overdue."""

    def event(order: str, name: str, at: str, **fields: Any) -> str:
        found = {"order": order, "event": name, "at": f"{at}+08:00", **fields}
        return json.dumps(found, ensure_ascii=False)

    def received(order: str, at: str) -> str:
        return event(order, "received", at, unit=UNIT, kind="complaint", channel="12345")

    closed = {"result": "resolved", "citizen_informed": True}
    lines = [
        received("BF1", "2026-02-13T10:00:00"),  # contact due Sat 02-14, made on 02-24 09:00
        event("BF1", "first_contact", "2026-02-24T09:00:00"),
        event("BF1", "closed", "2026-03-05T15:00:00", **closed),
        received("BF2", "2026-02-13T11:00:00"),  # contacted in time; close due 03-10
        event("BF2", "first_contact", "2026-02-14T09:00:00"),
        event("BF2", "closed", "2026-03-05T15:00:00", **closed),
        received("BF3", "2026-02-24T09:30:00"),  # not received yet at 08:00
        event("BF3", "closed", "2026-02-25T15:00:00", **closed),
    ]
    path = tmp_path / "backfill.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert code == 0, err
    code, out, err = cli("scheduler", "tick", "--as-of", "2026-02-24 08:00")
    assert (code, err) == (0, "")
    assert out.startswith("2026-02-24: 1 flagged, 0 flagged before\n")
    assert " BF1 " in out and "first_contact" in out and " BF2 " not in out
    first_contact = limits(cli, "BF1")["first_contact"]
    assert [f["level"] for f in first_contact["flags"]] == ["overdue"]
    code, out, _ = cli("scheduler", "tick", "--as-of", "2026-02-24 08:00")
    assert out.startswith("2026-02-24: 0 flagged, 1 flagged before\n")
    # At 10:00 BF1 had been contacted: nothing more is due.
    code, out, _ = cli("scheduler", "tick", "--as-of", "2026-02-24 10:00")
    assert out.startswith("2026-02-24: 0 flagged, 0 flagged before\n")


def test_a_year_with_no_published_schedule_keeps_its_statutory_holidays(cli: Cli) -> None:
    code, out, err = cli("calendar", "day", "2027-01-01")
    assert code == 0 and "元旦" in out and "no published holiday schedule for 2027" in err
    for day in ("2027-02-05", "2027-02-08"):  # 除夕 and 初三 of 春节 2027
        code, out, _ = cli("calendar", "day", day)
        assert code == 0 and "春节" in out
    # Received Wed 2027-02-03: day 1 is 02-04, 02-05 … 02-08 off, day 13 is Wed 02-24.
    code, out, err = cli("calendar", "deadline", "2027-02-03", "13")
    assert code == 0 and "day 13 (the deadline) is 2027-02-24" in out
    assert "only weekends and statutory holidays are counted there" in err
    code, out, err = cli("calendar", "deadline", "2027-02-03", "13", "--strict")
    assert code == 1 and out == "" and err.count("\n") == 1
