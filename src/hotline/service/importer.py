"""Bulk import of order events, from JSON Lines or a platform export (domain.md §9).

A source yields entries: a JSON line's one event, or an export row's events of one order
(service/exports.py). The entries are streamed in batches; each batch's events go through
the order aggregate (so every order rule applies) and are saved in one transaction. The
batch's orders not in memory are read from the store in one query; an export row whose
events are all stored as it gives them (corrections applied) is found unchanged from the
stored states, without making its order; one whose cells and order are as the import
ledger last saw them (adapters/import_ledger.py) is unchanged without even being parsed, so
a re-import is mostly reading the file; so is a batch of JSON lines the ledger knows were
all present or imported (`KnownLines`).
An event already in the store (same order, event, time and fields) is skipped,
so loading a file twice changes nothing. A bad line is reported with its line
number; its order's events from that batch on are not written (events of the
order committed by earlier batches stay: each is valid on its own, and
re-importing the corrected file adds the rest).
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from functools import cache, cached_property, partial
from itertools import islice
from typing import Any, BinaryIO, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import resolve_topic
from pydantic_core import to_jsonable_python

from hotline.adapters.event_batches import latest_versions, select_many
from hotline.adapters.import_ledger import ImportLedger, LedgerEntry, row_hasher
from hotline.domain import lengths
from hotline.domain.aggregate import DomainEvent, in_shanghai, now
from hotline.domain.calendar import FIRST_DAY, LAST_DAY
from hotline.domain.errors import (
    HotlineError,
    InvalidInput,
    OrderAlreadyReceived,
    OrderNotFound,
    OrderRuleViolation,
    UnknownUnit,
)
from hotline.domain.mapping import BOOKKEEPING_FIELDS, EVENT_FIELDS
from hotline.domain.order import (
    ORDER_COMMANDS,
    ORDER_EVENTS,
    ORDER_NUMBER,
    Notified,
    Order,
    effective_states,
    order_id,
)
from hotline.domain.personal_data import shows
from hotline.service.application import ConcurrentChange, HotlineApplication

BATCH_LINES = 5_000
MAX_LINE_BYTES = 1 << 20
"""The longest line (one event, its newline included) an import reads: 1 MiB, fifty times a
line with the longest summary. A longer one stops the import before it is read whole (a file
of one endless line, such as /dev/zero, used to fill the memory)."""
RESERVED_FIELDS = BOOKKEEPING_FIELDS
"""Fields an event gets from hotline itself (the order number comes from "order")."""
LINE_FIELDS = {name: fields - {"at"} for name, fields in EVENT_FIELDS.items()}
"""The fields a line of each event may give besides "order", "event" and "at"."""
CACHE_EVENTS = 100_000
"""Orders kept in memory between batches, the least recently used dropped first: at most
this many events in all (about 2 KB each, as objects), so that the memory is bounded by
size whatever the file's volume. An order not kept is read back with the batch's other
orders (one query) and replayed; `ImportResult.orders_read` counts them."""


CONCURRENT_IMPORT = (
    "another writer changed the same orders during the import; run it again (events already "
    "imported are skipped)"
)


class LineTooLong(InvalidInput):
    """A line longer than `MAX_LINE_BYTES`: the file is not one event a line."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is longer than {MAX_LINE_BYTES:,} bytes")
        self.line = line


def line_too_long(error: LineTooLong, imported: int) -> LineProblem:
    """The problem that stopped an import at a line too long, lines 1-`imported` imported."""
    done = f"lines 1-{imported} were imported" if imported else "nothing"
    message = (
        f"longer than {MAX_LINE_BYTES:,} bytes, the most one event's line may take (is it a "
        f"JSON Lines file?); the import stopped there: {done}"
    )
    return LineProblem(error.line, None, message)


def read_lines(file: BinaryIO) -> Iterator[bytes]:
    """The lines of `file`, none read past `MAX_LINE_BYTES`: LineTooLong at a longer one."""
    number = 0
    while line := file.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise LineTooLong(number)
        yield line


@dataclass(frozen=True)
class LineProblem:
    line: int
    order: str | None
    message: str
    where: str = "line"
    """"row" for an export's row."""

    def __str__(self) -> str:
        which = f" order {self.order}:" if self.order else ""
        return f"{self.where} {self.line}:{which} {self.message}"


