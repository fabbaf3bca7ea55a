"""`--judged-on DATE`: the limits judged on a past day with every event that happened by its
end, whenever it was recorded; beside `--as-of`, which is recorded time (issue 21)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

import hotline.service.reports
from hotline.cli.main import main
from hotline.domain.aggregate import SHANGHAI
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
DAY = "2026-04-20"
"""The day judged on: inside 2026Q2 (2026-02-01 … 2026-04-30), with events on both sides."""
Q2 = ("--period", "2026Q2")


def _received(number: str, at: str) -> tuple[str, ...]:
    return ("order", "receive", number, "--unit", MINHANG, "--kind", "投诉",
            "--channel", "12345", "--at", at)  # fmt: skip


def _closed(number: str, at: str) -> tuple[str, ...]:
    return ("order", "close", number, "--result", "实际解决", "--at", at)


def _contact(number: str, at: str) -> tuple[str, ...]:
    return ("order", "first-contact", number, "--method", "电话", "--at", at)


def _finding(day: str) -> tuple[str, ...]:
    return ("finding", "add", "--rubric", "market-office-2017", "--item", "data_standard",
            "--unit", MINHANG, "--day", day, "--note", "未按标准录入")  # fmt: skip


HISTORY: list[tuple[bool, tuple[str, ...]]] = [
    # (happened by the end of DAY, the command), all of it entered today: back-filled.
    (True, _received("J-1", "2026-03-02 10:00")),
    (True, _contact("J-1", "2026-03-03 09:00")),
    (False, _closed("J-1", "2026-04-27 10:00")),  # late, and open on DAY
    (True, _received("J-2", "2026-04-16 10:00")),
    (True, _contact("J-2", "2026-04-16 15:00")),
    (False, _closed("J-2", "2026-04-23 10:00")),  # its limit falls after DAY: pending then
    (False, ("order", "rate", "J-2", "--rating", "不满意", "--at", "2026-04-24 10:00")),
    (True, _received("J-3", "2026-04-01 10:00")),
    (True, _contact("J-3", "2026-04-01 12:00")),
    (True, _closed("J-3", "2026-04-10 10:00")),
    (True, ("order", "rate", "J-3", "--rating", "满意", "--at", "2026-04-12 10:00")),
    (True, _received("J-5", "2026-04-02 10:00")),
    (True, _contact("J-5", "2026-04-02 12:00")),
    (False, _received("J-4", "2026-04-25 10:00")),  # received after DAY
    (True, _finding("2026-04-15")),
    (False, _finding("2026-04-25")),
]
J5_CLOSED = "2026-04-10 10:00"
"""J-5's close, entered first as 2026-05-06 (after DAY) and corrected to this (before it)."""


def _back_fill(cli: Cli, *, only_by_day: bool) -> None:
    """The history entered now; `only_by_day`: what had happened by the end of DAY alone,
    J-5's close as corrected."""
    for by_day, command in HISTORY:
        if by_day or not only_by_day:
            code, _, err = cli(*command)
            assert code == 0, (command, err)
    if only_by_day:
        assert cli(*_closed("J-5", J5_CLOSED))[0] == 0
        return
    assert cli(*_closed("J-5", "2026-05-06 10:00"))[0] == 0
    code, _, err = cli("order", "correct", "J-5", "--event", "closed", "--field", "at",
                       "--value", J5_CLOSED, "--reason", "录入错误")  # fmt: skip
    assert code == 0, err


def _json(cli: Cli, *args: str) -> Any:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _row(cli: Cli, *args: str) -> dict[str, Any]:
    (row,) = _json(cli, "report", "rates", *Q2, "--unit", MINHANG, *args)["rows"]
    return dict(row)


def _findings_alike(documents: list[Any]) -> Any:
    """The documents with each finding's id (random, so another in each store) left out."""
    return json.loads(re.sub(r"finding [0-9a-f-]{36}", "finding", json.dumps(documents)))


