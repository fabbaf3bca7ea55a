"""A platform export's rows as the Importer's entries (issue 16).

The header row is found below any title rows by the mapping's header names; each row
after it is one order: its cells read through the mapping, checked against the event
fields they fill, and made into the order's events in time order. A bad cell makes the
row a problem naming its row, column, value and why; blank and 合计 rows are skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any, get_args, get_origin

from hotline.adapters.sheet_xml import Row, SheetRow
from hotline.adapters.tables import Format, read_sheet_rows
from hotline.domain import lengths
from hotline.domain.errors import InvalidInput
from hotline.domain.mapping import SUMMARY_WORDS, Cell, Column, Mapping, cell_text, checked
from hotline.domain.order import ORDER_EVENTS, ORDER_NUMBER
from hotline.domain.personal_data import is_masked
from hotline.service.importer import Entry, Record

HEADER_SEARCH_ROWS = 30
"""How far down the header row is looked for (a title or two, a date line, are above it)."""
_NOT_IN_HEADER = re.compile(r"[\s\u3000*＊:：]+")


def header_key(text: str) -> str:
    """A header as compared: no spaces (full-width either), no `*` marking it required."""
    return _NOT_IN_HEADER.sub("", text).lower()


@dataclass(frozen=True)
class Layout:
    """A mapping matched to one file's header row."""

    mapping: Mapping
    header_row: int
    columns: list[tuple[int, str, Column]]
    """(index, the file's header, the mapping's column) of each column mapped."""
    unmapped: list[str]
    """The file's headers no column of the mapping knows."""

    @cached_property
    def identity(self) -> bytes:
        """What, besides a row's cells, decides how the row reads: the mapping's contents
        and which column of the file each of its columns is (the import ledger's digest
        covers it, so another mapping or column order is never taken as unchanged)."""
        columns = [(index, header, column.model_dump_json()) for index, header, column in
                   self.columns]  # fmt: skip
        text = repr((self.mapping.model_dump_json(), columns))
        return hashlib.blake2b(text.encode(), digest_size=32).digest()

    def column_of(self, target: str) -> str:
        """The file's header of the column giving `target`, else the mapping's name for it."""
        for _, header, column in self.columns:
            if target in column.to:
                return header
        return next((f"{c.headers[0]} (not in the file)" for c in self.mapping.column
                     if target in c.to), target)  # fmt: skip


def match_header(cells: list[Cell], mapping: Mapping) -> Layout | None:
    """The layout if `cells` is a header row: it names the order number and another."""
    known = {header_key(h): c for c in mapping.column for h in c.headers}
    columns: list[tuple[int, str, Column]] = []
    unmapped: list[str] = []
    used: set[int] = set()
    for index, cell in enumerate(cells):
        header = cell_text(cell)
        column = known.get(header_key(header))
        if column is not None and id(column) not in used:
            used.add(id(column))
            columns.append((index, header, column))
        elif header:
            unmapped.append(header)
    if len(columns) < 2 or not any("order" in c.to for _, _, c in columns):
        return None
    return Layout(mapping, 0, columns, unmapped)


def find_layout(rows: Iterator[Row], mapping: Mapping, origin: str) -> Layout:
    """The layout of the first header row among the sheet's first rows (the rows consumed
    up to it)."""
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            break
        layout = match_header(cells, mapping)
        if layout is not None:
            return Layout(mapping, number, layout.columns, layout.unmapped)
    order = next(c for c in mapping.column if "order" in c.to)
    raise InvalidInput(
        f"{origin}: no header row in its first {HEADER_SEARCH_ROWS} rows: none names the order "
        f"number ({'/'.join(order.headers)}) and another column of the mapping"
    )


def open_export(path: Path, form: Format, mapping: Mapping) -> tuple[Layout, Iterator[Entry]]:
    """The file's layout under `mapping`, and its rows as entries."""
    rows = read_sheet_rows(path, form)
    layout = find_layout(((row.number, row.cells()) for row in rows), mapping, str(path))
    return layout, export_entries(rows, layout)


def export_entries(rows: Iterable[SheetRow], layout: Layout) -> Iterator[Entry]:
    """Each order row after the header as an entry, numbered as the file numbers it (the
    sheet's row, the text's line), so every message names the row the user sees. Only its
    order number is read: the entry holds what decides its cells (`row`: the row's key
    where the reader gives one, else its cells as read) and `parse` reads the rest, which
    the importer skips for a row its ledger knows unchanged. A keyed row whose order number
    cell reads as one is not even made into cells (nor tested for blank or 合计: a row the
    ledger knows was neither)."""
    index = next(i for i, _, column in layout.columns if "order" in column.to)
    for row in rows:
        number = row.number
        if row.key is not None:
            order = _order_number_or_none(row.cell(index))
            if order is not None:
                parse = partial(_parsed_row, row, layout)
                yield Entry(number, 1, order=order, row=layout.identity + row.key, parse=parse)
                continue
        cells = row.cells()
        if _skipped(cells):
            continue
        try:
            order = _order_number(cells, layout)
        except _BadCell as bad:
            yield Entry(number, 1, problem=str(bad), order=bad.order, columns={})
            continue
        key = row.key if row.key is not None else repr(cells).encode()
        parse = partial(_parsed, number, cells, layout)
        yield Entry(number, 1, order=order, row=layout.identity + key, parse=parse)


