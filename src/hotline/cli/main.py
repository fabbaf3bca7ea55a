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


REPORTS: dict[str, Lazy] = {
    "rates": lazy(
        "hotline.cli.report:rates",
        "Volume, first-contact, on-time, return, resolution and satisfaction per unit (of the "
        "orders of --channel and --kind, if given).",
    ),
    "explain": lazy(
        "hotline.cli.report:explain",
        "The orders behind a unit's numbers: late, not contacted in time, returned late, rated "
        "不满意 … With --rubric: what cost the unit its points, and how many (each part over "
        "the orders it covers).",
    ),
    "hotspots": lazy(
        "hotline.cli.hotspots:hotspots",
        "Where the orders received in a period concentrate: per key its orders, how many are "
        "repeats (重复工单) and its share of all orders (of the unit's, with --unit).",
    ),
    "scores": lazy(
        "hotline.cli.scores:scores",
        "Per unit the components, total, rank and grade, as the official tables (附件1–3), over "
        "the orders the rubric covers (shanghai-12345-2019: 12345), narrowed by --channel and "
        "--kind.",
    ),
    "deductions": lazy(
        "hotline.cli.deductions:deductions",
        "Points lost per unit under a deduction rubric (market-office-2017: Ⅵ-8-5, Ⅵ-8-1; "
        "`--level office` scores the offices it is written for); each part over the orders it "
        "covers, narrowed by --channel and --kind.",
    ),
    "kpi": lazy(
        "hotline.cli.kpi:kpi",
        "Targets met or not met (kpi-2023: on-time ≥ 95%, first contact ≥ 95%, "
        "dissatisfaction ≤ 10%), per unit, group and system, over the orders the rubric "
        "covers (kpi-2023: 12345), narrowed by --channel and --kind.",
    ),
    "trend": lazy(
        "hotline.cli.trend:trend",
        "Each metric per month or quarter, as `report rates` gives it for that period, with a "
        "sparkline per row; with --rubric, the units' ranks per period and how far each moved.",
    ),
    "notice": lazy(
        "hotline.cli.notice:notice",
        "Draft the 通报 of a weighted rubric's results as a Word file: the scoring, the grade "
        "lists and the summary tables (附件1–3), with `report scores`'s numbers.",
    ),
}
"""`hotline report ...`: commands of several modules, each loaded when used, as `COMMANDS`
(`report rates` loads neither the workbook's nor the Word file's libraries)."""


def reports() -> typer.Typer:
    """`hotline report ...`: the group of `REPORTS`."""
    return typer.Typer(help=REPORTS_HELP, no_args_is_help=True, cls=lazy_group(REPORTS))


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
