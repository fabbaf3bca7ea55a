"""`hotline report hotspots` (issue 16): where a period's orders concentrate, counted here
from the orders the test makes and compared with what the command reports."""

from __future__ import annotations

import csv
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.cli.main import main
from hotline.domain.aggregate import now

Cli = Callable[..., tuple[int, str, str]]
UNITS = ["闵行区市场监管局", "徐汇区市场监管局"]
CATEGORIES = [
    ["市场监管", "食品安全", "过期食品"],
    ["市场监管", "食品安全", "无证经营"],
    ["市场监管", "价格", "明码标价"],
    ["市场监管", "价格"],
    ["消费维权", "预付卡"],
    ["消费维权"],
]
PLACES = [("闵行区", "莘庄镇"), ("闵行区", "七宝镇"), ("徐汇区", "田林街道"), ("徐汇区", None)]
ENTITIES = [("某某超市有限公司", "91310000132149237G"), ("某某健身房", None),
            (None, "91350100M000100Y43")]  # fmt: skip
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@dataclass(frozen=True)
class Made:
    """An order the test made: its received day and facts."""

    number: str
    unit: str
    day: date
    repeat: bool
    category: list[str] | None
    district: str | None
    street: str | None
    entity: str | None
    entity_code: str | None


def make_orders(cli: Cli, tmp_path: Path, count: int = 80) -> list[Made]:
    """`count` orders received from mid-February to mid-April, with random facts (some
    missing), half of them closed, imported; the orders made (the import's lines in
    `tmp_path`/orders.jsonl)."""
    rng = random.Random(16)
    made: list[Made] = []
    for n in range(count):
        place = rng.choice([*PLACES, (None, None)])
        entity = rng.choice([*ENTITIES, (None, None)])
        made.append(
            Made(
                number=f"H{n:03d}",
                unit=rng.choice(UNITS),
                day=date(2026, 2, 15) + timedelta(days=rng.randrange(60)),
                repeat=n > 0 and rng.random() < 0.3,
                category=rng.choice([*CATEGORIES, None]),
                district=place[0],
                street=place[1],
                entity=entity[0],
                entity_code=entity[1],
            )
        )
    lines = []
    for order in made:
        at = datetime(order.day.year, order.day.month, order.day.day, 10).isoformat() + "+08:00"
        facts = {key: value for key, value in
                 (("category", order.category), ("district", order.district),
                  ("street", order.street), ("entity", order.entity),
                  ("entity_code", order.entity_code),
                  ("repeat_of", "H000" if order.repeat else None)) if value is not None}  # fmt: skip
        lines.append(
            json.dumps({"order": order.number, "event": "received", "at": at, "unit": order.unit,
                        "kind": "complaint", "channel": "12315", **facts}, ensure_ascii=False)
        )  # fmt: skip
        if rng.random() < 0.5:
            closed = order.day + timedelta(days=rng.randrange(1, 25))
            lines.append(
                json.dumps(
                    {
                        "order": order.number,
                        "event": "closed",
                        "at": f"{closed}T16:00:00+08:00",
                        "result": "resolved",
                    }
                )
            )
    write_import(cli, tmp_path / "orders.jsonl", lines)
    return made


