"""Trends and the workbook's charts (issue 20): `report trend` against `report rates` and
`report scores` period by period, the sparklines, and the charts, highlights and print
set-up read back from the workbooks with openpyxl."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from hotline.cli.sparkline import sparkline
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Step, date_range, month_span, steps
from hotline.service.application import HotlineApplication

Cli = Callable[..., tuple[int, str, str]]

MINHANG = "闵行区市场监管局"
QINGPU = "青浦区市场监管局"
JIADING = "嘉定区市场监管局"
MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
SPAN = ("--from", MONTHS[0], "--to", MONTHS[-1])
RUBRIC = ("--rubric", "shanghai-12345-2019")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def half_year(app: HotlineApplication) -> None:
    """Three district units over 2025-11 … 2026-04, each month different: unit j receives
    2 + (month + j) % 3 orders on the 5th; one in three is closed 45 days later (late),
    the rest after 3 days; the third is contacted a week later, the others at once; each
    rated, 满意 or 不满意 in turn."""
    count = 0
    for month_index, month in enumerate(MONTHS):
        first = date.fromisoformat(f"{month}-05")
        for j, unit in enumerate((MINHANG, QINGPU, JIADING)):
            for k in range(2 + (month_index + j) % 3):
                count += 1
                number = f"T{count:03d}"
                app.receive(number, unit=unit, at=at(first), kind="complaint", channel="12345")
                contact = first + timedelta(days=7 if k == 2 else 0)
                app.record(number, "first_contact", at=at(contact, 15), method="电话")
                closed = first + timedelta(days=45 if (count + j) % 3 == 0 else 3)
                app.record(number, "closed", at=at(closed, 16), result="resolved")
                rating = "satisfied" if (count + month_index) % 4 else "dissatisfied"
                app.record(number, "rated", at=at(closed + timedelta(days=1)), rating=rating)


def document(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def by_row(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["name"], row["level"]): row for row in rows}


# 1. the periods ----------------------------------------------------------------------------


def test_months_and_quarters_of_a_span() -> None:
    assert [p.label for p in month_span("2018-11", "2019-10")] == [
        f"{2018 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(11, 23)
    ]
    quarters = month_span("2018-11", "2019-10", Step.QUARTER)
    assert [p.label for p in quarters] == ["2019Q1", "2019Q2", "2019Q3", "2019Q4"]
    assert quarters[0].start == date(2018, 11, 1) and quarters[-1].end == date(2019, 10, 31)
    # A range of days cut into months: the partly covered ones named by their days.
    cut = steps(date_range(date(2019, 3, 5), date(2019, 5, 2)), Step.MONTH)
    assert [(p.start, p.end) for p in cut] == [
        (date(2019, 3, 5), date(2019, 3, 31)),
        (date(2019, 4, 1), date(2019, 4, 30)),
        (date(2019, 5, 1), date(2019, 5, 2)),
    ]
    assert cut[1].label == "2019-04" and cut[0].label != "2019-03"


@pytest.mark.parametrize(
    ("first", "last", "step", "problem"),
    [
        ("2019-02", "2018-11", Step.MONTH, "before --from"),
        ("2018-12", "2019-10", Step.QUARTER, "whole quarters"),
        ("2018-11", "2019-09", Step.QUARTER, "whole quarters"),
        ("2019", "2019-10", Step.MONTH, "--from '2019': give a month"),
        ("2018-11", "2019-13", Step.MONTH, "--to '2019-13': give a month"),
    ],
)
def test_a_span_that_is_not_months_is_refused(
    first: str, last: str, step: Step, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        month_span(first, last, step)


def test_sparklines() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([80.0, None, 100.0]) == "▁ █"
    assert sparkline([5, 5, None]) == "▄▄ "
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""


# 2. the trend equals report rates, period by period -------------------------------------


def test_each_month_of_a_trend_is_report_rates_of_that_month(
    app: HotlineApplication, cli: Cli
) -> None:
    half_year(app)
    trend = document(cli, "report", "trend", *SPAN)
    assert trend["periods"] == MONTHS
    assert (trend["from"], trend["to"], trend["by"]) == ("2025-11-01", "2026-04-30", "month")
    rows = trend["rows"]
    metrics = trend["metrics"]
    compared = 0
    for month in MONTHS:
        rates = by_row(document(cli, "report", "rates", "--period", month)["rows"])
        for row in rows:
            assert row[month] == rates[row["name"], row["level"]][row["metric"]], (month, row)
            compared += 1
    assert compared == len(MONTHS) * len(rates) * len(metrics)
    # The months differ, so the comparison is not of one number with itself.
    on_time = next(r for r in rows if r["name"] == MINHANG and r["metric"] == "on_time_rate")
    assert len({on_time[m] for m in MONTHS}) > 1


def test_each_quarter_of_a_trend_is_report_rates_of_that_quarter(
    app: HotlineApplication, cli: Cli
) -> None:
    half_year(app)
    asked = ("--metric", "satisfaction", "--metric", "first_contact_rate")
    trend = document(cli, "report", "trend", "--group", "district", *SPAN, "--by", "quarter",
                     *asked)  # fmt: skip
    assert trend["periods"] == ["2026Q1", "2026Q2"]
    assert trend["metrics"] == ["satisfaction", "first_contact_rate"]
    for quarter in trend["periods"]:
        rates = by_row(document(cli, "report", "rates", "--group", "district", "--period",
                                quarter)["rows"])  # fmt: skip
        assert {(r["name"], r["level"]) for r in trend["rows"]} == set(rates)
        for row in trend["rows"]:
            assert row[quarter] == rates[row["name"], row["level"]][row["metric"]]


def test_the_ranks_per_quarter_are_report_scores_of_that_quarter(
    app: HotlineApplication, cli: Cli
) -> None:
    half_year(app)
    trend = document(cli, "report", "trend", "--group", "district", *SPAN, "--by", "quarter",
                     "--metric", "volume", *RUBRIC)  # fmt: skip
    ranks = {r["name"]: r for r in trend["rows"] if r["metric"] == "rank"}
    scores = {r["name"]: r for r in trend["rows"] if r["metric"] == "score"}
    for quarter in trend["periods"]:
        (group,) = document(cli, "report", "scores", *RUBRIC, "--period", quarter,
                            "--group", "district")["groups"]  # fmt: skip
        for row in group["rows"]:
            assert ranks[row["unit"]][quarter] == row["rank"], (quarter, row["unit"])
            assert scores[row["unit"]][quarter] == row["total"], (quarter, row["unit"])
    first, last = trend["periods"]
    for unit in (MINHANG, QINGPU, JIADING):
        assert ranks[unit]["moved"] == ranks[unit][first] - ranks[unit][last]
    assert all(isinstance(ranks[u][q], int) for u in (MINHANG, QINGPU, JIADING)
               for q in (first, last))  # fmt: skip


def test_the_ranks_are_narrowed_by_channel_and_kind_as_report_scores_is(
    app: HotlineApplication, cli: Cli
) -> None:
    half_year(app)
    for month in MONTHS:  # 青浦's reports (举报), closed late and never contacted
        first = date.fromisoformat(f"{month}-06")
        for k in range(3):
            number = f"R-{month}-{k}"
            app.receive(number, unit=QINGPU, at=at(first), kind="report", channel="12345")
            app.record(number, "closed", at=at(first + timedelta(days=60)), result="resolved")
    narrowed = ("--kind", "complaint")
    trend = document(cli, "report", "trend", "--group", "district", *SPAN, "--by", "quarter",
                     "--metric", "volume", *RUBRIC, *narrowed)  # fmt: skip
    scores = {r["name"]: r for r in trend["rows"] if r["metric"] == "score"}
    moved = False
    for quarter in trend["periods"]:
        for kinds in (narrowed, ()):
            (group,) = document(cli, "report", "scores", *RUBRIC, "--period", quarter,
                                "--group", "district", *kinds)["groups"]  # fmt: skip
            totals = {row["unit"]: row["total"] for row in group["rows"]}
            if kinds:
                assert {u: scores[u][quarter] for u in totals} == totals, quarter
            else:
                moved |= totals[QINGPU] != scores[QINGPU][quarter]
    assert moved  # the reports cost 青浦 points: the narrowing is seen


def test_the_trend_table_has_a_sparkline_per_row(app: HotlineApplication, cli: Cli) -> None:
    half_year(app)
    code, out, err = cli("report", "trend", "--unit", MINHANG, *SPAN, "--metric", "volume",
                         *RUBRIC)  # fmt: skip
    assert code == 0, err
    volumes = by_row(
        document(cli, "report", "trend", "--unit", MINHANG, *SPAN, "--metric", "volume")["rows"]
    )[MINHANG, "unit"]
    assert sparkline([volumes[m] for m in MONTHS]) in out
    assert "moved" in out and "rank (score) under shanghai-12345-2019" in out


def test_the_trend_as_csv(app: HotlineApplication, cli: Cli) -> None:
    half_year(app)
    code, out, err = cli("report", "trend", "--unit", MINHANG, *SPAN, "--metric", "volume",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    header, line = out.splitlines()
    assert header == ",".join(["name", "level", "group", "metric", *MONTHS])
    assert line.startswith(f"{MINHANG},unit,district,volume,")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--from", "2025-11"), "give --from and --to"),
        (("--from", "2025-12", "--to", "2026-04", "--by", "quarter"), "whole quarters"),
        ((*SPAN, "--metric", "speed"), "unknown metric 'speed'"),
        ((*SPAN, "--rubric", "no-such-rubric"), "no-such-rubric"),
    ],
)
def test_a_bad_trend_is_refused_in_one_line(cli: Cli, args: tuple[str, ...], problem: str) -> None:
    code, out, err = cli("report", "trend", *args)
    assert code == 1 and out == "", (out, err)
    assert err.count("\n") == 1 and problem in err and "Traceback" not in err


# 3. the workbooks' charts, highlights and print set-up ----------------------------------


def cells(ws: Worksheet, reference: str) -> list[Any]:
    """The values of a chart's reference ('sheet'!$C$4:$H$4), row by row."""
    sheet, _, span = reference.rpartition("!")
    assert sheet.strip("'") == ws.title
    low_col, low_row, high_col, high_row = range_boundaries(span.replace("$", ""))
    return [
        ws.cell(row=r, column=c).value
        for r in range(low_row, high_row + 1)  # type: ignore[operator]
        for c in range(low_col, high_col + 1)  # type: ignore[operator]
    ]


