#!/usr/bin/env python3
"""The per-unit rates of `hotline report rates`, written by hand as one SQL query.

A second, independent implementation of the 18 metrics (issue 6, issue 17): the yardstick for
`report rates`'s speed (its time ÷ this query's time, goal ≤ 1.5), and, in
tests/test_hand_rates.py, a differential check of its numbers. It reads only the read
model's tables (`rm_orders`, `rm_extensions`, `rm_revisits`, `rm_supervisions`) and three
helper tables built from hotline's working-day calendar, which is set-up, not timed. A
local closure scoped to units or districts makes the calendar of the orders it covers
another one (a scope; 0 is the city's):

- `hand_scope(unit, district, scope)`: each unit and district ('' for none) the orders
  carry, and the scope of their calendar (`WorkingCalendar.at` their place);
- `hand_calendar(scope, day, cum)`: for each day (`date.toordinal()`), the count of working
  days from the calendar's epoch up to and including it (`WorkingCalendar.ordinal`);
- `hand_workday(scope, n, day)`: the day of the n-th working day (`WorkingCalendar.working_day`).

The one statement (`RATES_SQL`) runs unchanged on SQLite (≥ 3.35) and PostgreSQL: plain
joins, CTEs, CASE and SUM/MAX, integer arithmetic only. Its parameters are the period's
first and last day and the day limits are judged on ("today"), as `date.toordinal()`.

Usage::

    scripts/hand_rates.py --db STORE --period-start 2018-11-01 --period-end 2019-10-31 \\
        [--today 2019-11-01] [--repeat 3] [--json]

STORE is what `hotline --db` takes (a SQLite file path, `sqlite:///path`, or a
`postgresql://user:password@host:port/dbname` URL). Without --json it prints one line:
the query's best time in seconds (execute + fetchall, best of --repeat) and the number
of unit rows.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hotline.adapters.eventstore import postgres_connection, store_environment
from hotline.adapters.settings import read_settings
from hotline.domain.aggregate import now
from hotline.domain.calendar import FIRST_DAY, LAST_DAY, Place, WorkingCalendar
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection

Rates = dict[str, dict[str, tuple[float, int | None]]]
"""unit → metric key → (numerator, denominator; None for a count)."""

CALENDAR_DDL = (
    "DROP TABLE IF EXISTS hand_calendar",
    "DROP TABLE IF EXISTS hand_workday",
    "DROP TABLE IF EXISTS hand_scope",
    "CREATE TABLE hand_calendar (scope INTEGER NOT NULL, day INTEGER NOT NULL,"
    " cum INTEGER NOT NULL, PRIMARY KEY (scope, day))",
    "CREATE TABLE hand_workday (scope INTEGER NOT NULL, n INTEGER NOT NULL,"
    " day INTEGER NOT NULL, PRIMARY KEY (scope, n))",
    "CREATE TABLE hand_scope (unit TEXT NOT NULL, district TEXT NOT NULL,"
    " scope INTEGER NOT NULL, PRIMARY KEY (unit, district))",
)
"""The helper tables, made anew (an older layout had no scope)."""

METRICS: tuple[tuple[str, bool], ...] = (
    ("volume", False),
    ("first_contact_rate", True),
    ("on_time_rate", True),
    ("return_rate", True),
    ("timely_return_rate", True),
    ("resolution_rate", True),
    ("unsubstantiated_rate", True),
    ("satisfaction", True),
    ("dissatisfaction", True),
    ("repeat_orders", False),
    ("rejected_returns", False),
    ("supervised_at_fault", False),
    ("citizen_not_informed", False),
    ("revisit_inconsistent", False),
    ("revisit_poor", False),
    ("mediation_success", True),
    ("complaint_to_case", True),
    ("recovered_loss", False),
)
"""The metrics in RATES_SQL's column order after `unit`: (key, has a denominator). A rate
is two columns (numerator, denominator), a count one."""

MINOR_UNITS = {"recovered_loss": 100}
"""Counts the query sums in minor units (fen) and `report rates` shows in yuan: the sum
÷ 100, correctly rounded, is the float of the report's exact decimal."""

