"""What leaves hotline: CSV and workbook cells are never formulas, files are replaced whole
and never written through a symbolic link, and stored text cannot drive the terminal.

Through the CLI with real files, and the rules (`hotline.cli.export`, `printable`) as units.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from openpyxl import load_workbook

from hotline.adapters.rubric_files import rubrics_dir
from hotline.cli.export import csv_cell, replace_file
from hotline.cli.output import json_text, printable
from hotline.domain.errors import InvalidInput
from test_assessment import one_line_refusal

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
FORMULAS = ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]
"""Cells a spreadsheet would run (or take for a formula), as OWASP's CSV-injection page
lists them."""
DISTRICT = ["松江区市场监管局", "嘉定区市场监管局", "青浦区市场监管局", "崇明区市场监管局",
            "普陀区市场监管局"]  # fmt: skip
SCORES = ("report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2019")
ESCAPE = "\x1b[35mred\x1b[0m"
ESCAPE_SHOWN = "␛[35mred␛[0m"


def formula_cells(text: str) -> list[str]:
    """The CSV cells a spreadsheet could read as a formula (negative numbers are numbers)."""
    return [
        cell
        for row in csv.reader(io.StringIO(text))
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"-\d+(\.\d+)?", cell)
    ]


def csv_of(cli: Cli, *args: str) -> list[dict[str, str]]:
    code, out, err = cli(*args, "--format", "csv")
    assert code == 0, err
    assert formula_cells(out) == [], out
    return list(csv.DictReader(io.StringIO(out)))


def workbook_text(path: Path) -> list[Any]:
    """Every non-empty cell value of the workbook; none of them is a formula, in openpyxl's
    reading or in the file's XML."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    values = []
    for sheet in load_workbook(path):
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
                if cell.value is not None:
                    values.append(cell.value)
    return values


@pytest.fixture
def formula_units(tmp_path: Path) -> Path:
    """A rubrics folder whose units file names 闵行 and four other district units with
    formulas (and aliases one of them as @SUM(A2))."""
    folder = tmp_path / "rubrics"
    shutil.copytree(rubrics_dir(), folder)
    units = folder / "units.toml"
    text = units.read_text(encoding="utf-8")
    for old, new in zip([MINHANG, *DISTRICT[:4]], FORMULAS, strict=True):
        assert text.count(f'"{old}"') == 1, old
        text = text.replace(f'"{old}"', json.dumps(new))
    units.write_text(text + '"@SUM(A2)" = "+1+1"\n', encoding="utf-8")
    assert "[aliases]" in text.split("[[group]]")[-1]  # the alias above lands in the table
    return folder


# Formulas ------------------------------------------------------------------------------------


def test_actors_and_notes_in_csv_are_text(cli: Cli) -> None:
    for day, text in enumerate(FORMULAS, start=1):
        code, _, err = cli(
            "--actor", text, "finding", "add", "--rubric", "market-office-2017",
            "--item", "data_standard", "--unit", MINHANG, "--day", f"2019-03-0{day}",
            "--note", text,
        )  # fmt: skip
        assert code == 0, err
    code, _, err = cli(
        "--actor", FORMULAS[0], "order", "receive", "A1", "--unit", MINHANG, "--kind", "投诉",
        "--channel", "12345", "--at", "2019-03-01 10:00", "--summary", FORMULAS[2],
    )  # fmt: skip
    assert code == 0, err
    quoted = [f"'{text}" for text in FORMULAS]
    assert [r["actor"] for r in csv_of(cli, "audit")] == [*quoted, quoted[0]]
    assert [r["note"] for r in csv_of(cli, "finding", "list")] == quoted
    assert [r["actor"] for r in csv_of(cli, "audit", "A1")] == [quoted[0]]
    explained = csv_of(cli, "report", "explain", "--unit", MINHANG, "--rubric",
                       "market-office-2017", "--period", "2019")  # fmt: skip
    assert {r["source"] for r in explained} >= {"A1"}
    csv_of(cli, "report", "deductions", "--rubric", "market-office-2017", "--period", "2019",
           "--unit", MINHANG)  # fmt: skip
    csv_of(cli, "orders", "overdue")