def categories(series: Any) -> str:
    """A series' categories' reference (openpyxl writes it as a number reference)."""
    found = series.cat.numRef or series.cat.strRef
    return str(found.f)


def printed_like_the_annex(ws: Worksheet, heading_row: int) -> None:
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == f"$1:${heading_row}"
    assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(heading_row + 1))


def test_the_trend_sheet_charts_each_units_rates(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    half_year(app)
    path = tmp_path / "trend.xlsx"
    asked = ("--metric", "volume", "--metric", "on_time_rate", "--metric", "satisfaction")
    trend = document(cli, "report", "trend", "--group", "district", *SPAN, *asked,
                     "--output", str(path))  # fmt: skip
    ws = load_workbook(path)["trend"]
    printed_like_the_annex(ws, 3)
    names = list(dict.fromkeys(r["name"] for r in trend["rows"]))
    charts = ws._charts
    assert [chart.title.tx.rich.p[0].r[0].t for chart in charts] == names
    for chart, name in zip(charts, names, strict=True):
        wanted = [r for r in trend["rows"] if r["name"] == name and r["metric"] != "volume"]
        assert len(chart.series) == len(wanted) == 2  # the volume is not a rate: no line
        for series, row in zip(chart.series, wanted, strict=True):
            assert cells(ws, categories(series)) == MONTHS
            assert cells(ws, series.val.numRef.f) == [row[m] for m in MONTHS]
            (label,) = cells(ws, series.tx.strRef.f)
            assert label.startswith({"on_time_rate": "按时办结率", "satisfaction": "满意度"}[
                row["metric"]])  # fmt: skip


def test_the_scores_workbook_charts_each_annexs_totals_and_the_months(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    half_year(app)
    path = tmp_path / "scores.xlsx"
    code, _, err = cli("report", "scores", *RUBRIC, "--period", "2026Q2", "--output", str(path))
    assert code == 0, err
    book = load_workbook(path)
    (district,) = [g for g in document(cli, "report", "scores", *RUBRIC, "--period", "2026Q2")[
        "groups"] if g["key"] == "district"]  # fmt: skip
    ws = book["附件1 district"]
    printed_like_the_annex(ws, 4)
    assert ws.freeze_panes == "C5"
    (bars,) = ws._charts
    (series,) = bars.series
    assert cells(ws, series.tx.strRef.f) == ["总分值"]
    assert cells(ws, categories(series)) == [row["unit"] for row in district["rows"]]
    totals = [row["total"] for row in district["rows"]]
    assert cells(ws, series.val.numRef.f) == ["—" if t is None else t for t in totals]
    for name in ("附件2 municipal", "附件3 consumer_council"):
        assert len(book[name]._charts) == 1
    # The trend sheet: the months of the period, on-time, first contact and satisfaction.
    trend = book["trend"]
    headings = [c.value for c in trend[3]]
    assert headings == ["unit", "metric", "2026-02", "2026-03", "2026-04"]
    minhang = next(c for c in trend._charts if c.title.tx.rich.p[0].r[0].t == MINHANG)
    rates = by_row(document(cli, "report", "rates", "--period", "2026-03", "--channel",
                            "12345")["rows"])[MINHANG, "unit"]  # fmt: skip
    march = [cells(trend, s.val.numRef.f)[1] for s in minhang.series]
    assert march == [rates["on_time_rate"], rates["first_contact_rate"], rates["satisfaction"]]


def test_the_scores_workbooks_months_are_as_the_store_stood_at_its_moment(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    half_year(app)
    time.sleep(0.01)
    moment = datetime.now(SHANGHAI)
    time.sleep(0.01)
    # Recorded after the moment: a March order of 闵行, contacted and closed late.
    app.receive("T900", unit=MINHANG, at=at(date(2026, 3, 5)), kind="complaint", channel="12345")
    app.record("T900", "first_contact", at=at(date(2026, 3, 20)), method="电话")
    app.record("T900", "closed", at=at(date(2026, 4, 30)), result="resolved")
    as_of = ("--as-of", moment.strftime("%Y-%m-%d %H:%M:%S.%f"))
    path = tmp_path / "scores.xlsx"
    code, _, err = cli("report", "scores", *RUBRIC, "--period", "2026Q2", *as_of,
                       "--output", str(path))  # fmt: skip
    assert code == 0, err
    trend = load_workbook(path)["trend"]
    minhang = next(c for c in trend._charts if c.title.tx.rich.p[0].r[0].t == MINHANG)
    march = [cells(trend, s.val.numRef.f)[1] for s in minhang.series]

    def rates(*args: str) -> list[Any]:
        found = by_row(document(cli, "report", "rates", "--period", "2026-03", "--channel",
                                "12345", *args)["rows"])[MINHANG, "unit"]  # fmt: skip
        return [found[key] for key in ("on_time_rate", "first_contact_rate", "satisfaction")]

    assert march == rates(*as_of)
    assert march != rates()


def test_annexes_2_and_3_print_no_rank(app: HotlineApplication, cli: Cli, tmp_path: Path) -> None:
    half_year(app)
    path = tmp_path / "scores.xlsx"
    code, out, err = cli("report", "scores", *RUBRIC, "--period", "2026Q2", "--output", str(path))
    assert code == 0, err
    tables = out.split("附件")[1:]
    assert [("名次" in table, "等次" in table) for table in tables] == [(True, True)] + [
        (False, False)
    ] * 2
    book = load_workbook(path)
    headings = {ws.title: [c.value for c in ws[4]] for ws in book.worksheets[:3]}
    assert "名次" in headings["附件1 district"]
    assert headings["附件2 municipal"][-1] == headings["附件3 consumer_council"][-1] == "总分值"


def test_the_kpi_workbook_highlights_what_missed_its_target(
    app: HotlineApplication, cli: Cli, tmp_path: Path
) -> None:
    half_year(app)
    path = tmp_path / "kpi.xlsx"
    found = document(cli, "report", "kpi", "--period", "2026-02", "--output", str(path))
    ws = load_workbook(path).active
    assert ws is not None
    printed_like_the_annex(ws, 4)
    headings = [c.value for c in ws[4]]
    rules = {str(r.sqref): [x for x in r.rules] for r in ws.conditional_formatting}
    for key, target in (("on_time_rate", "按时办结率"), ("first_contact_rate", "先行联系率")):
        value = next(i for i, h in enumerate(headings) if h.startswith(target)) + 1
        verdict = value + 1
        column, verdict_column = (ws.cell(row=4, column=c).column_letter for c in (value, verdict))
        last = 4 + len(found["rows"])
        (rule,) = rules[f"{column}5:{column}{last}"]
        assert rule.type == "expression" and rule.formula == [f'${verdict_column}5="未达标"']
        assert rule.dxf.fill.bgColor.rgb.endswith("FFC7CE")
        for index, row in enumerate(found["rows"], start=5):
            shown = ws.cell(row=index, column=verdict).value
            assert shown == {True: "达标", False: "未达标", None: "—"}[row[f"{key}_met"]]
            assert ws.cell(row=index, column=value).value == ("—" if row[key] is None else row[key])
    # Some cells are highlighted and some are not, so the rule tells them apart.
    met = [row["first_contact_rate_met"] for row in found["rows"]]
    assert True in met and False in met
