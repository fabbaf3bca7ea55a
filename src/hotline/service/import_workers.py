"""A JSON Lines import in parallel: worker processes by order number, one writer.

An order's rules need only that order's events, so the orders are shared out among worker
processes by a hash of their number: each worker parses its lines, applies them to its
orders (kept in its own memory, read from the store when not there) and makes their events
as the store keeps them (signed, encrypted with a key). This process reads the file, hands
each batch's lines out, and inserts all the workers' events of the batch in one
transaction. The batches, their transactions, the skipped events and the rejected orders
are those of `Importer` (workers=1), and the problems come in line order: the same report
and the same store (a test compares the two). Stopped (SIGTERM, Ctrl-C), the writer
finishes no batch, says what it committed and stops its workers, which exit quietly.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from hotline.adapters.settings import Settings
from hotline.domain.errors import HotlineError
from hotline.domain.order import Order
from hotline.service.application import ConcurrentChange, HotlineApplication
from hotline.service.importer import (
    BATCH_LINES,
    CACHE_EVENTS,
    CONCURRENT_IMPORT,
    Importer,
    ImportResult,
    KnownLines,
    json_entry,
    order_key,
)

STOPPING = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop an import (a service's stop, Ctrl-C)."""


class ImportStopped(HotlineError):
    """An import stopped by a signal: the batches committed before it are kept, whole."""


class _Signalled(BaseException):
    """A stopping signal, raised in the writer (not an Exception: nothing may swallow it)."""


def _raise_signalled(number: int, _frame: object) -> None:
    for each in STOPPING:  # a second Ctrl-C lets the first finish stopping
        signal.signal(each, signal.SIG_IGN)
    raise _Signalled("Ctrl-C" if number == signal.SIGINT else signal.Signals(number).name)


def default_workers() -> int:
    """The import's workers unless told: one per core this process may run on."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) if cores else os.cpu_count() or 1


def worker_of(key: str | None, workers: int) -> int:
    """The worker that takes an order's lines (`order_key`; a line of no order: the
    first)."""
    return zlib.crc32(key.encode()) % workers if key is not None else 0


@dataclass
class _Share:
    """What a worker did with its share of a batch."""

    result: ImportResult
    stored: list[StoredEvent]


class _WorkerImporter(Importer):
    """A worker's importer: it keeps its orders as `Importer` does, but leaves the saving of
    their events to the writer (`stored`), and can forget a batch the writer could not
    save."""

    def __init__(self, app: HotlineApplication, *, dry_run: bool, cache_events: int) -> None:
        super().__init__(app, dry_run=dry_run, cache_events=cache_events)
        self.stored: list[StoredEvent] = []
        self._before: set[str] = set()

    def _save(self, orders: list[Order]) -> int:
        self.stored = self.app.stored_events(orders)
        return len(self.stored)

    def share(self, lines: list[tuple[int, bytes]]) -> _Share:
        """Its lines of one batch imported, their events left to the writer."""
        self._before = set(self._rejected)
        self.stored = []
        result = self.import_batch([json_entry(number, raw) for number, raw in lines])
        return _Share(result, self.stored)

    def undo(self) -> None:
        """The last share not saved (another writer got to one of its orders first): its
        rejections forgotten, and every order kept, as they may hold its events."""
        self._rejected = self._before
        self._forget_all()


def _work(
    connection: Connection, other: Connection, settings: Settings, dry_run: bool, cache: int
) -> None:
    """A worker's loop: a share of a batch in, what it did out; "undo"; None to stop. The
    writer gone (stopped, killed), it ends quietly: the writer says what was committed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the writer stops the import
    other.close()  # so that the writer's end closing (it died) ends this loop
    with suppress(OSError):  # the writer's end closed before a reply: BrokenPipeError
        _serve(connection, settings, dry_run, cache)


def _serve(connection: Connection, settings: Settings, dry_run: bool, cache: int) -> None:
    try:
        app = HotlineApplication(settings=settings)
        importer = _WorkerImporter(app, dry_run=dry_run, cache_events=cache)
    except HotlineError as error:
        connection.send(("error", error))
        return
    connection.send(("ready", None))
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        try:
            if message == "undo":
                importer.undo()
                connection.send(("done", None))
            else:
                connection.send(("done", importer.share(message)))
        except HotlineError as error:
            connection.send(("error", error))
        except Exception:  # the writer reports it: this process has no terminal
            connection.send(("crash", traceback.format_exc()))