@dataclass(frozen=True)
class Conflict:
    """An export's value that disagrees with the order's current one (corrections applied):
    reported and not written, or with `--correct` recorded as a correction."""

    row: int
    order: str
    column: str
    stored: Any
    exported: Any
    event: str
    """The event's domain.md name, and its version in the order (what a correction targets)."""
    version: int
    field: str
    refused: str | None = None
    """Why `--correct` could not correct it (the order's rules), if it could not."""

    def __str__(self) -> str:
        outcome = f"not corrected: {self.refused}" if self.refused else "not written"
        return (
            f"row {self.row}: order {self.order}: {self.column}: stored "
            f"{_shown(self.stored, self.exported)}, the export says "
            f"{_shown(self.exported, self.stored)}; {outcome}"
        )


def _shown(value: Any, other: Any) -> str:
    """A value as a conflict shows it: a time to the minute, with its seconds if it has
    any or if `other` is in the same minute (both then to the second, where they differ)."""
    if isinstance(value, datetime):
        shanghai = in_shanghai(value)
        same_minute = isinstance(other, datetime) and shanghai.replace(
            second=0, microsecond=0
        ) == in_shanghai(other).replace(second=0, microsecond=0)
        seconds = shanghai.second or same_minute
        return shanghai.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))
    return repr(value.value if isinstance(value, Enum) else value)


def _times_agree(stored: datetime, exported: datetime) -> bool:
    """Whether an export's time agrees with the stored one: exactly, or, when the export
    gives no seconds (its cells are written to the minute, "2019-03-05 14:20"), in the same
    minute. Without it an order imported to the second from JSON Lines and exported would
    conflict on every time, and `--correct` would cut its seconds off."""
    if stored == exported:
        return True
    return (
        exported.second == exported.microsecond == 0
        and stored.replace(second=0, microsecond=0) == exported
    )


@dataclass
class ImportResult:
    lines: int = 0
    """The number of the last line (or row) read."""
    written: int = 0
    """Events written."""
    already_present: int = 0
    """Events skipped because the store already had them."""
    not_written: int = 0
    """Events of rejected orders."""
    problems: list[LineProblem] = field(default_factory=list)
    rows_imported: int = 0
    """Export rows that added events."""
    rows_unchanged: int = 0
    """Export rows whose events the store already had, all of them."""
    rows_known: int = 0
    """Of those, the rows the import ledger knew unchanged: not parsed nor compared."""
    conflicts: list[Conflict] = field(default_factory=list)
    """Conflicts not corrected."""
    rows_conflicting: int = 0
    corrected: int = 0
    """Conflicts recorded as corrections (`--correct`; with `dry_run`, that would be)."""
    rows_rejected: Counter[str] = field(default_factory=Counter)
    """Rejected export rows by reason."""
    orders_read: int = 0
    """Orders read back from the store and replayed (each time), not kept in memory
    (`CACHE_EVENTS`)."""
    lines_known: int = 0
    """JSON lines the line ledger knew present (`KnownLines`): counted, not parsed."""

    @property
    def rejected_orders(self) -> int:
        return len({p.order for p in self.problems if p.order})