def _parsed_row(row: SheetRow, layout: Layout) -> Entry:
    """A keyed row as an entry (one of no event if it is blank or 合计)."""
    cells = row.cells()
    if _skipped(cells):
        return Entry(row.number, 1)
    return _parsed(row.number, cells, layout)


def _parsed(number: int, cells: list[Cell], layout: Layout) -> Entry:
    """The row as an entry of its events, or of why it cannot be read."""
    try:
        return _entry(number, cells, layout)
    except _BadCell as bad:
        return Entry(number, 1, problem=str(bad), order=bad.order, columns={})


class _BadCell(Exception):
    def __init__(self, message: str, order: str | None) -> None:
        super().__init__(message)
        self.order = order


def _skipped(cells: list[Cell]) -> bool:
    """A blank row, or a summary (合计) row: a row whose cells' texts are all blank, or one
    of which starts with a summary word. Only a text cell can be blank or start so (a
    number, a date or 是/否 never does), so no cell's text is made for an order's row (a
    fifth of an unchanged export's re-import when each was)."""
    texts = "\0".join(c for c in cells if isinstance(c, str))
    if any(word in texts for word in SUMMARY_WORDS):
        return any(isinstance(c, str) and c.strip().startswith(SUMMARY_WORDS) for c in cells)
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _entry(number: int, cells: list[Cell], layout: Layout) -> Entry:
    mapping = layout.mapping
    order = _order_number(cells, layout)
    given: dict[str, dict[str, Any]] = {}
    columns: dict[tuple[str, str], str] = {}
    for index, header, column in layout.columns:
        cell = cells[index] if index < len(cells) else None
        for target in column.to:
            if target == "order":
                continue
            event, _, name = target.partition(".")
            kind = mapping.kind_of(event)
            levels = _levels(kind, name)
            try:
                value = mapping.read(column, target, cell)
                if is_masked(name, value):  # a masked export's personal data: left out
                    continue
                value = value if levels else checked(kind, name, value)
            except InvalidInput as error:
                raise _BadCell(f"column {header} {cell_text(cell)!r}: {error}", order) from None
            if value is None:
                continue
            fields = given.setdefault(event, {})
            if levels:  # a list field (category) takes one level a column, in the file's order
                fields.setdefault(name, []).append(value)
                columns.setdefault((event, name), header)
            else:
                fields[name] = value
                columns[event, name] = header
    for (event, name), header in columns.items():
        kind = mapping.kind_of(event)
        if _levels(kind, name):
            try:
                given[event][name] = checked(kind, name, given[event][name])
            except InvalidInput as error:
                raise _BadCell(f"column {header}: {error}", order) from None
    records: list[Record] = []
    for event in mapping.event_order:
        fields = dict(given.get(event, {}))  # given stays as the row gives it, for `_made`
        at = fields.pop("at", None)
        if not _made(mapping, event, fields, given):
            continue
        if at is None:
            if fields:
                header = columns[event, next(iter(fields))]
                raise _BadCell(
                    f"column {header} is given but {layout.column_of(event + '.at')} (when the "
                    f"{event} happened) is blank",
                    order,
                )
            continue
        fields.update(mapping.fixed(event))
        for target, value in mapping.defaults.items():
            default_event, _, name = target.partition(".")
            if default_event == event:
                fields.setdefault(name, value)
        records.append(Record(number, order, mapping.kind_of(event), at, fields, entry=event))
    if not records:
        raise _BadCell(
            f"no event: {layout.column_of('received.at')} and the other times are blank", order
        )
    records.sort(key=lambda r: r.at)  # stable: at the same time, the aggregate's order
    return Entry(number, 1, tuple(records), order=order, columns=columns)


def _made(mapping: Mapping, event: str, fields: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether the row makes the entry's event, by its `when` and `unless` (`fields`: the
    entry's own, `given`: every entry's, as the row gives them)."""
    rule = mapping.events.get(event)
    if rule is None:
        return True
    if rule.when is not None:
        other, _, name = rule.when.rpartition(".")
        if name not in (given.get(other, {}) if other else fields):
            return False
    if rule.unless is not None:
        other, _, name = rule.unless.partition(".")
        if name in given.get(other, {}):
            return False
    return True


def _order_number(cells: list[Cell], layout: Layout) -> str:
    index, header = next((i, h) for i, h, c in layout.columns if "order" in c.to)
    cell = cells[index] if index < len(cells) else None
    order = _order_number_or_none(cell)
    if order is None:
        raise _BadCell(
            f"column {header} {cell_text(cell)!r}: not an order number "
            f"(1-{lengths.ORDER_NUMBER} letters, digits and - _ . /)",
            None,
        )
    return order


def _order_number_or_none(cell: Cell) -> str | None:
    """The order number the cell gives, as `_order_number` reads it (None if it gives none)."""
    text = cell_text(cell)
    return text if ORDER_NUMBER.fullmatch(text) else None


@cache
def _levels(event: str, name: str) -> bool:
    """Whether the field is a list given by several columns, one item each (category's
    一级/二级/三级分类)."""
    forms = [ORDER_EVENTS[event].model_fields[name].annotation]
    while forms:  # through `X | None` and `Annotated[X, ...]`
        form = forms.pop()
        if get_origin(form) is list:
            return True
        forms.extend(get_args(form))
    return False
