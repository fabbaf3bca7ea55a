"""Findings (an inspector's judgements entered as events), through the CLI and the
application service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from hotline.adapters.readmodel import FindingRecord, ReadModel
from hotline.adapters.rubric_files import load_metrics, load_rubric, projections_dir, rubrics_dir
from hotline.domain.aggregate import SHANGHAI, now
from hotline.domain.errors import FindingError, InvalidInput, OrderNotFound, UnknownUnit
from hotline.domain.finding import Finding, FindingRecorded, FindingWithdrawn
from hotline.domain.order import order_id
from hotline.domain.rubric import Rubric
from hotline.domain.vocabulary import Channel, Kind
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
ORDER = "2019-000001"


def rubric(app: HotlineApplication, name: str) -> Rubric:
    metrics = [m.key for m in load_metrics(projections_dir())]
    return load_rubric(name, metrics, app.units, app.rubrics)


def receive(app: HotlineApplication, number: str = ORDER, unit: str = SONGJIANG) -> None:
    app.receive(
        number,
        unit=unit,
        kind=Kind.COMPLAINT,
        channel=Channel.HOTLINE_12345,
        at=datetime(2019, 3, 1, 10, tzinfo=SHANGHAI),
    )


def listed(
    app: HotlineApplication, start: date = date.min, end: date = date.max, **filters: str
) -> list[FindingRecord]:
    OrderProjection(app, app.readmodel).catch_up()
    return app.readmodel.findings(start, end, **filters)


def add(cli: Cli, *args: str) -> tuple[int, str, str]:
    return cli("finding", "add", *args)


BONUS = ("--rubric", "shanghai-12345-2019", "--item", "three_way_transfer")
DATA = ("--rubric", "market-office-2017", "--item", "data_standard")


# The application service


def test_a_finding_is_recorded_listed_and_withdrawn(app: HotlineApplication) -> None:
    bonus = rubric(app, "shanghai-12345-2019")
    office = rubric(app, "market-office-2017")
    first = app.record_finding(
        bonus, "three_way_transfer", date(2019, 3, 5), "三方转接 12315", unit=MINHANG
    )
    second = app.record_finding(
        office, "data_standard", date(2019, 3, 2), "3 orders", unit="市药品监管局", count=3
    )  # an alias
    assert isinstance(first, UUID) and first.version == 4

    found = listed(app, date(2019, 3, 1), date(2019, 3, 31))
    assert [f.id for f in found] == [str(second), str(first)]  # by day
    assert found[0] == FindingRecord(
        str(second),
        "market-office-2017",
        "data_standard",
        "市药监局",
        date(2019, 3, 2),
        3,
        None,
        "3 orders",
    )
    assert [f.id for f in listed(app, rubric="shanghai-12345-2019")] == [str(first)]
    assert [f.id for f in listed(app, unit="市药监局")] == [str(second)]
    assert listed(app, date(2019, 3, 3), date(2019, 3, 4)) == []
    assert [f.id for f in listed(app, date(2019, 3, 5), date(2019, 3, 5))] == [str(first)]

    app.withdraw_finding(first, "entered twice")
    assert [f.id for f in listed(app)] == [str(second)]
    finding = app.finding(first)
    assert [type(e) for e in finding.history] == [FindingRecorded, FindingWithdrawn]
    assert finding.withdrawn is not None and finding.withdrawn.reason == "entered twice"


def test_an_order_gives_the_unit(app: HotlineApplication) -> None:
    receive(app)
    bonus = rubric(app, "shanghai-12345-2019")
    made = app.record_finding(bonus, "three_way_transfer", date(2019, 3, 2), "x", order=ORDER)
    also = app.record_finding(
        bonus,
        "three_way_transfer",
        date(2019, 3, 2),
        "x",
        order=f" {ORDER} ",
        unit=f" {SONGJIANG} ",
    )
    assert {(f.id, f.unit, f.order) for f in listed(app)} == {
        (str(made), SONGJIANG, ORDER),
        (str(also), SONGJIANG, ORDER),
    }


def test_same_day_findings_are_ordered_by_id(app: HotlineApplication) -> None:
    bonus = rubric(app, "shanghai-12345-2019")
    made = [
        app.record_finding(bonus, "three_way_transfer", date(2019, 3, 2), "x", unit=MINHANG)
        for _ in range(5)
    ]
    assert [f.id for f in listed(app)] == sorted(str(m) for m in made)


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"item": "late"}, InvalidInput, "no finding item 'late'; use one of: three_way_transfer"),
        ({"unit": "闵行"}, UnknownUnit, "did you mean 闵行区市场监管局"),
        ({"unit": None}, InvalidInput, "give the unit (--unit) or the order (--order)"),
        ({"unit": None, "order": "nope"}, OrderNotFound, "no order nope"),
        ({"order": ORDER}, InvalidInput, f"received by {SONGJIANG}, not {MINHANG}"),
        ({"day": now().date() + timedelta(days=1)}, InvalidInput, "is in the future"),
        ({"count": 0}, InvalidInput, "count"),
        ({"count": 1001}, InvalidInput, "count"),
        ({"note": "  "}, InvalidInput, "note"),
        ({"note": "x" * 501}, InvalidInput, "note"),
    ],
)
def test_refusals_write_nothing(
    app: HotlineApplication,
    store: str,
    change: dict[str, object],
    error: type[Exception],
    words: str,
) -> None:
    receive(app)
    before = stored_events(store)
    fields: dict[str, object] = {
        "item": "three_way_transfer",
        "day": date(2019, 3, 2),
        "note": "x",
        "unit": MINHANG,
    } | change
    item, day, note = fields.pop("item"), fields.pop("day"), fields.pop("note")
    with pytest.raises(error) as refused:
        app.record_finding(rubric(app, "shanghai-12345-2019"), item, day, note, **fields)  # type: ignore[arg-type]
    message = str(refused.value)
    assert words in message and "\n" not in message
    assert stored_events(store) == before


def test_a_rubric_without_finding_items(app: HotlineApplication) -> None:
    with pytest.raises(InvalidInput, match="kpi-2023 has no items that take findings"):
        app.record_finding(rubric(app, "kpi-2023"), "x", date(2019, 3, 2), "x", unit=MINHANG)


def test_withdrawing_twice_or_an_unknown_finding_is_refused(
    app: HotlineApplication, store: str
) -> None:
    receive(app)
    made = app.record_finding(
        rubric(app, "market-office-2017"), "data_standard", date(2019, 3, 2), "x", unit=MINHANG
    )
    app.withdraw_finding(made, "mistake")
    before = stored_events(store)
    with pytest.raises(FindingError, match=f"finding {made} was already withdrawn"):
        app.withdraw_finding(made, "again")
    with pytest.raises(FindingError, match="no finding"):
        app.withdraw_finding(uuid4(), "mistake")
    with pytest.raises(FindingError, match="no finding"):  # an order is not a finding
        app.withdraw_finding(order_id(ORDER), "mistake")
    assert stored_events(store) == before


def test_the_aggregate_refuses_a_second_withdrawal() -> None:
    finding = Finding.record(now(), rubric="r", item="i", unit="u", day=date(2019, 3, 2), note="n")
    finding.withdraw(now(), "mistake")
    with pytest.raises(FindingError):
        finding.withdraw(now(), "mistake")
    assert [e.originator_version for e in finding.collect_events()] == [1, 2]


def test_recorded_and_withdrawn_in_one_batch_or_two(app: HotlineApplication, store: str) -> None:
    bonus = rubric(app, "shanghai-12345-2019")
    kept = app.record_finding(bonus, "three_way_transfer", date(2019, 3, 2), "x", unit=MINHANG)
    gone = app.record_finding(bonus, "three_way_transfer", date(2019, 3, 2), "x", unit=MINHANG)
    app.withdraw_finding(gone, "mistake")
    # One batch: recorded and withdrawn together.
    assert [f.id for f in listed(app)] == [str(kept)]
    # Two batches: the withdrawal updates the row already there.
    app.withdraw_finding(kept, "mistake")
    assert listed(app) == []
    # Replayed one event per batch, into a fresh read model.
    fresh = ReadModel("sqlite://")
    OrderProjection(app, fresh, batch_size=1).catch_up()
    assert fresh.findings(date.min, date.max) == []
    assert stored_events(store) == 4


def test_reset_empties_the_findings(app: HotlineApplication) -> None:
    app.record_finding(
        rubric(app, "shanghai-12345-2019"),
        "three_way_transfer",
        date(2019, 3, 2),
        "x",
        unit=MINHANG,
    )
    assert len(listed(app)) == 1
    app.readmodel.reset()
    assert app.readmodel.findings(date.min, date.max) == []


# The CLI


def test_cli_add_list_withdraw(cli: Cli, store: str) -> None:
    code, out, err = add(
        cli, *BONUS, "--unit", MINHANG, "--day", "2019-03-05", "--note", "三方转接"
    )
    assert code == 0, err
    bonus = UUID(out.strip())
    code, out, err = add(
        cli,
        *DATA,
        "--unit",
        SONGJIANG,
        "--day",
        "2019-04-01",
        "--count",
        "3",
        "--note",
        "3 orders entered against the standard",
    )
    assert code == 0, err
    data = UUID(out.strip())

    code, out, err = cli("finding", "list", "--period", "2019-03", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["period"] == "2019-03" and document["from"] == "2019-03-01"
    assert document["rows"] == [
        {
            "id": str(bonus),
            "day": "2019-03-05",
            "rubric": "shanghai-12345-2019",
            "item": "three_way_transfer",
            "unit": MINHANG,
            "count": 1,
            "order": None,
            "note": "三方转接",
        }
    ]

    code, out, err = cli("finding", "list", "--format", "csv")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "id,day,rubric,item,unit,count,order,note"
    assert [row.split(",")[0] for row in lines[1:]] == [str(bonus), str(data)]

    code, out, _ = cli(
        "finding",
        "list",
        "--from",
        "2019-01-01",
        "--to",
        "2019-12-31",
        "--unit",
        SONGJIANG,
        "--rubric",
        "market-office-2017",
        "--format",
        "csv",
    )
    assert code == 0 and [row.split(",")[0] for row in out.splitlines()[1:]] == [str(data)]

    code, out, _ = cli("finding", "list")
    assert code == 0 and str(data) in out and "findings, all days: 2" in out

    code, out, err = cli("finding", "withdraw", str(data), "--reason", "entered by mistake")
    assert code == 0, err
    assert out.strip() == f"finding {data} withdrawn: entered by mistake"
    code, out, _ = cli("finding", "list", "--format", "json")
    assert [row["id"] for row in json.loads(out)["rows"]] == [str(bonus)]
    assert stored_events(store) == 3


def test_cli_finding_for_an_order(cli: Cli, app: HotlineApplication) -> None:
    receive(app)
    code, out, err = add(cli, *BONUS, "--order", ORDER, "--day", "2019-03-02", "--note", "x")
    assert code == 0, err
    (found,) = listed(app)
    assert (found.id, found.unit, found.order) == (out.strip(), SONGJIANG, ORDER)


def test_cli_rubric_from_a_file(cli: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "my-copy.toml"
    text = (rubrics_dir() / "shanghai-12345-2019.toml").read_text(encoding="utf-8")
    copy.write_text(
        text.replace('name = "shanghai-12345-2019"', 'name = "my-copy"'), encoding="utf-8"
    )
    code, out, err = add(
        cli,
        "--rubric",
        str(copy),
        "--item",
        "three_way_transfer",
        "--unit",
        MINHANG,
        "--day",
        "2019-03-02",
        "--note",
        "x",
    )
    assert code == 0, err
    code, listed_out, _ = cli("finding", "list", "--rubric", str(copy), "--format", "json")
    rows = json.loads(listed_out)["rows"]
    assert [(r["id"], r["rubric"]) for r in rows] == [(out.strip(), "my-copy")]
    code, listed_out, _ = cli(
        "finding", "list", "--rubric", "shanghai-12345-2019", "--format", "json"
    )
    assert json.loads(listed_out)["rows"] == []


TOMORROW = (now().date() + timedelta(days=1)).isoformat()
REFUSED_ADDS = {
    "unknown item": (
        (*BONUS[:3], "late", "--unit", MINHANG, "--day", "2019-03-02", "--note", "x"),
        "no finding item 'late'; use one of: three_way_transfer",
    ),
    "unknown rubric": (
        (
            "--rubric",
            "nope",
            "--item",
            "x",
            "--unit",
            MINHANG,
            "--day",
            "2019-03-02",
            "--note",
            "x",
        ),
        "unknown rubric 'nope'",
    ),
    "unknown unit": (
        (*BONUS, "--unit", "闵行", "--day", "2019-03-02", "--note", "x"),
        "unknown unit '闵行'",
    ),
    "no unit": ((*BONUS, "--day", "2019-03-02", "--note", "x"), "give the unit (--unit)"),
    "unknown order": (
        (*BONUS, "--order", "2019-999999", "--day", "2019-03-02", "--note", "x"),
        "no order 2019-999999",
    ),
    "unit and order disagree": (
        (*BONUS, "--order", ORDER, "--unit", MINHANG, "--day", "2019-03-02", "--note", "x"),
        f"order {ORDER} was received by {SONGJIANG}, not {MINHANG}",
    ),
    "future day": (
        (*BONUS, "--unit", MINHANG, "--day", TOMORROW, "--note", "x"),
        f"day {TOMORROW} is in the future",
    ),
    "bad day": ((*BONUS, "--unit", MINHANG, "--day", "2019-3-2", "--note", "x"), "--day"),
    "empty note": ((*BONUS, "--unit", MINHANG, "--day", "2019-03-02", "--note", " "), "note"),
    "count 0": (
        (*BONUS, "--unit", MINHANG, "--day", "2019-03-02", "--note", "x", "--count", "0"),
        "count",
    ),
}


@pytest.mark.parametrize("case", REFUSED_ADDS)
def test_cli_refused_adds(cli: Cli, app: HotlineApplication, store: str, case: str) -> None:
    receive(app)
    args, words = REFUSED_ADDS[case]
    before = stored_events(store)
    code, out, err = add(cli, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("hotline: ") and words in err and err.count("\n") == 1, err
    assert stored_events(store) == before


def test_cli_refused_withdrawals(cli: Cli, store: str) -> None:
    code, out, _ = add(cli, *BONUS, "--unit", MINHANG, "--day", "2019-03-02", "--note", "x")
    made = out.strip()
    assert cli("finding", "withdraw", made, "--reason", "mistake")[0] == 0
    before = stored_events(store)
    refusals = {
        made: f"finding {made} was already withdrawn",
        str(uuid4()): "no finding",
        "abc": "'abc' is not a finding id",
    }
    for finding, words in refusals.items():
        code, out, err = cli("finding", "withdraw", finding, "--reason", "again")
        assert code == 1 and out == ""
        assert err.startswith("hotline: ") and words in err and err.count("\n") == 1, err
    assert stored_events(store) == before


def test_cli_refused_lists(cli: Cli) -> None:
    for args, words in [
        (("--period", "2019", "--from", "2019-01-01"), "not both"),
        (("--from", "2019-01-01"), "both --from and --to"),
        (("--unit", "闵行"), "unknown unit"),
        (("--rubric", "nope"), "unknown rubric"),
    ]:
        code, out, err = cli("finding", "list", *args)
        assert code == 1 and out == "" and words in err and err.count("\n") == 1, err


def test_findings_survive_a_rebuild(cli: Cli) -> None:
    ids = []
    for day in ("2019-03-02", "2019-03-01"):
        code, out, err = add(cli, *DATA, "--unit", MINHANG, "--day", day, "--note", "x")
        assert code == 0, err
        ids.append(out.strip())
    assert cli("finding", "withdraw", ids[0], "--reason", "mistake")[0] == 0
    code, before, _ = cli("finding", "list", "--format", "json")
    assert [row["id"] for row in json.loads(before)["rows"]] == [ids[1]]
    code, out, err = cli("projections", "rebuild")
    assert code == 0, err
    code, after, _ = cli("finding", "list", "--format", "json")
    assert after == before
