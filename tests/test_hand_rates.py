"""`hotline report rates` against scripts/hand_rates.py, the same rates written by hand as
one SQL query over the read model (issue 6): a differential test, every unit's every
numerator and denominator, on the store the tests use (SQLite, or PostgreSQL)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import hotline.service.reports
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.periods import parse_period
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection

Cli = Callable[..., tuple[int, str, str]]
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
GENERATOR = SCRIPTS / "generate_year.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hand_rates", SCRIPTS / "hand_rates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hand_rates"] = module
    spec.loader.exec_module(module)
    return module


hand = _load_script()

Values = dict[str, dict[str, tuple[float, int | None]]]


@pytest.fixture(scope="module")
def year_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hand") / "year-2019.jsonl"
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "6000", "--seed", "5", "--output", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


def line(order: str, event: str, at: str, **fields: Any) -> str:
    return json.dumps({"order": order, "event": event, "at": at, **fields}, ensure_ascii=False)


def received(
    order: str, day: str, kind: str = "complaint", channel: str = "12345", **fields: Any
) -> str:
    return line(order, "received", f"{day}T10:00:00+08:00", unit=MINHANG, kind=kind,
                channel=channel, summary="边界用例", **fields)  # fmt: skip


def at(day: str) -> str:
    return f"{day}T15:00:00+08:00"


def contacted(order: str, day: str) -> str:
    return line(order, "first_contact", at(day), method="phone")


def extended(order: str, day: str, until: str) -> str:
    return line(order, "extended", at(day), until=until, reason="需现场核查")


def closed(order: str, day: str, **fields: Any) -> str:
    return line(
        order, "closed", at(day), **{"result": "resolved", "citizen_informed": True} | fields
    )


def returned(order: str, day: str, out_of_jurisdiction: bool = True) -> str:
    return line(order, "returned", at(day), reason="非本单位职责",
                out_of_jurisdiction=out_of_jurisdiction)  # fmt: skip


MINHANG = "闵行区市场监管局"
# Orders at the rules' edges, which the generated year has few or none of. March 2019 has
# no holidays: received Monday 03-04, working day 1 is 03-05, day 4 03-08, day 5 03-11,
# day 13 03-21, day 15 03-25. 2019-04-28 (a Sunday) is a make-up workday (劳动节).
EDGES = [
    # an extension applied for on day 15: not counted, so closing on 04-10 is late
    received("2019-900001", "2019-03-04"), contacted("2019-900001", "2019-03-05"),
    extended("2019-900001", "2019-03-25", "2019-04-30"), closed("2019-900001", "2019-04-10"),
    # two timely extensions: the latest (to 04-05) counts, not the longest
    received("2019-900002", "2019-03-04"), contacted("2019-900002", "2019-03-05"),
    extended("2019-900002", "2019-03-11", "2019-05-30"),
    extended("2019-900002", "2019-03-18", "2019-04-05"), closed("2019-900002", "2019-04-15"),
    # an extension that would not move the limit later is ignored: closing on day 12 is on time
    received("2019-900003", "2019-03-04"), contacted("2019-900003", "2019-03-05"),
    extended("2019-900003", "2019-03-11", "2019-03-15"), closed("2019-900003", "2019-03-20"),
    # a revisit review (回访复核单) has 5 working days less the 12315 centre's feedback day
    received("2019-900004", "2019-03-04", "revisit_review"), contacted("2019-900004", "2019-03-05"),
    closed("2019-900004", "2019-03-11"),
    received("2019-900005", "2019-03-04", "revisit_review"), contacted("2019-900005", "2019-03-05"),
    closed("2019-900005", "2019-03-08"),
    # an extension's promised date less the feedback day: the day itself is late
    received("2019-900006", "2019-03-04"), contacted("2019-900006", "2019-03-05"),
    extended("2019-900006", "2019-03-11", "2019-04-10"), closed("2019-900006", "2019-04-10"),
    received("2019-900007", "2019-03-04"), contacted("2019-900007", "2019-03-05"),
    extended("2019-900007", "2019-03-11", "2019-04-10"), closed("2019-900007", "2019-04-09"),
    # a revisit review extended on day 8, after its own 5 days: not counted, so late
    received("2019-900013", "2019-03-04", "revisit_review"), contacted("2019-900013", "2019-03-05"),
    extended("2019-900013", "2019-03-14", "2019-04-10"), closed("2019-900013", "2019-04-09"),
    # returned out of jurisdiction on day 2 (late), never contacted
    received("2019-900008", "2019-03-04"), returned("2019-900008", "2019-03-06"),
    # returned in time but not out of jurisdiction: contact still needed
    received("2019-900009", "2019-03-04"), returned("2019-900009", "2019-03-05", False),
    # closed, the citizen asked for no reply, never contacted
    received("2019-900010", "2019-03-04"),
    closed("2019-900010", "2019-03-07", citizen_informed=False, no_reply_requested=True),
    # received on Saturday 04-27: day 1 is the make-up Sunday 04-28, so 04-29 is late
    received("2019-900011", "2019-04-27"), contacted("2019-900011", "2019-04-29"),
    closed("2019-900011", "2019-05-06"),
    # returned in time, the return rejected (二次退回): the unit's again, never contacted
    received("2019-900012", "2019-03-04"), returned("2019-900012", "2019-03-05"),
    line("2019-900012", "return_rejected", at("2019-03-06"), reason="属本单位职责"),
    # 12315 complaints (the generated year has none): an agreement with 88.80 yuan recovered
    # and a case filed (诉转案); a terminated mediation with 0.05 recovered, no case; an
    # accepted complaint with no decision yet; a mediation ended in April (2019Q2's)
    received("2019-900113", "2019-03-04", channel="12315"),
    line("2019-900113", "accepted", at("2019-03-05")),
    line("2019-900113", "mediation_ended", at("2019-03-12"), outcome="agreement",
         recovered="88.80"),
    line("2019-900113", "case_decided", at("2019-03-13"), filed=True),
    closed("2019-900113", "2019-03-20"),
    received("2019-900114", "2019-03-04", channel="12315"),
    line("2019-900114", "accepted", at("2019-03-05")),
    line("2019-900114", "mediation_ended", at("2019-03-12"), outcome="terminated",
         reason="被投诉人拒绝调解", recovered="0.05"),
    line("2019-900114", "case_decided", at("2019-03-13"), filed=False),
    closed("2019-900114", "2019-03-20"),
    received("2019-900115", "2019-03-04", channel="12315"),
    line("2019-900115", "accepted", at("2019-03-06")),
    received("2019-900116", "2019-03-25", channel="12315"),
    line("2019-900116", "accepted", at("2019-03-26")),
    line("2019-900116", "mediation_ended", at("2019-04-10"), outcome="agreement",
         recovered="1234567.89"),
    # Order 20: a 12315 complaint accepted on day 1 (03-05) is due 45 working days later
    # (05-09: 清明 04-05 and 05-01 … 05-04 off, 04-28 and 05-05 make-up workdays), six
    # earlier than from the acceptance limit (day 7): closing on 05-14 is late
    received("2019-900214", "2019-03-04", channel="12315"),
    line("2019-900214", "accepted", at("2019-03-05")), closed("2019-900214", "2019-05-14"),
    # a 12315 report extended on day 4 has 30 working days (04-16), else 15 (03-25)
    received("2019-900215", "2019-03-04", "report", "12315"),
    extended("2019-900215", "2019-03-08", "2019-04-30"), closed("2019-900215", "2019-04-10"),
    received("2019-900216", "2019-03-04", "report", "12315"), closed("2019-900216", "2019-03-22"),
    # 12315 complaints declined (不予受理) long before the period: done with, yet a
    # supervision at fault in March counts in it (read by its day); one declined in March
    received("2019-900218", "2018-06-04", channel="12315"),
    line("2019-900218", "declined", at("2018-06-05"), reason="not_our_duty"),
    line("2019-900218", "supervised", at("2019-03-06"), at_fault=True),
    received("2019-900219", "2018-06-04", channel="12315"),
    line("2019-900219", "declined", at("2019-03-05"), reason="not_our_duty"),
    line("2019-900219", "supervised", at("2019-03-06"), at_fault=True),
    # open on 10-25, due on day 13 (10-31): pending, not yet late
    received("2019-900217", "2019-10-14"), contacted("2019-900217", "2019-10-15"),
    # CLOSURES close Tue 05-07 for 浦东新区 only: contact on 05-08 is day 1 there (on time),
    # day 2 in 闵行区 (late)
    received("2019-900301", "2019-05-06", district="浦东新区"),
    contacted("2019-900301", "2019-05-08"), closed("2019-900301", "2019-05-10"),
    received("2019-900302", "2019-05-06", district="闵行区"),
    contacted("2019-900302", "2019-05-08"), closed("2019-900302", "2019-05-10"),
    # and close Tue 10-15 for 松江区市场监管局: received 10-08, never closed, its close is due
    # on day 13, 10-25 (pending when judged that day), not the city's 10-24 (overdue)
    line("2019-900303", "received", "2019-10-08T10:00:00+08:00", unit="松江区市场监管局",
         kind="complaint", channel="12345", summary="边界用例"),
    contacted("2019-900303", "2019-10-09"),
]  # fmt: skip
CLOSURES = [
    ("2019-05-07", "--district", "浦东新区"),
    ("2019-10-15", "--unit", "松江区市场监管局"),
]
"""Local closures scoped to a district and to a unit: the hand SQL counts on each order's
calendar too."""


@pytest.fixture
def connection(cli: Cli, store: str, year_file: Path, tmp_path: Path) -> Iterator[Any]:
    """A DB-API connection to the test's store, the generated year and the EDGES imported,
    the CLOSURES added, the hand query's calendar tables installed."""
    code, _, err = cli("import", str(year_file))
    assert code == 0, err
    edges = tmp_path / "edges.jsonl"
    edges.write_text("\n".join(EDGES) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(edges))
    assert code == 0, err
    for day, option, value in CLOSURES:
        code, _, err = cli("calendar", "add-closure", day, "--reason", "台风停工", option, value)
        assert code == 0, err
    app = HotlineApplication(db=store)
    OrderProjection(app, app.readmodel).catch_up()  # the units and districts of every order
    found = hand.connect(store)
    try:
        hand.install_calendar(found, app.calendar(), covering=app.units.covering)
        yield found
    finally:
        found.close()


