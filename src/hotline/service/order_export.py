"""An office's orders out, one row per order in the platform's default export layout
(工单导出), so that what `hotline import` reads back makes the same reports.

The cells are text as the platform writes them: times "YYYY-MM-DD HH:MM" in Asia/Shanghai,
是/否, the Chinese names of the vocabularies, a blank cell where the milestone was not
reached. Personal data is masked unless revealed, and each order shown in full is recorded
(`revealed`), as `order show --reveal` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from hotline.domain.aggregate import in_shanghai, now
from hotline.domain.errors import InvalidInput
from hotline.domain.facts import StatusCode
from hotline.domain.limits import LimitCheck, LimitName, check_limits
from hotline.domain.order import (
    Accepted,
    CaseDecided,
    Closed,
    Declined,
    Extended,
    FirstContact,
    MediationEnded,
    Notified,
    Order,
    OrderStatus,
    Rated,
    Received,
    Returned,
    ReturnRejected,
    Revisited,
    Supervised,
)
from hotline.domain.periods import Period
from hotline.domain.personal_data import mask, mask_numbers
from hotline.domain.vocabulary import Decision
from hotline.service.reports import Reports

LAYOUT = (
    "工单编号", "派单时间", "承办单位", "渠道", "工单类型", "一级分类", "二级分类", "三级分类",
    "诉求内容", "诉求人", "来电号码", "地址", "区", "街道", "被投诉对象", "统一社会信用代码",
    "关联工单号", "先行联系时间", "联系方式", "延期申请时间", "延期至", "延期原因", "退单时间",
    "退单类型", "退单原因", "二次退回时间", "办结时间", "办理结果", "是否告知", "无需回复",
    "回访时间", "回访是否联系上", "回访是否一致", "回访评价", "满意度", "是否纳入测评", "测评时间",
    "督办时间", "督办有责",
)  # fmt: skip
"""The default export layout's headers, in their order (issue 16): what the generator writes
and the default import mapping recognises."""
LIMIT_COLUMNS = (
    (LimitName.FIRST_CONTACT, "先行联系时限", "先行联系状态"),
    (LimitName.RETURN, "退单时限", "退单状态"),
    (LimitName.CLOSE, "办结时限", "办结状态"),
)
"""Each limit's due date and status (`order show`'s), the last columns."""
ORDER_20_COLUMNS = (
    "受理决定时间", "不予受理原因", "受理决定告知时间", "调解终结时间", "调解结果", "终止调解原因",
    "挽回经济损失（元）", "调解终结告知时间", "立案决定时间", "是否立案", "立案决定告知时间",
)  # fmt: skip
"""A 12315 order's steps (SAMR Order No. 20), after the layout's columns: the acceptance
decision (受理 or 不予受理, with its reason), the end of mediation (its outcome, the reason
of a termination, the loss recovered in yuan) and the case decision (立案 or not), each
with the time its party was told of it (告知); blank on other orders. The default mapping
reads them back."""
NOTICE_COLUMNS = {
    Decision.ACCEPTED: "受理决定告知时间",
    Decision.DECLINED: "受理决定告知时间",
    Decision.MEDIATION_ENDED: "调解终结告知时间",
    Decision.CASE_DECIDED: "立案决定告知时间",
}
"""The column of a notice, by the decision it tells of (an order is told of each once)."""
HEADERS = LAYOUT + ORDER_20_COLUMNS + tuple(h for _, *headings in LIMIT_COLUMNS for h in headings)
STATUS_CODES = {
    OrderStatus.OPEN: StatusCode.OPEN,
    OrderStatus.RETURNED: StatusCode.RETURNED,
    OrderStatus.CLOSED: StatusCode.CLOSED,
    OrderStatus.DECLINED: StatusCode.DECLINED,
}
OUT_OF_JURISDICTION = "非本单位管辖"
OTHER_RETURN = "其他"
CATEGORY_LEVELS = ("一级分类", "二级分类", "三级分类")
RECEIVED_TEXTS = {
    "区": "district", "街道": "street", "地址": "address", "被投诉对象": "entity",
    "统一社会信用代码": "entity_code",
}  # fmt: skip
"""Headers of the `received` fields that are plain text (read by name: an older `received`
has none of them)."""


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def moment_text(moment: datetime) -> str:
    """A time as the layout writes it: "2019-03-05 14:20" in Asia/Shanghai."""
    return f"{in_shanghai(moment):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class OrderSelection:
    """Which orders to export: those received in `period`, of one unit or group (or all),
    in one status (or any)."""

    period: Period
    unit: str | None = None
    group: str | None = None
    status: OrderStatus | None = None


class OrderExport:
    """The rows of an export, read through the read model (which orders) and the orders
    themselves (their events)."""

    def __init__(self, reports: Reports) -> None:
        self.reports = reports
        self.app = reports.app

    def numbers(self, selection: OrderSelection) -> list[str]:
        """The numbers of the orders selected, in the order they were received, from the
        read model caught up."""
        if selection.unit and selection.group:
            raise InvalidInput("give either --unit or --group, not both")
        registry = self.app.units
        wanted: set[str] | None = None
        if selection.unit:
            wanted = {registry.get(selection.unit).name}
        elif selection.group:
            key = registry.group(selection.group).key
            wanted = {u.name for u in registry.units if u.group == key}  # with its offices
        period = selection.period
        self.reports.projection.catch_up()
        found: list[tuple[int, str]] = []
        # A batch of the period's orders at a time: only the numbers chosen are kept.
        for orders in self.reports.readmodel.batches(
            self.reports.lookback(period.start), period.end
        ):
            received = orders.timelines.received
            chosen = (received >= period.start.toordinal()) & (received <= period.end.toordinal())
            if selection.status is not None:
                chosen &= orders.timelines.status == STATUS_CODES[selection.status]
            found += [
                (int(received[row]), orders.numbers[row])
                for row in np.flatnonzero(chosen)
                if wanted is None or orders.units[row] in wanted
            ]
        found.sort()
        return [number for _, number in found]

    def rows(
        self, numbers: Sequence[str], reveal: str | None = None, today: date | None = None
    ) -> Iterator[list[str]]:
        """One row of `HEADERS` cells per order of `numbers` (`numbers`), read one at a time
        (a city's month of rows would not fit in memory at once), limits judged on `today`.
        With `reveal` (the reason), personal data is shown in full and each order so shown
        gets a `revealed` event first."""
        calendar, rules, today = self.app.calendar(), self.app.rules, today or now().date()
        for number in numbers:
            order = self.app.order(number) if reveal is None else self.app.reveal(number, reveal)
            checks = check_limits(order, self.app.calendar_of(order, calendar), rules, today)
            yield order_row(order, checks, reveal is not None)


def order_row(order: Order, checks: Sequence[LimitCheck], reveal: bool) -> list[str]:
    """The order's cells, in `HEADERS` order. Of an event an order may have more than one
    of, the row keeps the first return and rejection (those the limits read) and the
    latest extension, revisit and supervision."""
    cells: dict[str, str] = dict.fromkeys(HEADERS, "")
    received = order.events_of(Received)[0]
    fields: dict[str, Any] = received.model_dump(mode="json")

    def shown(field: str) -> str:
        value = fields.get(field)
        if value is None or value == "":
            return ""
        return str(value) if reveal else mask(field, value)

    cells.update(
        {
            "工单编号": order.number,
            "派单时间": moment_text(received.at),
            "承办单位": order.unit,
            "渠道": received.channel.value,
            "工单类型": received.kind.label,
            "诉求内容": shown("summary"),
            "诉求人": shown("citizen_name"),
            "来电号码": shown("citizen_phone"),
            "关联工单号": fields.get("repeat_of") or "",
        }
    )
    for heading, level in zip(CATEGORY_LEVELS, fields.get("category") or (), strict=False):
        cells[heading] = str(level)
    for heading, field in RECEIVED_TEXTS.items():
        cells[heading] = shown(field)
    _milestones(order, cells, reveal)
    by_limit = {check.limit: check for check in checks}
    for limit, due_heading, status_heading in LIMIT_COLUMNS:
        check = by_limit.get(limit)  # none where the order's deadline set has no such limit
        cells[due_heading] = check.due.isoformat() if check and check.due else ""
        cells[status_heading] = check.status.label if check else ""
    return [cells[heading] for heading in HEADERS]


def _milestones(order: Order, cells: dict[str, str], reveal: bool) -> None:
    """The cells of what happened to the order after it was received (the numbers in free
    texts masked unless `reveal`)."""

    def text(value: str) -> str:
        return value if reveal else mask_numbers(value)

    for contact in order.events_of(FirstContact):
        cells["先行联系时间"] = moment_text(contact.at)
        cells["联系方式"] = contact.method.label if contact.method else ""
    for extension in order.events_of(Extended):
        cells["延期申请时间"] = moment_text(extension.at)
        cells["延期至"] = extension.until.isoformat()
        cells["延期原因"] = text(extension.reason)
    returns: list[Returned] = order.events_of(Returned)
    if returns:
        first = returns[0]
        cells["退单时间"] = moment_text(first.at)
        cells["退单类型"] = OUT_OF_JURISDICTION if first.out_of_jurisdiction else OTHER_RETURN
        cells["退单原因"] = text(first.reason)
    rejections: list[ReturnRejected] = order.events_of(ReturnRejected)
    if rejections:
        cells["二次退回时间"] = moment_text(rejections[0].at)
    for closed in order.events_of(Closed):
        cells["办结时间"] = moment_text(closed.at)
        cells["办理结果"] = closed.result.label
        cells["是否告知"] = yes_no(closed.citizen_informed)
        cells["无需回复"] = yes_no(closed.no_reply_requested)
    for revisit in order.events_of(Revisited):
        cells["回访时间"] = moment_text(revisit.at)
        cells["回访是否联系上"] = yes_no(revisit.contacted)
        cells["回访是否一致"] = yes_no(revisit.consistent)
        cells["回访评价"] = revisit.evaluation.label if revisit.evaluation else ""
    for rated in order.events_of(Rated):
        cells["满意度"] = rated.rating.label
        cells["是否纳入测评"] = yes_no(not rated.excluded)
        cells["测评时间"] = moment_text(rated.at)
    for supervision in order.events_of(Supervised):
        cells["督办时间"] = moment_text(supervision.at)
        cells["督办有责"] = yes_no(supervision.at_fault)
    for decision in (*order.events_of(Accepted), *order.events_of(Declined)):
        cells["受理决定时间"] = moment_text(decision.at)
        if isinstance(decision, Declined):
            cells["不予受理原因"] = decision.reason.label
    for mediation in order.events_of(MediationEnded):
        cells["调解终结时间"] = moment_text(mediation.at)
        cells["调解结果"] = mediation.outcome.label
        cells["终止调解原因"] = text(mediation.reason)
        cells["挽回经济损失（元）"] = str(mediation.recovered)  # exact: 120.50, never a float
    for case in order.events_of(CaseDecided):
        cells["立案决定时间"] = moment_text(case.at)
        cells["是否立案"] = yes_no(case.filed)
    for notice in order.events_of(Notified):
        cells[NOTICE_COLUMNS[notice.of]] = moment_text(notice.at)
