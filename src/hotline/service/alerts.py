"""Alerts delivered: the scheduler's flags sent to group robots, mail and webhooks, each
once per route (an outbox that follows the flags; docs/alerts.md).

A pass takes, for each route, the flags it has not taken (made since the route started)
and the failed ones due for another try, and sends them: a digest per unit by a robot or
mail (due today, overdue, and the unit's on-time and first-contact rates for the quarter),
one message per alert by a webhook. A digest is of one pass (a late catch-up sends one per
pass it missed), headed by the pass's moment, with the rates of that pass's quarter. Each
message's outcome is recorded right after it,
in one transaction. A failure is recorded with the receiver's words and retried with
backoff on later passes; the route's other messages wait for the next pass, and the
other routes go on. Messages name the order, unit, limit, level and due day: nothing
personal (no citizen's name, phone or address, not even masked).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from hotline.adapters.alert_channels import (
    MAX_BYTES,
    Channel,
    DeliveryFailed,
    Message,
    Pacer,
    channel_for,
)
from hotline.adapters.alert_outbox import Alert, Delivery, Outbox
from hotline.adapters.alert_routing import ChannelKind, Route
from hotline.adapters.eventstore import StoreError
from hotline.domain.aggregate import SHANGHAI, in_shanghai, now
from hotline.domain.errors import HotlineError
from hotline.domain.periods import Period, parse_period
from hotline.service.reports import Reports

FIRST_RETRY = timedelta(minutes=5)
LAST_RETRY = timedelta(hours=1)
"""A failed message is tried again after 5, 10, 20, 40 minutes, then every hour."""
RATES = (("on_time_rate", "按时办结率"), ("first_contact_rate", "先行联系率"))
LEVELS = {"due_soon": "到期", "overdue": "已超期"}


@dataclass(frozen=True)
class RouteOutcome:
    route: str
    messages: int = 0
    """Messages sent."""
    alerts: int = 0
    """Alerts in them."""
    failed: str | None = None
    """Why the route's first failed message failed (the rest wait for the next pass)."""
    waiting: int = 0
    """Alerts not tried this pass: after a failure, or failed and not due for a retry yet."""


@dataclass(frozen=True)
class DeliveryPass:
    at: datetime
    routes: list[RouteOutcome] = field(default_factory=list)