# Literals written into the SQL below, all from hotline's rules and vocabularies:
#
#   rubrics/time-limits.toml: first_contact_days = 1, return_days = 1,
#     feedback_allowance_days = 1 (taken off the close limit of kind revisit_review, and
#     off an extension's promised date), close limit 5 working days for kind
#     revisit_review, else 13; an extension counts if applied for within that limit.
#     [[governs]]: 1·5·13 for channel 12345; Order 20 for 12315 complaints and reports, none
#     for other 12315 kinds. [order_20]: a complaint's close limit is mediation_days = 45
#     from acceptance (from the acceptance limit, acceptance_days = 7, until accepted); a
#     report's is report_check_days = 15, or 30 with an extension applied for within 15.
#   Codes (vocabulary `.code`, readmodel): status OPEN 0 / RETURNED 1 / CLOSED 2 /
#     DECLINED 3 (a 12315 complaint not accepted: no close needed);
#     channel 12345 0 / 12315 1; kind complaint 0, report 1, revisit_review 5;
#     result resolved 0, explained 1, unresolved 2,
#     unsubstantiated 3; rating satisfied 0 (100 points), basically satisfied 1 (80),
#     average 2 (60), dissatisfied 3 (0), UNSET -1; evaluation poor 3; day 0 = no event;
#     kind complaint 0; mediation outcome agreement 0; recovered in fen.
#   Limit statuses (LimitStatus): PENDING 0, MET 1, MISSED 2, OVERDUE 3, NOT_REQUIRED 4.
#   Every order received by the period's end is read: ReadModel.batches reads only those
#     that can count (its lookback, by the calendar), and reading the rest here must change
#     nothing.
#
# Layers: `o` the orders received by the period's end with their calendar's
# scope and the working-day ordinals of their days on it, its deadline set (`dset`: 0
# 1·5·13, 1 Order 20, 2 none) and the close limit's due ordinal; `xr` the reports extended
# in time; `x` each 1·5·13 order's latest timely extension (applied within its close limit,
# 5 or 13 working days, of receipt) with its scope, and `xp` its promised ordinal
# (cum(until) − 1); `d` the due ordinals (an extension counts only if it moves the limit
# later); `r` the return status and the due dates; `s` the contact and close statuses;
# `rv`/`sv` whether an order had a poor / inconsistent revisit, or an at-fault supervision,
# in the period. The outer query sums per unit; each numerator is counted only over its
# denominator's orders, as hotline.domain.metrics.compute does.
# `d` is MATERIALIZED: else SQLite joins `kw` before `xp` and `xr`, so it searches
# hand_workday by scope alone (6,000 orders: 100 s instead of 0.07 s).
RATES_SQL = """
WITH o AS (
    SELECT o.id, o.unit, o.kind, o.status, o."repeat", o.received_day, o.contact_day,
           o.returned_day, o.out_of_jurisdiction, o.return_rejected, o.closed_day,
           o.channel, o.result, o.citizen_informed, o.no_reply_requested, o.rating,
           o.rating_excluded, o.rated_day, o.accepted_day, o.mediation_day,
           o.mediation_outcome, o.recovered_fen, o.case_filed,
           hs.scope, rc.cum AS start, cc.cum AS contact_cum, tc.cum AS returned_cum,
           xc.cum AS closed_cum,
           CASE WHEN o.channel = 0 THEN 0 WHEN o.kind IN (0, 1) THEN 1 ELSE 2 END AS dset,
           CASE WHEN o.channel = 0
                THEN rc.cum + CASE WHEN o.kind = 5 THEN 5 - 1 ELSE 13 END
                WHEN o.kind = 0 THEN COALESCE(ac.cum, rc.cum + 7) + 45
                ELSE rc.cum + 15
           END AS close_limit_n
    FROM rm_orders o
    JOIN hand_scope hs ON hs.unit = o.unit AND hs.district = COALESCE(o.district, '')
    JOIN hand_calendar rc ON rc.scope = hs.scope AND rc.day = o.received_day
    LEFT JOIN hand_calendar ac ON ac.scope = hs.scope AND ac.day = o.accepted_day
    LEFT JOIN hand_calendar cc ON cc.scope = hs.scope AND cc.day = o.contact_day
    LEFT JOIN hand_calendar tc ON tc.scope = hs.scope AND tc.day = o.returned_day
    LEFT JOIN hand_calendar xc ON xc.scope = hs.scope AND xc.day = o.closed_day
    WHERE o.received_day <= :last
),
xr AS (
    SELECT DISTINCT e.id
    FROM rm_extensions e
    JOIN rm_orders eo ON eo.id = e.id
    JOIN hand_scope ehs ON ehs.unit = eo.unit AND ehs.district = COALESCE(eo.district, '')
    JOIN hand_calendar erc ON erc.scope = ehs.scope AND erc.day = eo.received_day
    JOIN hand_calendar eac ON eac.scope = ehs.scope AND eac.day = e.applied_day
    WHERE eo.received_day <= :last AND eo.channel = 1 AND eo.kind = 1
      AND eac.cum - erc.cum <= 15
),
x AS (
    SELECT e.id, xhs.scope, MAX(e.version) AS version
    FROM rm_extensions e
    JOIN rm_orders eo ON eo.id = e.id
    JOIN hand_scope xhs ON xhs.unit = eo.unit AND xhs.district = COALESCE(eo.district, '')
    JOIN hand_calendar erc ON erc.scope = xhs.scope AND erc.day = eo.received_day
    JOIN hand_calendar eac ON eac.scope = xhs.scope AND eac.day = e.applied_day
    WHERE eo.received_day <= :last AND eo.channel = 0
      AND eac.cum - erc.cum <= CASE WHEN eo.kind = 5 THEN 5 ELSE 13 END
    GROUP BY e.id, xhs.scope
),
xp AS (
    SELECT x.id, uc.cum - 1 AS promised
    FROM x
    JOIN rm_extensions e ON e.id = x.id AND e.version = x.version
    JOIN hand_calendar uc ON uc.scope = x.scope AND uc.day = e.until_day
),
d AS MATERIALIZED (
    SELECT o.*,
           o.start + 1 AS contact_due_n,
           CASE WHEN xr.id IS NOT NULL THEN o.start + 30
                WHEN xp.promised > o.close_limit_n THEN xp.promised ELSE o.close_limit_n
           END AS close_due_n
    FROM o LEFT JOIN xp ON xp.id = o.id LEFT JOIN xr ON xr.id = o.id
),
r AS (
    SELECT d.*, cw.day AS contact_due, kw.day AS close_due,
           CASE WHEN d.dset <> 0 THEN 4
                WHEN d.returned_day = 0
                THEN CASE WHEN d.status = 0 AND :today <= cw.day THEN 0 ELSE 4 END
                WHEN d.return_rejected OR NOT d.out_of_jurisdiction THEN 4
                WHEN d.returned_cum <= d.start + 1 THEN 1
                ELSE 2
           END AS return_status
    FROM d
    JOIN hand_workday cw ON cw.scope = d.scope AND cw.n = d.contact_due_n
    JOIN hand_workday kw ON kw.scope = d.scope AND kw.n = d.close_due_n
),
s AS (
    SELECT r.*,
           CASE WHEN r.dset <> 0 THEN 4
                WHEN r.return_status = 1 OR (r.status = 2 AND r.no_reply_requested) THEN 4
                WHEN r.contact_day <> 0
                THEN CASE WHEN r.contact_cum <= r.contact_due_n THEN 1 ELSE 2 END
                WHEN r.status <> 0 THEN 2
                WHEN :today > r.contact_due THEN 3
                ELSE 0
           END AS contact_status,
           CASE WHEN r.status IN (1, 3) OR r.dset = 2 THEN 4
                WHEN r.closed_day <> 0
                THEN CASE WHEN r.closed_cum <= r.close_due_n THEN 1 ELSE 2 END
                WHEN r.status <> 0 THEN 2
                WHEN :today > r.close_due THEN 3
                ELSE 0
           END AS close_status
    FROM r
),
rv AS (
    SELECT id,
           MAX(CASE WHEN NOT consistent THEN 1 ELSE 0 END) AS inconsistent,
           MAX(CASE WHEN evaluation = 3 THEN 1 ELSE 0 END) AS poor
    FROM rm_revisits
    WHERE day >= :first AND day <= :last
    GROUP BY id
),
sv AS (
    SELECT DISTINCT id FROM rm_supervisions
    WHERE at_fault AND day >= :first AND day <= :last
)
SELECT s.unit,
    SUM(CASE WHEN s.received_day BETWEEN :first AND :last AND s.status <> 1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.contact_due BETWEEN :first AND :last AND s.contact_status = 1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.contact_due BETWEEN :first AND :last AND s.contact_status IN (1, 2, 3)
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN (s.close_due BETWEEN :first AND :last
                   OR s.closed_day BETWEEN :first AND :last) AND s.close_status = 1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN (s.close_due BETWEEN :first AND :last
                   OR s.closed_day BETWEEN :first AND :last) AND s.close_status IN (1, 2, 3)
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.received_day BETWEEN :first AND :last AND s.returned_day <> 0
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.received_day BETWEEN :first AND :last THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.returned_day BETWEEN :first AND :last AND s.return_status = 1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.returned_day BETWEEN :first AND :last AND s.return_status IN (1, 2)
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.closed_day BETWEEN :first AND :last AND s.result = 0
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.closed_day BETWEEN :first AND :last AND s.result IN (0, 1, 2)
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.closed_day BETWEEN :first AND :last AND s.result = 3
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.closed_day BETWEEN :first AND :last THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.rated_day BETWEEN :first AND :last AND NOT s.rating_excluded
             THEN CASE s.rating WHEN 0 THEN 100 WHEN 1 THEN 80 WHEN 2 THEN 60 ELSE 0 END
             ELSE 0 END),
    SUM(CASE WHEN s.rated_day BETWEEN :first AND :last AND NOT s.rating_excluded
                  AND s.rating <> -1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.rated_day BETWEEN :first AND :last AND NOT s.rating_excluded
                  AND s.rating = 3
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.rated_day BETWEEN :first AND :last AND NOT s.rating_excluded
                  AND s.rating <> -1
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.received_day BETWEEN :first AND :last AND s."repeat"
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.returned_day BETWEEN :first AND :last AND s.return_rejected
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN sv.id IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.closed_day BETWEEN :first AND :last AND NOT s.citizen_informed
                  AND NOT s.no_reply_requested
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN rv.inconsistent = 1 THEN 1 ELSE 0 END),
    SUM(CASE WHEN rv.poor = 1 THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.mediation_day BETWEEN :first AND :last AND s.mediation_outcome = 0
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.mediation_day BETWEEN :first AND :last THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.accepted_day BETWEEN :first AND :last AND s.kind = 0 AND s.case_filed
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.accepted_day BETWEEN :first AND :last AND s.kind = 0
             THEN 1 ELSE 0 END),
    SUM(CASE WHEN s.mediation_day BETWEEN :first AND :last THEN s.recovered_fen ELSE 0 END)
FROM s
LEFT JOIN rv ON rv.id = s.id
LEFT JOIN sv ON sv.id = s.id
GROUP BY s.unit
ORDER BY s.unit
"""

