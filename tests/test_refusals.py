"""The small refusals and hints of issue 21, through the CLI: what a new user trips on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from hotline.domain.aggregate import SHANGHAI
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]


def receive(cli: Cli, number: str = "2026-000001", *extra: str) -> tuple[int, str, str]:
    return cli(
        "order", "receive", number, "--unit", "闵行区市场监管局", "--kind", "投诉",
        "--channel", "12345", *(extra or ("--at", "2026-02-13 10:00")),
    )  # fmt: skip


def test_a_date_only_at_says_the_time_it_assumed(cli: Cli) -> None:
    code, _, err = receive(cli, "2026-000001", "--at", "2026-02-13")
    assert code == 0
    assert "--at 2026-02-13 has no time of day; taken as 2026-02-13 00:00" in err
    _, out, _ = cli("order", "show", "2026-000001", "--format", "json")
    assert json.loads(out)["events"][0]["at"].startswith("2026-02-13T00:00")
    code, _, err = cli("order", "first-contact", "2026-000001", "--at", "2026-02-14 09:00")
    assert code == 0 and "taken as" not in err
    code, _, err = cli(
        "order", "correct", "2026-000001", "--event", "first_contact", "--field", "at",
        "--value", "2026-02-14", "--reason", "typo",
    )  # fmt: skip
    assert code == 0 and "--value 2026-02-14 has no time of day" in err


def test_an_order_cannot_repeat_itself(cli: Cli, store: str) -> None:
    code, out, err = receive(
        cli, "2026-000001", "--at", "2026-02-13 10:00", "--repeat-of", " 2026-000001"
    )
    assert code == 1 and out == ""
    assert "cannot repeat itself" in err and err.count("\n") == 1
    assert stored_events(store) == 0


def test_an_unknown_repeat_of_is_recorded_with_a_warning(cli: Cli) -> None:
    code, _, err = receive(cli, "2026-000002", "--at", "2026-02-13 10:00", "--repeat-of", "X-9")
    assert code == 0
    assert "warning: order X-9 (--repeat-of) is not in this store" in err
    code, out, _ = cli("order", "show", "2026-000002", "--format", "json")
    assert json.loads(out)["events"][0]["repeat_of"] == "X-9"
    code, _, err = receive(
        cli, "2026-000003", "--at", "2026-02-13 11:00", "--repeat-of", "2026-000002"
    )
    assert code == 0 and "warning" not in err


def test_calendar_count_refuses_reversed_dates(cli: Cli) -> None:
    code, out, err = cli("calendar", "count", "2027-01-04", "2026-12-31")
    assert code == 1 and out == ""
    assert "the dates are reversed" in err and "calendar count 2026-12-31 2027-01-04" in err
    code, out, _ = cli("calendar", "count", "2026-12-31", "2027-01-04")
    assert code == 0
    assert re.fullmatch(r"1 working day after 2026-12-31 up to and including 2027-01-04\n", out)
    code, out, _ = cli("calendar", "count", "2026-12-31", "2026-12-31")
    assert code == 0 and out.startswith("0 working days")


def test_a_refused_date_only_at_is_one_line(cli: Cli) -> None:
    assert receive(cli)[0] == 0
    code, _, err = cli("order", "first-contact", "2026-000001", "--at", "2026-02-12")
    assert code == 1 and err.count("\n") == 1 and "taken as" not in err


def test_order_show_s_return_row_says_one_thing(cli: Cli) -> None:
    assert receive(cli)[0] == 0
    _, out, _ = cli("order", "show", "2026-000001", "--format", "json")
    row = next(limit for limit in json.loads(out)["limits"] if limit["limit"] == "return")
    assert row["status"] == "not_required"
    assert "return by then" not in row["note"] and "the unit handles it" in row["note"]


def test_an_extension_that_does_not_extend_is_refused(cli: Cli, store: str) -> None:
    assert receive(cli)[0] == 0
    before = stored_events(store)
    code, out, err = cli(
        "order", "extend", "2026-000001", "--until", "2026-02-27", "--reason", "核查",
        "--at", "2026-02-25 10:00",
    )  # fmt: skip
    assert code == 1 and out == ""
    assert "does not extend the close limit (due 2026-03-10)" in err and err.count("\n") == 1
    assert stored_events(store) == before
    code, _, err = cli(
        "order", "extend", "2026-000001", "--until", "2026-03-20", "--reason", "核查",
        "--at", "2026-02-25 10:00",
    )  # fmt: skip
    assert code == 0, err


def test_a_report_as_of_before_anything_was_recorded_says_so(cli: Cli) -> None:
    code, _, err = cli("report", "rates", "--period", "2026Q2", "--as-of", "2026-04-30 23:59")
    assert code == 0 and "nothing was recorded before 2026-04-30 23:59 (none yet)" in err
    assert receive(cli, "2026-000001", "--at", "2026-03-02 10:00")[0] == 0  # back-filled
    for command in (("report", "rates"), ("report", "scores", "--rubric", "shanghai-12345-2019")):
        code, _, err = cli(*command, "--period", "2026Q2", "--as-of", "2026-04-30 23:59")
        assert code == 0
        assert "nothing was recorded before 2026-04-30 23:59 (the first was recorded at" in err
        assert "--as-of uses recorded time" in err
    later = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    code, _, err = cli("report", "rates", "--period", "2026Q2", "--as-of", later)
    assert code == 0 and "nothing was recorded" not in err
    code, _, err = cli("report", "rates", "--period", "2026Q2")
    assert code == 0 and "nothing was recorded" not in err
