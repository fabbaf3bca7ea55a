"""results-2019, 附件3 (the 16 各区消保委, assessment year 2019): from events to the published table.

`official_tables` builds an event stream whose facts give the published points; the builders
are checked here against the printed values, then the stream is imported and `report scores`
must print the published table to every decimal.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from official_tables import (
    ANNEX3,
    COLUMNS,
    RATINGS,
    OfficialRow,
    UnitPlan,
    assessment_days,
    plan,
    rating_counts,
    read_table,
    round_half_up,
    satisfaction_points,
    volume_counts,
    write_events,
)

Cli = Callable[..., tuple[int, str, str]]
REPORT_HEADER = ["附件", *COLUMNS, "名次", "等次"]


@pytest.fixture(scope="module")
def rows() -> list[OfficialRow]:
    return read_table(ANNEX3)


@pytest.fixture(scope="module")
def plans(rows: list[OfficialRow]) -> list[UnitPlan]:
    return plan(rows)


@pytest.fixture(scope="module")
def events(rows: list[OfficialRow], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("annex3") / "seed000-annex3.jsonl"
    return path, write_events(path, rows, year=2019)


def printed(value: Fraction, places: int) -> str:
    return str(round_half_up(value, places))


# The published table as transcribed


def test_the_table_reads_as_printed(rows: list[OfficialRow]) -> None:
    assert [row.number for row in rows] == [str(n) for n in range(1, 17)]
    assert all(row.unit.endswith("区消保委") for row in rows)
    assert len({row.unit for row in rows}) == 16
    assert rows[0].values() == ("1", "闵行区消保委", "6.6012", "30", "25", "34.54", "96.14")
    assert rows[1].satisfaction == "35" and rows[1].total == "90.20"
    # domain.md §7: each group's published volume column sums to 10.0002.
    assert sum(Decimal(row.volume) for row in rows) == Decimal("10.0002")
    # Rank order, as printed.
    totals = [Decimal(row.total) for row in rows]
    assert totals == sorted(totals, reverse=True)


# volume_counts


@pytest.mark.parametrize(
    ("shares", "counts"),
    [
        (["10.0000"], [1]),
        (["5.0000", "5.0000"], [1, 1]),
        (["6.6667", "3.3333"], [2, 1]),
        (["3.3333", "3.3333", "3.3333"], [1, 1, 1]),
        (["7.5000", "2.5000"], [3, 1]),
        (["1.4286", "8.5714"], [1, 6]),
    ],
)
def test_volume_counts_of_small_groups(shares: list[str], counts: list[int]) -> None:
    assert volume_counts([Decimal(share) for share in shares]) == counts


def test_volume_counts_refuses_more_decimals_than_printed() -> None:
    with pytest.raises(ValueError, match="decimals"):
        volume_counts([Decimal("5.00001"), Decimal("4.99999")])


def test_every_volume_share_rounds_back_to_the_published_one(rows: list[OfficialRow]) -> None:
    counts = volume_counts([Decimal(row.volume) for row in rows])
    group = sum(counts)
    assert all(count > 0 for count in counts)
    assert [printed(Fraction(10 * n, group), 4) for n in counts] == [row.volume for row in rows]


def test_the_group_total_is_the_smallest_that_works(rows: list[OfficialRow]) -> None:
    group = sum(volume_counts([Decimal(row.volume) for row in rows]))
    assert group == 22952
    # Brute force, in integers: 10·n/N prints as V/10^4 iff ⌊(2·10^5·n + N) / 2N⌋ = V.
    printed_as = [int(Decimal(row.volume).scaleb(4)) for row in rows]

    def admissible(target: int, total: int) -> list[int]:
        near = target * total // 100_000
        return [n for n in range(max(near - 2, 0), near + 3)
                if (200_000 * n + total) // (2 * total) == target]  # fmt: skip

    def fits(total: int) -> bool:
        ranges = []
        for target in printed_as:
            found = admissible(target, total)
            if not found:
                return False
            ranges.append(found)
        return sum(min(r) for r in ranges) <= total <= sum(max(r) for r in ranges)

    assert fits(group)
    assert not any(fits(total) for total in range(1, group))


# rating_counts


@pytest.mark.parametrize(
    ("points", "mix"),
    [
        ("35", (1, 0, 0, 0)),
        ("35.00", (1, 0, 0, 0)),
        ("28", (0, 1, 0, 0)),
        ("31.50", (1, 1, 0, 0)),
        ("0", (0, 0, 0, 1)),
        ("17.50", (1, 0, 0, 1)),
        ("33.60", (4, 1, 0, 0)),
    ],
)
def test_rating_counts_of_simple_points(points: str, mix: tuple[int, int, int, int]) -> None:
    assert rating_counts(Decimal(points)) == mix


def test_seed_001_satisfaction_score() -> None:
    # domain.md §6: 7984/1138/526/1211 → 84.81.
    mix = (7984, 1138, 526, 1211)
    assert printed(satisfaction_points(mix, weight=100), 2) == "84.81"


def test_every_rating_mix_reproduces_the_published_points(rows: list[OfficialRow]) -> None:
    for row in rows:
        mix = rating_counts(Decimal(row.satisfaction))
        assert round_half_up(satisfaction_points(mix), 2) == Decimal(row.satisfaction), row
        assert sum(mix) >= 1


def test_each_rating_mix_is_the_fewest(rows: list[OfficialRow]) -> None:
    fewest = {row.unit: sum(rating_counts(Decimal(row.satisfaction))) for row in rows}
    # Every satisfaction score of `rated` ratings: (100a + 80b + 60c) / rated.
    scores = {
        rated: {100 * a + 80 * b + 60 * c for a in range(rated + 1)
                for b in range(rated + 1 - a) for c in range(rated + 1 - a - b)}
        for rated in range(1, max(fewest.values()))
    }  # fmt: skip
    for row in rows:
        points = Decimal(row.satisfaction)
        fewer = [rated for rated in range(1, fewest[row.unit]) for score in scores[rated]
                 if round_half_up(Fraction(35 * score, 100 * rated), 2) == points]  # fmt: skip
        assert fewer == [], row


def test_the_plan_reproduces_every_printed_value(
    rows: list[OfficialRow], plans: list[UnitPlan]
) -> None:
    rebuilt = [
        (
            printed(unit.volume_points, 4),
            printed(satisfaction_points(unit.ratings), 2),
            str(unit.total()),
        )
        for unit in plans
    ]
    published = [
        (row.volume, str(Decimal(row.satisfaction).quantize(Decimal("0.01"))), row.total)
        for row in rows
    ]
    assert rebuilt == published
    assert all(sum(unit.ratings) <= unit.orders for unit in plans)


def test_the_stream_tells_the_rubric_rules_from_their_rounded_variants(
    rows: list[OfficialRow], plans: list[UnitPlan]
) -> None:
    """domain.md §7 takes the unrounded satisfaction score and sums unrounded components. With
    these counts, points from the score shown to 2 decimals, or a total of the printed
    components, would miss the published table: the end-to-end test pins the rule."""

    def rounded_score_points(unit: UnitPlan) -> Fraction:
        score = round_half_up(satisfaction_points(unit.ratings, weight=100), 2)
        return Fraction(score) * Fraction(35, 100)

    rounded_score = [
        (str(round_half_up(rounded_score_points(u), 2)),
         str(round_half_up(u.volume_points + 55 + rounded_score_points(u), 2)))
        for u in plans
    ]  # fmt: skip
    printed_parts = [
        str(round_half_up(Fraction(round_half_up(u.volume_points, 4)) + 55
                          + Fraction(round_half_up(satisfaction_points(u.ratings), 2)), 2))
        for u in plans
    ]  # fmt: skip
    published = [(str(Decimal(r.satisfaction).quantize(Decimal("0.01"))), r.total) for r in rows]
    assert rounded_score != published
    assert printed_parts != [row.total for row in rows]


def test_the_published_total_of_xuhui_needs_more_than_the_fewest_ratings(
    rows: list[OfficialRow], plans: list[UnitPlan]
) -> None:
    """With the fewest ratings giving 34.32 (31 of them: 34.3226), 徐汇's total would be
    0.31588 + 55 + 34.3226 = 89.6385 → 89.64, but 89.63 is printed: its unrounded points lie in
    [34.315, 34.3191), which takes 41 ratings. Every other unit's fewest mix fits its total."""
    misfits = []
    for row, unit in zip(rows, plans, strict=True):
        fewest = rating_counts(Decimal(row.satisfaction))
        exact = unit.volume_points + 55 + satisfaction_points(fewest)
        if str(round_half_up(exact, 2)) != row.total:
            misfits.append((row.unit, sum(fewest), sum(unit.ratings)))
    assert misfits == [("徐汇区消保委", 31, 41)]