_NAMED = re.compile(r":([a-z_]+)\b")


def is_sqlite(connection: Any) -> bool:
    return isinstance(connection, sqlite3.Connection)


def statement(sql: str, connection: Any) -> str:
    """`sql` (written with :name parameters) in the driver's paramstyle."""
    return sql if is_sqlite(connection) else _NAMED.sub(r"%(\1)s", sql)


def install_calendar(
    connection: Any,
    calendar: WorkingCalendar,
    first: date = FIRST_DAY,
    last: date = LAST_DAY,
    covering: Callable[[str], frozenset[str]] = frozenset,
) -> None:
    """Create (anew) and fill `hand_scope`, `hand_calendar` and `hand_workday` from
    `calendar` for the units and districts of the orders in the read model (the names each
    unit answers to given by `covering`, `UnitRegistry.covering`) and the days `first` …
    `last` (default: the whole calendar, 2000 … 2099, ~36,500 rows a scope); committed.
    Every day of the orders, and every due date, must fall in the range (an order whose day
    is missing would drop out of the query)."""
    cursor = connection.cursor()
    for ddl in CALENDAR_DDL:
        cursor.execute(ddl)
    cursor.execute("SELECT DISTINCT unit, district FROM rm_orders")
    scopes: list[WorkingCalendar] = [calendar]
    places = []
    for unit, district in cursor.fetchall():
        found = calendar.at(Place(covering(unit), district))
        if all(found is not other for other in scopes):
            scopes.append(found)
        scope = next(n for n, other in enumerate(scopes) if other is found)
        places.append({"u": unit, "d": district or "", "s": scope})
    cursor.executemany(statement("INSERT INTO hand_scope VALUES (:u, :d, :s)", connection),
                       places)  # fmt: skip
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for scope, each in enumerate(scopes):
        rows = [{"s": scope, "d": day.toordinal(), "c": each.ordinal(day)} for day in days]
        low, high = each.ordinal(first), each.ordinal(last)
        workdays = [
            {"s": scope, "n": n, "d": each.working_day(n).toordinal()}
            for n in range(max(low, 1), high + 1)
        ]
        cursor.executemany(
            statement("INSERT INTO hand_calendar VALUES (:s, :d, :c)", connection), rows
        )
        cursor.executemany(
            statement("INSERT INTO hand_workday VALUES (:s, :n, :d)", connection), workdays
        )
    cursor.close()
    connection.commit()
    if not is_sqlite(connection):
        # Fresh tables: give the planner their sizes.
        with connection.cursor() as analyze:
            for table in ("hand_scope", "hand_calendar", "hand_workday"):
                analyze.execute(f"ANALYZE {table}")
        connection.commit()


