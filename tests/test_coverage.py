"""Which orders each rubric part counts (issue 17, item 4): the 12345 tables and targets
count 12345 orders only, Ⅵ-8-1 the 12315 complaints; `--channel` and `--kind` narrow
them; 调解成功率, 诉转案率 and 挽回经济损失 from the 12315 lifecycle's events."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hotline.adapters.rubric_files import rubrics_dir
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.periods import parse_period
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]

MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
MARCH = ("--period", "2026-03")
Q2 = ("--period", "2026Q2")
OFFICE_RUBRIC = ("--rubric", "market-office-2017")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def log(app: HotlineApplication, number: str, event: str, when: str, **fields: Any) -> None:
    app.record(number, event, at=at(when), **fields)


def receive(
    app: HotlineApplication, number: str, unit: str = MINHANG, channel: str = "12345",
    kind: str = "complaint",
) -> None:  # fmt: skip
    """Received Mon 2026-03-02."""
    app.receive(number, unit=unit, at=at("2026-03-02 10:00"), kind=kind, channel=channel)


def accept(app: HotlineApplication, number: str, unit: str = MINHANG, when: str = "03-03") -> None:
    """A 12315 complaint received 03-02, accepted (受理) on `when`."""
    receive(app, number, unit, channel="12315")
    log(app, number, "accepted", f"2026-{when} 10:00")


def end_mediation(
    app: HotlineApplication, number: str, outcome: str, recovered: str = "0",
    when: str = "2026-03-10 15:00",
) -> None:  # fmt: skip
    reason = {"reason": "被投诉人拒绝调解"} if outcome == "terminated" else {}
    log(app, number, "mediation_ended", when, outcome=outcome, recovered=recovered, **reason)


def document(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def one_line_refusal(code: int, out: str, err: str) -> str:
    assert code == 1, (out, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def unit_row(found: dict[str, Any], name: str = MINHANG) -> dict[str, Any]:
    (row,) = [r for r in found["rows"] if r["name"] == name and r["level"] == "unit"]
    return dict(row)


def section(found: dict[str, Any], part: str, key: str, unit: str = MINHANG) -> dict[str, Any]:
    (row,) = [u for u in found["units"] if u["unit"] == unit]
    (scored,) = [p for p in row["parts"] if p["key"] == part]
    (chosen,) = [s for s in scored["sections"] if s["key"] == key]
    return dict(chosen)


# --- coverage -----------------------------------------------------------------------------------


def test_a_12315_complaint_leaves_the_12345_tables_alone(app: HotlineApplication, cli: Cli) -> None:
    """附件1 and kpi-2023 are the same with and without a late, 不满意 12315 complaint;
    the metrics over every order and Ⅵ-8-1 see it."""
    receive(app, "H1")
    log(app, "H1", "first_contact", "2026-03-03 09:00")
    log(app, "H1", "closed", "2026-03-10 16:00", result="resolved")
    log(app, "H1", "rated", "2026-03-11 10:00", rating="satisfied")
    scores = ("report", "scores", "--rubric", "shanghai-12345-2019", *Q2, "--group", "district")
    kpi = ("report", "kpi", *Q2, "--unit", MINHANG)
    before = document(cli, *scores), document(cli, *kpi)
    rates_before = unit_row(document(cli, "report", "rates", *Q2, "--unit", MINHANG))

    accept(app, "C1")  # never contacted in a day, closed on day 14, rated 不满意
    end_mediation(app, "C1", "terminated")
    log(app, "C1", "closed", "2026-03-20 16:00", result="unresolved")
    log(app, "C1", "rated", "2026-03-23 10:00", rating="dissatisfied")

    after = document(cli, *scores), document(cli, *kpi)
    assert after[0]["groups"] == before[0]["groups"]
    assert after[1]["rows"] == before[1]["rows"]
    assert after[0]["orders"] == {"shanghai-12345-2019": {"channel": ["12345"], "kind": None}}
    assert after[1]["orders"] == {"kpi-2023": {"channel": ["12345"], "kind": None}}
    # Over every order it counts: 1 不满意 of 2 ratings.
    rates_after = unit_row(document(cli, "report", "rates", *Q2, "--unit", MINHANG))
    assert (rates_before["dissatisfaction"], rates_after["dissatisfaction"]) == (0.0, 50.0)
    # Ⅵ-8-1 scores it: 调解成功率 0 (< 75: capped 2), 诉转案率 0 of 1 accepted (< 6: 1).
    found = document(cli, "report", "deductions", *OFFICE_RUBRIC, *Q2)
    assert section(found, "vi_8_1", "resolution")["items"]["low_resolution"]["lost"] == 2.0
    conversion = section(found, "vi_8_1", "case_conversion")["items"]
    assert conversion["case_conversion_rate"]["lost"] == 1.0
    assert section(found, "vi_8_5", "satisfaction")["lost"] == 0.0  # Ⅵ-8-5: 12345 only
    assert found["orders"] == {
        "vi_8_5": {"channel": ["12345"], "kind": None},
        "vi_8_1": {"channel": ["12315"], "kind": ["complaint"]},
    }


def test_a_part_that_does_not_say_which_orders_is_one_line(cli: Cli, tmp_path: Path) -> None:
    text = (rubrics_dir() / "market-office-2017.toml").read_text(encoding="utf-8")
    coverage = 'orders = { channels = ["12315"], kinds = ["complaint"] }\n'
    assert text.count(coverage) == 1
    path = tmp_path / "no-coverage.toml"
    path.write_text(text.replace(coverage, ""), encoding="utf-8")
    line = one_line_refusal(*cli("report", "deductions", "--rubric", str(path), *Q2))
    assert f"{path}: part[1].orders: Field required" in line
    targets = (rubrics_dir() / "kpi-2023.toml").read_text(encoding="utf-8")
    path = tmp_path / "kpi-no-coverage.toml"
    path.write_text(targets.replace('orders = { channels = ["12345"] }\n', ""), encoding="utf-8")
    line = one_line_refusal(*cli("report", "kpi", "--rubric", str(path), *Q2))
    assert f"{path}: orders: Field required" in line


# --- --channel and --kind -------------------------------------------------------------------------


def three_orders(app: HotlineApplication) -> None:
    """闵行: a 12345 complaint, a 12345 report, a 12315 complaint, all received 03-02."""
    receive(app, "K1")
    receive(app, "K2", kind="report")
    accept(app, "K3")


def test_channel_and_kind_narrow_the_rates(app: HotlineApplication, cli: Cli) -> None:
    three_orders(app)

    def volume(*narrowed: str) -> tuple[float, dict[str, Any]]:
        found = document(cli, "report", "rates", *MARCH, "--unit", MINHANG, *narrowed)
        return unit_row(found)["volume"], found["orders"]

    assert volume() == (3, {"channel": None, "kind": None})
    assert volume("--channel", "12315") == (1, {"channel": ["12315"], "kind": None})
    assert volume("--kind", "report") == (1, {"channel": None, "kind": ["report"]})
    assert volume("--kind", "举报", "--kind", "complaint")[0] == 3
    assert volume("--channel", "12345", "--kind", "投诉") == (
        1, {"channel": ["12345"], "kind": ["complaint"]}
    )  # fmt: skip
    code, out, err = cli("report", "rates", *MARCH, "--channel", "12315")
    assert code == 0, err
    assert "orders: channel 12315" in out
    missed = document(cli, "report", "explain", "--unit", MINHANG, *MARCH, "--channel", "12315")
    assert {r["order"] for r in missed["rows"]} == {"K3"}


def test_a_channel_or_kind_not_in_the_vocabulary_is_one_line(cli: Cli) -> None:
    for command in (("report", "rates"), ("report", "kpi"), ("report", "deductions",
                    *OFFICE_RUBRIC), ("report", "explain", "--unit", MINHANG)):  # fmt: skip
        line = one_line_refusal(*cli(*command, *MARCH, "--channel", "12346"))
        assert "unknown channel '12346'; use one of: 12345 (12345市民服务热线), 12315" in line
        line = one_line_refusal(*cli(*command, *MARCH, "--kind", "praise"))
        assert "unknown kind 'praise'; use one of: complaint (投诉)" in line


def test_a_channel_against_a_parts_coverage_counts_none(app: HotlineApplication, cli: Cli) -> None:
    """--channel 12345 narrows Ⅵ-8-1 (12315 complaints) to nothing: the 12315 complaint's
    terminated mediation costs nothing, and the output says no channel was counted."""
    three_orders(app)
    end_mediation(app, "K3", "terminated")
    rubric = ("report", "deductions", *OFFICE_RUBRIC, *MARCH)
    assert section(document(cli, *rubric), "vi_8_1", "resolution")["lost"] == 2.0
    narrowed = document(cli, *rubric, "--channel", "12345")
    assert section(narrowed, "vi_8_1", "resolution")["lost"] == 0.0
    assert narrowed["orders"]["vi_8_1"] == {"channel": [], "kind": ["complaint"]}
    code, out, err = cli(*rubric, "--channel", "12345")
    assert code == 0, err
    assert "vi_8_1: channel none, kind complaint" in " ".join(out.split())
    scores = document(cli, "report", "scores", "--rubric", "shanghai-12345-2019", *MARCH,
                      "--group", "district", "--channel", "12315")  # fmt: skip
    assert scores["orders"] == {"shanghai-12345-2019": {"channel": [], "kind": None}}
    (minhang,) = [r for r in scores["groups"][0]["rows"] if r["unit"] == MINHANG]
    assert minhang["components"]["volume"] is None  # no order counted: no share


# --- the outcome metrics --------------------------------------------------------------------------


def test_mediation_case_and_recovered_metrics(app: HotlineApplication, cli: Cli) -> None:
    accept(app, "M1")  # agreement, 1234567.89 yuan recovered, filed as a case
    end_mediation(app, "M1", "agreement", "1234567.89")
    log(app, "M1", "case_decided", "2026-03-05 10:00", filed=True)
    accept(app, "M2")  # terminated, 0.20 recovered all the same; no case filed
    end_mediation(app, "M2", "terminated", "0.20")
    log(app, "M2", "case_decided", "2026-03-05 10:00", filed=False)
    accept(app, "M3")  # no decision on a case yet
    accept(app, "M4", when="03-30")  # mediation ends in May: outside March
    end_mediation(app, "M4", "agreement", "5", when="2026-05-06 10:00")
    receive(app, "M5", channel="12315")  # not accepted: no 诉转案 denominator
    receive(app, "M6", channel="12315", kind="report")  # a report's case is no 诉转案
    log(app, "M6", "case_decided", "2026-03-05 10:00", filed=True)

    values = Reports(app).rates(parse_period("2026-03"), unit=MINHANG).rows[0].values
    mediation, cases, money = (values[k] for k in ("mediation_success", "complaint_to_case",
                                                    "recovered_loss"))  # fmt: skip
    assert (mediation.numerator, mediation.denominator) == (1, 2)
    assert (cases.numerator, cases.denominator) == (1, 4)
    assert money.denominator is None
    recovered = Reports(app).metric("recovered_loss").exact(money)
    assert recovered == Decimal("1234568.09") and str(recovered) == "1234568.09"

    row = unit_row(document(cli, "report", "rates", *MARCH, "--unit", MINHANG))
    assert (row["mediation_success"], row["complaint_to_case"]) == (50.0, 25.0)
    assert row["recovered_loss"] == 1234568.09
    code, out, err = cli("report", "rates", *MARCH, "--unit", MINHANG, "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1].split(",")[-1] == "1234568.09"

    missed = document(cli, "report", "explain", "--unit", MINHANG, *MARCH)["rows"]
    why = {(r["metric"], r["order"]): r["reason"] for r in missed
           if r["metric"] in {"mediation_success", "complaint_to_case", "recovered_loss"}}  # fmt: skip
    assert why == {
        ("mediation_success", "M2"): "mediation terminated (终止调解) on 2026-03-10",
        ("complaint_to_case", "M2"): "accepted on 2026-03-03, no case filed (2026-03-05)",
        ("complaint_to_case", "M3"): "accepted on 2026-03-03, no case decided",
        ("complaint_to_case", "M4"): "accepted on 2026-03-30, no case decided",
        ("recovered_loss", "M1"): "recovered 1234567.89 yuan, mediation ended 2026-03-10",
        ("recovered_loss", "M2"): "recovered 0.20 yuan, mediation ended 2026-03-10",
    }


def test_case_conversion_below_six_percent_costs_a_point(app: HotlineApplication, cli: Cli) -> None:
    """松江 1 case of 17 accepted complaints (5.88%): 1 point; 闵行 1 of 16 (6.25%): none; an
    inspector's finding still costs its point where the events do not show it."""
    for unit, prefix, accepted in ((SONGJIANG, "S", 17), (MINHANG, "N", 16)):
        for i in range(accepted):
            number = f"{prefix}{i}"
            accept(app, number, unit)
            if i == 0:
                log(app, number, "case_decided", "2026-03-05 10:00", filed=True)
    found = document(cli, "report", "deductions", *OFFICE_RUBRIC, *MARCH)
    items = section(found, "vi_8_1", "case_conversion", SONGJIANG)["items"]
    assert items["case_conversion_rate"] == {"count": None, "lost": 1.0}
    assert section(found, "vi_8_1", "case_conversion")["lost"] == 0.0
    why = document(cli, "report", "explain", "--unit", SONGJIANG, *OFFICE_RUBRIC, *MARCH)
    assert [
        (r["item"], r["source"], r["reason"], r["points"])
        for r in why["rows"]
        if r["where"].endswith("诉转案率")
    ] == [("诉转案率低于6%", "rate", "诉转案率 5.88 < 6", 1.0)]
    code, _, err = cli("finding", "add", *OFFICE_RUBRIC, "--item", "low_case_conversion",
                       "--unit", MINHANG, "--day", "2026-03-20", "--note", "案件未录入系统")  # fmt: skip
    assert code == 0, err
    found = document(cli, "report", "deductions", *OFFICE_RUBRIC, *MARCH)
    assert section(found, "vi_8_1", "case_conversion")["lost"] == 1.0
