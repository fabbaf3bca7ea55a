"""`hotline order ...`: operators log what happens to a work order, and look at it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from hotline.cli.context import application
from hotline.cli.options import ReasonOption, RevealOption, reveal_reason
from hotline.cli.output import json_text
from hotline.cli.parsing import parse_at, parse_day, say_assumed_time
from hotline.cli.renamed import old_switch, renamed, yes_unless_told
from hotline.cli.render import order_json, print_order, print_recorded
from hotline.domain.errors import InvalidInput
from hotline.domain.vocabulary import (
    Channel,
    ClosingResult,
    ContactMethod,
    Decision,
    DeclineReason,
    Evaluation,
    Kind,
    MediationOutcome,
    Rating,
)

app = typer.Typer(
    help="Log a work order's events and show its timeline and limits.", no_args_is_help=True
)


class ShowFormat(StrEnum):
    """What `order show --format` prints: one order has no CSV."""

    TABLE = "table"
    JSON = "json"


Number = Annotated[str, typer.Argument(help="The order number (工单编号).", show_default=False)]
At = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="When it happened, YYYY-MM-DD HH:MM in Asia/Shanghai (default: now; a date alone "
        "is taken as 00:00, and said so).",
        show_default=False,
    ),
]


def _log(ctx: typer.Context, number: str, event: str, at: str | None, **fields: Any) -> None:
    hotline = application(ctx)
    hotline.record(number, event, at=parse_at(at), **fields)
    print_recorded(hotline.view(number), event)
    say_assumed_time(at)


@app.command()
def receive(
    ctx: typer.Context,
    number: Number,
    unit: Annotated[str, typer.Option(help="The handling unit (承办单位), as in `hotline units`.")],
    kind: Annotated[
        str,
        typer.Option(
            help="complaint 投诉, report 举报, consultation 咨询, help 求助, "
            "suggestion 建议, revisit_review 回访复核单."
        ),
    ],
    channel: Annotated[str, typer.Option(help="12345 or 12315.")],
    at: At = None,
    summary: Annotated[str, typer.Option(help="What the citizen asks (诉求).")] = "",
    repeat_of: Annotated[
        str | None, typer.Option(help="The earlier order this repeats (重复工单).")
    ] = None,
    citizen_name: Annotated[str | None, typer.Option(help="Personal data: shown masked.")] = None,
    citizen_phone: Annotated[str | None, typer.Option(help="Personal data: shown masked.")] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            help="One level of the category (分类), broadest first; give it once per level, up "
            "to 3: --category 市场监管 --category 食品安全 --category 过期食品.",
            show_default=False,
        ),
    ] = None,
    district: Annotated[str | None, typer.Option(help="The district (区).")] = None,
    street: Annotated[str | None, typer.Option(help="The street or town (街道, 镇).")] = None,
    address: Annotated[
        str | None, typer.Option(help="The citizen's address (地址). Personal data: shown masked.")
    ] = None,
    entity: Annotated[
        str | None, typer.Option(help="The market entity complained about (被投诉对象).")
    ] = None,
    entity_code: Annotated[
        str | None,
        typer.Option(
            help="The entity's unified social credit code (统一社会信用代码), 18 characters."
        ),
    ] = None,
) -> None:
    """受理: the unit received the order."""
    hotline = application(ctx)
    hotline.receive(
        number,
        unit=unit,
        kind=Kind.parse(kind),
        channel=Channel.parse(channel),
        at=parse_at(at),
        summary=summary,
        repeat_of=repeat_of,
        citizen_name=citizen_name,
        citizen_phone=citizen_phone,
        category=category or None,
        district=district,
        street=street,
        address=address,
        entity=entity,
        entity_code=entity_code,
    )
    print_recorded(hotline.view(number), "received")
    say_assumed_time(at)
    if repeat_of is not None and not hotline.exists(repeat_of.strip()):
        typer.echo(
            f"hotline: warning: order {repeat_of.strip()} (--repeat-of) is not in this store; "
            "recorded as given, since it may be in another system",
            err=True,
        )


@app.command("first-contact")
def first_contact(
    ctx: typer.Context,
    number: Number,
    at: At = None,
    by: Annotated[str | None, typer.Option(help="Who made the contact (经办人).")] = None,
    method: Annotated[
        str | None,
        typer.Option(help="phone 电话, sms 短信, visit 上门, in_person 当面, other 其他."),
    ] = None,
) -> None:
    """先行联系: the unit first reached the citizen."""
    _log(
        ctx,
        number,
        "first_contact",
        at,
        by=by,
        method=ContactMethod.parse(method) if method else None,
    )


app.command("contact", hidden=True)(first_contact)  # its name until 0.1.0


@app.command()
def extend(
    ctx: typer.Context,
    number: Number,
    until: Annotated[str, typer.Option(help="The promised date (承诺办理期限), YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Why the extension (延期理由).")],
    legal_basis: Annotated[
        str | None, typer.Option(help="The legal basis (依据法律法规).", show_default=False)
    ] = None,
    at: At = None,
    basis: Annotated[str | None, typer.Option("--basis", hidden=True)] = None,
) -> None:
    """延期: an extension was applied for and granted."""
    _log(
        ctx,
        number,
        "extended",
        at,
        until=parse_day(until, "--until"),
        reason=reason,
        legal_basis=renamed(legal_basis, basis, "--legal-basis", "--basis") or "",
    )


@app.command("return")
def return_(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the order goes back (退单理由).")],
    out_of_jurisdiction: Annotated[
        bool,
        typer.Option("--out-of-jurisdiction", help="Not this unit's jurisdiction (非本单位管辖)."),
    ] = False,
    at: At = None,
) -> None:
    """退单: the unit sent the order back to the hotline."""
    _log(ctx, number, "returned", at, reason=reason, out_of_jurisdiction=out_of_jurisdiction)


@app.command("reject-return")
def reject_return(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the hotline refused the return.")] = "",
    at: At = None,
) -> None:
    """二次退回: the hotline refused the return; the unit must handle the order."""
    _log(ctx, number, "return_rejected", at, reason=reason)


@app.command()
def close(
    ctx: typer.Context,
    number: Number,
    result: Annotated[
        str,
        typer.Option(
            help="resolved 实际解决, explained 解释说明, unresolved 未解决, unsubstantiated 不属实."
        ),
    ],
    citizen_informed: Annotated[
        bool | None,
        typer.Option(
            "--citizen-informed/--no-citizen-informed",
            help="Whether the citizen was told the result (default: told).",
            show_default=False,
        ),
    ] = None,
    no_reply_requested: Annotated[
        bool,
        typer.Option("--no-reply-requested", help="The citizen asked for no reply (无需回复)."),
    ] = False,
    report: Annotated[str, typer.Option(help="The result as reported (办理结果).")] = "",
    at: At = None,
    not_informed: Annotated[bool, typer.Option("--not-informed", hidden=True)] = False,
) -> None:
    """办结: the handling result was entered."""
    informed = yes_unless_told(
        citizen_informed, not_informed, "--citizen-informed/--no-citizen-informed", "--not-informed"
    )
    _log(
        ctx,
        number,
        "closed",
        at,
        result=ClosingResult.parse(result),
        citizen_informed=informed,
        no_reply_requested=no_reply_requested,
        report=report,
    )


@app.command()
def revisit(
    ctx: typer.Context,
    number: Number,
    contacted: Annotated[
        bool | None,
        typer.Option(
            "--contacted/--no-contacted",
            help="Whether the citizen was reached (default: reached).",
            show_default=False,
        ),
    ] = None,
    consistent: Annotated[
        bool | None,
        typer.Option(
            "--consistent/--no-consistent",
            help="Whether the result is as reported (default: as reported; else 不符).",
            show_default=False,
        ),
    ] = None,
    evaluation: Annotated[
        str | None, typer.Option(help="excellent 优, good 良, fair 中, poor 差.")
    ] = None,
    at: At = None,
    not_contacted: Annotated[bool, typer.Option("--not-contacted", hidden=True)] = False,
    inconsistent: Annotated[bool, typer.Option("--inconsistent", hidden=True)] = False,
) -> None:
    """回访: the hotline's follow-up check of a closed order."""
    reached = yes_unless_told(
        contacted, not_contacted, "--contacted/--no-contacted", "--not-contacted"
    )
    as_reported = yes_unless_told(
        consistent, inconsistent, "--consistent/--no-consistent", "--inconsistent"
    )
    _log(
        ctx,
        number,
        "revisited",
        at,
        contacted=reached,
        consistent=as_reported,
        evaluation=Evaluation.parse(evaluation) if evaluation else None,
    )


