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

from hotline.adapters.settings import Settings, read_settings
from hotline.cli.lazy import Lazy, lazy, lazy_group
from hotline.domain.errors import HotlineError

EXIT_REFUSED = 1
EXIT_INTERNAL = 70

REPORTS_HELP = "Rates and scores per unit for a period, and the orders behind them."


def reports() -> typer.Typer:
    """`hotline report ...`: commands of several modules."""
    from hotline.cli import deductions, hotspots, kpi, notice, report, scores, trend

    group = typer.Typer(help=REPORTS_HELP, no_args_is_help=True)
    group.command("rates")(report.rates)
    group.command("explain")(report.explain)
    group.command("hotspots")(hotspots.hotspots)
    group.command("scores")(scores.scores)
    group.command("deductions")(deductions.deductions)
    group.command("kpi")(kpi.kpi)
    group.command("trend")(trend.trend)
    group.command("notice")(notice.notice)
    return group


COMMANDS: dict[str, Lazy] = {
    "import": lazy(
        "hotline.cli.bulk:import_file",
        "Import order events from JSON Lines or a platform export (.xlsx, .xls, CSV), the "
        "format found from the content; loading it twice changes nothing.",
    ),
    "mappings": lazy(
        "hotline.cli.bulk:list_mappings",
        "The shipped export mappings: name, file, columns known, what it is for.",
    ),
    "rubrics": lazy(
        "hotline.cli.rubrics:list_rubrics",
        "The rubrics shipped (or in --rubrics): name, kind and title.",
    ),
    "alerts": lazy(
        "hotline.cli.alerts:app",
        "The alert feed (every flag), and the flags' delivery to robots, mail and webhooks.",
    ),
    "audit": lazy(
        "hotline.cli.audit:audit",
        "The audit trail: every event with when it was recorded and by whom, oldest first; "
        "corrections show what they changed.",
    ),
    "verify": lazy(
        "hotline.cli.verify:verify_store",
        "Check every stored event against its order's hash chain and the read model's audit "
        "trail: one line for each event altered, moved or removed (docs/verify.md).",
    ),
    "order": lazy(
        "hotline.cli.order:app", "Log a work order's events and show its timeline and limits."
    ),
    "orders": lazy("hotline.cli.orders:app", "Orders that need attention."),
    "report": Lazy(reports, REPORTS_HELP),
    "calendar": lazy(
        "hotline.cli.calendar:app",
        "Working days: a date's status, counts, deadlines; add a published year or a closure.",
    ),
    "projections": lazy(
        "hotline.cli.projections:app",
        "The read model: where it stands, rebuilding it, following the store.",
    ),
    "finding": lazy(
        "hotline.cli.finding:app",
        "Findings: an inspector's judgements that rubric items count (data-standard errors, "
        "document quality, 三方转接 …).",
    ),
    "scheduler": lazy(
        "hotline.cli.scheduler:app", "The overdue scheduler: flag orders near or past a limit."
    ),
    "key": lazy(
        "hotline.cli.key:app", "The store's encryption key (HOTLINE_KEY, HOTLINE_KEY_FILE)."
    ),
    "db": lazy(
        "hotline.cli.db:app", "The store's tables and roles (PostgreSQL), run as the tables' owner."
    ),
    "export": lazy("hotline.cli.order_export:app", "An office's data out, as files."),
    "units": lazy(
        "hotline.cli.units:app",
        "The handling units (承办单位): list them; add a unit or an office, rename one.",
    ),
}
"""Every command, in the order the list of commands shows them, each loaded when used
(`hotline.cli.lazy`); the summary is the first sentence of the command's help."""

app = typer.Typer(
    name="hotline",
    help="Event-sourced tracker for 12345/12315 hotline work orders (工单), "
    "with the 1·5·13 working-day limits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=lazy_group(COMMANDS),
)


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
    if db is not None:
        from hotline.adapters.eventstore import password_in  # with the store, not for --help

        if password_in(db):
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
        from hotline.cli.output import printable  # not for --help: it loads the scoring rules

        print("hotline:", *printable(str(error)).split(), file=sys.stderr)  # one line, as text
        return EXIT_REFUSED
    except Exception as error:
        from hotline.adapters.eventstore import store_failure
        from hotline.cli.output import printable

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
