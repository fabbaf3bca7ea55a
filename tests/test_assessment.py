"""The assessment (domain.md §7) on small hand-made cases: `report scores|deductions|kpi`,
`report explain --rubric`, the xlsx workbook and `hotline rubrics`, through the CLI and
the `Assessment` service, with every expected number worked out by hand in the comments.

Working days used below (the official 2026 calendar): for an order received Monday
2026-03-02, day 1 is Tue 03-03, day 6 Tue 03-10, day 13 Thu 03-19 (the last day of the
13-day limit) and day 14 Fri 03-20 (late). Every order below is received in March, so in
assessment year 2026 (2025-11-01 … 2026-10-31) its quarter is 2026Q2 (Feb–Apr); every
limit falls in March, long before "today".

District units (the registry's order): 闵行 松江 嘉定 青浦 崇明 普陀 静安 黄浦 杨浦 奉贤
虹口 机场分局 徐汇 宝山 金山 长宁 浦东新区.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hotline.adapters.rubric_files import rubrics_dir
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.periods import parse_period
from hotline.domain.rubric import WeightedRubric
from hotline.service.application import HotlineApplication
from hotline.service.assessment import Assessment
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]

MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
JIADING = "嘉定区市场监管局"
QINGPU = "青浦区市场监管局"
CHONGMING = "崇明区市场监管局"
PUTUO = "普陀区市场监管局"
JINGAN = "静安区市场监管局"
HUANGPU = "黄浦区市场监管局"
YANGPU = "杨浦区市场监管局"
PUDONG = "浦东新区市场监管局"
MINHANG_COUNCIL = "闵行区消保委"

Q2 = ("--period", "2026Q2")
SHANGHAI_RUBRIC = ("--rubric", "shanghai-12345-2019")
OFFICE_RUBRIC = ("--rubric", "market-office-2017")
JSON = ("--format", "json")


def at(text: str) -> datetime:
    """`2026-03-02 10:00` in Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(
    app: HotlineApplication,
    number: str,
    when: str = "2026-03-02 10:00",
    unit: str = MINHANG,
    kind: str = "complaint",
    channel: str = "12345",
) -> None:
    app.receive(number, unit=unit, at=at(when), kind=kind, channel=channel)


def log(app: HotlineApplication, number: str, event: str, when: str, **fields: Any) -> None:
    app.record(number, event, at=at(when), **fields)


def close(app: HotlineApplication, number: str, when: str, result: str = "resolved") -> None:
    log(app, number, "closed", when, result=result)


def on_time(app: HotlineApplication, number: str, unit: str, **kw: Any) -> None:
    """Received Mon 03-02, closed Tue 03-10 (day 6): on time."""
    receive(app, number, unit=unit, **kw)
    close(app, number, "2026-03-10 16:00")


def accepted_complaint(app: HotlineApplication, number: str, unit: str) -> None:
    """A 12315 complaint received Mon 03-02 and accepted Tue 03-03 (Order 20: in time)."""
    receive(app, number, unit=unit, channel="12315")
    log(app, number, "accepted", "2026-03-03 10:00")


def late(app: HotlineApplication, number: str, unit: str, **kw: Any) -> None:
    """Received Mon 03-02, closed Fri 03-20 (day 14, due 03-19): late."""
    receive(app, number, unit=unit, **kw)
    close(app, number, "2026-03-20 16:00")


def rate(app: HotlineApplication, number: str, rating: str, excluded: bool = False) -> None:
    log(app, number, "rated", "2026-03-23 10:00", rating=rating, excluded=excluded)