class _Pool:
    """The worker processes, each over its own pipe."""

    def __init__(self, settings: Settings, workers: int, dry_run: bool) -> None:
        forks = "fork" in multiprocessing.get_all_start_methods()  # the workers share the
        # parent's loaded modules (copy on write); elsewhere each imports them anew
        context = multiprocessing.get_context("fork") if forks else multiprocessing.get_context()
        self.connections: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(workers):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_work,
                args=(theirs, mine, settings, dry_run, CACHE_EVENTS // workers),
                daemon=True,
            )
            process.start()
            theirs.close()
            self.connections.append(mine)
            self.processes.append(process)
        self._replies()

    def shares(self, parts: list[list[tuple[int, bytes]]]) -> list[_Share]:
        """Each worker's share of a batch imported."""
        for connection, part in zip(self.connections, parts, strict=True):
            connection.send(part)
        return self._replies()

    def undo(self) -> None:
        for connection in self.connections:
            connection.send("undo")
        self._replies()

    def _replies(self) -> list[Any]:
        replies = []
        failure: BaseException | None = None
        for connection in self.connections:
            try:
                kind, reply = connection.recv()
            except EOFError:
                kind, reply = "crash", "an import worker stopped"
            if kind == "error":
                failure = failure or reply
            elif kind == "crash":
                failure = failure or RuntimeError(f"an import worker failed:\n{reply}")
            replies.append(reply)
        if failure is not None:
            raise failure
        return replies

    def close(self) -> None:
        for connection in self.connections:
            with suppress(OSError):  # it stopped already
                connection.send(None)
            connection.close()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


class ParallelImporter:
    """Imports JSON Lines as `Importer` does, its orders shared out among `workers` worker
    processes; `dry_run` reads and checks without saving. The workers run while it is
    entered (`with`): start them before any thread (a progress bar's), as they are forked."""

    def __init__(
        self,
        app: HotlineApplication,
        workers: int,
        batch_lines: int = BATCH_LINES,
        *,
        dry_run: bool = False,
    ) -> None:
        self.app = app
        self.workers = workers
        self.batch_lines = batch_lines
        self.dry_run = dry_run
        self._pool: _Pool | None = None
        self._written = 0

    def __enter__(self) -> ParallelImporter:
        self._pool = _Pool(self.app.settings, self.workers, self.dry_run)
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def run(
        self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Import every JSON line, a batch the line ledger knows without handing it out;
        `progress` gets the bytes read after each batch."""
        pool = self._pool
        assert pool is not None, "run it inside `with`"
        self._written = 0
        main = threading.current_thread() is threading.main_thread()  # signals reach only it
        before = (
            {number: signal.signal(number, _raise_signalled) for number in STOPPING} if main else {}
        )
        try:
            return KnownLines(self.app, self.dry_run).run(
                lines,
                self.batch_lines,
                lambda result: {problem.order for problem in result.problems if problem.order},
                lambda batch, result: self._import_batch(pool, batch, result),
                progress,
            )
        except _Signalled as stop:
            raise ImportStopped(
                f"the import stopped on {stop}: {self._written} events written in the batches "
                "committed before it, none half-written; import the file again to resume "
                "(what is in is skipped)"
            ) from None
        finally:
            for number, handler in before.items():
                signal.signal(number, handler)

    def _import_batch(
        self, pool: _Pool, batch: list[tuple[int, bytes]], result: ImportResult
    ) -> None:
        """One batch: the workers' shares, their events saved in one transaction; if another
        writer saved one of its orders first, done again once (the workers' orders read
        afresh)."""
        parts: list[list[tuple[int, bytes]]] = [[] for _ in range(self.workers)]
        for number, raw in batch:
            parts[worker_of(order_key(number, raw), self.workers)].append((number, raw))
        for attempt in range(2):
            shares = pool.shares(parts)
            if self.dry_run:
                break
            stored = [event for share in shares for event in share.stored]
            try:
                with _held(STOPPING):  # a stop waits for the commit, so it is counted
                    self.app.insert_stored(stored)
                    self._written += len(stored)
                break
            except IntegrityError:
                pool.undo()
                if attempt:
                    raise ConcurrentChange(CONCURRENT_IMPORT) from None
        problems = []
        for share in shares:
            done = share.result
            result.written += done.written
            result.already_present += done.already_present
            result.not_written += done.not_written
            result.orders_read += done.orders_read
            problems += done.problems
        result.problems += sorted(problems, key=lambda problem: problem.line)


@contextmanager
def _held(signals: Iterable[signal.Signals]) -> Iterator[None]:
    """`signals` held back while inside: delivered, if sent, on leaving."""
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
