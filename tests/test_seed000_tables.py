"""The transcription of seed 000's annex tables (tests/data/seed000-annex1–3.csv, results-2019
沪市监办发〔2020〕336号 附件1–3) checked against itself and the notice's text: the units are
the registry's in its order, each group's 受理数量 column adds up to 10, each printed total
is its printed components' sum within their rounding, and 附件1's order split 50/30/20
gives the grade lists the notice prints. The data for calibrating a demo year to seed 000.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from hotline.adapters.rubric_files import rubrics_dir
from official_tables import DATA, OfficialRow, read_table

TABLES = {"district": "seed000-annex1.csv", "municipal": "seed000-annex2.csv",
          "consumer_council": "seed000-annex3.csv"}  # fmt: skip

#: 二、考核结果 (一), as printed in the notice's text.
GRADES = {
    "优秀": "闵行区市场监管局、松江区市场监管局、嘉定区市场监管局、青浦区市场监管局、"
    "崇明区市场监管局、普陀区市场监管局、静安区市场监管局、黄浦区市场监管局、杨浦区市场监管局",
    "良好": "奉贤区市场监管局、虹口区市场监管局、机场分局、徐汇区市场监管局、宝山区市场监管局",
    "合格": "金山区市场监管局、长宁区市场监管局、浦东新区市场监管局",
}


def table(group: str) -> list[OfficialRow]:
    return read_table(DATA / TABLES[group])


@pytest.mark.parametrize("group", TABLES)
def test_the_units_are_the_registrys_in_order(group: str) -> None:
    registry = tomllib.loads((rubrics_dir() / "units.toml").read_text(encoding="utf-8"))
    (units,) = [g["units"] for g in registry["group"] if g["key"] == group]
    rows = table(group)
    assert [row.unit for row in rows] == units
    assert [row.number for row in rows] == [str(n) for n in range(1, len(rows) + 1)]


@pytest.mark.parametrize("group", TABLES)
def test_the_volume_shares_add_up_to_10(group: str) -> None:
    rows = table(group)
    shares = sum(Decimal(row.volume) for row in rows)
    assert abs(shares - 10) <= Decimal("0.00005") * len(rows), shares


@pytest.mark.parametrize("group", TABLES)
def test_each_total_is_its_components_sum(group: str) -> None:
    """Components are printed rounded (受理数量 to 4 places, 满意度 to 2) and the total is
    the unrounded sum rounded to 2: the printed sum is within their half-units of it."""
    totalled = [row for row in table(group) if row.total != "—"]
    assert totalled
    for row in totalled:
        printed = sum(Decimal(v) for v in (row.volume, row.on_time, row.resolution,
                                           row.satisfaction))  # fmt: skip
        assert abs(printed - Decimal(row.total)) <= Decimal("0.01005"), row


def test_annex1_in_order_gives_the_printed_grades() -> None:
    """17 units by rank: 优秀 half_up(8.5) = 9, 良好 half_up(5.1) = 5, 合格 the other 3."""
    units = [row.unit for row in table("district")]
    totals = [Decimal(row.total) for row in table("district")]
    assert totals == sorted(totals, reverse=True)
    assert {"优秀": units[:9], "良好": units[9:14], "合格": units[14:]} == {
        grade: listed.split("、") for grade, listed in GRADES.items()
    }