@app.command()
def rate(
    ctx: typer.Context,
    number: Number,
    rating: Annotated[
        str,
        typer.Option(
            help="satisfied 满意, basically_satisfied 基本满意, average 一般, dissatisfied 不满意."
        ),
    ],
    excluded: Annotated[
        bool, typer.Option("--excluded", help="Not counted (客观件/不纳入测评).")
    ] = False,
    at: At = None,
) -> None:
    """满意度测评: the citizen's satisfaction."""
    _log(ctx, number, "rated", at, rating=Rating.parse(rating), excluded=excluded)


@app.command()
def supervise(
    ctx: typer.Context,
    number: Number,
    at_fault: Annotated[
        bool, typer.Option("--at-fault", help="The unit was found at fault (处理部门有责).")
    ] = False,
    at: At = None,
) -> None:
    """督办: the hotline supervised the result."""
    _log(ctx, number, "supervised", at, at_fault=at_fault)


def _choices(vocabulary: type[Decision | DeclineReason | MediationOutcome]) -> str:
    return ", ".join(f"{member.value} {member.label}" for member in vocabulary) + "."


@app.command()
def accept(ctx: typer.Context, number: Number, at: At = None) -> None:
    """受理: a 12315 complaint was accepted for handling (SAMR Order No. 20)."""
    _log(ctx, number, "accepted", at)


