"""The `hotline` command: a thin skin over the application service.

Every refusal reaches the user as one line on stderr and a non-zero exit;
no traceback does (set HOTLINE_DEBUG=1 to see one for an internal error).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from hotline.adapters.eventstore import password_in, store_failure
from hotline.adapters.settings import Settings, read_settings
from hotline.cli import (
    audit,
    bulk,
    calendar,
    db,
    deductions,
    finding,
    hotspots,
    key,
    kpi,
    notice,
    order,
    order_export,
    orders,
    projections,
    report,
    rubrics,
    scheduler,
    scores,
    units,
    verify,
)
from hotline.cli.output import printable
from hotline.domain.errors import HotlineError

EXIT_REFUSED = 1
EXIT_INTERNAL = 70

app = typer.Typer(
    name="hotline",
    help="Event-sourced tracker for 12345/12315 hotline work orders (工单), "
    "with the 1·5·13 working-day limits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
reports = typer.Typer(
    help="Rates and scores per unit for a period, and the orders behind them.", no_args_is_help=True
)
reports.command("rates")(report.rates)
reports.command("explain")(report.explain)
reports.command("hotspots")(hotspots.hotspots)
reports.command("scores")(scores.scores)
reports.command("notice")(notice.notice)
reports.command("deductions")(deductions.deductions)
reports.command("kpi")(kpi.kpi)

app.add_typer(order.app, name="order")
app.add_typer(orders.app, name="orders")
app.add_typer(reports, name="report")
app.add_typer(calendar.app, name="calendar")
app.add_typer(projections.app, name="projections")
app.add_typer(finding.app, name="finding")
app.add_typer(scheduler.app, name="scheduler")
app.add_typer(key.app, name="key")
app.add_typer(db.app, name="db")
app.add_typer(order_export.app, name="export")
app.add_typer(units.app, name="units")
app.command("import")(bulk.import_file)
app.command("mappings")(bulk.list_mappings)
app.command("rubrics")(rubrics.list_rubrics)
app.command("alerts")(scheduler.alerts)
app.command("audit")(audit.audit)
app.command("verify")(verify.verify_store)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="The store: a SQLite file, or a postgresql://user@host:port/dbname URL "
            "(the password from PGPASSWORD or ~/.pgpass). Default: $HOTLINE_DB, "
            "else ~/.local/share/hotline/hotline.db.",
        ),
    ] = None,
    rubrics: Annotated[
        Path | None,
        typer.Option(
            help="The rubrics folder (units, time limits). Default: $HOTLINE_RUBRICS, "
            "else the one installed with hotline."
        ),
    ] = None,
    projections: Annotated[
        Path | None,
        typer.Option(
            help="The metric definitions folder (*.py). Default: $HOTLINE_PROJECTIONS, "
            "else the one installed with hotline."
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who records what this command writes (录入人), kept with every event. "
            "Default: $HOTLINE_ACTOR, else the operating-system user.",
        ),
    ] = None,
) -> None:
    if db is not None and password_in(db):
        typer.echo(
            "hotline: warning: a password in --db is shown to every user of this machine "
            "(ps); leave it out of the URL and set PGPASSWORD or use ~/.pgpass",
            err=True,
        )
    environment: Settings = ctx.obj  # read by `main`, once
    ctx.obj = environment.given(db=db, rubrics=rubrics, projections=projections, actor=actor)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: the process's arguments); return the exit code."""
    settings: Settings | None = None
    try:
        settings = read_settings()
        app(args=argv, prog_name="hotline", obj=settings)
    except SystemExit as stop:  # Typer's own ending, usage errors included
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except HotlineError as error:
        print("hotline:", *printable(str(error)).split(), file=sys.stderr)  # one line, as text
        return EXIT_REFUSED
    except Exception as error:
        if (failure := store_failure(error)) is not None:  # read-only, full, locked, lost
            print("hotline:", *printable(str(failure)).split(), file=sys.stderr)
            return EXIT_REFUSED
        if settings is not None and settings.debug:
            traceback.print_exc()
        print(
            f"hotline: internal error ({type(error).__name__}: {printable(str(error))}); "
            "nothing more was written. Set HOTLINE_DEBUG=1 to see the details and report them.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0