# The event stream


def test_the_event_file_holds_the_planned_facts(
    events: tuple[Path, int], plans: list[UnitPlan]
) -> None:
    path, written = events
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == written
    first, last = assessment_days(2019)
    received = [e for e in lines if e["event"] == "received"]
    assert len({e["order"] for e in received}) == len(received) == 22952
    assert {datetime.fromisoformat(e["at"]).date() for e in received} <= {
        date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1)
    }
    assert min(e["at"] for e in received).startswith("2018-11-01")
    assert max(e["at"] for e in received).startswith("2019-10-20")
    per_unit = Counter(e["unit"] for e in received)
    assert per_unit == {unit.row.unit: unit.orders for unit in plans}
    unit_of = {e["order"]: e["unit"] for e in received}
    ratings = Counter((unit_of[e["order"]], e["rating"]) for e in lines if e["event"] == "rated")
    for unit in plans:
        mix = tuple(ratings[unit.row.unit, name] for name, _ in RATINGS)
        assert mix == unit.ratings, unit.row.unit
    closed = [e for e in lines if e["event"] == "closed"]
    assert len(closed) == len(received)
    assert {(e["result"], e["citizen_informed"]) for e in closed} == {("resolved", True)}


def test_the_scores_of_the_imported_stream_are_the_published_table(
    cli: Cli, events: tuple[Path, int], rows: list[OfficialRow]
) -> None:
    """`report scores` must print 附件3 as published: 4 decimals for volume, 2 for the rest,
    "30", "25" and "35" as printed, rank order; 名次 is 序号 (no ties), 等次 empty (not graded)."""
    path, _ = events
    code, out, err = cli("import", str(path))
    assert code == 0, err
    code, out, err = cli("report", "scores", "--rubric", "shanghai-12345-2019",
                         "--period", "2019", "--group", "consumer_council",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(REPORT_HEADER)
    reported = list(csv.DictReader(io.StringIO(out)))
    assert [tuple(record[column] for column in COLUMNS) for record in reported] == [
        row.values() for row in rows
    ]
    assert [record["名次"] for record in reported] == [row.number for row in rows]
    assert [record["等次"] for record in reported] == [""] * len(rows)