def run_query(
    connection: Any, first: date, last: date, today: date, sql: str = RATES_SQL
) -> list[Sequence[Any]]:
    """RATES_SQL's rows (or `sql`'s, a variant) for the period `first` … `last`, limits
    judged on `today`."""
    cursor = connection.cursor()
    cursor.execute(
        statement(sql, connection),
        {"first": first.toordinal(), "last": last.toordinal(), "today": today.toordinal()},
    )
    rows: list[Sequence[Any]] = cursor.fetchall()
    cursor.close()
    return rows


def as_rates(rows: list[Sequence[Any]]) -> Rates:
    """The query's rows as unit → metric key → (numerator, denominator or None)."""
    found: Rates = {}
    for row in rows:
        values: dict[str, tuple[float, int | None]] = {}
        column = 1
        for key, rate in METRICS:
            if rate:
                values[key] = (float(row[column]), int(row[column + 1]))
                column += 2
            else:
                values[key] = (float(row[column]) / MINOR_UNITS.get(key, 1), None)
                column += 1
        found[str(row[0])] = values
    return found


def hand_rates(
    connection: Any, first: date, last: date, today: date, sql: str = RATES_SQL
) -> Rates:
    """The 18 metrics per unit of the orders in `connection`'s read model (a sqlite3 or
    psycopg connection whose calendar tables are installed), period `first` … `last`,
    limits judged on `today`. `sql`: a variant of RATES_SQL (tests check that a wrong one
    is caught)."""
    return as_rates(run_query(connection, first, last, today, sql))