def test_unit_names_from_a_file_are_text_in_csv(cli: Cli, formula_units: Path) -> None:
    rubrics = ("--rubrics", str(formula_units))
    code, _, err = cli(*rubrics, "order", "receive", "A1", "--unit", "@SUM(A2)", "--kind", "投诉",
                       "--channel", "12345", "--at", "2019-03-01 10:00")  # fmt: skip
    assert code == 0, err
    quoted = [f"'{text}" for text in FORMULAS]
    rates = csv_of(cli, *rubrics, "report", "rates", "--group", "district", "--period", "2019")
    assert [r["name"] for r in rates][:5] == quoted
    assert {r["name"]: r["volume"] for r in rates}["'+1+1"] == "1"  # the alias's unit
    scores = csv_of(cli, *rubrics, *SCORES, "--group", "district")
    assert set(quoted) <= {r["承办部门"] for r in scores}
    deductions = csv_of(cli, *rubrics, "report", "deductions", "--rubric", "market-office-2017",
                        "--period", "2019", "--group", "district")  # fmt: skip
    assert set(quoted) <= {r["unit"] for r in deductions}
    assert [r["unit"] for r in csv_of(cli, *rubrics, "audit")] == [quoted[2]]
    assert [r["unit"] for r in csv_of(cli, *rubrics, "orders", "overdue")] == [quoted[2]] * 2