def document(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args, *JSON)
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def district_rows(cli: Cli, *rubric: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The district group's JSON and its rows by unit, from `report scores`."""
    found = document(cli, "report", "scores", *(rubric or SHANGHAI_RUBRIC), *Q2,
                     "--group", "district")  # fmt: skip
    (group,) = found["groups"]
    return group, {row["unit"]: row for row in group["rows"]}


def one_line_refusal(code: int, out: str, err: str) -> str:
    """A refusal: exit 1, nothing on stdout, one line on stderr, no traceback."""
    assert code == 1, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    return err.rstrip("\n")


def small_district(app: HotlineApplication) -> None:
    """闵行 M1–M4 (M3 late), 2 rated 满意; 青浦 Q1 满意; 嘉定 J1 never rated; 闵行区消保委 C1.

    District volume 4 + 1 + 1 = 6 (C1 is in another group):
      闵行 10·4/6 = 6.6667, on time 3/4 → 30·0.75 = 22.5, 25, 35·100/100 = 35
           → 6.6667 + 22.5 + 25 + 35 = 89.1666… → 89.17
      青浦 10·1/6 = 1.6667 + 30 + 25 + 35 = 91.6666… → 91.67
      嘉定 1.6667, 30, 25, no ratings → no total
    Two units have totals: 优秀 half_up(2·0.5) = 1, 良好 half_up(2·0.3) = 1, 合格 the rest 0.
    """
    for number in ("M1", "M2", "M3", "M4"):
        receive(app, number)
    close(app, "M1", "2026-03-10 16:00")
    close(app, "M2", "2026-03-19 16:00")  # day 13: on time
    close(app, "M3", "2026-03-20 09:00")  # day 14: late
    close(app, "M4", "2026-03-10 16:00")
    rate(app, "M1", "satisfied")
    rate(app, "M2", "satisfied")
    on_time(app, "Q1", QINGPU)
    rate(app, "Q1", "satisfied")
    on_time(app, "J1", JIADING)
    on_time(app, "C1", MINHANG_COUNCIL)
    rate(app, "C1", "satisfied")


# 1. report scores: components, shares, ties, blanks ------------------------------------------


def district_cases(app: HotlineApplication) -> None:
    # 闵行: M1–M4 received 03-02; M3 closed on day 14 (late): on time 3/4.
    for number in ("M1", "M2", "M3", "M4"):
        receive(app, number)
    close(app, "M1", "2026-03-10 16:00")
    close(app, "M2", "2026-03-19 16:00")  # day 13: on time
    close(app, "M3", "2026-03-20 09:00")  # day 14: late
    close(app, "M4", "2026-03-10 16:00")
    rate(app, "M1", "satisfied")
    rate(app, "M2", "satisfied")
    # M0: received Mon 01-05, closed 01-07, due in January (2026Q1): not in Q2's volume
    # or on-time rate. (One received late in January would be due in February and count.)
    receive(app, "M0", "2026-01-05 10:00")
    close(app, "M0", "2026-01-07 10:00")
    # 松江: S1 supervised, the unit at fault; S2 returned, the return rejected (二次退回),
    # then closed on time; S2's second supervision found no fault (costs nothing).
    on_time(app, "S1", SONGJIANG)
    log(app, "S1", "supervised", "2026-03-12 10:00", at_fault=True)
    receive(app, "S2", unit=SONGJIANG)
    log(app, "S2", "returned", "2026-03-03 09:00", reason="非本单位职责")
    log(app, "S2", "return_rejected", "2026-03-04 09:00")
    close(app, "S2", "2026-03-10 16:00")
    log(app, "S2", "supervised", "2026-03-12 10:00", at_fault=False)
    rate(app, "S1", "basically_satisfied")
    rate(app, "S2", "satisfied")
    # 嘉定: closed on time, never rated.
    on_time(app, "J1", JIADING)
    # 青浦 and 崇明: the same facts (one order on time, 满意): a tie.
    on_time(app, "Q1", QINGPU)
    rate(app, "Q1", "satisfied")
    on_time(app, "C1", CHONGMING)
    rate(app, "C1", "satisfied")
    # 浦东: 55 orders received Tue 04-28, still open: due in May (after the Labour Day
    # holiday), so no on-time rate in Q2 and no ratings: volume only.
    for i in range(55):
        receive(app, f"P{i}", "2026-04-28 10:00", unit=PUDONG)
    # 闵行区消保委 is in another group: not in the district's volume.
    on_time(app, "K1", MINHANG_COUNCIL)


def test_report_scores_district(app: HotlineApplication, cli: Cli) -> None:
    district_cases(app)
    group, rows = district_rows(cli)
    # District volume in Q2: 闵行 4 + 松江 2 (S2's return was rejected, so it counts)
    # + 嘉定 1 + 青浦 1 + 崇明 1 + 浦东 55 = 64.
    # 闵行: 10·4/64 = 0.625; on time 3/4 → 30·0.75 = 22.5; 25; (100+100)/2 → 35.
    #   total 0.625 + 22.5 + 25 + 35 = 83.125 → 83.13 (half up; half-even would give 83.12)
    assert rows[MINHANG]["components"] == {
        "volume": 0.625, "on_time": 22.5, "resolution": 25.0, "satisfaction": 35.0
    }  # fmt: skip
    assert rows[MINHANG]["total"] == 83.13
    # 松江: 10·2/64 = 0.3125; 2/2 on time → 30; 25 − 2 (督办有责) − 2 (二次退回) = 21;
    #   (80 + 100)/2 = 90 → 35·0.9 = 31.5. total 0.3125 + 30 + 21 + 31.5 = 82.8125 → 82.81
    assert rows[SONGJIANG]["components"] == {
        "volume": 0.3125, "on_time": 30.0, "resolution": 21.0, "satisfaction": 31.5
    }  # fmt: skip
    assert rows[SONGJIANG]["total"] == 82.81
    # 青浦, 崇明: 10·1/64 = 0.15625 → 0.1563 (half up; half-even and float give 0.1562);
    #   total 0.15625 + 30 + 25 + 35 = 90.15625 → 90.16
    for unit in (QINGPU, CHONGMING):
        assert rows[unit]["components"] == {
            "volume": 0.1563, "on_time": 30.0, "resolution": 25.0, "satisfaction": 35.0
        }, unit  # fmt: skip
        assert rows[unit]["total"] == 90.16
    # 嘉定: no ratings: satisfaction and total blank, no rank, no grade.
    assert rows[JIADING]["components"] == {
        "volume": 0.1563, "on_time": 30.0, "resolution": 25.0, "satisfaction": None
    }  # fmt: skip
    assert (rows[JIADING]["total"], rows[JIADING]["rank"], rows[JIADING]["grade"]) == (
        None, None, None
    )  # fmt: skip
    # 浦东: 10·55/64 = 8.59375 → 8.5938; nothing due in Q2, no ratings: no total.
    assert rows[PUDONG]["components"] == {
        "volume": 8.5938, "on_time": None, "resolution": 25.0, "satisfaction": None
    }  # fmt: skip
    assert rows[PUDONG]["total"] is None
    # A unit with no orders: volume 0, the rest blank (诉求解决 requires volume).
    assert rows[HUANGPU]["components"] == {
        "volume": 0.0, "on_time": None, "resolution": None, "satisfaction": None
    }  # fmt: skip
    # Ranks: 青浦 = 崇明 90.16 (1, 1), 闵行 83.13 (3), 松江 82.81 (4).
    # Four totals: 优秀 half_up(4·0.5) = 2, 良好 half_up(4·0.3) = half_up(1.2) = 1, 合格 1.
    ranked = {u: (r["rank"], r["grade"]) for u, r in rows.items() if r["total"] is not None}
    assert ranked == {
        QINGPU: (1, "优秀"), CHONGMING: (1, "优秀"), MINHANG: (3, "良好"), SONGJIANG: (4, "合格")
    }  # fmt: skip
    assert group["grades"] == {
        "优秀": [QINGPU, CHONGMING], "良好": [MINHANG], "合格": [SONGJIANG]
    }  # fmt: skip
    # Every one of the 17 district units appears once, ranked ones first, numbered 1–17.
    assert sorted(rows) == sorted(app.units.group("district").units)
    assert len(group["rows"]) == 17
    assert [r["number"] for r in group["rows"]] == list(range(1, 18))
    assert [r["unit"] for r in group["rows"]][:4] == [QINGPU, CHONGMING, MINHANG, SONGJIANG]
    assert group["graded"] is True and group["annex"] == "附件1"


def test_the_assessment_service_keeps_points_exact(app: HotlineApplication) -> None:
    district_cases(app)
    service = Assessment(Reports(app, app.readmodel))
    rubric = service.rubric("shanghai-12345-2019")
    assert isinstance(rubric, WeightedRubric)
    (group,) = service.scores(rubric, parse_period("2026Q2"), "district").groups
    rows = {row.unit: row for row in group.rows}
    # Exact: 10·1/64 and 10·4/64; shown 0.1563 (half up) and 0.6250.
    assert rows[QINGPU].components["volume"].exact == Fraction(10, 64)
    assert rows[QINGPU].components["volume"].shown == Decimal("0.1563")
    assert rows[MINHANG].components["volume"].exact == Fraction(40, 64)
    assert rows[MINHANG].components["on_time"].exact == Fraction(45, 2)
    # 83.125 rounded half up at the end, from the unrounded parts.
    assert rows[MINHANG].total == Decimal("83.13")
    # The resolution component's items: one at-fault supervision, one rejected return.
    items = {
        i.item.key: (i.count, i.points) for i in rows[SONGJIANG].components["resolution"].items
    }
    assert items == {
        "supervised_at_fault": (Fraction(1), Fraction(2)),
        "rejected_return": (Fraction(1), Fraction(2)),
    }


# 2. the 9 / 5 / 3 grade split --------------------------------------------------------------

RATINGS = ("satisfied", "basically_satisfied", "average", "dissatisfied")


def test_seventeen_totals_are_graded_9_5_3(app: HotlineApplication, cli: Cli) -> None:
    # District unit k (0–16, registry order) gets n = k//4 + 1 orders (浦东, k = 16: 5),
    # all on time, the first rated RATINGS[k % 4]. Volume 4·(1+2+3+4) + 5 = 45.
    # total = 10·n/45 + 30 + 25 + 35·score/100; a rating step is ≥ 7 points and volume
    # shares differ by < 1, so the order is by rating, then by n:
    #   满意 (35):    浦东 n5 91.11, 徐汇 90.89, 杨浦 90.67, 崇明 90.44, 闵行 90.22
    #   基本满意 (28): 宝山 83.89, 奉贤 83.67, 普陀 83.44, 松江 83.22
    #   一般 (21):    金山 76.89, 虹口 76.67, 静安 76.44, 嘉定 76.22
    #   不满意 (0):   长宁 55.89, 机场分局 55.67, 黄浦 55.44, 青浦 55.22
    # 17 totals: 优秀 half_up(8.5) = 9, 良好 half_up(5.1) = 5, 合格 the rest 3.
    units = app.units.group("district").units
    for k, unit in enumerate(units):
        for i in range(k // 4 + 1):
            on_time(app, f"G{k}-{i}", unit)
        rate(app, f"G{k}-0", RATINGS[k % 4])
    group, rows = district_rows(cli)
    assert {grade: len(names) for grade, names in group["grades"].items()} == {
        "优秀": 9, "良好": 5, "合格": 3
    }  # fmt: skip
    assert group["grades"] == {
        "优秀": ["浦东新区市场监管局", "徐汇区市场监管局", "杨浦区市场监管局", "崇明区市场监管局",
                 "闵行区市场监管局", "宝山区市场监管局", "奉贤区市场监管局", "普陀区市场监管局",
                 "松江区市场监管局"],
        "良好": ["金山区市场监管局", "虹口区市场监管局", "静安区市场监管局", "嘉定区市场监管局",
                 "长宁区市场监管局"],
        "合格": ["机场分局", "黄浦区市场监管局", "青浦区市场监管局"],
    }  # fmt: skip
    assert rows[PUDONG]["total"] == 91.11 and rows[PUDONG]["rank"] == 1
    assert rows[SONGJIANG]["total"] == 83.22 and rows[SONGJIANG]["rank"] == 9
    assert rows["金山区市场监管局"]["total"] == 76.89 and rows["金山区市场监管局"]["rank"] == 10
    assert rows[QINGPU]["total"] == 55.22 and rows[QINGPU]["rank"] == 17
    assert sorted(r["rank"] for r in rows.values()) == list(range(1, 18))


# 3. a copied rubric with other weights ---------------------------------------------------------


def test_a_copied_rubric_with_other_weights_gives_new_totals(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    small_district(app)
    text = (rubrics_dir() / "shanghai-12345-2019.toml").read_text(encoding="utf-8")
    changes = [
        ('name = "shanghai-12345-2019"', 'name = "shanghai-12345-2019-test"'),
        ("weight = 30\n", "weight = 10\n"),  # 按时办结 30 → 10
        ("weight = 35\n", "weight = 55\n"),  # 满意度 35 → 55
    ]
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    copy = tmp_path / "my-rubric.toml"
    copy.write_text(text, encoding="utf-8")
    # Shipped: 青浦 91.67 (1, 优秀), 闵行 89.17 (2, 良好).
    _, shipped = district_rows(cli)
    assert (shipped[QINGPU]["total"], shipped[QINGPU]["rank"]) == (91.67, 1)
    assert (shipped[MINHANG]["total"], shipped[MINHANG]["rank"]) == (89.17, 2)
    # The copy: 闵行 6.6667 + 10·0.75 + 25 + 55 = 94.1666… → 94.17 (1, 优秀);
    #           青浦 1.6667 + 10 + 25 + 55 = 91.6666… → 91.67 (2, 良好).
    found = document(cli, "report", "scores", "--rubric", str(copy), *Q2, "--group", "district")
    assert found["rubric"] == "shanghai-12345-2019-test"
    rows = {row["unit"]: row for row in found["groups"][0]["rows"]}
    assert rows[MINHANG]["components"] == {
        "volume": 6.6667, "on_time": 7.5, "resolution": 25.0, "satisfaction": 55.0
    }  # fmt: skip
    assert (rows[MINHANG]["total"], rows[MINHANG]["rank"], rows[MINHANG]["grade"]) == (
        94.17, 1, "优秀"
    )  # fmt: skip
    assert (rows[QINGPU]["total"], rows[QINGPU]["rank"], rows[QINGPU]["grade"]) == (
        91.67, 2, "良好"
    )  # fmt: skip
    code, out, err = cli("report", "scores", "--rubric", str(copy), *Q2, "--group", "district",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    heading = out.splitlines()[0].split(",")
    assert heading[3:7] == [
        "受理数量（10%）",
        "按时办结（10%）",
        "诉求解决（25%）",
        "满意度（55%）",
    ]


def test_a_bonus_finding_is_added_to_the_total_within_its_cap(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    small_district(app)
    code, _, err = cli("finding", "add", *SHANGHAI_RUBRIC, "--item", "three_way_transfer",
                       "--unit", MINHANG, "--day", "2026-03-05", "--count", "2",
                       "--note", "三方转接 ×2")  # fmt: skip
    assert code == 0, err
    # 2 × 0.2 = 0.4, capped at 0.2: 闵行 89.1666… + 0.2 = 89.3666… → 89.37; still second.
    _, rows = district_rows(cli)
    assert (rows[MINHANG]["bonus"], rows[MINHANG]["total"], rows[MINHANG]["rank"]) == (
        0.2, 89.37, 2
    )  # fmt: skip
    assert (rows[QINGPU]["bonus"], rows[QINGPU]["total"]) == (0.0, 91.67)
    # The table gains a 加分 column, before the total.
    code, out, err = cli("report", "scores", *SHANGHAI_RUBRIC, *Q2, "--group", "district",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    heading = out.splitlines()[0].split(",")
    assert heading[7:10] == ["加分", "总分值", "名次"]
    (minhang,) = [line for line in out.splitlines() if MINHANG in line]
    assert minhang.split(",")[7:9] == ["0.20", "89.37"]


# 4. a broken rubric file: one line naming the file, the key and the problem --------------------


def _shipped_text(name: str) -> str:
    return (rubrics_dir() / f"{name}.toml").read_text(encoding="utf-8")


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


BROKEN: dict[str, tuple[str, str, str, str]] = {
    # case: (rubric, old, new, the expected message after "hotline: FILE: ", a regex)
    "weight_is_text": (
        "shanghai-12345-2019", "weight = 30\n", 'weight = "thirty"\n',
        r"component\[1\]\.weight: Input should be a valid decimal",
    ),
    "rating_points_missing": (
        "shanghai-12345-2019", "dissatisfied = 0\n", "",
        r"component\[3\](\.points)?: .*missing: dissatisfied",
    ),
    "unknown_metric": (
        "shanghai-12345-2019", 'metric = "on_time_rate"', 'metric = "speed"',
        r"component\[1\]\.metric: unknown metric 'speed'; use one of: .*on_time_rate.*",
    ),
    "unit_not_in_registry": (
        "shanghai-12345-2019", 'key = "district"\n',
        'key = "district"\nunits = ["闵行区市场监管局", "外星区市场监管局"]\n',
        r"group\[0\]\.units\[1\]: unknown unit '外星区市场监管局'",
    ),
    "invalid_toml": (
        "shanghai-12345-2019", "weight = 30\n", "weight = = 30\n",
        r"invalid TOML: .*\(at line {line}, column \d+\)",
    ),
    "unknown_kind": (
        "shanghai-12345-2019", 'kind = "weighted"', 'kind = "ranked"',
        r"kind: must be one of weighted, deductions, targets, not 'ranked'",
    ),
    "misspelt_key": (
        "shanghai-12345-2019", "weight = 30\n", "wieght = 30\n",
        r"component\[1\]\.wieght: Extra inputs are not permitted \(and 1 more problem\(s\)\)",
    ),
    "item_points_are_text": (
        "market-office-2017", "points = 1.5\n", 'points = "1.5 each"\n',
        r"part\[0\]\.section\[0\]\.items\[0\]\.points: Input should be a valid decimal",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_rubric_file_is_one_line_naming_file_key_and_problem(
    cli: Cli, tmp_path: Path, case: str
) -> None:
    name, old, new, expected = BROKEN[case]
    text = _edit(_shipped_text(name), old, new)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    if "{line}" in expected:
        expected = expected.format(line=_line_of(text, new.strip()))
    code, out, err = cli("report", "scores", "--rubric", str(path), *Q2)
    line = one_line_refusal(code, out, err)
    assert re.fullmatch(rf"hotline: {re.escape(str(path))}: {expected}", line), line


# 5. the workbook ---------------------------------------------------------------------------


def test_the_score_table_lists_only_the_grades_units_got(app: HotlineApplication, cli: Cli) -> None:
    """Issue 21 item 8: no "合格（0个）：。" line for a grade no unit of the group got."""
    small_district(app)
    code, out, err = cli("report", "scores", *SHANGHAI_RUBRIC, *Q2)
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines()]
    assert "优秀（1个）：青浦区市场监管局；" in lines
    assert "良好（1个）：闵行区市场监管局。" in lines
    assert not [line for line in lines if "（0个）" in line]


def test_the_workbook_has_one_sheet_per_group(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    small_district(app)
    path = tmp_path / "scores.xlsx"
    code, _, err = cli("report", "scores", *SHANGHAI_RUBRIC, *Q2, "--output", str(path))
    assert code == 0, err
    book = load_workbook(path)
    assert book.sheetnames == [
        "附件1 district", "附件2 municipal", "附件3 consumer_council", "trend"
    ]  # fmt: skip
    ws = book["附件1 district"]
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    assert values[0][0] == "附件1"
    assert (
        values[1][0]
        == "2026年度第二季度各区市场监管局、机场分局“12345”热线承办工作绩效考核情况汇总表"
    )
    assert values[2][0] == "（2026年2月—2026年4月）"
    assert values[3] == ["序号", "承办部门", "受理数量（10%）", "按时办结（30%）", "诉求解决（25%）",
                         "满意度（35%）", "总分值", "名次", "等次"]  # fmt: skip
    table = values[4:21]  # 17 units
    # By rank: 青浦 91.67, 闵行 89.17; then the rest as listed: 松江 (no orders), 嘉定 …
    assert table[0] == [1, QINGPU, 1.6667, 30, 25, 35, 91.67, 1, "优秀"]
    assert table[1] == [2, MINHANG, 6.6667, 22.5, 25, 35, 89.17, 2, "良好"]
    assert table[2] == [3, SONGJIANG, 0, "—", "—", "—", "—", "—", "—"]
    assert table[3] == [4, JIADING, 1.6667, 30, 25, "—", "—", "—", "—"]
    assert [row[1] for row in table] == [QINGPU, MINHANG, SONGJIANG, JIADING] + [
        u for u in app.units.group("district").units if u not in {QINGPU, MINHANG, SONGJIANG, JIADING}
    ]  # fmt: skip
    # Numbers are numeric cells, not text.
    for row in table[:2]:
        assert all(isinstance(v, int | float) for v in row[2:8]), row
    assert ws.cell(row=5, column=3).number_format == "0.0000"
    # Below the table, a blank row, then the grade lines.
    below = [row[0] for row in values[21:] if row[0] is not None]
    assert values[21][0] is None
    # A grade no unit got (合格, 不合格 here) is not listed (issue 21 item 8).
    assert below[:3] == [
        "优秀（1个）：青浦区市场监管局；",
        "良好（1个）：闵行区市场监管局。",
        "注：标记“—”，未测评到满意度或不适用。",
    ]
    # 附件3: the council group scored within itself: 闵行区消保委 10 + 30 + 25 + 35 = 100.
    council = [list(r) for r in book["附件3 consumer_council"].iter_rows(values_only=True)]
    assert council[4][:7] == [1, MINHANG_COUNCIL, 10, 30, 25, 35, 100]
    assert len([r for r in council[4:] if isinstance(r[0], int)]) == 16
    municipal = [list(r) for r in book["附件2 municipal"].iter_rows(values_only=True)]
    assert len([r for r in municipal[4:] if isinstance(r[0], int)]) == 33


def test_one_group_one_sheet(app: HotlineApplication, cli: Cli, tmp_path: Path) -> None:
    small_district(app)
    path = tmp_path / "district.xlsx"
    code, _, err = cli("report", "scores", *SHANGHAI_RUBRIC, *Q2, "--group", "district",
                       "--output", str(path))  # fmt: skip
    assert code == 0, err
    assert load_workbook(path).sheetnames == ["附件1 district", "trend"]


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("missing/scores.xlsx", "no such directory"),
        ("scores.csv", "must end in .xlsx"),
        ("folder.xlsx", "cannot write"),
    ],
)
def test_a_bad_workbook_path_is_one_line(
    cli: Cli, tmp_path: Path, target: str, problem: str
) -> None:
    (tmp_path / "folder.xlsx").mkdir()
    path = tmp_path / target
    code, out, err = cli("report", "scores", *SHANGHAI_RUBRIC, *Q2, "--output", str(path))
    line = one_line_refusal(code, out, err)
    assert str(path) in line and problem in line
    assert not (tmp_path / "missing").exists() and not (tmp_path / "scores.csv").exists()


# 6. report deductions (market-office-2017) ---------------------------------------------------


def deduction_cases(app: HotlineApplication) -> None:
    # 闵行: five late 12345 orders.
    for i in range(5):
        late(app, f"L{i}", MINHANG)
    # 松江: one late 12345 order; four on time rated 不满意, a fifth 不满意 excluded (客观件).
    late(app, "SL", SONGJIANG)
    for i in range(5):
        on_time(app, f"SD{i}", SONGJIANG)
        rate(app, f"SD{i}", "dissatisfied", excluded=i == 4)
    # 嘉定: a late 12315 complaint (Ⅵ-8-1), a late 12315 report (neither part: Ⅵ-8-1 is
    # complaints only, Ⅵ-8-5 12345 only), a late 12345 complaint (Ⅵ-8-5 only).
    late(app, "JC", JIADING, channel="12315")
    late(app, "JR", JIADING, channel="12315", kind="report")
    late(app, "JH", JIADING)
    # 12315 complaints mediated, for the 调解成功率 floor (all closed resolved: 实际解决率
    # would be 100% and cost nothing):
    # 青浦 7 agreements of 10 (70%), and two 12345 orders closed as explained (not 12315).
    for i in range(10):
        mediated(app, f"QR{i}", QINGPU, "agreement" if i < 7 else "terminated")
    for i in range(2):
        receive(app, f"QH{i}", unit=QINGPU)
        close(app, f"QH{i}", "2026-03-10 16:00", "explained")
    # 崇明 37 of 50 (74%).
    for i in range(50):
        mediated(app, f"CR{i}", CHONGMING, "agreement" if i < 37 else "terminated")
    # 普陀 1 of 2 (50%).
    for i, outcome in enumerate(("agreement", "terminated")):
        mediated(app, f"PR{i}", PUTUO, outcome)
    # 杨浦 3 of 4 (75%: not below 75).
    for i in range(4):
        mediated(app, f"YR{i}", YANGPU, "agreement" if i < 3 else "terminated")


def mediated(app: HotlineApplication, number: str, unit: str, outcome: str) -> None:
    """A 12315 complaint received Mon 03-02, accepted 03-03, mediation ended 03-10 with
    `outcome`, closed resolved the same day (on time), a case filed (诉转案: no floor)."""
    receive(app, number, unit=unit, channel="12315")
    log(app, number, "accepted", "2026-03-03 10:00")
    log(app, number, "case_decided", "2026-03-04 10:00", filed=True)
    reason = {"reason": "未能达成调解协议"} if outcome == "terminated" else {}
    log(app, number, "mediation_ended", "2026-03-10 15:00", outcome=outcome, **reason)
    close(app, number, "2026-03-10 16:00")


def _unit(found: dict[str, Any], unit: str) -> dict[str, Any]:
    (row,) = [u for u in found["units"] if u["unit"] == unit]
    return dict(row)


def _part(row: dict[str, Any], key: str) -> dict[str, Any]:
    (part,) = [p for p in row["parts"] if p["key"] == key]
    return dict(part)


def _section(row: dict[str, Any], part: str, key: str) -> dict[str, Any]:
    (section,) = [s for s in _part(row, part)["sections"] if s["key"] == key]
    return dict(section)


def deductions(cli: Cli) -> dict[str, Any]:
    return document(cli, "report", "deductions", *OFFICE_RUBRIC, *Q2)


def add_finding(cli: Cli, item: str, unit: str, day: str, count: int = 1) -> str:
    code, out, err = cli("finding", "add", *OFFICE_RUBRIC, "--item", item, "--unit", unit,
                         "--day", day, "--count", str(count), "--note", f"{item} ×{count}")  # fmt: skip
    assert code == 0, err
    return out.strip()


def test_report_deductions(app: HotlineApplication, cli: Cli) -> None:
    deduction_cases(app)
    found = deductions(cli)
    assert found["rubric"] == "market-office-2017" and found["period"] == "2026Q2"
    assert len(found["units"]) == 66  # every registry unit
    # 闵行: 5 late × 1.5 = 7.5, the section 办结情况 capped at 6: Ⅵ-8-5 20 − 6 = 14;
    # Ⅵ-8-1 untouched (10): 24 of 30.
    minhang = _unit(found, MINHANG)
    closing = _section(minhang, "vi_8_5", "closing")
    assert closing["items"]["late"] == {"count": 5, "lost": 7.5}
    assert closing["lost"] == 6.0
    assert (_part(minhang, "vi_8_5")["score"], _part(minhang, "vi_8_1")["score"]) == (14.0, 10.0)
    assert (minhang["lost"], minhang["score"]) == (6.0, 24.0)
    # 松江: 1 late (1.5); 4 不满意 (the excluded one aside) × 1 = 4, the item capped at 3:
    # Ⅵ-8-5 lost 4.5 → 15.5, total 25.5.
    songjiang = _unit(found, SONGJIANG)
    assert _section(songjiang, "vi_8_5", "satisfaction")["items"]["dissatisfied"] == {
        "count": 4, "lost": 3.0
    }  # fmt: skip
    assert (_part(songjiang, "vi_8_5")["lost"], songjiang["score"]) == (4.5, 25.5)
    # 嘉定: Ⅵ-8-5 counts the late 12345 complaint only (1.5); Ⅵ-8-1 the 12315 complaint
    # only (1), not the 12315 report: closed without ever being accepted, it missed Order
    # 20's acceptance limit (day 7), not its close (the mediation limit, 45 working days on);
    # resolution 1/1: no floor.
    jiading = _unit(found, JIADING)
    assert _section(jiading, "vi_8_5", "closing")["items"]["late"] == {"count": 1, "lost": 1.5}
    items = _section(jiading, "vi_8_1", "time_limits")["items"]
    assert (items["acceptance_late"], items["closed_late"]) == (
        {"count": 1, "lost": 1.0}, {"count": 0, "lost": 0.0},
    )  # fmt: skip
    assert (_part(jiading, "vi_8_5")["score"], _part(jiading, "vi_8_1")["score"]) == (18.5, 9.0)
    # The 调解成功率 floor (12315 complaints only):
    #   青浦 70%: 1 + floor((75−70)/5) = 1 step × 0.4 → 1.4
    #   崇明 74%: 1 + floor(1/5) = 0 steps → 1
    #   普陀 50%: 1 + 5 steps × 0.4 = 3 → capped 2
    #   杨浦 75%: not below 75 → 0
    floor = {
        unit: _section(_unit(found, unit), "vi_8_1", "resolution")["items"]["low_resolution"]
        for unit in (QINGPU, CHONGMING, PUTUO, YANGPU)
    }
    assert floor == {
        QINGPU: {"count": None, "lost": 1.4},
        CHONGMING: {"count": None, "lost": 1.0},
        PUTUO: {"count": None, "lost": 2.0},
        YANGPU: {"count": None, "lost": 0.0},
    }
    assert _part(_unit(found, QINGPU), "vi_8_1")["score"] == 8.6
    # explain names the rate, not orders: 调解成功率 70.00 < 75 costs 1.4.
    why = document(cli, "report", "explain", "--unit", QINGPU, *OFFICE_RUBRIC, *Q2)["rows"]
    assert [(r["item"], r["source"], r["reason"], r["points"]) for r in why] == [
        ("调解成功率低于75% (at most 2)", "rate", "调解成功率 70.00 < 75", 1.4)
    ]
    # A unit with nothing: 30 of 30.
    assert (_unit(found, HUANGPU)["score"], _unit(found, HUANGPU)["lost"]) == (30.0, 0.0)


def test_a_finding_costs_its_points_until_withdrawn(app: HotlineApplication, cli: Cli) -> None:
    late(app, "SL", SONGJIANG)
    # One late order: 1.5.
    assert _section(_unit(deductions(cli), SONGJIANG), "vi_8_5", "closing")["lost"] == 1.5
    finding = add_finding(cli, "data_standard", SONGJIANG, "2026-03-05")
    # A finding in May (2026Q3) does not count in Q2.
    add_finding(cli, "data_standard", SONGJIANG, "2026-05-06")
    # 1.5 + 1 = 2.5; Ⅵ-8-5 17.5, total 27.5.
    row = _unit(deductions(cli), SONGJIANG)
    assert _section(row, "vi_8_5", "closing")["items"]["data_standard"] == {"count": 1, "lost": 1.0}
    assert (_section(row, "vi_8_5", "closing")["lost"], row["score"]) == (2.5, 27.5)
    code, _, err = cli("finding", "withdraw", finding, "--reason", "entered twice")
    assert code == 0, err
    # Withdrawn: 1.5 again, total 28.5.
    row = _unit(deductions(cli), SONGJIANG)
    assert _section(row, "vi_8_5", "closing")["items"]["data_standard"] == {"count": 0, "lost": 0.0}
    assert (_section(row, "vi_8_5", "closing")["lost"], row["score"]) == (1.5, 28.5)


def test_a_part_never_goes_below_zero(app: HotlineApplication, cli: Cli) -> None:
    # 静安, Ⅵ-8-1: 12 accepted late (12, the section capped at 10) + 3 推诿拖延 (3) + 2 调处不当
    # (2) = 15 > 10: the part loses 10, scores 0, not −5; Ⅵ-8-5 untouched: 20 in all.
    add_finding(cli, "accepted_late", JINGAN, "2026-03-05", count=12)
    add_finding(cli, "shirking", JINGAN, "2026-03-06", count=3)
    add_finding(cli, "mishandled", JINGAN, "2026-03-09", count=2)
    row = _unit(deductions(cli), JINGAN)
    assert _section(row, "vi_8_1", "time_limits")["lost"] == 10.0
    assert _section(row, "vi_8_1", "shirking")["lost"] == 3.0
    assert _section(row, "vi_8_1", "mishandling")["lost"] == 2.0
    assert (_part(row, "vi_8_1")["lost"], _part(row, "vi_8_1")["score"]) == (10.0, 0.0)
    assert (row["lost"], row["score"]) == (10.0, 20.0)


def test_deductions_of_one_unit(app: HotlineApplication, cli: Cli) -> None:
    for i in range(5):
        late(app, f"L{i}", MINHANG)
    found = document(cli, "report", "deductions", *OFFICE_RUBRIC, *Q2, "--unit", MINHANG)
    assert (found["unit"], found["score"]) == (MINHANG, 24.0)
    (row,) = [r for r in found["rows"] if r["item"] == "未按时办结"]
    assert row["count"] == 5
    # Item by item: 5 × 1.5 = 7.5 lost by the item, 6 by the section, Ⅵ-8-5 scores 14.
    # (float(): whether these are numbers is test_json_numbers_are_numbers' business.)
    assert [float(row[k]) for k in ("lost", "section_lost", "part_score")] == [7.5, 6, 14]


def test_json_numbers_are_numbers(app: HotlineApplication, cli: Cli) -> None:
    """JSON is for programs: points are numbers, as in `report scores`, `report kpi` and
    `report deductions` without --unit — not display strings such as "1.50"."""
    small_district(app)
    found = document(cli, "report", "deductions", *OFFICE_RUBRIC, *Q2, "--unit", MINHANG)
    (row,) = [r for r in found["rows"] if r["item"] == "未按时办结"]
    assert isinstance(row["lost"], int | float), row  # 1 late × 1.5
    assert isinstance(row["part_score"], int | float), row
    compared = document(cli, "report", "scores", *SHANGHAI_RUBRIC, "--compare",
                        "market-office-2017", *Q2, "--group", "district")  # fmt: skip
    (minhang,) = [r for r in compared["rows"] if r["unit"] == MINHANG]
    assert isinstance(minhang["score_a"], int | float), minhang
    assert isinstance(minhang["score_b"], int | float), minhang


# 7. report kpi --------------------------------------------------------------------------------


def test_report_kpi(app: HotlineApplication, cli: Cli) -> None:
    # 闵行: 19 orders, each contacted on day 1 and closed on time; 9 rated 满意.
    for i in range(19):
        receive(app, f"K{i}")
        log(app, f"K{i}", "first_contact", "2026-03-03 09:00")
        close(app, f"K{i}", "2026-03-10 16:00")
        if i < 9:
            rate(app, f"K{i}", "satisfied")
    # 松江: never contacted, closed late (day 14), rated 不满意.
    late(app, "SK", SONGJIANG)
    rate(app, "SK", "dissatisfied")
    # 闵行区消保委: contacted on day 2 (late), closed on time, rated 一般.
    receive(app, "CK", unit=MINHANG_COUNCIL)
    log(app, "CK", "first_contact", "2026-03-04 09:00")
    close(app, "CK", "2026-03-10 16:00")
    rate(app, "CK", "average")
    found = document(cli, "report", "kpi", *Q2)
    rows = {(r["level"], r["name"]): r for r in found["rows"]}
    assert len(found["rows"]) == 66 + 3 + 1

    def verdicts(level: str, name: str) -> tuple[Any, ...]:
        row = rows[level, name]
        return tuple(row[k] for k in ("on_time_rate", "on_time_rate_met", "first_contact_rate",
                                      "first_contact_rate_met", "dissatisfaction",
                                      "dissatisfaction_met"))  # fmt: skip

    # Targets: on time ≥ 95, first contact ≥ 95, dissatisfaction ≤ 10.
    assert verdicts("unit", MINHANG) == (100.0, True, 100.0, True, 0.0, True)
    assert verdicts("unit", SONGJIANG) == (0.0, False, 0.0, False, 100.0, False)
    assert verdicts("unit", JIADING) == (None, None, None, None, None, None)
    assert verdicts("unit", MINHANG_COUNCIL) == (100.0, True, 0.0, False, 0.0, True)
    # District: on time 19/20 = 95 (met, at the threshold); first contact 19/20 = 95 (met);
    # 不满意 1 of 10 ratings = 10 (met, at the threshold).
    assert verdicts("group", "各区市场监管局、机场分局") == (95.0, True, 95.0, True, 10.0, True)
    assert verdicts("group", "各区消保委") == (100.0, True, 0.0, False, 0.0, True)
    assert verdicts("group", "市药监局、市知识产权局、市局各处室、执法总队、直属单位") == (
        None, None, None, None, None, None
    )  # fmt: skip
    # System: on time 20/21 = 95.24 (met); first contact 19/21 = 90.48 (not met);
    # 不满意 1 of 11 = 9.09 (met).
    assert verdicts("system", "system") == (95.24, True, 90.48, False, 9.09, True)
    # One unit: its row only.
    one = document(cli, "report", "kpi", *Q2, "--unit", SONGJIANG)
    assert [(r["name"], r["level"]) for r in one["rows"]] == [(SONGJIANG, "unit")]
    district = document(cli, "report", "kpi", *Q2, "--group", "district")
    assert [r["level"] for r in district["rows"]] == ["unit"] * 17 + ["group"]


# 8. report explain --rubric ----------------------------------------------------------------------


def explain_cases(app: HotlineApplication) -> None:
    late(app, "E1", MINHANG)  # 12345, late
    late(app, "E2", MINHANG)  # 12345, late
    late(app, "E3", MINHANG, channel="12315")  # a 12315 complaint, late
    on_time(app, "E4", MINHANG)  # 12345, on time, supervised: the unit at fault
    log(app, "E4", "supervised", "2026-03-12 10:00", at_fault=True)
    rate(app, "E4", "dissatisfied")
    rate(app, "E1", "satisfied")
    rate(app, "E2", "basically_satisfied")


def explained(cli: Cli, rubric: str) -> list[tuple[str, str, str, float]]:
    found = document(cli, "report", "explain", "--unit", MINHANG, "--rubric", rubric, *Q2)
    return sorted((r["where"], r["item"], r["source"], r["points"]) for r in found["rows"])


def test_explain_market_office_2017(app: HotlineApplication, cli: Cli) -> None:
    explain_cases(app)
    finding = add_finding(cli, "data_standard", MINHANG, "2026-03-05")
    closing = "Ⅵ-8-5 12345市民服务热线承办工作情况 办结情况"
    assert explained(cli, "market-office-2017") == sorted([
        (closing, "未按时办结", "E1", 1.5),
        (closing, "未按时办结", "E2", 1.5),
        (closing, "未按照12345数据质量标准录入", f"finding {finding}", 1.0),
        ("Ⅵ-8-5 12345市民服务热线承办工作情况 诉求解决情况", "督办认定处理部门有责", "E4", 2.0),
        ("Ⅵ-8-5 12345市民服务热线承办工作情况 满意度测评",
         "不满意件（不纳入测评、客观件除外） (at most 3)", "E4", 1.0),
        # Ⅵ-8-1: the 12315 complaint only, never accepted (Order 20: by day 7); resolved, so
        # no resolution-rate floor.
        ("Ⅵ-8-1 消费者投诉举报处理情况 受理或办结超出规定期限", "受理超出规定期限", "E3", 1.0),
    ])  # fmt: skip
    found = document(cli, "report", "explain", "--unit", MINHANG, *OFFICE_RUBRIC, *Q2)
    (row,) = [r for r in found["rows"] if r["source"] == "E1"]
    assert row["reason"] == "closed on working day 14 (2026-03-20), due 2026-03-19"
    (row,) = [r for r in found["rows"] if r["source"].startswith("finding")]
    assert row["reason"] == "2026-03-05: data_standard ×1"


def test_explain_shanghai_12345_2019(app: HotlineApplication, cli: Cli) -> None:
    explain_cases(app)
    add_finding(cli, "data_standard", MINHANG, "2026-03-05")  # another rubric's: not here
    # On time: E1 E2 late of the 3 counted (12345 only, the rubric's coverage: the 12315
    # complaint E3 is not): 30/3 = 10 each.
    # 诉求解决: E4's at-fault supervision, 2.
    # 满意度: 3 ratings; 不满意 E4 costs 35·(100 − 0)/(100·3) = 11.6667,
    # 基本满意 E2 costs 35·(100 − 80)/(100·3) = 2.3333; 满意 E1 nothing.
    assert explained(cli, "shanghai-12345-2019") == sorted([
        ("按时办结", "按时办结率", "E1", 10.0),
        ("按时办结", "按时办结率", "E2", 10.0),
        ("诉求解决", "督办认定处理部门有责", "E4", 2.0),
        ("满意度", "满意度测评", "E4", 11.6667),
        ("满意度", "满意度测评", "E2", 2.3333),
    ])  # fmt: skip
    code, out, err = cli("report", "explain", "--unit", MINHANG, "--rubric", "kpi-2023", *Q2)
    assert "report kpi" in one_line_refusal(code, out, err)


def test_explain_says_why_a_unit_has_no_total(app: HotlineApplication, cli: Cli) -> None:
    """松江 was never rated: 满意度 does not apply, so the unit gets no total."""
    on_time(app, "N1", SONGJIANG)
    code, out, err = cli("report", "explain", "--unit", SONGJIANG, "--rubric",
                         "shanghai-12345-2019", *Q2, "--format", "json")  # fmt: skip
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert (row["where"], row["item"], row["points"]) == ("满意度", "does not apply", 35.0)
    assert "no ratings" in row["reason"]


def test_a_deductions_workbook_holds_numbers(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    deduction_cases(app)
    path = tmp_path / "d.xlsx"
    code, _, err = cli("report", "deductions", "--rubric", "market-office-2017", *Q2,
                       "--group", "district", "--output", str(path))  # fmt: skip
    assert code == 0, err
    sheet = load_workbook(path).worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == MINHANG]
    (row,) = rows
    assert all(isinstance(value, int | float) for value in row[2:]), row


# 9. side by side, and the wrong kind of rubric -------------------------------------------------


def test_compare_two_rubrics(app: HotlineApplication, cli: Cli) -> None:
    small_district(app)
    found = document(cli, "report", "scores", *SHANGHAI_RUBRIC, "--compare",
                     "market-office-2017", *Q2, "--group", "district")  # fmt: skip
    assert found["rubrics"] == ["shanghai-12345-2019", "market-office-2017"]
    rows = {r["unit"]: r for r in found["rows"]}
    assert sorted(rows) == sorted(app.units.group("district").units)

    def side(unit: str) -> tuple[Any, ...]:
        r = rows[unit]
        a = None if r["score_a"] is None else float(r["score_a"])
        return a, r["rank_a"], r["grade_a"], float(r["score_b"]), r["rank_b"]

    # shanghai-12345-2019 as in small_district; market-office-2017 out of 20 + 10 = 30:
    # 闵行 loses 1.5 for M3 (28.5, last of 17); everyone else 30 (rank 1).
    assert side(QINGPU) == (91.67, 1, "优秀", 30.0, 1)
    assert side(MINHANG) == (89.17, 2, "良好", 28.5, 17)
    assert side(JIADING) == (None, None, None, 30.0, 1)


def test_units_shown_with_equal_scores_share_a_rank(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    """A deduction rubric taking 0.004 per late order: 闵行 (M3 late) keeps 29.996, shown 30.00
    as 青浦's 30; the published tables rank by what they show, so both are 1st (ranked on the
    exact points, 闵行 was 17th)."""
    small_district(app)
    thin = tmp_path / "thin.toml"
    thin.write_text(
        'kind = "deductions"\nname = "thin"\ntitle = "thin"\n'
        '[[part]]\nkey = "all"\nlabel = "all"\npoints = 30\norders = {}\n'
        '[[part.section]]\nkey = "closing"\nlabel = "办结情况"\npoints = 30\n'
        '[[part.section.items]]\nkind = "per_order"\nkey = "late"\nlabel = "未按时办结"\n'
        'metric = "on_time_rate"\npoints = 0.004\n',
        encoding="utf-8",
    )
    found = document(cli, "report", "scores", *SHANGHAI_RUBRIC, "--compare", str(thin), *Q2,
                     "--group", "district")  # fmt: skip
    rows = {r["unit"]: r for r in found["rows"]}
    assert (rows[MINHANG]["score_b"], rows[QINGPU]["score_b"]) == (30.0, 30.0)
    assert (rows[MINHANG]["rank_b"], rows[QINGPU]["rank_b"]) == (1, 1)
    (row,) = Assessment(Reports(app, app.readmodel)).deductions(
        Assessment(Reports(app, app.readmodel)).rubric(str(thin)), parse_period("2026Q2"),
        unit=MINHANG,
    ).rows  # fmt: skip
    assert row.score == Fraction(29996, 1000)  # not 30: the tie is in what is shown


def test_a_unit_or_group_the_rubric_does_not_assess_is_one_line(cli: Cli, tmp_path: Path) -> None:
    district_only = tmp_path / "district-only.toml"
    text = _shipped_text("market-office-2017")
    district_only.write_text(_edit(text, 'kind = "deductions"', 'kind = "deductions"\n'
                                   'groups = ["district"]'), encoding="utf-8")  # fmt: skip
    rubric = ("--rubric", str(district_only))
    for command in (("report", "deductions", *rubric, "--unit", MINHANG_COUNCIL),
                    ("report", "explain", *rubric, "--unit", MINHANG_COUNCIL)):  # fmt: skip
        line = one_line_refusal(*cli(*command, *Q2))
        assert f"does not assess {MINHANG_COUNCIL} (group 'consumer_council')" in line
    line = one_line_refusal(*cli("report", "deductions", *rubric, "--group", "municipal", *Q2))
    assert "does not score group 'municipal'" in line
    for command in (
        ("report", "rates"),
        ("report", "kpi"),
        ("report", "deductions", *OFFICE_RUBRIC),
    ):
        line = one_line_refusal(*cli(*command, "--unit", MINHANG, "--group", "district", *Q2))
        assert line == "hotline: give either --unit or --group, not both"


def test_the_wrong_kind_of_rubric_is_one_line(cli: Cli) -> None:
    code, out, err = cli("report", "scores", *SHANGHAI_RUBRIC, "--compare", "kpi-2023", *Q2)
    assert "kpi-2023" in one_line_refusal(code, out, err)
    code, out, err = cli("report", "scores", *OFFICE_RUBRIC, *Q2)
    assert "report deductions --rubric market-office-2017" in one_line_refusal(code, out, err)
    code, out, err = cli("report", "deductions", *SHANGHAI_RUBRIC, *Q2)
    assert "report scores --rubric shanghai-12345-2019" in one_line_refusal(code, out, err)
    code, out, err = cli("report", "kpi", *OFFICE_RUBRIC, *Q2)
    assert "report deductions" in one_line_refusal(code, out, err)
    code, out, err = cli("report", "scores", "--rubric", "no-such-rubric", *Q2)
    line = one_line_refusal(code, out, err)
    assert "unknown rubric 'no-such-rubric'" in line and "shanghai-12345-2019" in line


# 10. hotline rubrics --------------------------------------------------------------------------


def test_rubrics_lists_the_shipped_three(cli: Cli) -> None:
    found = document(cli, "rubrics")
    assert [(r["name"], r["kind"]) for r in found["rows"]] == [
        ("kpi-2023", "targets"),
        ("market-office-2017", "deductions"),
        ("shanghai-12345-2019", "weighted"),
    ]
    titles = {r["name"]: r["title"] for r in found["rows"]}
    assert titles["shanghai-12345-2019"] == "“12345”市民服务热线承办工作绩效考核"