def retry_after(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a message is tried again."""
    delay: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(delay, LAST_RETRY)


def quarter_of(day: date) -> Period:
    """The assessment quarter holding `day` (quarters start in November, domain.md)."""
    year = day.year + (1 if day.month >= 11 else 0)
    return parse_period(f"{year}Q{(day.month - 11) % 12 // 3 + 1}")


def deliver(
    reports: Reports,
    routes: Sequence[Route],
    *,
    at: datetime | None = None,
    since: datetime | None = None,
    new_pacer: Callable[[], Pacer] = Pacer,
) -> DeliveryPass:
    """One delivery pass at `at` (default: now). A route seen for the first time starts at
    `since` (default: the start of the day): older flags are not sent by it."""
    moment = in_shanghai(at or now())
    start = since or datetime.combine(moment.date(), datetime.min.time(), SHANGHAI)
    outbox = Outbox(reports.readmodel.engine)
    if not outbox.writable():
        raise StoreError(
            f"database role {reports.app.role} may not deliver alerts (the alert outbox is the "
            "scheduler's part); run it as a role granted `hotline db grant ROLE --as scheduler`"
        )
    reports.current()  # the flags caught up
    starts = {route.name: outbox.start(route.name, start) for route in routes}
    alerts = outbox.alerts(min(starts.values())) if routes else []
    rates = _Rates(reports)
    pacers: dict[str, Pacer] = {}
    done = DeliveryPass(moment)
    for route in routes:
        taken = {d.alert: d for d in outbox.deliveries(route.name)}
        chosen = [a for a in alerts if a.at >= starts[route.name] and _takes(reports, route, a)]
        pending, waiting = [], 0
        for alert in chosen:
            before = taken.get(alert.key)
            if before is None:
                pending.append(alert)
            elif before.status != "sent":
                if before.next_try is None or before.next_try <= moment:
                    pending.append(alert)
                else:
                    waiting += 1
        channel = channel_for(route, pacers, new_pacer)
        outcome = _send(outbox, route, channel, messages(route, pending, rates), taken, moment)
        done.routes.append(replace(outcome, waiting=outcome.waiting + waiting))
    return done


def _takes(reports: Reports, route: Route, alert: Alert) -> bool:
    try:
        group = reports.app.units.get(alert.unit).group
    except HotlineError:  # a unit no longer in the registry: by its name and district only
        group = ""
    return route.takes(alert.unit, group, alert.district)


def _send(
    outbox: Outbox,
    route: Route,
    channel: Channel,
    parts: Iterable[tuple[Message, list[Alert]]],
    taken: dict[str, Delivery],
    moment: datetime,
) -> RouteOutcome:
    sent = count = 0
    parts = list(parts)
    for index, (message, alerts) in enumerate(parts):
        try:
            channel.send(message)
        except DeliveryFailed as error:
            outbox.record(_rows(route, message, alerts, taken, moment, str(error)))
            later = sum(len(a) for _, a in parts[index + 1 :])
            return RouteOutcome(route.name, sent, count, str(error), later)
        outbox.record(_rows(route, message, alerts, taken, moment, None))
        sent, count = sent + 1, count + len(alerts)
    return RouteOutcome(route.name, sent, count)


def _rows(
    route: Route,
    message: Message,
    alerts: list[Alert],
    taken: dict[str, Delivery],
    moment: datetime,
    failure: str | None,
) -> list[Delivery]:
    rows = []
    for a in alerts:
        before = taken.get(a.key)
        attempts = (before.attempts if before else 0) + 1
        rows.append(
            Delivery(a.key, route.name, route.channel.value, a.number, a.unit, a.limit, a.level,
                     a.due, message.key, "failed" if failure else "sent", attempts, moment,
                     moment + retry_after(attempts) if failure else None, failure or "")
        )  # fmt: skip
    return rows


class _Rates:
    """Each unit's running rates for a quarter, computed once a delivery pass per quarter a
    digest needs (the reports service's `rates`, as `hotline report rates` shows them)."""

    def __init__(self, reports: Reports) -> None:
        self.reports = reports
        self.found: dict[str, dict[str, dict[str, float | None]]] = {}

    def of(self, unit: str, day: date) -> tuple[str, dict[str, float | None]]:
        """The quarter holding `day` and `unit`'s rates in it."""
        period = quarter_of(day)
        if period.label not in self.found:
            self.found[period.label] = {
                r.name: {key: r.values[key].value for key, _ in RATES if key in r.values}
                for r in self.reports.rates(period).rows
                if r.level == "unit"
            }
        return period.label, self.found[period.label].get(unit, {})


def messages(route: Route, alerts: list[Alert], rates: _Rates) -> list[tuple[Message, list[Alert]]]:
    """The messages that carry `alerts` by `route`, each with the alerts it carries: by a
    robot or mail, a unit's digest per scheduler pass (the moment its flags were made)."""
    if route.channel is ChannelKind.WEBHOOK:
        return [(Message(a.key, f"{a.number} {a.level}", _line(a, a.at.date()), _fields(a)), [a])
                for a in alerts]  # fmt: skip
    by_pass: dict[tuple[str, datetime], list[Alert]] = {}
    for alert in alerts:
        by_pass.setdefault((alert.unit, alert.at), []).append(alert)
    found = []
    for (unit, made), theirs in by_pass.items():
        found += digest(route.channel, unit, theirs, *rates.of(unit, made.date()), made)
    return found


def digest(
    channel: ChannelKind,
    unit: str,
    alerts: list[Alert],
    quarter: str,
    rates: dict[str, float | None],
    moment: datetime,
) -> list[tuple[Message, list[Alert]]]:
    """A unit's digest of the pass at `moment`: what falls due (that day or within the
    window) and what is overdue, with its rates in `quarter` (the pass's); split into parts
    of at most the channel's message size."""
    today = moment.date()
    bold = (lambda s: f"**{s}**") if channel is not ChannelKind.MAIL else (lambda s: s)
    title = f"hotline 工单提醒 · {unit} · {moment:%Y-%m-%d %H:%M}"
    shown = " · ".join(
        f"{label} {'—' if rates.get(key) is None else f'{rates[key]:.1%}'}" for key, label in RATES
    )
    head = [bold(title), f"{quarter} {shown}"]
    items: list[tuple[str, Alert | None]] = []
    for level, heading in LEVELS.items():
        theirs = sorted((a for a in alerts if a.level == level), key=lambda a: (a.due, a.number))
        if theirs:
            items.append((bold(f"{heading} ({len(theirs)})"), None))
            items += [(f"- {_line(a, today)}", a) for a in theirs]
    limit = MAX_BYTES.get(channel)
    chunks: list[list[tuple[str, Alert | None]]] = [[]]
    size = len("\n".join(head).encode()) + 20  # room for " (12/34)"
    used = size
    for item in items:
        grown = len(item[0].encode()) + 1
        if limit is not None and chunks[-1] and used + grown > limit:
            chunks.append([])
            used = size
        chunks[-1].append(item)
        used += grown
    parts = []
    for number, chunk in enumerate(chunks, 1):
        suffix = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
        carried = [a for _, a in chunk if a is not None]
        text = "\n".join([head[0] + suffix, *head[1:], *(line for line, _ in chunk)])
        key = hashlib.blake2b("\n".join(a.key for a in carried).encode(), digest_size=12)
        parts.append((Message(f"digest-{key.hexdigest()}", title + suffix, text), carried))
    return parts


def _line(alert: Alert, today: date) -> str:
    when = "今日" if alert.due == today else f"{alert.due:%m-%d}"
    level = LEVELS.get(alert.level, alert.level)
    return f"{alert.number} {alert.limit} {level} 截止 {alert.due} ({when})"


def _fields(alert: Alert) -> dict[str, str]:
    return {
        "order": alert.number,
        "unit": alert.unit,
        "limit": alert.limit,
        "level": alert.level,
        "due": alert.due.isoformat(),
        "at": alert.at.isoformat(),
    }


def check(routes: Sequence[Route], at: datetime | None = None) -> list[tuple[str, str | None]]:
    """Try each route once with a test message: (route, None) or (route, why it failed)."""
    moment = in_shanghai(at or now())
    pacers: dict[str, Pacer] = {}
    results: list[tuple[str, str | None]] = []
    for route in routes:
        key = f"check-{route.name}-{moment:%Y%m%d%H%M%S}"
        text = f"hotline: test message of route {route.name}, {moment:%Y-%m-%d %H:%M}"
        message = Message(key, f"hotline 测试 · {route.name}", text, {"test": "true"})
        try:
            channel_for(route, pacers).send(message)
            results.append((route.name, None))
        except DeliveryFailed as error:
            results.append((route.name, str(error)))
    return results