@pytest.mark.parametrize(
    "command",
    [
        SCORES,
        (*SCORES, "--compare", "market-office-2017"),
        ("report", "deductions", "--rubric", "market-office-2017", "--period", "2019"),
    ],
)
def test_unit_names_from_a_file_are_text_in_the_workbook(
    cli: Cli, formula_units: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = tmp_path / "out.xlsx"
    code, _, err = cli("--rubrics", str(formula_units), *command, "--output", str(path))
    assert code == 0, err
    values = workbook_text(path)
    assert set(FORMULAS) <= set(values)
    assert any(isinstance(v, int | float) for v in values)  # numbers stay numbers


def test_the_cell_rule() -> None:
    for text in [*FORMULAS, "\t=1+1", "\r=1+1", "-", "+"]:
        assert csv_cell(text) == f"'{text}"
    for value in [-2, -1.5, "-1.50", "-3", "2019-03-01", "—", "", "a=b", 0, None]:
        assert csv_cell(value) == value


# Files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target_exists", [True, False])
def test_output_naming_a_symlink_is_refused(cli: Cli, tmp_path: Path, target_exists: bool) -> None:
    target = tmp_path / "elsewhere" / "precious.xlsx"
    target.parent.mkdir()
    if target_exists:
        target.write_bytes(b"precious")
    link = tmp_path / "out" / "scores.xlsx"
    link.parent.mkdir()
    link.symlink_to(target)
    line = one_line_refusal(*cli(*SCORES, "--output", str(link)))
    assert line == (
        f"hotline: --output {link} is a symbolic link: name the file itself "
        "(hotline does not write through a link)"
    )
    assert link.is_symlink() and os.readlink(link) == str(target)
    if target_exists:
        assert target.read_bytes() == b"precious"
    else:
        assert not target.exists()
    assert [p.name for p in link.parent.iterdir()] == ["scores.xlsx"]
    assert sorted(p.name for p in target.parent.iterdir()) == (
        ["precious.xlsx"] if target_exists else []
    )


def test_a_workbook_replaces_the_file_whole(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "out" / "scores.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"last year's")
    path.chmod(0o640)
    other_name = path.parent / "same-file.xlsx"
    os.link(path, other_name)
    code, _, err = cli(*SCORES, "--output", str(path))
    assert code == 0, err
    assert load_workbook(path).sheetnames[0] == "附件1 district"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # a file replaced keeps its mode
    assert other_name.read_bytes() == b"last year's"  # a new file, not written in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["same-file.xlsx", "scores.xlsx"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"last year's")

    def disk_full(file: BinaryIO) -> None:
        file.write(b"half a workb")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def interrupted(file: BinaryIO) -> None:
        file.write(b"half a workb")
        raise KeyboardInterrupt

    with pytest.raises(InvalidInput, match="cannot write: No space left on device"):
        replace_file(path, disk_full)
    with pytest.raises(KeyboardInterrupt):
        replace_file(path, interrupted)
    assert path.read_bytes() == b"last year's"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.xlsx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_a_read_only_file_is_not_replaced(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"kept")
    path.chmod(0o444)
    line = one_line_refusal(*cli(*SCORES, "--output", str(path)))
    assert line == f"hotline: --output {path}: cannot write: Permission denied"
    assert path.read_bytes() == b"kept"


# The terminal --------------------------------------------------------------------------------


def test_an_escape_sequence_in_a_summary_is_not_printed_raw(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the domain takes the summary or refuses it, no escape reaches the terminal."""
    monkeypatch.setenv("COLUMNS", "500")  # no cell wraps
    code, out, err = cli(
        "--actor", "王芳", "order", "receive", "A1", "--unit", MINHANG, "--kind", "投诉",
        "--channel", "12345", "--at", "2019-03-01 10:00", "--summary", ESCAPE,
    )  # fmt: skip
    assert "\x1b" not in out + err
    if code != 0:
        one_line_refusal(code, out, err)
        return
    for command in (("order", "show", "A1"), ("audit", "A1")):
        code, out, err = cli(*command)
        assert code == 0, err
        assert "\x1b" not in out + err
        assert ESCAPE_SHOWN in out


def test_markup_and_bidi_in_free_text_are_shown_as_typed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rich markup in a summary, a note or an actor is text: no link is made, nothing is
    styled, a stray `[/]` breaks nothing; a right-to-left override is shown, not obeyed."""
    monkeypatch.setenv("COLUMNS", "500")  # no cell wraps
    link = "[link=http://evil.example]click[/link]"
    actor = "[bold]王芳[/]"
    summary = f"{link} [/] abc\u202etxt.exe"
    code, _, err = cli(
        "--actor", actor, "order", "receive", "A1", "--unit", MINHANG, "--kind", "投诉",
        "--channel", "12345", "--at", "2019-03-01 10:00", "--summary", summary,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli(
        "--actor", actor, "finding", "add", "--rubric", "market-office-2017",
        "--item", "data_standard", "--unit", MINHANG, "--day", "2019-03-02", "--note", link,
    )  # fmt: skip
    assert code == 0, err
    for command, shown in (
        (("order", "show", "A1"), [actor, "summary=[link=http://evil.example]click[/link] [/] "
                                          "abc\ufffdtxt.exe"]),
        (("audit", "A1"), [actor, "[/] abc\ufffdtxt.exe"]),
        (("audit",), [actor]),
        (("finding", "list"), [link]),
    ):  # fmt: skip
        code, out, err = cli(*command)
        assert code == 0, err
        assert all(text in out for text in shown), out
        assert "\x1b" not in out and "\u202e" not in out
    code, out, err = cli("order", "show", "A1", "--format", "json")
    assert code == 0 and "\u202e" not in out and "\\u202e" in out
    assert json.loads(out)["events"][0]["summary"] == summary


def test_a_refusal_shows_the_escapes_it_quotes(cli: Cli) -> None:
    line = one_line_refusal(*cli("report", "rates", "--unit", f"{ESCAPE}X", "--period", "2019"))
    assert line.startswith(f"hotline: unknown unit '{ESCAPE_SHOWN}X'")


def test_unit_names_from_a_file_are_shown_not_obeyed(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "rubrics"
    shutil.copytree(rubrics_dir(), folder)
    units = folder / "units.toml"
    title = "\x1b]0;pwned\x07"  # sets the terminal window's title
    units.write_text(
        units.read_text(encoding="utf-8").replace(f'"{MINHANG}"', json.dumps(title + MINHANG)),
        encoding="utf-8",
    )
    for command in (("units",), ("report", "rates", "--group", "district", "--period", "2019")):
        code, out, err = cli("--rubrics", str(folder), *command)
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out
        assert f"␛]0;pwned␇{MINHANG}" in out
    path = tmp_path / "scores.xlsx"
    code, _, err = cli("--rubrics", str(folder), *SCORES, "--output", str(path))
    assert code == 0, err
    assert f"␛]0;pwned␇{MINHANG}" in workbook_text(path)
    code, _, err = cli("--rubrics", str(folder), "report", "deductions", "--rubric",
                       "market-office-2017", "--period", "2019", "--unit", title + MINHANG,
                       "--output", str(path))  # fmt: skip
    assert code == 0, err
    assert load_workbook(path).sheetnames == [f"␛_0;pwned␇{MINHANG}"]  # ] is not allowed


def test_printable() -> None:
    assert printable(ESCAPE) == ESCAPE_SHOWN
    assert printable("a\x00b\x07c\rd\x7fe\x9b31mf\u202eg") == "a␀b␇c␍d␡e\ufffd31mf\ufffdg"
    assert printable("两行\n\t缩进") == "两行\n\t缩进"
    assert json.loads(json_text({"s": "\x9b\u2066x"})) == {"s": "\x9b\u2066x"}
    assert "\x9b" not in json_text({"s": "\x9b"})
