"""Scoring rules on their own (domain.md §7): rounding half up, grades by rank with ties,
deductions with caps and rate floors, targets."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from hotline.adapters.rubric_files import load_metrics, load_rubric, projections_dir, rubrics_dir
from hotline.adapters.unit_file import load_unit_registry
from hotline.domain.errors import InvalidInput
from hotline.domain.rubric import DeductionRubric, GroupSpec, TargetRubric, WeightedRubric
from hotline.domain.scoring import (
    Measure,
    Tally,
    check_targets,
    chosen_units,
    component_text,
    grade_counts,
    half_up,
    ranks,
    score_deductions,
    score_weighted,
    shown_text,
)
from hotline.domain.vocabulary import Rating
from official_tables import DATA, read_table

UNITS = load_unit_registry(rubrics_dir() / "units.toml")
METRICS = [m.key for m in load_metrics(projections_dir())]


def shipped(name: str) -> Any:
    return load_rubric(name, METRICS, UNITS, rubrics_dir())


GRADED = GroupSpec.model_validate(
    {"key": "district", "grades": [{"name": "优秀", "share": 0.5},
                                    {"name": "良好", "share": 0.3},
                                    {"name": "合格", "share": 0.2}]}
)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (Fraction(1, 8), 2, "0.13"),  # 0.125: half up, not to even
        (Fraction(267, 100) + Fraction(1, 200), 2, "2.68"),  # 2.675 exactly (a float is 2.67)
        # review-2019's score 921000/10859 = 84.8144… × 0.35 = 29.68505… (the rounded 84.81 gives 29.68)
        (Fraction(35) * Fraction(921000, 10859) / 100, 2, "29.69"),
        (Fraction(10 * 15151, 22952), 4, "6.6012"),  # 闵行区消保委's volume share
        (Fraction(-1, 8), 2, "-0.13"),
        (Fraction(30), 2, "30.00"),
    ],
)
def test_half_up(value: Fraction, decimals: int, shown: str) -> None:
    assert str(half_up(value, decimals)) == shown


@pytest.mark.parametrize(
    ("units", "split"),
    [
        (17, [9, 5, 3]),
        (16, [8, 5, 3]),
        (10, [5, 3, 2]),
        (3, [2, 1, 0]),
        (1, [1, 0, 0]),
        (0, [0, 0, 0]),
    ],
)
def test_grade_counts_round_half_up_and_the_last_grade_takes_the_rest(
    units: int, split: list[int]
) -> None:
    # 17 × 0.5 = 8.5 → 9, 17 × 0.3 = 5.1 → 5, the rest 3; 3 × 0.5 = 1.5 → 2, 3 × 0.3 = 0.9 → 1.
    assert [count for _, count in grade_counts(GRADED, units)] == split


def tally(
    volume: int, on_time: tuple[int, int], ratings: dict[Rating, int], **metrics: int
) -> Tally:
    counts = {key: Measure(Fraction(metrics.get(key, 0)), None) for key in METRICS}
    counts["volume"] = Measure(Fraction(volume), None)
    counts["on_time_rate"] = Measure(Fraction(on_time[0]), on_time[1])
    return Tally(counts, ratings)


def district_board(tallies: dict[str, Tally]) -> Any:
    rubric: WeightedRubric = shipped("shanghai-12345-2019")
    spec = rubric.group[0]
    (board,) = score_weighted(rubric, [(spec, "各区", UNITS.group("district").units)], tallies)
    return board


def test_ties_share_a_rank_and_the_better_grade() -> None:
    """Units 9 and 10 by rank tie: both 优秀, ranks 9 and 9, and the next unit is 11th."""
    names = list(UNITS.group("district").units)
    tallies = {}
    for index, name in enumerate(names):
        satisfied = 100 - index  # each unit one 满意 fewer: totals strictly decrease …
        tallies[name] = tally(10, (10, 10), {Rating.SATISFIED: satisfied, Rating.AVERAGE: index})
    tallies[names[9]] = tallies[names[8]]  # … except the 10th, a copy of the 9th
    board = district_board(tallies)
    by_unit = {row.unit: row for row in board.rows}
    assert by_unit[names[8]].total == by_unit[names[9]].total
    assert (by_unit[names[8]].rank, by_unit[names[9]].rank, by_unit[names[10]].rank) == (9, 9, 11)
    assert by_unit[names[9]].grade == "优秀"
    assert [len(units) for _, units in board.grades] == [10, 4, 3]


def test_ranks_by_the_shown_value_with_ties_skipping_the_next() -> None:
    shown = {"a": Decimal("95.00"), "b": Decimal("90.10"), "c": Decimal("95.00"), "d": None,
             "e": Decimal("89")}  # fmt: skip
    assert ranks(shown) == {"a": 1, "c": 1, "b": 3, "e": 4}


@pytest.mark.parametrize(
    ("value", "decimals", "trim", "text"),
    [(Decimal("6.00"), 2, True, "6"), (Decimal("6.00"), 2, False, "6.00"),
     (Decimal("1.50"), 2, True, "1.50"), (Decimal("1.6006"), 4, True, "1.6006"),
     (None, 2, True, None)],
)  # fmt: skip
def test_shown_text(value: Decimal | None, decimals: int, trim: bool, text: str | None) -> None:
    assert shown_text(value, decimals, trim) == text


def test_a_report_covers_only_units_and_groups_its_rubric_assesses() -> None:
    district_only = DeductionRubric.model_validate(
        {**shipped("market-office-2017").model_dump(), "groups": ("district",)}
    )
    council = UNITS.group("consumer_council").units[0]
    assert list(chosen_units(UNITS, rubric=district_only)) == ["district"]
    assert chosen_units(UNITS, unit="闵行区市场监管局", rubric=district_only) == {
        "district": ("闵行区市场监管局",)
    }
    with pytest.raises(InvalidInput, match=f"does not assess {council}"):
        chosen_units(UNITS, unit=council, rubric=district_only)
    with pytest.raises(InvalidInput, match="does not score group 'consumer_council'"):
        chosen_units(UNITS, group="consumer_council", rubric=district_only)
    with pytest.raises(InvalidInput, match="not both"):
        chosen_units(UNITS, unit="闵行区市场监管局", group="district")
    assert [len(u) for u in chosen_units(UNITS).values()] == [len(g.units) for g in UNITS.groups]


def test_a_unit_with_no_ratings_gets_no_total_no_rank_and_no_grade() -> None:
    """And the grade split counts only the 16 units that have a total: 8 / 5 / 3."""
    names = list(UNITS.group("district").units)
    tallies = {
        name: tally(10, (10, 10), {Rating.SATISFIED: 100 - i, Rating.AVERAGE: i})
        for i, name in enumerate(names)
    }
    tallies[names[0]] = tally(10, (10, 10), {})
    board = district_board(tallies)
    row = next(r for r in board.rows if r.unit == names[0])
    assert row.components["satisfaction"].shown is None
    assert (row.total, row.rank, row.grade) == (None, None, None)
    assert board.rows[-1].unit == names[0]  # listed after the ranked units
    assert [len(units) for _, units in board.grades] == [8, 5, 3]


def test_the_total_sums_unrounded_parts() -> None:
    """Volume 1/3 of the group (10/3 = 3.3333…), on-time 2/3 (20), 25, satisfaction 35 × 2/3
    (23.3333…): printed parts sum to 71.66, the unrounded ones to 71.6666… → 71.67."""
    names = list(UNITS.group("district").units)
    tallies = {name: tally(0, (0, 0), {}) for name in names}
    tallies[names[0]] = tally(1, (2, 3), {Rating.SATISFIED: 2, Rating.DISSATISFIED: 1})
    tallies[names[1]] = tally(2, (0, 0), {})
    row = next(r for r in district_board(tallies).rows if r.unit == names[0])
    shown = {key: str(c.shown) for key, c in row.components.items()}
    assert shown == {"volume": "3.3333", "on_time": "20.00", "resolution": "25.00",
                     "satisfaction": "23.33"}  # fmt: skip
    assert str(row.total) == "71.67"


def test_resolution_loses_points_per_at_fault_supervision_and_rejected_return() -> None:
    names = list(UNITS.group("district").units)
    tallies = {name: tally(1, (1, 1), {Rating.SATISFIED: 1}) for name in names}
    tallies[names[0]] = tally(
        1, (1, 1), {Rating.SATISFIED: 1}, supervised_at_fault=2, rejected_returns=1
    )
    tallies[names[1]] = tally(1, (1, 1), {Rating.SATISFIED: 1}, rejected_returns=20)
    rows = {r.unit: r for r in district_board(tallies).rows}
    assert rows[names[0]].components["resolution"].shown == Decimal("19.00")  # 25 − 2·2 − 2
    assert rows[names[1]].components["resolution"].shown == Decimal("0.00")  # never below 0


def deductions(**orders: Any) -> Any:
    rubric: DeductionRubric = shipped("market-office-2017")
    empty = {key: Measure(Fraction(0), None) for key in METRICS}
    parts = {}
    for part in rubric.part:
        metrics = dict(empty)
        for key, value in orders.get(part.key, {}).items():
            metrics[key] = value
        parts[part.key] = Tally(metrics, findings=orders.get("findings", {}))
    return score_deductions(rubric, "闵行区市场监管局", "district", parts)


def lost(result: Any, part: str, section: str) -> Fraction:
    found = next(p for p in result.parts if p.key == part)
    return next(s.lost for s in found.sections if s.key == section)


def test_a_section_loses_at_most_its_points_and_an_item_at_most_its_cap() -> None:
    result = deductions(
        vi_8_5={
            "on_time_rate": Measure(Fraction(5), 10),  # 5 late × 1.5 = 7.5 → section cap 6
            "dissatisfaction": Measure(Fraction(4), 40),  # 4 不满意 × 1 → item cap 3
        },
        findings={"data_standard": 1},
    )
    assert lost(result, "vi_8_5", "closing") == 6
    assert lost(result, "vi_8_5", "satisfaction") == 3
    assert result.parts[0].score == 20 - 9


def test_a_part_loses_at_most_its_points() -> None:
    result = deductions(
        vi_8_5={
            "on_time_rate": Measure(Fraction(0), 10),  # 6
            "supervised_at_fault": Measure(Fraction(3), None),  # 6 → 5
            "citizen_not_informed": Measure(Fraction(5), None),  # 10 → 6
            "dissatisfaction": Measure(Fraction(9), 9),  # 3
        }
    )
    assert result.parts[0].lost == 20 and result.parts[0].score == 0
    assert result.score == 10  # Ⅵ-8-1 untouched


@pytest.mark.parametrize(
    ("resolved", "judged", "points"),
    [(75, 100, 0), (749, 1000, 1), (71, 100, 1), (70, 100, Fraction(14, 10)),
     (66, 100, Fraction(14, 10)), (65, 100, Fraction(18, 10)), (50, 100, 2), (0, 0, 0)],
)  # fmt: skip
def test_the_mediation_success_floor(resolved: int, judged: int, points: Fraction) -> None:
    """调解成功率 below 75%: 1, plus 0.4 per full further 5%, at most 2; no mediation ended:
    nothing."""
    result = deductions(vi_8_1={"mediation_success": Measure(Fraction(resolved), judged)})
    assert lost(result, "vi_8_1", "resolution") == points


@pytest.mark.parametrize(("filed", "accepted", "points"), [(1, 17, 1), (1, 16, 0), (0, 0, 0)])
def test_the_case_conversion_floor(filed: int, accepted: int, points: int) -> None:
    """诉转案率 below 6%: 1 point (1 of 17 is 5.88%, 1 of 16 6.25%); none accepted: nothing."""
    result = deductions(vi_8_1={"complaint_to_case": Measure(Fraction(filed), accepted)})
    assert lost(result, "vi_8_1", "case_conversion") == points


def test_targets_compare_exactly() -> None:
    """94.999…% is not 95%; 10% dissatisfaction is at most 10%; nothing counted: no verdict."""
    rubric: TargetRubric = shipped("kpi-2023")
    metrics = {key: Measure(Fraction(0), 0) for key in METRICS}
    metrics["on_time_rate"] = Measure(Fraction(18999), 20000)
    metrics["dissatisfaction"] = Measure(Fraction(1), 10)
    results = {r.target.metric: r.met for r in check_targets(rubric, Tally(metrics))}
    assert results == {"on_time_rate": False, "first_contact_rate": None, "dissatisfaction": True}


@pytest.mark.parametrize(
    "annex", ["seed000-annex1.csv", "seed000-annex2.csv", "seed000-annex3.csv"]
)
def test_components_print_as_the_published_tables(annex: str) -> None:
    """附件2 prints 满意度 "29.00" but "35": only the full weight is printed whole."""
    rubric: WeightedRubric = shipped("shanghai-12345-2019")
    components = {c.key: c for c in rubric.component}
    printed = [
        (components[key], text)
        for row in read_table(DATA / annex)
        for key, text in (("volume", row.volume), ("on_time", row.on_time),
                          ("resolution", row.resolution), ("satisfaction", row.satisfaction))
        if text not in {"—", ""}
    ]  # fmt: skip
    assert printed
    assert [component_text(c, Decimal(text)) for c, text in printed] == [t for _, t in printed]