@pytest.fixture
def other(other_store: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", other_store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_back_filled_store_has_nothing_as_of_the_day_and_the_days_picture_judged_on_it(
    cli: Cli,
) -> None:
    _back_fill(cli, only_by_day=False)
    code, _, err = cli("report", "rates", *Q2, "--as-of", f"{DAY} 23:59")
    assert code == 0 and f"use --judged-on {DAY}" in err
    assert _row(cli, "--as-of", f"{DAY} 23:59")["volume"] == 0

    judged = _json(cli, "report", "rates", *Q2, "--unit", MINHANG, "--judged-on", DAY)
    assert (judged["judged_on"], judged["as_of"]) == (DAY, None)
    (row,) = judged["rows"]
    assert row["volume"] == 4  # J-4 was received after the day
    # J-1 open and late on the day, J-3 and J-5 (as corrected) closed in time; J-2 pending.
    assert (row["on_time_rate_numerator"], row["on_time_rate_denominator"]) == (2, 3)
    assert (row["satisfaction_denominator"], row["dissatisfaction_numerator"]) == (1, 0)

    today = _row(cli)
    assert today["volume"] == 5
    assert (today["on_time_rate_numerator"], today["on_time_rate_denominator"]) == (3, 4)
    assert today["dissatisfaction_numerator"] == 1


def test_an_order_closed_after_the_day_is_open_and_overdue_on_it(cli: Cli) -> None:
    _back_fill(cli, only_by_day=False)
    rows = _json(cli, "report", "explain", *Q2, "--unit", MINHANG, "--judged-on", DAY)["rows"]
    why = {(r["metric"], r["order"]): r["reason"] for r in rows}
    assert why[("on_time_rate", "J-1")] == "still open, due 2026-03-19"
    assert "J-2" not in {order for _, order in why}
    now = {
        (r["metric"], r["order"]): r["reason"]
        for r in _json(cli, "report", "explain", *Q2, "--unit", MINHANG)["rows"]
    }
    assert now[("on_time_rate", "J-1")].startswith("closed on working day")


REPORTS = [
    ("report", "rates", *Q2),
    ("report", "explain", *Q2, "--unit", MINHANG),
    ("report", "scores", *Q2, "--rubric", "shanghai-12345-2019"),
    ("report", "deductions", *Q2, "--rubric", "market-office-2017"),
    ("report", "explain", *Q2, "--unit", MINHANG, "--rubric", "market-office-2017"),
    ("report", "kpi", *Q2),
    ("report", "trend", "--from", "2026-02", "--to", "2026-04", "--rubric", "shanghai-12345-2019"),
]


def test_judged_on_the_day_agrees_with_a_store_of_only_what_had_happened_by_then(
    cli: Cli, other: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact derived two ways: the whole store judged on DAY (replayed by when events
    happened), and a store that holds only the events up to DAY, reported on DAY itself."""
    _back_fill(cli, only_by_day=False)
    _back_fill(other, only_by_day=True)
    judged = [_json(cli, *command, "--judged-on", DAY) for command in REPORTS]
    moment = datetime.fromisoformat(f"{DAY} 12:00").replace(tzinfo=SHANGHAI)
    monkeypatch.setattr(hotline.service.reports, "now", lambda: moment)
    assert _findings_alike([_json(other, *command) for command in REPORTS]) == _findings_alike(
        judged
    )
    assert judged[0]["rows"][-1]["volume"] == 4  # the system's row: the day's orders


def test_judged_on_is_refused_with_as_of_and_outside_the_calendar(cli: Cli, store: str) -> None:
    assert cli(*_received("J-1", "2026-03-02 10:00"))[0] == 0
    before = stored_events(store)
    for command in (("report", "rates", *Q2), ("report", "scores", *Q2, "--rubric",
                                               "shanghai-12345-2019")):  # fmt: skip
        code, out, err = cli(*command, "--judged-on", DAY, "--as-of", f"{DAY} 23:59")
        assert (code, out) == (1, "")
        assert "give either --as-of" in err and "--judged-on" in err and err.count("\n") == 1
    code, out, err = cli("report", "rates", *Q2, "--judged-on", "1999-04-30")
    assert (code, out) == (1, "")
    assert "--judged-on 1999-04-30 is outside the working-day calendar" in err
    code, out, err = cli("report", "kpi", *Q2, "--judged-on", "30.04.2026")
    assert (code, out) == (1, "") and "--judged-on '30.04.2026' is not a date" in err
    assert stored_events(store) == before