def report(cli: Cli, period: str) -> tuple[Values, dict[str, Any]]:
    """`report rates --period PERIOD --format json`'s units, as unit → key → (n, d)."""
    code, out, err = cli("report", "rates", "--period", period, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    units: Values = {}
    for row in document["rows"]:
        if row["level"] != "unit":
            continue
        units[row["name"]] = {
            key: (row[f"{key}_numerator"], row[f"{key}_denominator"]) if rate
            else (row[key], None)
            for key, rate in hand.METRICS
        }  # fmt: skip
    return units, document


def differences(expected: Values, found: Values) -> list[str]:
    """Every (unit, metric) whose numerator or denominator differ; a unit the query has no
    row for (no orders) is all zeros."""
    zeros = {key: (0.0, 0 if rate else None) for key, rate in hand.METRICS}
    extra = [f"{unit}: not a unit of the report" for unit in sorted(set(found) - set(expected))]
    return extra + [
        f"{unit} {key}: report {value}, hand SQL {found.get(unit, zeros)[key]}"
        for unit, values in expected.items()
        for key, value in values.items()
        if found.get(unit, zeros)[key] != value
    ]


def judged_on(cli: Cli, monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Make `report rates` judge limits on `day` (it takes today in Asia/Shanghai)."""
    moment = datetime(day.year, day.month, day.day, 18, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(hotline.service.reports, "now", lambda: moment)


CASES = [
    ("2019", None),  # today: every open order's limits have passed (OVERDUE)
    ("2019Q2", None),
    ("2019Q1", None),  # the lookback reaches before the generated year
    ("2019", date(2019, 10, 25)),  # judged inside the period: PENDING limits left out
    ("2019Q2", date(2019, 4, 19)),
    ("2019-03", date(2019, 3, 20)),
]


def test_the_hand_sql_gives_report_rates_numbers(
    cli: Cli, connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals = dict.fromkeys((key for key, _ in hand.METRICS), 0.0)
    for period, day in CASES:
        if day is not None:
            judged_on(cli, monkeypatch, day)
        expected, document = report(cli, period)
        today = date.fromisoformat(document["judged_on"])
        assert day is None or today == day
        chosen = parse_period(period)
        found = hand.hand_rates(connection, chosen.start, chosen.end, today)
        assert differences(expected, found) == [], (period, today)
        for values in expected.values():
            for key, (numerator, _) in values.items():
                totals[key] += numerator
    # The data exercise every metric (a metric all zeros would prove little).
    assert [key for key, total in totals.items() if total == 0] == []


MUTATIONS = [
    ("o.start + 1 AS contact_due_n", "o.start + 2 AS contact_due_n"),  # contact limit 2
    ("WHEN o.kind = 5 THEN 5 - 1", "WHEN o.kind = 5 THEN 5"),  # no feedback day off
    ("WHEN eo.kind = 5 THEN 5 ELSE 13", "WHEN eo.kind = 5 THEN 100 ELSE 100"),  # late counted
    ("WHEN eo.kind = 5 THEN 5 ELSE", "WHEN eo.kind = 5 THEN 13 ELSE"),  # 回访复核单 window 13
    ("uc.cum - 1 AS promised", "uc.cum AS promised"),  # no feedback day off extensions
    ("WHEN r.return_status = 1 OR", "WHEN"),  # contact needed after a timely return
    ("WHERE o.received_day <= :last", "WHERE o.received_day >= :first"),  # no lookback
    ("WHEN :today > r.close_due THEN 3", "WHEN 1 = 1 THEN 3"),  # nothing PENDING
    ("WHEN d.return_rejected OR", "WHEN"),  # a rejected return judged for time
    ("AND s.mediation_outcome = 0", "AND s.mediation_outcome >= 0"),  # terminated = agreed
    ("THEN s.recovered_fen ELSE 0", "THEN s.recovered_fen / 100 ELSE 0"),  # yuan, not fen
    ("WHEN r.dset <> 0 THEN 4", "WHEN 1 = 0 THEN 4"),  # a 12315 order judged for contact
    ("WHEN o.kind = 0 THEN COALESCE(ac.cum, rc.cum + 7) + 45", "WHEN 1 = 0 THEN 0"),  # 1·5·13
    ("ELSE rc.cum + 15", "ELSE rc.cum + 13"),  # a 12315 report closed by 13 days
    ("THEN o.start + 30", "THEN o.start + 15"),  # a report's extension not counted
    ("COALESCE(ac.cum, rc.cum + 7)", "(rc.cum + 7)"),  # mediation not from acceptance
    ("cc.scope = hs.scope AND", "cc.scope = 0 AND"),  # contact counted on the city's calendar
    ("kw.scope = d.scope AND", "kw.scope = 0 AND"),  # close due on the city's calendar
]


def test_a_wrong_rule_in_the_hand_sql_is_caught(
    cli: Cli, connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison can fail: each of these slips in the SQL shows in some number."""
    runs = []
    for period, day in (("2019", date(2019, 10, 25)), ("2019Q2", None)):
        judged_on(cli, monkeypatch, day or date(2019, 11, 30))
        expected, document = report(cli, period)
        runs.append((expected, parse_period(period), date.fromisoformat(document["judged_on"])))
    missed = []
    for old, new in MUTATIONS:
        assert hand.RATES_SQL.count(old) == 1, old
        sql = hand.RATES_SQL.replace(old, new)
        caught = False
        for expected, chosen, today in runs:
            found = hand.hand_rates(connection, chosen.start, chosen.end, today, sql)
            caught = caught or differences(expected, found) != []
        if not caught:
            missed.append(new)
    assert missed == [], missed
