"""A mapping (字段对照): how one platform's export layout reads as order events.

An export has one row per order and a column per fact; a mapping, kept as data (a TOML
file per layout, rubrics/mappings/), says which column gives which field of which event,
the header names the column goes by, how its values read (已解决 → resolved, 是/否), the
time formats and zone, and the platform's names for units. A row gives each event once,
except where the mapping names entries of one kind (`[events.acceptance_notice] kind =
"notified"`), each with its own columns and fixed fields: an order's three notices (告知).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from hotline.domain.aggregate import in_shanghai
from hotline.domain.errors import InvalidInput
from hotline.domain.order import ORDER_EVENTS

BOOKKEEPING_FIELDS = {"number", "originator_id", "originator_version", "timestamp", "actor",
                      "chain", "role"}  # fmt: skip
"""Fields an event gets from hotline itself, never from a file."""
EVENT_FIELDS: dict[str, set[str]] = {
    name: set(event.model_fields) - BOOKKEEPING_FIELDS for name, event in ORDER_EVENTS.items()
}
"""The fields a file may give each event ("at", when it happened, among them)."""
ENTRY_NAME = r"^[a-z][a-z0-9_]{0,39}$"
"""An `[events.NAME]` entry's name: an event's, or one of the mapping's own."""
SUMMARY_WORDS = ("合计", "总计", "小计")
"""A row holding one of these as a cell is a summary row, not an order."""
EXCEL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's serial dates (1900 date system, its leap-year bug included)."""
SERIAL_RANGE = (1.0, 2958465.0)
"""Serial numbers Excel can show as dates (1900-01-01 … 9999-12-31)."""
_SPACES = re.compile(r"[\s\u3000]+")

Cell = str | int | float | bool | datetime | date | None
"""A cell as a table reader gives it."""


def cell_text(cell: Cell) -> str:
    """A cell as trimmed text ("" when blank; full-width spaces trimmed like others), whole
    numbers without ".0"; text that looks like a formula (=HYPERLINK(…)) stays text."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


class Column(BaseModel):
    """One column of the export: its header names, and the event fields it gives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    headers: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """The header and its synonyms, the first the layout's own."""
    to: Annotated[list[str], Field(min_length=1)]
    """`event.field` targets (`received.at`), or `order` for the order number."""
    read: Literal["text", "time", "date"] = "text"
    values: str | None = None
    """The name of a `[values.NAME]` table the cell's text is looked up in first."""

    @field_validator("to")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        for target in targets:  # a named entry's targets are checked by the Mapping
            if target != "order" and target.partition(".")[0] in EVENT_FIELDS:
                check_target(target)
        return targets


def check_target(target: str, kind: str | None = None) -> None:
    """Refuse an `event.field` that is not a field a file may give that event (`kind`: the
    event an `[events.NAME]` entry's target is of)."""
    event, _, name = target.partition(".")
    kind = kind or event
    if kind not in EVENT_FIELDS:
        raise ValueError(
            f"{target!r}: no event {event!r}; events: {', '.join(EVENT_FIELDS)}, or an "
            f"[events.{event}] entry with its kind"
        )
    if name not in EVENT_FIELDS[kind]:
        raise ValueError(
            f"{target!r}: {kind} has no field {name!r}; its fields: "
            f"{', '.join(sorted(EVENT_FIELDS[kind]))}"
        )


def checked(kind: str, name: str, value: Any) -> Any:
    """`value` as the event's field takes it; InvalidInput with pydantic's reason if not."""
    if value is None or name == "at":
        return value
    try:
        return _adapter(kind, name).validate_python(value)
    except ValidationError as error:
        raise InvalidInput(error.errors(include_url=False)[0]["msg"]) from None


@cache
def _adapter(kind: str, name: str) -> TypeAdapter[Any]:
    info = ORDER_EVENTS[kind].model_fields[name]
    form: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(form)


