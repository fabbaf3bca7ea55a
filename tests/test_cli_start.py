"""Start-up: each command loads only the modules it uses (hotline.cli.lazy), and the list of
commands shows what the commands themselves say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from hotline.cli.main import COMMANDS, REPORTS, app, main, reports

HEAVY = ("sqlalchemy", "numpy", "openpyxl", "eventsourcing", "psycopg", "apscheduler", "docx")
RECEIVED = ("order", "receive", "W-1", "--unit", "闵行区市场监管局", "--kind", "complaint",
            "--channel", "12345", "--at", "2026-03-02 09:00")  # fmt: skip


def loaded_after(*args: str, among: tuple[str, ...] = HEAVY) -> set[str]:
    """The modules of `among` a fresh process has imported after `hotline ARGS`."""
    probe = (
        "import sys\n"
        "from hotline.cli.main import main\n"
        f"code = main({list(args)!r})\n"
        f"print(code, *sorted(m for m in {among!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    code, *modules = done.stdout.split("\n")[-2].split()
    assert code == "0", done.stderr
    return set(modules)


def test_the_list_of_commands_loads_none_of_them() -> None:
    assert loaded_after("--help") == set()


def test_showing_an_order_on_sqlite_needs_neither_sqlalchemy_nor_openpyxl(db: Path) -> None:
    assert main(["--db", str(db), "order", "receive", "W-1", "--unit", "闵行区市场监管局",
                 "--kind", "complaint", "--channel", "12345"]) == 0  # fmt: skip
    loaded = loaded_after("--db", str(db), "order", "show", "W-1")
    assert "eventsourcing" in loaded
    assert not loaded & {"sqlalchemy", "openpyxl", "psycopg", "apscheduler"}


def test_showing_an_order_loads_no_rubric_and_no_scoring(db: Path) -> None:
    assert main(["--db", str(db), *RECEIVED]) == 0
    scoring = ("hotline.domain.rubric", "hotline.domain.scoring", "hotline.domain.metrics")
    assert loaded_after("--db", str(db), "order", "show", "W-1", among=scoring) == set()
    assert loaded_after("--db", str(db), "report", "rates", "--period", "2026-03", among=scoring)


NOT_FOR_ONE_ORDER = ("sqlalchemy", "openpyxl", "docx", "psycopg", "apscheduler", "smtplib",
                     "hotline.service.reports", "hotline.adapters.readmodel",
                     "hotline.domain.rubric", "hotline.domain.scoring", "hotline.domain.metrics",
                     "hotline.cli.report", "hotline.cli.alerts")  # fmt: skip
"""What an operator's one-order command has no use for: the reports' read model and SQL,
the rubrics and scoring, workbooks, Word files, the scheduler and the alerts' delivery."""


@pytest.mark.parametrize(
    "command",
    [
        ("order", "show", "W-1"),
        ("order", "show", "W-1", "--format", "json"),
        ("order", "first-contact", "W-1", "--at", "2026-03-02 10:00", "--method", "phone"),
        ("order", "close", "W-1", "--result", "resolved", "--at", "2026-03-03 10:00"),
    ],
)
def test_an_operators_command_on_one_order_loads_nothing_of_the_reports(
    db: Path, command: tuple[str, ...]
) -> None:
    assert main(["--db", str(db), *RECEIVED]) == 0
    assert loaded_after("--db", str(db), *command, among=NOT_FOR_ONE_ORDER) == set()


def test_a_report_without_output_loads_neither_the_workbook_nor_the_word_file(db: Path) -> None:
    assert main(["--db", str(db), *RECEIVED]) == 0
    loaded = loaded_after("--db", str(db), "report", "rates", "--period", "2026-03")
    assert "sqlalchemy" in loaded and "numpy" in loaded
    assert not loaded & {"openpyxl", "docx", "psycopg", "apscheduler"}


def test_a_scheduler_pass_loads_no_alert_delivery(db: Path) -> None:
    assert main(["--db", str(db), *RECEIVED]) == 0
    delivery = ("hotline.cli.alerts", "hotline.adapters.alert_channels", "smtplib")
    tick = ("--db", str(db), "scheduler", "tick", "--as-of", "2026-03-20 09:00")
    assert loaded_after(*tick, among=delivery) == set()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_first_sentence_of_the_commands_own_help(name: str) -> None:
    command = typer.main.get_group(app).commands[name]
    assert command.get_short_help_str(limit=1_000) == COMMANDS[name].summary


@pytest.mark.parametrize("name", list(REPORTS))
def test_each_reports_summary_is_the_first_sentence_of_its_own_help(name: str) -> None:
    command = typer.main.get_group(reports()).commands[name]
    assert command.get_short_help_str(limit=1_000) == REPORTS[name].summary


def test_the_list_of_commands_is_as_the_loaded_commands_make_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = typer.main.get_group(app)
    loaded = typer.core.TyperGroup(commands={name: group.commands[name] for name in COMMANDS})
    context = group.make_context("hotline", ["--help"], resilient_parsing=True)
    formatter = context.make_formatter()
    typer.core.TyperGroup.format_commands(loaded, context, formatter)
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.endswith(formatter.getvalue())


def test_a_mistyped_command_is_still_told_the_near_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ordr", "show", "W-1"]) == 2
    assert "Did you mean 'order'" in capsys.readouterr().err
