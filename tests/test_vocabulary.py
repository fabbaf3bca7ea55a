"""One name per field: each field of each order event (as its pydantic model has it) is the
same word in the bulk import, as a `hotline order` flag and in `order show --format json`.
The import's names are the canonical ones; a new field that breaks the rule fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from hotline.domain.aggregate import BOOKKEEPING, DomainEvent
from hotline.domain.order import ORDER_EVENTS
from hotline.domain.personal_data import mask, masks
from hotline.domain.vocabulary import Channel, Kind

Cli = Callable[..., tuple[int, str, str]]

COMMANDS = {
    "received": "receive",
    "first_contact": "first-contact",
    "extended": "extend",
    "returned": "return",
    "return_rejected": "reject-return",
    "closed": "close",
    "revisited": "revisit",
    "rated": "rate",
    "supervised": "supervise",
    "accepted": "accept",
    "declined": "decline",
    "mediation_ended": "end-mediation",
    "case_decided": "decide-case",
    "notified": "notify",
}
"""The `hotline order` command that logs each event."""
BEFORE = {"return_rejected": ["returned"], "revisited": ["closed"], "rated": ["closed"],
          "mediation_ended": ["accepted"], "case_decided": ["accepted"], "notified": ["accepted"]}  # fmt: skip
"""What must have happened to an order before the event can be logged."""
LIFECYCLE = {"accepted", "declined", "mediation_ended", "case_decided", "notified"}
"""The 12315 steps (SAMR Order No. 20): logged only on a 12315 complaint."""
ENVELOPE = {"version", "event", "at", "recorded", "actor", "role", "corrected_by"}
"""The keys of an event in `order show --format json` that are not among its own fields."""
UNIT = "闵行区市场监管局"
TEXTS = [UNIT, "13812345678", "91310000132149237G"]
"""Text tried for a text field, first that its type takes: a unit's name (a unit must be
known) fits plain text, a phone number fits phone numbers and order numbers too, and a
unified social credit code fits credit codes."""
RECEIVED_AT = datetime.fromisoformat("2026-02-13T10:00:00+08:00")


def _fields(event: type[DomainEvent]) -> dict[str, FieldInfo]:
    """The fields a user gives for `event`: its own and `at`, not the order number (the
    command's argument, the import's and the JSON's `order`)."""
    return {
        name: info
        for name, info in event.model_fields.items()
        if name not in BOOKKEEPING - {"at"} and name != "number"
    }


def _adapter(info: FieldInfo) -> TypeAdapter[Any]:
    if info.metadata:
        return TypeAdapter(Annotated[(info.annotation, *info.metadata)])  # type: ignore[valid-type]
    return TypeAdapter(info.annotation)


def _sample(name: str, info: FieldInfo, at: datetime) -> Any:
    """A valid value of the field that is not its default."""
    if name == "at":
        return at
    annotation = info.annotation
    types = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    for kind in types:
        if kind is bool:
            return not info.default
        if kind is date:
            return at.date() + timedelta(days=30)
        if kind is Decimal:
            return Decimal("1234.50")
        if isinstance(kind, type) and issubclass(kind, Enum):
            return next(member for member in kind if member != info.default)
        if get_origin(get_args(kind)[0] if get_origin(kind) is Annotated else kind) is list:
            return _adapter(info).validate_python(TEXTS[:2])
    for text in TEXTS:
        try:
            return _adapter(info).validate_python(text)
        except ValidationError:
            continue
    raise AssertionError(f"no sample value for field {name!r}: add one to TEXTS")


def _values(event: type[DomainEvent], at: datetime, everything: bool) -> dict[str, Any]:
    """A value for each field of `event` (only the required ones and `at` unless
    `everything`)."""
    return {
        name: _sample(name, info, at)
        for name, info in _fields(event).items()
        if everything or info.is_required()
    }


def _step_values(
    name: str, step: type[DomainEvent], at: datetime, everything: bool
) -> dict[str, Any]:
    """`_values` of one step towards a `name` event: the order a 12315 complaint if `name`
    is a 12315 step."""
    values = _values(step, at, everything)
    if step.name == "received" and name in LIFECYCLE:
        values |= {"channel": Channel.HOTLINE_12315, "kind": Kind.COMPLAINT}
    return values


def _flags(event: type[DomainEvent], values: dict[str, Any]) -> list[str]:
    """`values` as the flags of the event's command: the field's name with dashes, for
    a yes/no field `--name` (yes) or `--no-name` (no), and for a list the flag once per item."""
    flags: list[str] = []
    for name, value in values.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"--{flag}" if value else f"--no-{flag}")
        elif isinstance(value, list):
            flags += [part for item in value for part in (f"--{flag}", item)]
        else:
            shown = _json(event, name, value)
            flags += [f"--{flag}", f"{value:%Y-%m-%d %H:%M}" if name == "at" else shown]
    return flags