class EventRule(BaseModel):
    """`[events.NAME]`: when a row's event is made, and, for an entry named otherwise than
    an event, which event it is and the fields it always has: a row can give several events
    of one kind so (受理告知时间 and 立案告知时间 are two notices)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str | None = None
    """The event an entry not named after one is (`notified`); its columns' targets are
    `NAME.field`."""
    fields: dict[str, str | bool] = Field(default_factory=dict)
    """Fields the entry's event always has, no column giving them (a notice's `of`)."""
    when: str | None = None
    """The event is made only when this field's cell is given: its own (a rating read from
    the revisit's time is made only when 满意度 is filled in) or another's `event.field`
    (not its `at`: the notice of a 不予受理 only when 不予受理原因 is given)."""
    unless: str | None = None
    """The event is not made when the row gives this `event.field` (not its `at`): a 受理 read
    from 受理时间 is not made when 不予受理原因 says the complaint was declined."""


class Mapping(BaseModel):
    """An export layout (one TOML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    time_zone: str = "Asia/Shanghai"
    time_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d %H:%M:%S"])
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d"])
    units: dict[str, str] = Field(default_factory=dict)
    """The platform's unit names → hotline's (`hotline units`)."""
    values: dict[str, dict[str, str | bool]] = Field(default_factory=dict)
    defaults: dict[str, str | bool] = Field(default_factory=dict)
    """`event.field` → the value when no column gives it (a 12315 export's channel)."""
    events: dict[Annotated[str, Field(pattern=ENTRY_NAME)], EventRule] = Field(default_factory=dict)
    column: Annotated[list[Column], Field(min_length=1)]

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name: Asia/Shanghai)") from None
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        targets = [t for c in self.column for t in c.to]
        if "order" not in targets:
            raise ValueError('no column gives the order number (to = ["order"])')
        for column in self.column:
            if column.values is not None and column.values not in self.values:
                raise ValueError(f"column {column.headers[0]!r}: no [values.{column.values}] table")
        for name, rule in self.events.items():
            self._check_entry(name, rule)
        for n, column in enumerate(self.column):
            for target in column.to:
                if target != "order":
                    try:
                        check_target(target, self.kind_of(target.partition(".")[0]))
                    except ValueError as error:
                        raise ValueError(f"column[{n}].to: {error}") from None
        for target in self.defaults:
            check_target(target, self.kind_of(target.partition(".")[0]))
        events = {t.partition(".")[0] for t in [*targets, *self.defaults] if t != "order"}
        for event in events:
            if f"{event}.at" not in targets:
                raise ValueError(f"no column gives {event}.at, when the {event} happened")
        for event, rule in self.events.items():
            if event not in events:
                raise ValueError(f"events.{event}: no column gives a field of it")
            for key, other in (("when", rule.when), ("unless", rule.unless)):
                if other is None or (key == "when" and "." not in other):
                    continue
                if other not in targets or other.endswith(".at"):
                    raise ValueError(
                        f"events.{event}.{key}: no column gives {other} (an event's field "
                        "other than at)"
                    )
            own = rule.when is not None and "." not in rule.when
            if own and f"{event}.{rule.when}" not in targets:
                raise ValueError(f"events.{event}.when: no column gives {event}.{rule.when}")
            for name in rule.fields:
                if f"{event}.{name}" in targets or f"{event}.{name}" in self.defaults:
                    raise ValueError(
                        f"events.{event}.fields.{name}: fixed, so no column or default gives it"
                    )
        return self

    def _check_entry(self, name: str, rule: EventRule) -> None:
        """Refuse an entry whose kind is not an event, or misnamed, or whose fixed fields
        its event does not take."""
        if name in ORDER_EVENTS and rule.kind not in (None, name):
            raise ValueError(
                f"events.{name}.kind: an entry named after an event is that event; name the "
                f"{rule.kind} otherwise (events.{name}_{rule.kind})"
            )
        if rule.kind is None and name not in ORDER_EVENTS:
            raise ValueError(
                f"events.{name}: not an event; give its kind (one of {', '.join(ORDER_EVENTS)})"
            )
        kind = self.kind_of(name)
        if kind not in ORDER_EVENTS:
            raise ValueError(f"events.{name}.kind: no event {kind!r}; events: "
                             f"{', '.join(ORDER_EVENTS)}")  # fmt: skip
        for field, value in rule.fields.items():
            try:
                check_target(f"{name}.{field}", kind)
                if field == "at":
                    raise ValueError("when it happened is a column's, not fixed")
                checked(kind, field, value)
            except (ValueError, InvalidInput) as error:
                raise ValueError(f"events.{name}.fields.{field}: {error}") from None

    def kind_of(self, name: str) -> str:
        """The event an entry (a target's `NAME`) is: its `kind`, else its name."""
        rule = self.events.get(name)
        return rule.kind if rule is not None and rule.kind is not None else name

    def fixed(self, name: str) -> dict[str, Any]:
        """An entry's fixed fields, as its event takes them."""
        rule = self.events.get(name)
        if rule is None:
            return {}
        kind = self.kind_of(name)
        return {field: checked(kind, field, value) for field, value in rule.fields.items()}

    @property
    def event_order(self) -> list[str]:
        """The entries a row can give, in the aggregate's order of their events (ties in time
        go so: a notice after its decision), entries of one kind in the file's order."""
        given = list(dict.fromkeys(t.partition(".")[0] for c in self.column for t in c.to
                                   if t != "order"))  # fmt: skip
        rank = {kind: n for n, kind in enumerate(ORDER_EVENTS)}
        return sorted(given, key=lambda name: rank[self.kind_of(name)])

    def read(self, column: Column, target: str, cell: Cell) -> Any:
        """The cell's value for `target`, None when blank; InvalidInput saying why not."""
        text = cell_text(cell)
        if text == "":
            return None
        if column.values is not None and text in self.values[column.values]:
            return self.values[column.values][text]
        if column.read == "time":
            return self._time(cell, text)
        if column.read == "date":
            return self._date(cell, text)
        if target == "received.unit":
            return self.units.get(text, text)
        return text

    def _time(self, cell: Cell, text: str) -> datetime:
        zone = ZoneInfo(self.time_zone)
        if isinstance(cell, datetime):
            return in_shanghai(cell.replace(tzinfo=cell.tzinfo or zone))
        serial = _serial(cell, text)
        if serial is not None:
            return in_shanghai(serial.replace(tzinfo=zone))
        spaced = _SPACES.sub(" ", text)
        for form in self.time_formats:
            try:
                return in_shanghai(datetime.strptime(spaced, form).replace(tzinfo=zone))
            except ValueError:
                continue
        raise InvalidInput(
            f"{text!r} is not a time in any of the mapping's formats "
            f"({', '.join(self.time_formats)}) nor an Excel serial number"
        )

    def _date(self, cell: Cell, text: str) -> date:
        if isinstance(cell, datetime):
            return cell.date()
        if isinstance(cell, date):
            return cell
        serial = _serial(cell, text)
        if serial is not None:
            return serial.date()
        spaced = _SPACES.sub(" ", text)
        for form in [*self.date_formats, *self.time_formats]:
            try:
                return datetime.strptime(spaced, form).date()
            except ValueError:
                continue
        raise InvalidInput(
            f"{text!r} is not a date in any of the mapping's formats "
            f"({', '.join(self.date_formats)})"
        )


def _serial(cell: Cell, text: str) -> datetime | None:
    """An Excel serial date (43529.59375 is 2019-03-05 14:15), from a number or its text."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        number = float(cell)
    else:
        try:
            number = float(text)
        except ValueError:
            return None
    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        return None
    return EXCEL_EPOCH + timedelta(minutes=round(number * 24 * 60))
