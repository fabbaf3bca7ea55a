"""Units over time and offices (domain.md §2): dates, renames, offices under their bureau,
the roll-up in reports, `--level office`, and broken registry data, through the registry
and through the CLI on the test's store (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hotline.adapters.rubric_files import rubrics_dir
from hotline.adapters.unit_file import load_unit_registry
from hotline.cli.main import main
from hotline.domain.errors import UnknownUnit
from hotline.domain.units import Level, UnitRegistry
from unit_files import LINGANG, history_units, rubrics_with

MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
XINZHUANG = "莘庄市场监管所"
QIBAO = "七宝市场监管所"
SIJING = "泗泾市场监管所"
AIRPORT = "机场分局"
RENAMED = "浦东机场市场监管局"
YEAR_2019 = (date(2019, 1, 1), date(2019, 12, 31))
YEAR_2020 = (date(2020, 1, 1), date(2020, 12, 31))

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def rubrics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rubrics_with(tmp_path_factory.mktemp("history") / "rubrics")


@pytest.fixture(scope="module")
def registry(rubrics: Path) -> UnitRegistry:
    return load_unit_registry(rubrics / "units.toml")


@pytest.fixture
def hotline(store: str, rubrics: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`hotline --rubrics <history rubrics> --db STORE ARGS...`: (code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--rubrics", str(rubrics), "--db", store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def receive(hotline: Cli, number: str, unit: str, at: str) -> tuple[int, str, str]:
    return hotline(
        "order", "receive", number, "--unit", unit, "--kind", "complaint",
        "--channel", "12345", "--at", at,
    )  # fmt: skip


def rates(hotline: Cli, *args: str) -> dict[str, Any]:
    code, out, err = hotline("report", "rates", *args, "--format", "json")
    assert code == 0, err
    return {row["name"]: row for row in json.loads(out)["rows"]}


# --- the registry ------------------------------------------------------------------------


def test_offices_sit_under_their_bureau_and_count_in_it(registry: UnitRegistry) -> None:
    assert [o.name for o in registry.offices if o.under == MINHANG] == [XINZHUANG, QIBAO]
    assert registry.get(XINZHUANG).under == MINHANG
    assert registry.get(XINZHUANG).group == "district"
    assert registry.reported(XINZHUANG, date(2019, 6, 1)) == MINHANG
    assert registry.reported(XINZHUANG, date(2019, 6, 1), Level.OFFICE) == XINZHUANG
    bureaux = registry.reporting(*YEAR_2019)
    assert bureaux.index[XINZHUANG] == bureaux.index[MINHANG] == bureaux.names.index(MINHANG)
    offices = registry.reporting(*YEAR_2019, Level.OFFICE)
    assert offices.names == (XINZHUANG, QIBAO, SIJING)
    assert MINHANG not in offices.index  # a bureau's own orders are no office's


def test_a_unit_is_reported_only_over_the_days_it_is_in_effect(registry: UnitRegistry) -> None:
    assert LINGANG not in registry.reporting(*YEAR_2019).names
    assert LINGANG in registry.reporting(*YEAR_2020).names
    assert QIBAO in registry.reporting(*YEAR_2019, Level.OFFICE).names
    assert QIBAO not in registry.reporting(*YEAR_2020, Level.OFFICE).names
    assert SIJING not in registry.reporting(date(2019, 1, 1), date(2019, 6, 30), Level.OFFICE).names


def test_a_renamed_unit_is_one_unit_named_as_at_the_end_of_the_report(
    registry: UnitRegistry,
) -> None:
    assert registry.history(AIRPORT) == registry.history(RENAMED) == (AIRPORT, RENAMED)
    assert registry.reported(AIRPORT, date(2020, 6, 30)) == AIRPORT
    assert registry.reported(AIRPORT, date(2020, 7, 1)) == RENAMED
    year = registry.reporting(*YEAR_2020)
    assert AIRPORT not in year.names and year.names.count(RENAMED) == 1
    assert year.index[AIRPORT] == year.index[RENAMED]
    # the new name takes the old one's place in its group
    district = registry.group("district").units
    assert district.index(RENAMED) == district.index(AIRPORT) + 1
    first_half = registry.reporting(date(2020, 1, 1), date(2020, 6, 30))
    assert AIRPORT in first_half.names and RENAMED not in first_half.names


def test_an_order_date_outside_a_units_dates_is_refused_naming_the_successor(
    registry: UnitRegistry,
) -> None:
    assert registry.at(AIRPORT, date(2020, 6, 30)).name == AIRPORT
    with pytest.raises(UnknownUnit, match=rf"ended .* on 2020-07-01.*successor '{RENAMED}'"):
        registry.at(AIRPORT, date(2020, 7, 1))
    with pytest.raises(UnknownUnit, match="takes effect on 2020-01-01"):
        registry.at(LINGANG, date(2019, 12, 31))
    with pytest.raises(UnknownUnit, match=r"ended .* on 2020-01-01; it received nothing on"):
        registry.at(QIBAO, date(2020, 3, 1))
    assert registry.at(RENAMED, date(2020, 7, 1)).name == RENAMED


def test_the_shipped_registry_is_unchanged_by_the_format() -> None:
    shipped = load_unit_registry(rubrics_dir() / "units.toml")
    assert shipped.offices == ()
    assert all(u.effective is None and u.until is None for u in shipped)
    assert shipped.reporting(*YEAR_2019).names == tuple(u.name for u in shipped)


# --- through the CLI, on the test's store --------------------------------------------------


def test_an_offices_orders_roll_up_to_its_bureau_and_level_office_shows_the_offices(
    hotline: Cli,
) -> None:
    assert receive(hotline, "A1", XINZHUANG, "2019-03-04 10:00")[0] == 0
    assert receive(hotline, "A2", XINZHUANG, "2019-03-05 10:00")[0] == 0
    assert receive(hotline, "A3", MINHANG, "2019-03-06 10:00")[0] == 0
    assert receive(hotline, "A4", SIJING, "2019-08-06 10:00")[0] == 0
    bureaux = rates(hotline, "--period", "2019", "--group", "district")
    assert bureaux[MINHANG]["volume"] == 3
    assert bureaux[SONGJIANG]["volume"] == 1
    assert XINZHUANG not in bureaux
    offices = rates(hotline, "--period", "2019", "--level", "office", "--unit", MINHANG)
    assert list(offices) == [XINZHUANG, QIBAO]
    assert offices[XINZHUANG]["volume"] == 2 and offices[XINZHUANG]["level"] == "office"
    assert offices[QIBAO]["volume"] == 0
    everything = rates(hotline, "--period", "2019", "--level", "office")
    assert everything[SIJING]["volume"] == 1
    assert everything["各区市场监管局、机场分局"]["volume"] == 4  # the group: every order
    code, _, err = hotline("report", "rates", "--period", "2019", "--unit", XINZHUANG)
    assert code == 1 and "is an office (under 闵行区市场监管局); add --level office" in err


def test_market_office_deductions_per_office_and_per_bureau(hotline: Cli) -> None:
    for number, day in (("B1", "2019-03-04"), ("B2", "2019-03-05")):
        assert receive(hotline, number, XINZHUANG, f"{day} 10:00")[0] == 0
    args = ("report", "deductions", "--rubric", "market-office-2017", "--period", "2019Q2")
    code, out, err = hotline(*args, "--group", "district", "--level", "office", "--format", "json")
    assert code == 0, err
    rows = {row["unit"]: row for row in json.loads(out)["units"]}
    assert list(rows) == [XINZHUANG, QIBAO]  # 泗泾 takes effect after 2019Q2
    assert rows[XINZHUANG]["score"] < rows[QIBAO]["score"]  # two orders never closed: late
    code, out, err = hotline(*args, "--group", "district", "--format", "json")
    assert code == 0, err
    bureaux = {row["unit"]: row for row in json.loads(out)["units"]}
    assert XINZHUANG not in bureaux
    assert bureaux[MINHANG]["score"] == rows[XINZHUANG]["score"]  # its office's orders
    code, out, err = hotline(*args, "--unit", XINZHUANG, "--level", "office")
    assert code == 0, err
    assert XINZHUANG in out
    code, out, err = hotline(
        "report", "explain", "--unit", XINZHUANG, "--level", "office", "--period", "2019Q2"
    )
    assert code == 0, err
    assert "B1" in out and "B2" in out
    code, _, err = hotline(
        "report", "explain", "--unit", MINHANG, "--level", "office", "--period", "2019Q2"
    )
    assert code == 1 and f"offices {XINZHUANG}, {QIBAO}; explain one office at a time" in err


def test_a_renamed_units_orders_are_reported_under_the_new_name(hotline: Cli) -> None:
    assert receive(hotline, "C1", AIRPORT, "2020-03-02 10:00")[0] == 0
    assert receive(hotline, "C2", RENAMED, "2020-08-03 10:00")[0] == 0
    year = rates(hotline, "--period", "2020", "--group", "district")
    assert year[RENAMED]["volume"] == 2 and AIRPORT not in year
    assert year[LINGANG]["volume"] == 0
    spring = rates(hotline, "--period", "2020Q2", "--group", "district")  # Feb … Apr
    assert spring[AIRPORT]["volume"] == 1 and RENAMED not in spring
    code, out, err = hotline("report", "rates", "--period", "2020", "--unit", AIRPORT)
    assert code == 0, err
    assert RENAMED in out


def test_an_order_received_after_a_unit_ended_is_refused_and_nothing_is_written(
    hotline: Cli,
) -> None:
    code, _, err = receive(hotline, "D1", AIRPORT, "2020-07-01 09:00")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "ended (撤销) on 2020-07-01" in err and f"successor '{RENAMED}'" in err
    code, _, err = receive(hotline, "D2", LINGANG, "2019-12-31 09:00")
    assert code == 1 and "takes effect on 2020-01-01" in err
    for number in ("D1", "D2"):
        assert hotline("order", "show", number)[0] != 0
    assert receive(hotline, "D3", LINGANG, "2020-01-02 09:00")[0] == 0


def test_units_shows_the_offices_under_their_bureau_and_the_dates(hotline: Cli) -> None:
    code, out, err = hotline("units", "--group", "district")
    assert code == 0, err
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if MINHANG in line)
    assert (
        XINZHUANG in lines[at + 1]
        and QIBAO in lines[at + 2]
        and "until 2020-01-01" in lines[at + 2]
    )
    old = next(i for i, line in enumerate(lines) if AIRPORT in line)
    assert "renamed on 2020-07-01" in lines[old]
    assert RENAMED in lines[old + 1] and "from 2020-07-01" in lines[old + 1]
    assert any(LINGANG in line and "from 2020-01-01" in line for line in lines)


# --- broken registry data: one line naming the file, the key and the problem --------------

BROKEN = [
    (
        '[[office]]\nname = "X所"\nunder = "不存在区市场监管局"\n',
        "office[3].under: unknown bureau '不存在区市场监管局'",
    ),
    (
        '[[office]]\nname = "甲所"\nunder = "乙所"\n[[office]]\nname = "乙所"\nunder = "甲所"\n',
        "office[3].under: offices under each other form a cycle: 甲所 → 乙所 → 甲所",
    ),
    (
        f'[[office]]\nname = "甲所"\nunder = "{XINZHUANG}"\n',
        f"office[3].under: '{XINZHUANG}' is an office; an office sits under a bureau",
    ),
    (
        f'[[office]]\nname = "甲所"\nunder = "{MINHANG}"\nfrom = 2020-01-01\nuntil = 2019-01-01\n',
        "office[3].until: '甲所' ends (2019-01-01) on or before it takes effect (2020-01-01)",
    ),
    (
        f'[[office]]\nname = "甲所"\nunder = "{LINGANG}"\nfrom = 2019-06-01\n',
        "office[3]: office '甲所' is in effect outside its bureau's dates (2020-01-01 … open)",
    ),
    (
        f'[[rename]]\nold = "{SONGJIANG}"\nnew = "{MINHANG}"\non = 2021-01-01\n',
        f"rename[1].new: '{MINHANG}' is already a unit; a rename gives a unit a new name",
    ),
    (
        f'[[rename]]\nold = "{AIRPORT}"\nnew = "机场局"\non = 2021-01-01\n',
        f"rename[1].old: '{AIRPORT}' is already renamed at rename[0]",
    ),
    (
        f'[[rename]]\nold = "{LINGANG}"\nnew = "临港局"\non = 2019-01-01\n',
        f"rename[1].on: the rename on 2019-01-01 overlaps the dates of '{LINGANG}'",
    ),
    (
        f'[[rename]]\nold = "{QIBAO}"\nnew = "七宝所"\non = 2021-01-01\n',
        f"rename[1].on: the rename on 2021-01-01 overlaps the dates of '{QIBAO}'",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), BROKEN)
def test_broken_registry_data_is_one_line_and_writes_nothing(
    tmp_path: Path,
    store: str,
    capsys: pytest.CaptureFixture[str],
    extra: str,
    expected: str,
) -> None:
    shipped = (rubrics_dir() / "units.toml").read_text(encoding="utf-8")
    folder = rubrics_with(tmp_path / "rubrics", history_units(shipped) + "\n" + extra)
    for args in (
        ["units"],
        ["order", "receive", "E1", "--unit", MINHANG, "--kind", "complaint", "--channel",
         "12345", "--at", "2019-03-04 10:00"],
    ):  # fmt: skip
        code = main(["--rubrics", str(folder), "--db", store, *args])
        err = capsys.readouterr().err
        assert code == 1
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"units.toml: {expected}" in err
    ok = main(["--db", store, "order", "show", "E1"])  # the shipped registry: no such order
    assert ok != 0


# --- units in an export (issue 16 item 4) --------------------------------------------------


def test_an_export_row_of_an_unknown_or_ended_unit_is_rejected_naming_close_names(
    tmp_path: Path, hotline: Cli
) -> None:
    file = tmp_path / "export.csv"
    with file.open("w", encoding="gb18030", newline="") as out:
        csv.writer(out).writerows([
            ["工单编号", "派单时间", "承办单位", "渠道", "工单类型"],
            ["F1", "2019-03-04 10:15", XINZHUANG, "12345", "投诉"],
            ["F2", "2019-03-05 10:15", "莘庄市场监督所", "12345", "投诉"],
            ["F3", "2020-08-03 10:15", AIRPORT, "12345", "投诉"],
        ])  # fmt: skip
    code, out, err = hotline("import", str(file))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert f"row 3: order F2: unknown unit '莘庄市场监督所'; did you mean {XINZHUANG}" in lines[0]
    assert f"row 4: order F3: unit '{AIRPORT}' ended (撤销) on 2020-07-01" in lines[1]
    assert f"use its successor '{RENAMED}'" in lines[1]
    assert "1 row imported, 0 unchanged, 0 conflicting, 2 rejected (2 unknown unit)" in out
    assert "a unit the registry lacks is added by `hotline units add NAME --group G" in out
    assert rates(hotline, "--period", "2019Q2", "--unit", MINHANG)[MINHANG]["volume"] == 1
    for number in ("F2", "F3"):
        assert hotline("order", "show", number)[0] != 0