@dataclass
class _Outcome:
    """What one batch did; merged into the result once its transaction commits."""

    written: int = 0
    already_present: int = 0
    not_written: int = 0
    problems: list[LineProblem] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)
    rows_imported: int = 0
    rows_unchanged: int = 0
    rows_known: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    rows_conflicting: int = 0
    corrected: int = 0
    rows_rejected: Counter[str] = field(default_factory=Counter)
    settled: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Order number → (row, its events, the order's version) of each export row imported or
    found unchanged by comparison: what the import ledger records once the batch is saved."""

    def reject(self, order: str | None, problem: LineProblem, changed: dict[str, Order]) -> None:
        """Report `problem`; none of `order`'s events from this batch on are written."""
        self.problems.append(problem)
        if order is None:
            return
        self.rejected.add(order)
        self.settled.pop(order, None)
        dropped = changed.pop(order, None)
        if dropped is not None:
            self.not_written += len(dropped.collect_events())


@dataclass(frozen=True)
class Record:
    """One event of one order, parsed from its source."""

    number: int
    """Its line or row in the file."""
    order: str
    event: str
    at: datetime
    fields: dict[str, Any]
    entry: str | None = None
    """An export row's: the mapping's entry that gave it (`acceptance_notice`), which names
    its columns; None where that is the event's name."""


@dataclass(frozen=True)
class Entry:
    """A line's event, or an export row's events (`columns` names the row's columns by
    event and field); or why the line or row could not be read."""

    number: int
    size: int
    """Its share of the file, for the progress bar."""
    records: tuple[Record, ...] = ()
    problem: str | None = None
    order: str | None = None
    columns: dict[tuple[str, str], str] | None = None
    """Export rows only: (event, field) → the column's header; None for a JSON line."""
    row: bytes | None = None
    """An export row not parsed yet: what decides its cells (an .xlsx row's XML and shared
    strings, else its cells as read), which the import ledger's digest covers; `parse`
    gives its entry."""
    parse: Callable[[], Entry] | None = None


REJECTION_REASONS: dict[type[HotlineError], str] = {
    UnknownUnit: "unknown unit",
    OrderNotFound: "not received",
    InvalidInput: "bad value",
}
"""How an export row's rejection is counted in the summary (else "order rule")."""


class Importer:
    """Imports order events into `app`'s store; `dry_run` reads and checks without saving;
    `correct` records an export's conflicts as corrections, the reason naming `origin` (the
    file's name) and the row."""

    def __init__(
        self,
        app: HotlineApplication,
        batch_lines: int = BATCH_LINES,
        *,
        dry_run: bool = False,
        correct: bool = False,
        origin: str = "",
        cache_events: int = CACHE_EVENTS,
    ) -> None:
        self.app = app
        self.cache_events = cache_events
        self.batch_lines = batch_lines
        self.dry_run = dry_run
        self.correct = correct
        self.origin = origin
        self._cache: OrderedDict[str, Order] = OrderedDict()
        self._sizes: dict[str, int] = {}
        """The events of each order kept, when it was last kept; `_held` their sum."""
        self._held = 0
        self._read_back = 0
        self._rejected: set[str] = set()
        self._stored: dict[str, list[StoredEvent]] = {}
        """The batch's orders not in memory, read from the store in one query at the batch's
        start; an order not there is an empty list."""
        self._digests: dict[int, bytes] = {}
        """The batch's unparsed export rows' digests, by row."""

    def run(
        self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Import every JSON line, a batch the line ledger knows without parsing it;
        `progress` gets the bytes read after each batch."""
        return KnownLines(self.app, self.dry_run).run(
            lines,
            self.batch_lines,
            lambda _: self._rejected,
            lambda batch, result: self._import_batch(
                [json_entry(number, raw) for number, raw in batch], result
            ),
            progress,
        )

    def run_entries(
        self, entries: Iterable[Entry], progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Import every entry; `progress` gets the sum of their sizes after each batch."""
        result = ImportResult()
        source = iter(entries)
        done = 0
        try:
            while batch := list(islice(source, self.batch_lines)):
                self._import_batch(batch, result)
                result.lines = batch[-1].number
                done += sum(entry.size for entry in batch)
                if progress:
                    progress(done)
        except LineTooLong as error:  # the batch it is in is not imported
            result.problems.append(line_too_long(error, result.lines))
        return result

    def import_batch(self, batch: list[Entry]) -> ImportResult:
        """One batch of entries imported in one transaction: what it did."""
        result = ImportResult()
        self._import_batch(batch, result)
        return result

    def _import_batch(self, batch: list[Entry], result: ImportResult) -> None:
        """Import one batch in one transaction."""
        outcome = self._saved_batch(batch)
        if self.correct and outcome.conflicts:
            outcome = self._corrected(batch, outcome)
        result.written += outcome.written
        result.corrected += outcome.corrected
        result.already_present += outcome.already_present
        result.not_written += outcome.not_written
        result.problems.extend(outcome.problems)
        result.rows_imported += outcome.rows_imported
        result.rows_unchanged += outcome.rows_unchanged
        result.rows_known += outcome.rows_known
        result.conflicts.extend(outcome.conflicts)
        result.rows_conflicting += outcome.rows_conflicting
        result.rows_rejected.update(outcome.rows_rejected)
        result.orders_read += self._read_back
        self._read_back = 0
        self._rejected |= outcome.rejected

    def _corrected(self, batch: list[Entry], outcome: _Outcome) -> _Outcome:
        """Record each conflict as a correction (as `hotline order correct` does), then import
        its rows again: with the corrections in, they add what else they have. A correction
        the order's rules refuse stays a conflict, saying why; a dry run only checks each."""
        fixed: set[int] = set()
        kept: list[Conflict] = []
        by_row: dict[int, list[Conflict]] = {}
        for conflict in outcome.conflicts:
            by_row.setdefault(conflict.row, []).append(conflict)
        for row, conflicts in by_row.items():
            refused = [replace(c, refused=why) for c in conflicts if (why := self._correct(c))]
            kept += refused
            outcome.corrected += len(conflicts) - len(refused)
            if not refused:
                fixed.add(row)
            self._drop(conflicts[0].order)  # its stored events changed
        outcome.conflicts = kept
        if self.dry_run or not fixed:
            return outcome
        again = self._saved_batch([e for e in batch if e.number in fixed])
        outcome.rows_conflicting -= len(fixed) - again.rows_conflicting
        outcome.conflicts += again.conflicts
        outcome.written += again.written
        outcome.already_present += again.already_present
        outcome.rows_imported += again.rows_imported
        outcome.rows_unchanged += again.rows_unchanged
        outcome.rows_known += again.rows_known
        outcome.problems += again.problems
        outcome.rejected |= again.rejected
        outcome.rows_rejected.update(again.rows_rejected)
        return outcome

    def _correct(self, conflict: Conflict) -> str | None:
        """Correct the conflict's field to the export's value; why not, if refused."""
        reason = f"import {self.origin} row {conflict.row}"
        target = f"#{conflict.version}"
        try:
            if self.dry_run:  # the same checks, on an order that is not saved
                order = self.app.order(conflict.order)
                value = conflict.exported
                if conflict.field == "unit":
                    value = self._unit_name(value)
                order.correct(now(), conflict.version, conflict.field, value, reason)
            else:
                self.app.correct(conflict.order, target, conflict.field, conflict.exported, reason)
        except (InvalidInput, OrderRuleViolation, ConcurrentChange) as error:
            return str(error)
        return None

    def _saved_batch(self, batch: list[Entry]) -> _Outcome:
        """The batch imported and saved; if another writer saved one of its orders between
        the batch's read and its write, it is done again once (from a fresh read)."""
        try:
            return self._try_batch(batch)
        except IntegrityError:
            try:
                return self._try_batch(batch)
            except IntegrityError:
                raise ConcurrentChange(CONCURRENT_IMPORT) from None

    def _try_batch(self, batch: list[Entry]) -> _Outcome:
        outcome = _Outcome()
        changed: dict[str, Order] = {}
        known = self._known_unchanged(batch)
        batch = [e if e.parse is None or e.number in known else e.parse() for e in batch]
        self._stored = self._read_stored(batch)
        for entry in batch:
            if entry.parse is not None:  # known unchanged
                number = entry.order
                if number not in changed and number not in self._rejected | outcome.rejected:
                    outcome.already_present += known[entry.number]
                    outcome.rows_unchanged += 1
                    outcome.rows_known += 1
                    continue
                entry = entry.parse()  # an earlier row of the batch changed its order
            if entry.problem is not None:
                where = "line" if entry.columns is None else "row"
                problem = LineProblem(entry.number, entry.order, entry.problem, where)
                outcome.reject(entry.order, problem, changed)
                if entry.columns is not None:
                    outcome.rows_rejected["bad cell"] += 1
                continue
            if entry.columns is not None:
                self._import_row(entry, entry.columns, outcome, changed)
                continue
            for line in entry.records:
                if line.order in self._rejected or line.order in outcome.rejected:
                    outcome.not_written += 1
                    continue
                try:
                    found = changed.get(line.order) or self._cached(line.order)
                    if self._already_present(found, line):
                        outcome.already_present += 1
                        continue
                    changed[line.order] = self._apply(found, line)
                except HotlineError as error:
                    problem = LineProblem(line.number, line.order, str(error))
                    outcome.reject(line.order, problem, changed)
        for key in outcome.rejected:
            self._drop(key)
        if self.dry_run:
            outcome.written = sum(len(order.collect_events()) for order in changed.values())
            for order in changed.values():
                self._remember(order)
            return outcome
        try:
            outcome.written = self._save(list(changed.values()))
        except IntegrityError:
            for key in changed:
                self._drop(key)  # holds events that were not saved
            raise
        # Oldest last event first, so that what `_forget` drops first is the oldest.
        # An export row's order is not kept: a row gives its order whole, so a later row of
        # it (rare) is found by the batch's read of the store.
        rows = {entry.order for entry in batch if entry.columns is not None}
        for order in sorted(changed.values(), key=lambda o: o.history[-1].at):
            if order.number not in rows:
                self._remember(order)
        self._forget()
        self._record(outcome, changed)
        return outcome

    def _save(self, orders: list[Order]) -> int:
        """Save the batch's changed orders in one transaction; the events saved. (A parallel
        import's worker hands them to the writer instead: service/import_workers.py.)"""
        return self.app.save_many(orders)

    @cached_property
    def _ledger(self) -> ImportLedger:
        return ImportLedger(self.app.readmodel.engine)

    @cached_property
    def _hasher(self) -> Any:
        return ledger_hasher(self.app)

    def _known_unchanged(self, batch: list[Entry]) -> dict[int, int]:
        """The batch's unparsed rows whose digest and order's version are the ledger's (row →
        its events), read in two queries; each unparsed row's digest kept for `_record`."""
        self._digests = {}
        numbers: dict[int, str] = {}
        for entry in batch:
            if entry.row is not None and entry.order is not None:
                hasher = self._hasher.copy()
                hasher.update(entry.row)
                self._digests[entry.number] = hasher.digest()
                numbers[entry.number] = entry.order
        if not numbers:
            return {}
        ids = {number: order_id(number) for number in numbers.values()}
        entries = self._ledger.entries(ids.values())
        matching = {
            row: entries[ids[number]]
            for row, number in numbers.items()
            if ids[number] in entries and entries[ids[number]].digest == self._digests[row]
        }
        if not matching:
            return {}
        versions = latest_versions(self.app.recorder, (ids[numbers[row]] for row in matching))
        return {
            row: entry.events
            for row, entry in matching.items()
            if versions.get(ids[numbers[row]]) == entry.version
        }

    def _record(self, outcome: _Outcome, changed: dict[str, Order]) -> None:
        """Keep the settled rows in the ledger (after their events are committed)."""
        if not outcome.settled:  # JSON Lines: not opened (a parallel import's workers at
            return  # once would each make its table)
        entries: dict[UUID, LedgerEntry] = {}
        for number, (row, events, version) in outcome.settled.items():
            digest = self._digests.get(row)
            if digest is not None:
                order = changed.get(number)
                final = order.version if order is not None else version
                entries[order_id(number)] = LedgerEntry(digest, final, events)
        self._ledger.record(entries)

    def _import_row(
        self,
        entry: Entry,
        columns: dict[tuple[str, str], str],
        outcome: _Outcome,
        changed: dict[str, Order],
    ) -> None:
        """An export row: its events not stored yet are applied, all or none; a row that
        disagrees with a stored event is a conflict and writes nothing."""
        number = entry.order
        assert number is not None and entry.records  # an export row has its order's events
        if number in self._rejected or number in outcome.rejected:
            outcome.not_written += len(entry.records)
            outcome.rows_rejected["order rejected before"] += 1
            return
        if number not in changed and number in self._stored and self._unchanged(number, entry):
            outcome.already_present += len(entry.records)
            outcome.rows_unchanged += 1
            version = self._stored[number][-1].originator_version
            outcome.settled[number] = (entry.number, len(entry.records), version)
            return
        try:
            found = changed.get(number) or self._cached(number)
            new: list[Record] = []
            conflicts: list[Conflict] = []
            seen: Counter[tuple[str, str]] = Counter()
            for record in entry.records:
                series = _series(record.event, record.fields)
                stored = [e for e in found.events if _series(e.name, vars(e)) == series
                          ] if found else []  # fmt: skip
                nth = seen[series]
                seen[series] += 1
                if nth < len(stored):
                    conflicts += self._differences(stored[nth], record, columns)
                else:
                    new.append(record)
            if conflicts:
                outcome.conflicts += conflicts
                outcome.rows_conflicting += 1
                return
            outcome.already_present += len(entry.records) - len(new)
            if not new:
                assert found is not None  # the row's events are its
                outcome.rows_unchanged += 1
                outcome.settled[number] = (entry.number, len(entry.records), found.version)
                return
            order = found
            for record in new:
                order = self._apply(order, record)
            assert order is not None  # _apply gives the order or raises
            changed[number] = order
            outcome.rows_imported += 1
            outcome.settled[number] = (entry.number, len(entry.records), order.version)
        except HotlineError as error:
            problem = LineProblem(entry.number, number, str(error), "row")
            outcome.reject(number, problem, changed)
            outcome.rows_rejected[REJECTION_REASONS.get(type(error), "order rule")] += 1

    def _differences(
        self, stored: DomainEvent, record: Record, columns: dict[tuple[str, str], str]
    ) -> list[Conflict]:
        """The fields the row gives (and its time) on which `stored` says otherwise."""
        fields = dict(record.fields)
        if record.event == "received":
            fields["unit"] = self._unit_name(fields.get("unit", ""))
            fields["number"] = record.order
        given = {**fields, "at": record.at}
        try:
            exported = ORDER_EVENTS[record.event].model_validate(
                {"originator_id": stored.originator_id, "originator_version": 1,
                 "timestamp": record.at, **given}
            ).payload()  # fmt: skip
        except ValueError as error:
            raise InvalidInput(f"{record.event}: {error}") from None
        old = {**stored.payload(), "at": stored.at}
        exported["at"] = record.at
        return [
            Conflict(record.number, record.order,
                     columns.get((record.entry or record.event, key), key),
                     old.get(key), exported[key], record.event, stored.originator_version, key)
            for key in given
            if key in exported and not _agrees(key, old.get(key), exported[key])
        ]  # fmt: skip

    def _read_stored(self, batch: list[Entry]) -> dict[str, list[StoredEvent]]:
        """The stored events of the batch's orders not in memory, in one query."""
        numbers = {
            record.order
            for entry in batch
            for record in entry.records
            if record.order not in self._cache
        }
        ids = {number: order_id(number) for number in numbers}  # a uuid5 each: made once
        found = select_many(self.app.recorder, ids.values())
        return {number: found.get(key, []) for number, key in ids.items()}

    def _unchanged(self, number: str, entry: Entry) -> bool:
        """Whether each of the row's events is stored with the row's values, read from the
        stored states without making the order: True only when `_import_row`'s comparison
        with the aggregate would find the same (a test compares the two on whole years);
        anything else (a new event, another value, a value written otherwise) is left to
        it."""
        stored: dict[str, list[dict[str, Any]]] = {}
        for name, state in effective_states(
            (e.originator_version, _event_name(e.topic), json.loads(
                self.app.store_mapper.plaintext(e.state))) for e in self._stored[number]
        ):  # fmt: skip
            stored.setdefault(name, []).append(state)
        seen: Counter[str] = Counter()
        for record in entry.records:
            states = stored.get(record.event, [])
            nth = seen[record.event]
            seen[record.event] += 1
            if nth >= len(states):
                return False
            fields = {**record.fields, "at": record.at}
            if record.event == "received":
                try:
                    fields["unit"] = self._unit_name(fields.get("unit", ""))
                except HotlineError:
                    return False
            state = states[nth]
            if any(
                key not in state or not _agrees_stored(key, state[key], value)
                for key, value in fields.items()
            ):
                return False
        return True

    def _unit_name(self, value: Any) -> str:
        """The registry's name of a unit a row or line gives (an alias read as its unit),
        as the stored `received` has it."""
        return self.app.units.get(str(value)).name

    def _cached(self, number: str) -> Order | None:
        """The order as stored (None if it is not), from memory if recently used."""
        if number in self._cache:
            self._cache.move_to_end(number)
            return self._cache[number]
        return self._load(number)

    def _load(self, number: str) -> Order | None:
        """The order from the batch's read of the store, else from the store."""
        stored = self._stored.get(number)
        if stored is not None:
            found = project_aggregate(None, map(self.app.store_mapper.to_domain_event, stored))
            if found is None:
                return None
            assert isinstance(found, Order)
            order = found
            self._read_back += 1
        else:
            try:
                order = cast(Order, self.app.repository.get(order_id(number)))
            except AggregateNotFoundError:
                return None
            self._read_back += 1
        self._remember(order)
        return order

    def _remember(self, order: Order) -> None:
        number = order.number
        self._cache[number] = order
        self._cache.move_to_end(number)
        size = len(order.history)
        self._held += size - self._sizes.get(number, 0)
        self._sizes[number] = size

    def _drop(self, number: str) -> None:
        if self._cache.pop(number, None) is not None:
            self._held -= self._sizes.pop(number)

    def _forget(self) -> None:
        """Drop the least recently used orders until those kept hold `cache_events` events
        at most."""
        while self._held > self.cache_events and self._cache:
            number, _ = self._cache.popitem(last=False)
            self._held -= self._sizes.pop(number)

    def _forget_all(self) -> None:
        self._cache.clear()
        self._sizes.clear()
        self._held = 0

    def _apply(self, order: Order | None, line: Record) -> Order:
        if line.event == "received":
            if order is not None:
                raise OrderAlreadyReceived(f"order {line.order} was already received differently")
            fields = dict(line.fields)
            day = in_shanghai(line.at).date()
            fields["unit"] = self.app.units.at(str(fields.get("unit", "")), day).name
            return Order.receive(line.order, at=line.at, **fields)
        if order is None:
            raise OrderNotFound(f"no order {line.order} has been received before this line")
        ORDER_COMMANDS[line.event](order, at=line.at, **line.fields)
        return order

    def _already_present(self, order: Order | None, line: Record) -> bool:
        """Whether `order` already has this line's event (same name, time and fields)."""
        if order is None:
            return False
        same_time = [e for e in order.history if e.name == line.event and e.at == line.at]
        if not same_time:
            return False
        fields = dict(line.fields)
        if line.event == "received":
            fields["unit"] = self._unit_name(fields.get("unit", ""))
            fields["number"] = line.order
        candidate = _payload(ORDER_EVENTS[line.event], order, line.at, fields)
        return any(e.payload() == candidate for e in same_time)


def ledger_hasher(app: HotlineApplication) -> Any:
    """The ledger's keyed hash, fed the unit registry (a row's or line's unit reads through
    it: another registry may make a known line refused, or a present one new)."""
    units = (app.rubrics / "units.toml").read_bytes()
    changes = repr(app.unit_additions().changes).encode()
    return row_hasher(app.env.get("CIPHER_KEY") or None, units + changes)


LINES_DIGEST = b"lines/1\0"
"""Fed to a chunk of lines' digest after the registry (never the same as a row's), changed
whenever what it covers changes."""


class KnownLines:
    """The line ledger (adapters/import_ledger.py) as a JSON Lines import uses it, in the
    process that writes (never a worker). A batch's digest covers its lines' raw bytes, its
    first line's number (line 1 may start with a BOM) and the unit registry. A batch whose
    lines were all present or imported, none refused, is recorded once committed; met again
    its lines are already present, as the line-by-line path would find them (events are
    never removed, and a registry that reads them otherwise is another digest), unless one
    is of an order this import has rejected (that path counts it not written). A dry run
    reads it and never writes it."""

    def __init__(self, app: HotlineApplication, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.ledger = ImportLedger(app.readmodel.engine)
        self.hasher = ledger_hasher(app)
        self.hasher.update(LINES_DIGEST)

    def run(
        self,
        lines: Iterable[bytes],
        size: int,
        rejected: Callable[[ImportResult], Collection[str]],
        imported: Callable[[list[tuple[int, bytes]], ImportResult], None],
        progress: Callable[[int], None] | None,
    ) -> ImportResult:
        """Every JSON line, `size` at a time: a batch the ledger knows counted, any other
        given to `imported` (both importers, one process or workers, read a file this way);
        `progress` gets the bytes read after each batch."""
        result = ImportResult()
        numbered = enumerate(lines, start=1)
        done = 0
        try:
            while batch := list(islice(numbered, size)):
                self.batch(batch, result, rejected(result), partial(imported, batch, result))
                result.lines = batch[-1][0]
                done += sum(len(raw) for _, raw in batch)
                if progress:
                    progress(done)
        except LineTooLong as error:  # the batch it is in is not imported
            result.problems.append(line_too_long(error, result.lines))
        return result

    def batch(
        self,
        batch: list[tuple[int, bytes]],
        result: ImportResult,
        rejected: Collection[str],
        imported: Callable[[], None],
    ) -> None:
        """Count the batch's lines in `result` if the ledger knows them, else `imported()`
        (which imports the batch into `result`) and record the batch if it was clean."""
        hasher = self.hasher.copy()
        hasher.update(b"%d\0" % batch[0][0])
        hasher.update(b"".join(raw for _, raw in batch))
        digest = hasher.digest()
        events = self.ledger.known_lines(digest)
        if events is not None and not (
            rejected and any(order_key(number, raw) in rejected for number, raw in batch)
        ):
            result.already_present += events
            result.lines_known += events
            return
        problems, not_written = len(result.problems), result.not_written
        imported()
        if self.dry_run or len(result.problems) != problems or result.not_written != not_written:
            return
        self.ledger.record_lines(digest, sum(1 for _, raw in batch if not _blank(raw)))


def _series(event: str, fields: dict[str, Any]) -> tuple[str, str]:
    """The events a row's event is compared with, the nth with the nth: those of its name; a
    notice (告知) only with those of the decision it tells of, one each (a row's notices
    come in time order, which need not be the order they were recorded in)."""
    return event, str(fields.get("of", "")) if event == Notified.name else ""


def _agrees(key: str, stored: Any, exported: Any) -> bool:
    """Whether an exported field's value agrees with the stored one (times by `_times_agree`;
    a free text as a masked export shows it, by `shows`)."""
    if key == "at" and isinstance(stored, datetime) and isinstance(exported, datetime):
        return _times_agree(stored, exported)
    return shows(key, stored, exported)  # a masked export's free text agrees


def _agrees_stored(key: str, state: Any, value: Any) -> bool:
    """`_agrees` on a field as stored (JSON) against the row's value."""
    if key == "at" and isinstance(state, str) and isinstance(value, datetime):
        return _times_agree(datetime.fromisoformat(state), value)
    return shows(key, state, to_jsonable_python(value))


@cache
def _event_name(topic: str) -> str:
    """A stored event's domain.md name, from its topic."""
    name: str = resolve_topic(topic).name
    return name


def _payload(
    event_class: type[DomainEvent], order: Order, at: datetime, fields: dict[str, Any]
) -> dict[str, Any] | None:
    """The normalised fields of an event made from `fields` (None if they are invalid)."""
    try:
        event = event_class.model_validate(
            {"originator_id": order.id, "originator_version": 1, "timestamp": at, "at": at,
             **fields}
        )  # fmt: skip
    except ValueError:
        return None
    return event.payload()


def _blank(raw: bytes) -> bool:
    return not raw.removeprefix(codecs.BOM_UTF8).strip()  # a BOM alone is blank too


def json_entry(number: int, raw: bytes) -> Entry:
    """Line `number` of JSON Lines as an entry: its event, none if blank, or its problem."""
    if _blank(raw):
        return Entry(number, len(raw))
    try:
        return Entry(number, len(raw), (_parse(number, raw),))
    except InvalidInput as error:
        return Entry(number, len(raw), problem=str(error), order=_order_of(raw))


def _parse(number: int, raw: bytes) -> Record:
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not UTF-8 text (byte {error.start})") from None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"not a JSON object: {error.msg} (column {error.colno})") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise InvalidInput("not a JSON object: a number has too many digits") from None
    except RecursionError:
        raise InvalidInput("not a JSON object: arrays or objects nested too deeply") from None
    if not isinstance(item, dict):
        raise InvalidInput("not a JSON object")
    order, event, at = item.pop("order", None), item.pop("event", None), item.pop("at", None)
    if not isinstance(order, str) or not order.strip():
        raise InvalidInput('"order" (the order number) is missing or not text')
    if not ORDER_NUMBER.fullmatch(order.strip()):
        raise InvalidInput(
            f'"order" {order!r} is not an order number: 1-{lengths.ORDER_NUMBER} letters, digits '
            "and - _ . /, starting with a letter or digit"
        )
    if not isinstance(event, str) or event not in ORDER_EVENTS:
        names = ", ".join(ORDER_EVENTS)
        raise InvalidInput(f'"event" {event!r} is not one of: {names}')
    if reserved := RESERVED_FIELDS & item.keys():
        names = ", ".join(sorted(reserved))
        raise InvalidInput(f"field(s) {names} are set by hotline, not by a line; remove them")
    known = LINE_FIELDS[event]
    if unknown := item.keys() - known:
        raise InvalidInput(
            f"{event}: unknown field(s) {', '.join(sorted(map(repr, unknown)))}; "
            f"its fields are: {', '.join(sorted(known))}"
        )
    unit = item.get("unit")
    if event == "received" and not (isinstance(unit, str) and len(unit) <= lengths.UNIT_NAME):
        raise InvalidInput(
            f'received: "unit" must be a unit\'s name (at most {lengths.UNIT_NAME} characters), as '
            "in `hotline units`"
        )
    if not isinstance(at, str):
        raise InvalidInput('"at" is missing: when it happened, ISO 8601 with +08:00')
    try:
        moment = in_shanghai(datetime.fromisoformat(at))
    except ValueError:
        raise InvalidInput(f'"at" {at!r} is not an ISO 8601 date and time') from None
    except OverflowError:  # year 1 or 9999, taken past the end by its offset (the event
        # refuses any other time outside the calendar)
        raise InvalidInput(
            f'"at" {at!r} is outside the working-day calendar ({FIRST_DAY} … {LAST_DAY})'
        ) from None
    return Record(number, order.strip(), event, moment, item)


_ORDER_FIELD = re.compile(r'"order"\s*:\s*"([^"\\]+)"')


def order_key(number: int, raw: bytes) -> str | None:
    """The order number line `number` is of, as its parsed entry gives it (its event's
    order, or the order a bad line's problem names). A line without a backslash (no escape)
    naming "order" once is read by a pattern; any other is parsed."""
    text = raw.decode("utf-8", errors="replace")
    if "\\" not in text:
        found = _ORDER_FIELD.findall(text)
        if len(found) == 1:  # unescaped, so the key itself (a bad line's named order too)
            key: str = found[0].strip()
            return key if ORDER_NUMBER.fullmatch(key) else None
    entry = json_entry(number, raw)
    return entry.records[0].order if entry.records else entry.order


def _order_of(raw: bytes) -> str | None:
    """The order number of a line that could not be parsed, if its text shows one."""
    found = _ORDER_FIELD.search(raw.decode("utf-8", errors="replace"))
    number = found[1].strip() if found else ""
    return number if ORDER_NUMBER.fullmatch(number) else None
