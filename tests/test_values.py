"""Bad values in, clean refusals out: control characters in any text of any event, and
the small ones (an empty --at, a short phone number, a new store's folders).

A NUL cannot be stored in PostgreSQL's text columns (one imported NUL used to break every
report there once the order was corrected), and escapes reach a terminal raw: every text
field of every event refuses C0, DEL and C1 controls, free text (summaries, notes, reasons)
but for tab and line break, on every path (CLI, import, correction, findings, calendar).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.order import Order
from hotline.domain.personal_data import mask_phone
from hotline.service.application import HotlineApplication
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
RECEIVE = ("order", "receive", "C-1", "--unit", MINHANG, "--kind", "complaint",
           "--channel", "12345", "--at", "2026-02-13 10:00")  # fmt: skip


def refused(result: tuple[int, str, str], *words: str) -> None:
    code, out, err = result
    assert code == 1, (out, err)
    assert err.startswith("hotline:") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\r", "\x7f", "\x85", "\x9b"])
def test_a_control_character_in_a_summary_is_refused_naming_it(
    cli: Cli, store: str, character: str
) -> None:
    code = f"U+{ord(character):04X}"
    refused(cli(*RECEIVE, "--summary", f"a{character}b"), "summary", code, "remove it")
    assert stored_events(store) == 0


def test_free_text_keeps_tabs_and_line_breaks_and_names_keep_none(cli: Cli, store: str) -> None:
    refused(cli(*RECEIVE, "--citizen-name", "陈\t明"), "citizen_name", "U+0009")
    refused(cli(*RECEIVE, "--summary", "ok", "--citizen-name", "陈\n明"), "U+000A")
    assert stored_events(store) == 0
    assert cli(*RECEIVE, "--summary", "第一行\n第二行\t完")[0] == 0
    _, out, _ = cli("order", "show", "C-1", "--format", "json")
    assert json.loads(out)["events"][0]["summary"] == "第一行\n第二行\t完"


@pytest.mark.parametrize(
    "command",
    [
        ["order", "extend", "C-1", "--at", "2026-02-14 10:00", "--until", "2026-03-20",
         "--reason", "送检\x00"],
        ["order", "first-contact", "C-1", "--at", "2026-02-14 10:00", "--by", "王\x1b[31m芳"],
        ["order", "correct", "C-1", "--event", "received", "--field", "summary",
         "--value", "a\x00b", "--reason", "更正"],
        ["order", "correct", "C-1", "--event", "received", "--field", "summary",
         "--value", "新摘要", "--reason", "更正\x00"],
        ["order", "show", "C-1", "--reveal", "--reason", "回访\x00"],
        ["finding", "add", "--rubric", "shanghai-12345-2019", "--item", "three_way_transfer",
         "--unit", MINHANG, "--day", "2026-02-13", "--note", "三方\x00转接"],
        ["calendar", "add-closure", "2026-03-04", "--reason", "台风\x9b"],
    ],
    ids=["extend", "contact", "correct-value", "correct-reason", "reveal", "finding", "closure"],
)  # fmt: skip
def test_every_path_refuses_a_control_character_and_writes_nothing(
    cli: Cli, store: str, command: list[str]
) -> None:
    assert cli(*RECEIVE, "--summary", "年货")[0] == 0
    refused(cli(*command), "contains a control character")
    assert stored_events(store) == 1


def test_an_imported_nul_is_refused_and_nothing_after_it_breaks(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    """The issue's case: on PostgreSQL, a NUL imported in a summary broke every report,
    rebuild, scheduler pass and audit once the order was corrected."""
    lines = [
        {"order": "N-1", "event": "received", "at": "2026-02-13T10:00:00+08:00",
         "unit": MINHANG, "kind": "complaint", "channel": "12345", "summary": "a\u0000b"},
        {"order": "N-2", "event": "received", "at": "2026-02-13T10:05:00+08:00",
         "unit": MINHANG, "kind": "complaint", "channel": "12345", "summary": "好"},
        {"order": "N-2", "event": "closed", "at": "2026-02-14T10:00:00+08:00",
         "result": "resolved"},
    ]  # fmt: skip
    file = tmp_path / "nul.jsonl"
    file.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, _, err = cli("import", str(file))
    assert code == 1
    assert err.count("\n") == 1 and "line 1" in err and "summary" in err and "U+0000" in err
    assert stored_events(store) == 2
    assert cli("order", "show", "N-1")[0] == 1  # not received
    args = ("--event", "closed", "--field", "result", "--value", "explained", "--reason", "错")
    assert cli("order", "correct", "N-2", *args)[0] == 0
    for command in (
        ["report", "rates", "--period", "2026-02"],
        ["projections", "rebuild"],
        ["scheduler", "tick", "--as-of", "2026-02-24 08:00"],
        ["audit", "N-2"],
        ["audit"],
        ["orders", "overdue"],
    ):
        code, _, err = cli(*command)
        assert code == 0, (command, err)


def test_an_event_stored_before_the_check_still_loads_and_can_be_corrected(
    app: HotlineApplication,
) -> None:
    """A store may hold a control character written before hotline refused them: its
    events are read back unchecked, and the text can be corrected."""
    at = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
    order = Order.receive("L-1", at=at, unit=MINHANG, kind="complaint", channel="12345")
    order.history[0].__dict__["summary"] = "旧\x00值"  # as an older hotline stored it
    app.save_order(order)
    assert app.order("L-1").history[0].summary == "旧\x00值"  # type: ignore[attr-defined]
    app.correct("L-1", "received", "summary", "旧值", "去掉控制字符")
    assert app.order("L-1").events[0].summary == "旧值"  # type: ignore[attr-defined]


# The small ones


@pytest.mark.parametrize(
    "command",
    [
        ["order", "receive", "E-1", "--unit", MINHANG, "--kind", "complaint", "--channel",
         "12345", "--at", ""],
        ["order", "first-contact", "C-1", "--at", ""],
        ["order", "first-contact", "C-1", "--at", " "],
        ["report", "rates", "--period", "2026-02", "--as-of", ""],
        ["scheduler", "tick", "--as-of", ""],
        ["alerts", "--since", ""],
        ["audit", "--from", "", "--to", "2026-03-01"],
    ],
    ids=["receive", "contact", "contact-blank", "rates", "tick", "alerts", "audit"],
)  # fmt: skip
def test_an_empty_time_is_refused_not_taken_as_now(
    cli: Cli, store: str, command: list[str]
) -> None:
    assert cli(*RECEIVE, "--summary", "年货")[0] == 0
    refused(cli(*command), "''" if " " not in command else "' '")
    assert stored_events(store) == 1


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("12345", "***45"),
        ("95588", "***88"),
        ("1234567", "****567"),
        ("64781234", "****1234"),
        ("021-64781234", "021****1234"),
        ("13812345678", "138****5678"),
        ("1234", "****"),
    ],
)
def test_a_short_phone_number_keeps_at_least_half_of_it_hidden(phone: str, shown: str) -> None:
    assert mask_phone(phone) == shown


def test_a_five_digit_phone_is_shown_masked(cli: Cli) -> None:
    assert cli(*RECEIVE, "--citizen-phone", "95588")[0] == 0
    code, out, _ = cli("order", "show", "C-1")
    assert code == 0 and "***88" in out and "95588" not in out


def test_a_new_stores_folders_are_owner_only_even_under_umask_000(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "c" / "hotline.db"
    old = os.umask(0)
    try:
        assert main(["--db", str(db), "calendar", "day", "2026-02-14"]) == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", db.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