def connect(store: str) -> Any:
    """A DB-API connection to the store `store` names, as `hotline --db` takes it."""
    env = store_environment(read_settings().given(db=store))
    if "SQLITE_DBNAME" not in env:
        return postgres_connection(env)
    path = Path(env["SQLITE_DBNAME"])
    if not path.is_file():
        raise SystemExit(f"hand_rates.py: no SQLite store at {path}")
    return sqlite3.connect(path)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="the store, as hotline --db takes it")
    parser.add_argument("--period-start", type=_day, required=True, help="YYYY-MM-DD")
    parser.add_argument("--period-end", type=_day, required=True, help="YYYY-MM-DD")
    parser.add_argument(
        "--today", type=_day, help="the day limits are judged on (default: today in Shanghai)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the query (best kept)")
    parser.add_argument("--json", action="store_true", help="print the rates, not the time")
    args = parser.parse_args(argv)
    today: date = args.today or now().date()

    connection = connect(args.db)
    try:
        hotline = HotlineApplication(db=args.db)  # its calendar, with the store's amendments
        OrderProjection(hotline, hotline.readmodel).catch_up()  # every order's unit, district
        install_calendar(connection, hotline.calendar(), covering=hotline.units.covering)
        best = float("inf")
        rows: list[Sequence[Any]] = []
        for _ in range(max(args.repeat, 1)):
            started = time.perf_counter()
            rows = run_query(connection, args.period_start, args.period_end, today)
            best = min(best, time.perf_counter() - started)
    finally:
        connection.close()
    if args.json:
        document = {
            "from": args.period_start.isoformat(),
            "to": args.period_end.isoformat(),
            "judged_on": today.isoformat(),
            "units": {
                unit: {key: {"numerator": n, "denominator": d} for key, (n, d) in values.items()}
                for unit, values in as_rates(rows).items()
            },
        }
        json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(f"{best:.4f} s, {len(rows)} units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
