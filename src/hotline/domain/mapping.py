"""A mapping (字段对照): how one platform's export layout reads as order events.

An export has one row per order and a column per fact; a mapping, kept as data (a TOML
file per layout, rubrics/mappings/), says which column gives which field of which event,
the header names the column goes by, how its values read (已解决 → resolved, 是/否), the
time formats and zone, and the platform's names for units.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
        for target in targets:
            if target != "order":
                check_target(target)
        return targets


def check_target(target: str) -> None:
    """Refuse an `event.field` that is not a field a file may give that event."""
    event, _, name = target.partition(".")
    if event not in EVENT_FIELDS:
        raise ValueError(f"{target!r}: no event {event!r}; events: {', '.join(EVENT_FIELDS)}")
    if name not in EVENT_FIELDS[event]:
        raise ValueError(
            f"{target!r}: {event} has no field {name!r}; its fields: "
            f"{', '.join(sorted(EVENT_FIELDS[event]))}"
        )


class EventRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str | None = None
    """The event is made only when this field's cell is given (a rating read from the
    revisit's time is made only when 满意度 is filled in)."""
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
    events: dict[str, EventRule] = Field(default_factory=dict)
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
        events = {t.partition(".")[0] for t in [*targets, *self.defaults] if t != "order"}
        for event in events:
            if f"{event}.at" not in targets:
                raise ValueError(f"no column gives {event}.at, when the {event} happened")
        for target in self.defaults:
            check_target(target)
        for event, rule in self.events.items():
            if event not in events:
                raise ValueError(f"events.{event}: no column gives a field of it")
            if rule.when is not None and f"{event}.{rule.when}" not in targets:
                raise ValueError(f"events.{event}.when: no column gives {event}.{rule.when}")
            if rule.unless is not None and (
                rule.unless not in targets or rule.unless.endswith(".at")
            ):
                raise ValueError(
                    f"events.{event}.unless: no column gives {rule.unless} (an event's field "
                    "other than at)"
                )
        return self

    @property
    def event_order(self) -> list[str]:
        """The events a row can give, in the aggregate's order (ties in time go so)."""
        given = {t.partition(".")[0] for c in self.column for t in c.to}
        return [name for name in ORDER_EVENTS if name in given]

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
