"""`hotline report notice`: the 通报 draft as .docx, read back with python-docx. Its tables
must be `report scores`'s, its grade lists the scores' grades, its text in the official
fonts and sizes; bad input is one line and writes nothing.

Working days (the official 2026 calendar): an order received Mon 2026-03-02 is due by
Thu 03-19 (13 working days); closed Fri 03-20 it is late. Period 2026Q2 (Feb–Apr).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run

from hotline.domain.aggregate import SHANGHAI
from hotline.service.application import HotlineApplication

Cli = Callable[..., tuple[int, str, str]]
NOTICE = ("report", "notice", "--rubric", "shanghai-12345-2019", "--period", "2026Q2")
SCORES = ("report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2026Q2")

MINHANG, QINGPU = "闵行区市场监管局", "青浦区市场监管局"
SONGJIANG, JIADING = "松江区市场监管局", "嘉定区市场监管局"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def order(app: HotlineApplication, number: str, unit: str, closed: str, rating: str | None) -> None:
    app.receive(number, unit=unit, at=at("2026-03-02 10:00"), kind="complaint", channel="12345")
    app.record(number, "closed", at=at(closed), result="resolved")
    if rating is not None:
        app.record(number, "rated", at=at("2026-03-23 10:00"), rating=rating, excluded=False)


ON_TIME, LATE = "2026-03-10 16:00", "2026-03-20 16:00"


def four_districts(app: HotlineApplication) -> None:
    """District volume 4 + 1 + 2 + 1 = 8:
      青浦 10·1/8 = 1.25 + 30 + 25 + 35 = 91.25
      闵行 10·4/8 = 5 + 30·3/4 = 22.5 + 25 + 35 = 87.5
      嘉定 1.25 + 30 + 25 + 35·80/100 = 28 → 84.25
      松江 2.5 + 30 + 25 + 35·(100 + 0)/2/100 = 17.5 → 75
    Four totals: 优秀 half_up(4·0.5) = 2, 良好 half_up(4·0.3) = 1, 合格 the rest 1.
    办公室 (附件2): one order, never rated: no total ("/" in the text, "—" in the table)."""
    for n, closed in enumerate((ON_TIME, ON_TIME, LATE, ON_TIME)):
        order(app, f"M{n}", MINHANG, closed, "satisfied")
    order(app, "Q1", QINGPU, ON_TIME, "satisfied")
    order(app, "S1", SONGJIANG, ON_TIME, "satisfied")
    order(app, "S2", SONGJIANG, ON_TIME, "dissatisfied")
    order(app, "J1", JIADING, ON_TIME, "basically_satisfied")
    order(app, "O1", "办公室", ON_TIME, None)


@pytest.fixture
def drafted(app: HotlineApplication, cli: Cli, tmp_path: Path) -> DocumentObject:
    four_districts(app)
    path = tmp_path / "通报.docx"
    code, out, err = cli(*NOTICE, "--output", str(path))
    assert code == 0, err
    assert str(path) in out
    return Document(str(path))


def texts(document: DocumentObject) -> list[str]:
    return [p.text for p in document.paragraphs if p.text]


def test_the_tables_are_report_scores(drafted: DocumentObject, cli: Cli) -> None:
    code, out, err = cli(*SCORES, "--format", "csv")
    assert code == 0, err
    reported = list(csv.DictReader(io.StringIO(out)))
    annexes = [a for a in dict.fromkeys(r["附件"] for r in reported)]
    assert annexes == ["附件1", "附件2", "附件3"]
    assert len(drafted.tables) == len(annexes)
    for annex, table in zip(annexes, drafted.tables, strict=True):
        cells = [[cell.text for cell in row.cells] for row in table.rows]
        headings, body = cells[0], cells[1:]
        assert headings[:2] == ["序号", "承办部门"] and "总分值" in headings
        expected = [
            [record[h] or "—" for h in headings] for record in reported if record["附件"] == annex
        ]
        assert body == expected
    first = [[c.text for c in row.cells] for row in drafted.tables[0].rows]
    assert first[1][:7] == ["1", QINGPU, "1.2500", "30", "25", "35", "91.25"]
    assert first[4][:7] == ["4", SONGJIANG, "2.5000", "30", "25", "17.50", "75.00"]


def test_the_grade_lists_are_the_scores_grades(drafted: DocumentObject, cli: Cli) -> None:
    code, out, err = cli(*SCORES, "--format", "json")
    assert code == 0, err
    (district,) = [g for g in json.loads(out)["groups"] if g["graded"]]
    assert district["grades"] == {"优秀": [QINGPU, MINHANG], "良好": [JIADING], "合格": [SONGJIANG]}
    lines = [t for t in texts(drafted) if t[:2] in district["grades"]]
    assert lines == [
        f"{grade}（{len(units)}个）：{'、'.join(units)}{'。' if grade == '合格' else '；'}"
        for grade, units in district["grades"].items()
    ]
    # An ungraded group lists its totals; 办公室 has none.
    assert "办公室　/" in texts(drafted)


def test_the_notice_reads_as_seed_000(drafted: DocumentObject) -> None:
    shown = texts(drafted)
    assert shown[0] == "关于2026年度第二季度“12345”市民服务热线承办工作绩效考核结果的通报"
    scoring = next(t for t in shown if t.startswith("考核按"))
    assert (
        "“受理数量”（10%）、“按时办结”（30%）、“诉求解决”（25%）、“满意度”（35%）四项指标"
        in scoring
    )
    assert "以优秀50％、良好30％和合格20％的比例确定考核等次" in scoring
    assert "（一）各区市场监管局、机场分局绩效考核等次" in shown
    assert shown.count("附件1") == 1 and "附件3" in shown
    assert "2026年度第二季度各区市场监管局、机场分局“12345”热线承办工作绩效考核情况汇总表" in shown
    assert "（2026年2月—2026年4月）" in shown


def east_asian(run: Run) -> str | None:
    fonts = run._element.rPr.rFonts
    value: str | None = fonts.get(qn("w:eastAsia"))
    return value


def test_official_fonts_and_sizes(drafted: DocumentObject) -> None:
    title = drafted.paragraphs[0].runs[0]
    assert (east_asian(title), title.font.size) == ("方正小标宋简体", Pt(22))
    body = next(p for p in drafted.paragraphs if p.text.startswith("考核按")).runs[0]
    assert (east_asian(body), body.font.size) == ("仿宋_GB2312", Pt(16))
    mark = next(p for p in drafted.paragraphs if p.text == "附件1").runs[0]
    assert (east_asian(mark), mark.font.size) == ("黑体", Pt(16))
    table = drafted.tables[0]
    heading, cell = table.rows[0].cells[0].paragraphs[0].runs[0], table.rows[1].cells[1]
    assert (east_asian(heading), heading.font.size) == ("黑体", Pt(12))
    assert (east_asian(cell.paragraphs[0].runs[0]), cell.paragraphs[0].runs[0].font.size) == (
        "仿宋_GB2312",
        Pt(10.5),
    )


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (None, "needs --output"),
        ("missing/通报.docx", "no such directory"),
        ("通报.txt", "must end in .docx"),
        ("folder.docx", "cannot write"),
    ],
)
def test_bad_output_is_one_line(
    app: HotlineApplication, cli: Cli, tmp_path: Path, target: str | None, problem: str
) -> None:
    four_districts(app)
    (tmp_path / "folder.docx").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = cli(*NOTICE, *(() if target is None else ("--output", str(tmp_path / target))))
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and problem in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_rubric_of_another_kind_is_refused(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("report", "notice", "--rubric", "market-office-2017", "--period",
                       "2026Q2", "--output", str(tmp_path / "n.docx"))  # fmt: skip
    assert code == 1 and len(err.splitlines()) == 1 and "report deductions" in err
    assert not (tmp_path / "n.docx").exists()