def _json(event: type[DomainEvent], name: str, value: Any) -> Any:
    """`value` as JSON gives it (the import's line and `order show`), personal data
    unmasked."""
    return _adapter(_fields(event)[name]).dump_python(value, mode="json")


def _steps(name: str) -> list[tuple[type[DomainEvent], datetime, bool]]:
    """The events an order needs for one `name` event with every field given, in order:
    (event, when, every field or only the required ones)."""
    events = ["received", *BEFORE.get(name, [])] if name != "received" else []
    steps = [
        (ORDER_EVENTS[e], RECEIVED_AT + timedelta(days=i), False) for i, e in enumerate(events)
    ]
    return [*steps, (ORDER_EVENTS[name], RECEIVED_AT + timedelta(days=len(events)), True)]


def _shown(cli: Cli, number: str) -> dict[str, Any]:
    code, out, err = cli("order", "show", number, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def _check_shown(entry: dict[str, Any], event: type[DomainEvent], values: dict[str, Any]) -> None:
    """The event in `order show --format json` has each field under its own name, and
    nothing else but the envelope."""
    assert entry.keys() - ENVELOPE == values.keys() - {"at"}
    for name, value in values.items():
        expected = _json(event, name, value)
        assert entry[name] == (mask(name, expected) if masks(name) else expected), name


def test_every_event_knows_its_command() -> None:
    assert COMMANDS.keys() == ORDER_EVENTS.keys()


@pytest.mark.parametrize("name", list(ORDER_EVENTS))
def test_each_field_has_one_name_in_the_cli_the_json_and_the_import(
    cli: Cli, tmp_path: Path, name: str
) -> None:
    event = ORDER_EVENTS[name]
    code, help_text, _ = cli("order", COMMANDS[name], "--help")
    assert code == 0
    for field in _fields(event):
        assert re.search(rf"--{field.replace('_', '-')}(?![\w-])", help_text), field

    logged = f"CLI-{name}"
    for step, at, everything in _steps(name):
        values = _step_values(name, step, at, everything)
        code, _, err = cli("order", COMMANDS[step.name], logged, *_flags(step, values))
        assert code == 0, err
    shown = _shown(cli, logged)
    assert shown["order"] == logged
    _check_shown(shown["events"][-1], event, values)

    imported = f"IMP-{name}"
    lines = []
    for step, at, everything in _steps(name):
        values = _step_values(name, step, at, everything)
        fields = {key: _json(step, key, value) for key, value in values.items()}
        lines.append(json.dumps({"order": imported, "event": step.name, **fields}))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert code == 0, err
    again = _shown(cli, imported)
    assert again["order"] == imported
    _check_shown(again["events"][-1], event, values)


def _order(cli: Cli, number: str, *before: tuple[str, ...]) -> None:
    """Receive order `number` and log `before` (a command and its flags, each) on it."""
    steps = [("receive", "--unit", UNIT, "--kind", "投诉", "--channel", "12345"), *before]
    for i, (command, *flags) in enumerate(steps):
        at = f"{RECEIVED_AT + timedelta(days=i):%Y-%m-%d %H:%M}"
        code, _, err = cli("order", command, number, *flags, "--at", at)
        assert code == 0, err


CLOSED = ("close", "--result", "resolved")
OLD_NAMES = [
    ([], ("contact", "--by", "李四"), ("first-contact", "--by", "李四")),
    ([], ("extend", *("--until", "2026-03-20", "--reason", "r"), "--basis", "《消费者权益保护法》"),
     ("extend", *("--until", "2026-03-20", "--reason", "r"), "--legal-basis", "《消费者权益保护法》")),
    ([], ("close", "--result", "resolved", "--not-informed"),
     ("close", "--result", "resolved", "--no-citizen-informed")),
    ([CLOSED], ("revisit", "--not-contacted"), ("revisit", "--no-contacted")),
    ([CLOSED], ("revisit", "--inconsistent"), ("revisit", "--no-consistent")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "old", "new"),
    OLD_NAMES,
    ids=["contact", "basis", "not-informed", "not-contacted", "inconsistent"],
)
def test_an_old_flag_or_command_still_works(
    cli: Cli, before: list[tuple[str, ...]], old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    """Renamed after 0.1.0: the old name logs the same event as the new one."""
    _order(cli, "OLD-1", *before, old)
    _order(cli, "NEW-1", *before, new)
    events = [_shown(cli, number)["events"][-1] for number in ("OLD-1", "NEW-1")]
    for event in events:
        del event["recorded"]
    assert events[0] == events[1]
    assert events[0]["event"] == {"contact": "first_contact", "extend": "extended",
                                  "close": "closed", "revisit": "revisited"}[old[0]]  # fmt: skip


def test_order_show_json_is_format_json(cli: Cli) -> None:
    _order(cli, "OLD-1")
    old = cli("order", "show", "OLD-1", "--json")
    assert old[0] == 0
    assert old == cli("order", "show", "OLD-1", "--format", "json")


def test_audit_by_is_audit_actor(cli: Cli) -> None:
    _order(cli, "OLD-1")
    assert cli("--actor", "李四", "order", "supervise", "OLD-1")[0] == 0
    old = cli("audit", "--by", "李四", "--format", "json")
    assert old[0] == 0 and len(json.loads(old[1])["rows"]) == 1
    assert old == cli("audit", "--actor", "李四", "--format", "json")


EXTEND = ("extend", "OLD-1", "--until", "2026-03-20", "--reason", "r")
BOTH_NAMES = {
    "basis": ([], (*EXTEND, "--basis", "a", "--legal-basis", "b")),
    "not-informed": ([], ("close", "OLD-1", "--result", "resolved", "--not-informed",
                          "--no-citizen-informed")),
    "not-informed-and-informed": ([], ("close", "OLD-1", "--result", "resolved",
                                       "--not-informed", "--citizen-informed")),
    "not-contacted": ([CLOSED], ("revisit", "OLD-1", "--not-contacted", "--no-contacted")),
    "inconsistent": ([CLOSED], ("revisit", "OLD-1", "--inconsistent", "--consistent")),
    "json": ([], ("show", "OLD-1", "--json", "--format", "table")),
    "json-reveal": ([], ("show", "OLD-1", "--json", "--format", "json", "--reveal", "--reason",
                         "r")),
}  # fmt: skip


@pytest.mark.parametrize(("before", "args"), BOTH_NAMES.values(), ids=BOTH_NAMES.keys())
def test_a_flag_under_both_names_is_refused(
    cli: Cli, before: list[tuple[str, ...]], args: tuple[str, ...]
) -> None:
    """One line on stderr, exit 1, nothing written (not even the reveal's record)."""
    _order(cli, "OLD-1", *before)
    before_events = _shown(cli, "OLD-1")["events"]
    code, out, err = cli("order", *args)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "is the old name of" in err
    assert _shown(cli, "OLD-1")["events"] == before_events


def test_old_names_are_hidden(cli: Cli) -> None:
    helps = {
        command: cli("order", command, "--help")[1]
        for command in ("extend", "close", "revisit", "show")
    }
    assert "--basis" not in helps["extend"] and "--legal-basis" in helps["extend"]
    assert "--not-informed" not in helps["close"]
    assert "--not-contacted" not in helps["revisit"] and "--inconsistent" not in helps["revisit"]
    assert "--json" not in helps["show"]
    commands = [line.split()[0] for line in cli("order", "--help")[1].splitlines() if line.strip()]
    assert "first-contact" in commands and "contact" not in commands
    assert "--by" not in cli("audit", "--help")[1]