@app.command()
def decline(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[
        str, typer.Option(help=f"Why not accepted (不予受理理由): {_choices(DeclineReason)}")
    ],
    at: At = None,
) -> None:
    """不予受理: a 12315 complaint was not accepted; that ends it (no close)."""
    _log(ctx, number, "declined", at, reason=DeclineReason.parse(reason))


@app.command("end-mediation")
def end_mediation(
    ctx: typer.Context,
    number: Number,
    outcome: Annotated[str, typer.Option(help=_choices(MediationOutcome))],
    reason: Annotated[
        str, typer.Option(help="Why mediation was terminated (终止调解理由); needed then.")
    ] = "",
    recovered: Annotated[
        str | None,
        typer.Option(
            help="The economic loss recovered (挽回经济损失), in yuan: 1234.50.",
            show_default=False,
        ),
    ] = None,
    at: At = None,
) -> None:
    """调解终结: mediation of an accepted 12315 complaint ended."""
    amount = {} if recovered is None else {"recovered": recovered}
    _log(
        ctx,
        number,
        "mediation_ended",
        at,
        outcome=MediationOutcome.parse(outcome),
        reason=reason,
        **amount,
    )


@app.command("decide-case")
def decide_case(
    ctx: typer.Context,
    number: Number,
    filed: Annotated[
        bool,
        typer.Option(
            "--filed/--no-filed",
            help="Whether a case was opened (立案); on a complaint, a 诉转案.",
            show_default=False,
        ),
    ],
    at: At = None,
) -> None:
    """立案决定: whether a case was opened on a 12315 report or an accepted complaint."""
    _log(ctx, number, "case_decided", at, filed=filed)


@app.command()
def notify(
    ctx: typer.Context,
    number: Number,
    of: Annotated[str, typer.Option("--of", help=f"The decision told of: {_choices(Decision)}")],
    at: At = None,
) -> None:
    """告知: the complainant or reporter was told of a decision."""
    _log(ctx, number, "notified", at, of=Decision.parse(of))


@app.command()
def correct(
    ctx: typer.Context,
    number: Number,
    event: Annotated[
        str,
        typer.Option(
            help="The event to correct: its name (closed, first_contact …) if the order has "
            "one such, else its number as `order show` lists it (#3)."
        ),
    ],
    field: Annotated[str, typer.Option(help="The field to correct: at, result, until, unit …")],
    value: Annotated[
        list[str],
        typer.Option(
            help="The right value (a time for at: YYYY-MM-DD HH:MM). For category, one level "
            "each time, broadest first: --value 市场监管 --value 食品安全."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why (更正理由): kept in the audit trail.")],
) -> None:
    """更正: correct a mistake in an earlier event. The original stays in the trail; every
    report uses the corrected value."""
    hotline = application(ctx)
    hotline.correct(number, event, field, _corrected_value(field, value), reason)
    print_recorded(hotline.view(number), "corrected")
    if field == "at":
        say_assumed_time(value[0], "--value")


def _corrected_value(field: str, values: list[str]) -> object:
    """The levels for a list field (category), else the one value given (a time for at)."""
    if field == "category":
        return values
    if len(values) != 1:
        raise InvalidInput(
            f"--value is given {len(values)} times; only --field category takes one per level"
        )
    return parse_at(values[0], "--value") if field == "at" else values[0]


@app.command()
def show(
    ctx: typer.Context,
    number: Number,
    output: Annotated[
        ShowFormat | None,
        typer.Option(
            "--format",
            help="table (for people, the default) or json (for programs; dates as YYYY-MM-DD).",
            show_default=False,
        ),
    ] = None,
    reveal: RevealOption = False,
    reason: ReasonOption = None,
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
) -> None:
    """The order's timeline (happened and recorded times, who recorded each event) and its
    limits (1·5·13, or Order 20's for a 12315 complaint or report) as of today. Personal
    data shows masked unless --reveal."""
    shown = renamed(output, old_switch(as_json, ShowFormat.JSON), "--format json", "--json")
    hotline = application(ctx)
    if (shown_for := reveal_reason(reveal, reason)) is not None:
        hotline.reveal(number, shown_for)
    view = hotline.view(number)
    if shown is ShowFormat.JSON:
        typer.echo(json_text(order_json(view, reveal)))
    else:
        print_order(view, reveal)
