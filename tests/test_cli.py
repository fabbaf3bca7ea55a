"""The `hotline` CLI end to end, in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]


def receive(cli: Cli, number: str = "2026-000001", *extra: str) -> None:
    code, _, err = cli(
        "order",
        "receive",
        number,
        "--unit",
        "闵行区市场监管局",
        "--kind",
        "投诉",
        "--channel",
        "12345",
        "--at",
        "2026-02-13 10:00",
        *extra,
    )
    assert code == 0, err


def test_an_orders_whole_life(cli: Cli) -> None:
    receive(cli, "2026-000001", "--citizen-name", "张三", "--citizen-phone", "13812345678")
    steps = [
        ("first-contact", "--at", "2026-02-14 09:00", "--method", "电话", "--by", "李四"),
        (
            "extend",
            "--until",
            "2026-03-20",
            "--reason",
            "需现场核查",
            "--legal-basis",
            "《消费者权益保护法》",
            "--at",
            "2026-03-02 09:00",
        ),
        ("close", "--result", "实际解决", "--at", "2026-03-19 15:00", "--report", "已协调退款"),
        ("revisit", "--evaluation", "优", "--at", "2026-03-20 10:00"),
        ("rate", "--rating", "满意", "--at", "2026-03-20 10:05"),
        ("supervise", "--at", "2026-03-25 10:00"),
    ]
    for command, *options in steps:
        code, out, err = cli("order", command, "2026-000001", *options)
        assert code == 0, err
        assert "recorded" in out
    code, out, _ = cli("order", "show", "2026-000001", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert shown["status"] == "closed"
    assert [e["event"] for e in shown["events"]] == [
        "received",
        "first_contact",
        "extended",
        "closed",
        "revisited",
        "rated",
        "supervised",
    ]
    limits = {limit["limit"]: limit for limit in shown["limits"]}
    assert limits["first_contact"] | {"note": ""} == {
        "limit": "first_contact",
        "status": "met",
        "due": "2026-02-14",
        "done": "2026-02-14",
        "day": 1,
        "provisional": False,
        "note": "",
        "flags": [],
    }
    assert (limits["close"]["status"], limits["close"]["due"]) == ("met", "2026-03-19")
    assert shown["events"][0]["citizen_phone"] == "138****5678"
    assert shown["events"][0]["citizen_name"] == "张*"
    assert shown["events"][0]["at"] == "2026-02-13T10:00:00+08:00"
    assert "13812345678" not in out


def test_show_prints_the_timeline_and_limits(cli: Cli) -> None:
    receive(cli, "2026-000002", "--citizen-phone", "13812345678")
    code, out, _ = cli("order", "show", "2026-000002")
    assert code == 0
    assert "2026-02-13 10:00" in out
    assert "overdue" in out and "2026-02-14" in out and "2026-03-10" in out
    assert "13812345678" not in out and "138****5678" in out


def test_national_day_deadlines(cli: Cli) -> None:
    code, _, err = cli(
        "order",
        "receive",
        "2026-100001",
        "--unit",
        "机场分局",
        "--kind",
        "report",
        "--channel",
        "12345",
        "--at",
        "2026-10-02 11:30",
    )
    assert code == 0, err
    code, out, _ = cli("order", "show", "2026-100001", "--format", "json")
    limits = {limit["limit"]: limit for limit in json.loads(out)["limits"]}
    assert limits["first_contact"]["due"] == "2026-10-08"
    assert limits["close"]["due"] == "2026-10-23"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("order", "rate", "2026-000001", "--rating", "满意"),
            "can only be logged after it is closed",
        ),
        (("order", "reject-return", "2026-000001"), "only a returned order"),
        (("order", "close", "2026-000001", "--result", "fixed"), "unknown closingresult 'fixed'"),
        (
            ("order", "first-contact", "2026-000001", "--at", "2026-02-12 09:00"),
            "before the order was received",
        ),
        (("order", "first-contact", "2026-000001", "--at", "yesterday"), "is not a date and time"),
        (
            ("order", "extend", "2026-000001", "--until", "2026-02-30", "--reason", "x"),
            "is not a date",
        ),
        (("order", "first-contact", "2026-999999"), "no order 2026-999999"),
        (
            (
                "order",
                "receive",
                "2026-000001",
                "--unit",
                "闵行区市场监管局",
                "--kind",
                "投诉",
                "--channel",
                "12345",
            ),
            "already received",
        ),
        (
            (
                "order",
                "receive",
                "2026-000003",
                "--unit",
                "闵行",
                "--kind",
                "投诉",
                "--channel",
                "12345",
            ),
            "did you mean 闵行区市场监管局, 闵行区消保委",
        ),
        (
            (
                "order",
                "receive",
                "2026-000003",
                "--unit",
                "闵行区市场监管局",
                "--kind",
                "投诉",
                "--channel",
                "110",
            ),
            "unknown channel '110'",
        ),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    cli: Cli, store: str, args: tuple[str, ...], message: str
) -> None:
    receive(cli)
    before = stored_events(store)
    code, out, err = cli(*args)
    assert code == 1
    assert message in err
    assert err.startswith("hotline: ") and err.count("\n") == 1
    assert "Traceback" not in err + out
    assert stored_events(store) == before


def test_usage_errors_exit_2(cli: Cli) -> None:
    code, _, err = cli("order", "receive", "2026-000001", "--unit", "闵行区市场监管局")
    assert code == 2
    assert "Missing option" in err


def test_calendar_day_status(cli: Cli) -> None:
    cases = {
        "2026-02-14": "make-up working day",
        "2026-02-16": "holiday, off — 春节",
        "2026-02-28": "make-up working day",
        "2026-10-10": "make-up working day",
        "2026-10-05": "holiday, off — 国庆节",
        "2026-03-07": "weekend, off",
        "2026-03-09": "working day",
    }
    for day, expected in cases.items():
        code, out, _ = cli("calendar", "day", day)
        assert code == 0 and expected in out, (day, out)


def test_calendar_deadline_and_count(cli: Cli) -> None:
    code, out, _ = cli("calendar", "deadline", "2026-02-13", "13")
    assert code == 0
    assert "day 1 is 2026-02-14" in out and "day 13 (the deadline) is 2026-03-10" in out
    code, out, _ = cli("calendar", "count", "2026-02-13", "2026-03-10")
    assert "13 working days" in out


def test_an_unpublished_year_warns_or_refuses(cli: Cli) -> None:
    code, out, err = cli("calendar", "day", "2027-01-04")
    assert code == 0
    assert "working day" in out
    assert "no published holiday schedule for 2027" in err and err.count("\n") == 1
    code, _, err = cli("calendar", "deadline", "2027-01-01", "5", "--strict")
    assert code == 1 and "no published holiday schedule for 2027" in err


def test_add_a_published_year_and_a_closure(cli: Cli, tmp_path: Path) -> None:
    year = tmp_path / "calendar-2027.toml"
    year.write_text(
        'year = 2027\nsource = "test notice"\n'
        '[[holiday]]\nname = "元旦"\nfrom = 2027-01-01\nto = 2027-01-03\n',
        encoding="utf-8",
    )
    code, out, err = cli("calendar", "add-year", str(year))
    assert code == 0, err
    code, out, err = cli("calendar", "day", "2027-01-01")
    assert "holiday, off — 元旦" in out and err == ""
    code, out, _ = cli("calendar", "add-closure", "2026-09-16", "--reason", "台风停工")
    assert code == 0
    code, out, _ = cli("calendar", "day", "2026-09-16")
    assert "local closure, off — 台风停工" in out
    code, out, _ = cli("calendar", "show")
    assert "test notice" in out and "台风停工" in out


def test_a_broken_year_file_is_refused_naming_file_and_key(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    year = tmp_path / "calendar-2027.toml"
    year.write_text(
        'year = 2027\nsource = "x"\n[[holiday]]\nname = "春节"\nfrom = 2027-02-06\n'
        "to = 2027-02-12\nworkdays = [2027-02-10]\n",
        encoding="utf-8",
    )
    code, _, err = cli("calendar", "add-year", str(year))
    assert code == 1
    assert "calendar-2027.toml" in err and "workdays[0]" in err
    assert stored_events(store) == 0


def test_units(cli: Cli) -> None:
    code, out, _ = cli("units", "--group", "consumer_council")
    assert code == 0 and "闵行区消保委" in out and "闵行区市场监管局" not in out
    code, _, err = cli("units", "--group", "nope")
    assert code == 1 and "district" in err


def run_hotline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_the_console_entry_point_uses_hotline_db(tmp_path: Path) -> None:
    env = {"HOTLINE_DB": str(tmp_path / "env.db")}
    done = run_hotline(
        "order",
        "receive",
        "A-1",
        "--unit",
        "黄浦区消保委",
        "--kind",
        "咨询",
        "--channel",
        "12345",
        "--at",
        "2026-02-13 10:00",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert stored_events(str(tmp_path / "env.db")) == 1


def test_a_broken_rubric_file_is_one_line(tmp_path: Path) -> None:
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    (rubrics / "units.toml").write_text("[[group]]\nkey = 1\n", encoding="utf-8")
    done = run_hotline(
        "--rubrics", str(rubrics), "units", env={"HOTLINE_DB": str(tmp_path / "x.db")}
    )
    assert done.returncode == 1
    assert "units.toml" in done.stderr and "group[0]" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_a_store_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    done = run_hotline("order", "show", "A-1", env={"HOTLINE_DB": str(bad)})
    assert done.returncode == 1
    assert f"cannot open the store {bad}" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