def write_import(cli: Cli, path: Path, lines: list[str]) -> None:
    """Import `lines` (JSONL) into `cli`'s store."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert code == 0, err


def hotspots(cli: Cli, *flags: str) -> dict[str, Any]:
    code, out, err = cli("report", "hotspots", "--period", "2026-03", "--format", "json", *flags)
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def in_march(made: list[Made], unit: str | None = None) -> list[Made]:
    return [o for o in made if MARCH[0] <= o.day <= MARCH[1] and unit in (None, o.unit)]


def expected(orders: list[Made], key: Callable[[Made], Any]) -> tuple[dict[Any, tuple[int, int]],
                                                                      tuple[int, int]]:  # fmt: skip
    """Per key (None: not given) the orders and repeats; and those without a key."""
    counted = Counter(key(o) for o in orders)
    repeats = Counter(key(o) for o in orders if o.repeat)
    given = {k: (n, repeats[k]) for k, n in counted.items() if k is not None}
    return given, (counted[None], repeats[None])


def check(document: dict[str, Any], orders: list[Made], key: Callable[[Made], Any],
          row_key: Callable[[dict[str, Any]], Any]) -> None:  # fmt: skip
    given, missing = expected(orders, key)
    total = len(orders)
    assert (document["orders"], document["repeats"]) == (total, sum(o.repeat for o in orders))
    assert document["keys"] == len(given)
    rows = document["rows"]
    assert {row_key(r): (r["orders"], r["repeats"]) for r in rows} == given
    assert all(r["share"] == round(r["orders"] / total, 4) for r in rows)
    ranks = [(-r["orders"], -r["repeats"]) for r in rows]
    assert ranks == sorted(ranks)
    if missing[0]:
        assert document["not_given"] == {"orders": missing[0], "repeats": missing[1],
                                         "share": round(missing[0] / total, 4)}  # fmt: skip
    else:
        assert document["not_given"] is None


@pytest.fixture
def made(cli: Cli, tmp_path: Path) -> list[Made]:
    return make_orders(cli, tmp_path)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_by_category_at_each_level_under_the_levels_above(
    cli: Cli, made: list[Made], level: int
) -> None:
    def key(order: Made) -> tuple[str, ...] | None:
        levels = order.category or []
        return tuple(levels[:level]) if len(levels) >= level else None

    document = hotspots(cli, "--level", str(level))
    assert (document["by"], document["level"]) == ("category", level)
    check(document, in_march(made), key, lambda row: tuple(row["category"]))


@pytest.mark.parametrize("unit", [None, UNITS[1]])
def test_by_street_entity_and_district_of_all_or_one_unit(
    cli: Cli, made: list[Made], unit: str | None
) -> None:
    orders = in_march(made, unit)
    of = ("--unit", unit) if unit else ()
    check(hotspots(cli, "--by", "street", *of), orders,
          lambda o: (o.district, o.street) if o.street else None,
          lambda r: (r["district"], r["street"]))  # fmt: skip
    check(hotspots(cli, "--by", "district", *of), orders, lambda o: o.district,
          lambda r: r["district"])  # fmt: skip
    check(hotspots(cli, "--by", "entity", *of), orders,
          lambda o: (o.entity, o.entity_code) if o.entity or o.entity_code else None,
          lambda r: (r["entity"], r["entity_code"]))  # fmt: skip
    assert hotspots(cli, *of)["unit"] == unit


def test_top_keeps_the_keys_with_most_orders(cli: Cli, made: list[Made]) -> None:
    every = hotspots(cli, "--level", "3")
    top = hotspots(cli, "--level", "3", "--top", "2")
    assert top["rows"] == every["rows"][:2]
    assert (top["keys"], top["not_given"]) == (every["keys"], every["not_given"])
    assert top["keys"] > 2


def test_the_table_and_csv_say_what_the_json_says(cli: Cli, made: list[Made]) -> None:
    document = hotspots(cli, "--level", "2")
    code, out, err = cli("report", "hotspots", "--period", "2026-03", "--level", "2", "--format",
                         "csv")  # fmt: skip
    assert code == 0, err
    found = list(csv.DictReader(io.StringIO(out)))
    assert found[: len(document["rows"])] == [
        {"category": "/".join(r["category"]), "orders": str(r["orders"]),
         "repeats": str(r["repeats"]), "share": str(r["share"])} for r in document["rows"]
    ]  # fmt: skip
    missing = document["not_given"]
    assert found[len(document["rows"]) :] == [
        {"category": "", "orders": str(missing["orders"]), "repeats": str(missing["repeats"]),
         "share": str(missing["share"])}
    ]  # fmt: skip
    code, out, err = cli("report", "hotspots", "--period", "2026-03", "--level", "2")
    assert code == 0, err
    first = document["rows"][0]
    assert "/".join(first["category"]) in out and "(not given)" in out
    title = f"{document['orders']} orders received, {document['repeats']} repeats"
    assert title in " ".join(out.split())  # the title wraps


def test_a_correction_moves_an_order_to_its_right_district(cli: Cli, made: list[Made]) -> None:
    order = next(o for o in in_march(made) if o.district == "闵行区")
    before = {r["district"]: r["orders"] for r in hotspots(cli, "--by", "district")["rows"]}
    code, _, err = cli(
        "order", "correct", order.number, "--event", "received", "--field", "district",
        "--value", "徐汇区", "--reason", "区录错",
    )  # fmt: skip
    assert code == 0, err
    after = {r["district"]: r["orders"] for r in hotspots(cli, "--by", "district")["rows"]}
    assert (after["闵行区"], after["徐汇区"]) == (before["闵行区"] - 1, before["徐汇区"] + 1)


def test_a_period_with_no_orders_has_no_hotspots(cli: Cli) -> None:
    document = hotspots(cli)
    assert (document["orders"], document["rows"], document["not_given"]) == (0, [], None)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--by", "street", "--level", "2"), "--level is for --by category"),
        (("--level", "4"), "--level must be 1 to 3, not 4"),
        (("--top", "0"), "--top must be at least 1, not 0"),
        (("--unit", "某区"), "unknown unit"),
        (("--by", "summary"), "Invalid value for '--by'"),
    ],
)
def test_bad_options_are_one_line(cli: Cli, flags: tuple[str, ...], says: str) -> None:
    code, out, err = cli("report", "hotspots", "--period", "2026-03", *flags)
    assert (code, out) != (0, "") and code != 0 and out == ""
    assert says in err, err


@pytest.fixture
def other_cli(other_store: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`hotline --db OTHER_STORE ARGS...`, as `cli` runs it on the test's store."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", other_store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.mark.parametrize("levels", [["市场监管"], ["市场监管", "价格"], ["消费维权"]])
def test_a_category_filter_reports_as_if_only_its_orders_were_there(
    cli: Cli, other_cli: Cli, made: list[Made], tmp_path: Path, levels: list[str]
) -> None:
    """The report of a category filter is the plain report of a store holding only the orders
    of that category (its first levels)."""
    lines = (tmp_path / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = {o.number for o in made if (o.category or [])[: len(levels)] == levels}
    assert 0 < len(chosen) < len(made)
    write_import(other_cli, tmp_path / "only.jsonl",
                 [line for line in lines if json.loads(line)["order"] in chosen])  # fmt: skip
    flags = [part for level in levels for part in ("--category", level)]
    for report in (("rates", "--period", "2026-03"), ("rates", "--period", "2026Q2"),
                   ("explain", "--unit", UNITS[0], "--period", "2026-03")):  # fmt: skip
        code, filtered, err = cli("report", *report, *flags, "--format", "json")
        assert code == 0, err
        code, alone, err = other_cli("report", *report, "--format", "json")
        assert code == 0, err
        assert json.loads(filtered) == json.loads(alone), report
    code, everything, _ = cli("report", "rates", "--period", "2026-03", "--format", "json")
    code, filtered, _ = cli("report", "rates", "--period", "2026-03", *flags, "--format", "json")
    assert json.loads(everything) != json.loads(filtered)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--category", "a", "--category", "b", "--category", "c", "--category", "d"),
         "--category takes 1 to 3 levels, none of them empty"),
        (("--category", ""), "--category takes 1 to 3 levels, none of them empty"),
    ],
)  # fmt: skip
def test_a_bad_category_filter_is_one_line(cli: Cli, flags: tuple[str, ...], says: str) -> None:
    for report in (("rates",), ("explain", "--unit", UNITS[0])):
        code, out, err = cli("report", *report, "--period", "2026-03", *flags)
        assert (code, out) == (1, "") and says in err and len(err.splitlines()) == 1, err


def test_as_of_counts_the_events_recorded_by_then(
    cli: Cli, made: list[Made], tmp_path: Path
) -> None:
    before = hotspots(cli, "--level", "2")
    time.sleep(0.01)
    moment = now().strftime("%Y-%m-%d %H:%M:%S.%f")
    time.sleep(0.01)
    late = [json.dumps({"order": f"L{n}", "event": "received", "at": "2026-03-10T10:00:00+08:00",
                        "unit": UNITS[0], "kind": "complaint", "channel": "12345",
                        "category": ["新类", "新子类"]}, ensure_ascii=False) for n in range(5)]  # fmt: skip
    write_import(cli, tmp_path / "late.jsonl", late)
    corrected = next(o for o in in_march(made) if o.category and len(o.category) >= 2)
    code, _, err = cli("order", "correct", corrected.number, "--event", "received", "--field",
                       "category", "--value", "新类", "--value", "新子类", "--reason", "分类录错")  # fmt: skip
    assert code == 0, err

    now_found = hotspots(cli, "--level", "2")
    assert now_found["orders"] == before["orders"] + 5
    assert {"category": ["新类", "新子类"], "orders": 6, "repeats": 0,
            "share": round(6 / now_found["orders"], 4)} in now_found["rows"]  # fmt: skip
    then = hotspots(cli, "--level", "2", "--as-of", moment)
    assert then.pop("as_of").startswith(moment[:16].replace(" ", "T"))
    assert before.pop("as_of") is None
    assert then == before
