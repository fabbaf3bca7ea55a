"""Crash safety: an import, the follower and the scheduler killed with SIGKILL at random moments
and started again lose and double no event, and leave the read model equal to a rebuild.

Each process is the real `hotline` command run as a subprocess on the test's `store`, killed
once the store shows it has got a random way into its work (and a few milliseconds more, to
land inside a transaction as often as between two); then it is run again to completion and the
store is compared with a clean run of the same work on a second store. The kill points come
from a seeded `random.Random`: the seed is printed (pytest shows it on a failure), and
HOTLINE_CRASH_SEED=N repeats a run's kill points (their timing is the machine's).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.adapters.readmodel import TRACKING_NAME, ReadModel, metadata, tracking
from hotline.domain.aggregate import SHANGHAI, DomainEvent
from hotline.domain.order import Flagged, order_id
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.importer import Importer
from hotline.service.projection import OrderProjection
from hotline.service.verify import verify
from stores import postgres_server

SEED_ENV = "HOTLINE_CRASH_SEED"
KILLS = 3
"""Kills per scenario before the run to completion."""
TIMEOUT = 120.0
HOTLINE = [sys.executable, "-m", "hotline"]
IMPORT_BATCH = 20
FEED_SECONDS = 3.0
"""How long the import the follower is killed beside takes."""
SMALL_BATCHES = [
    sys.executable,
    "-c",
    "import sys; from hotline.service.importer import Importer; "
    f"Importer.__init__.__defaults__ = ({IMPORT_BATCH},); "
    "from hotline.cli.main import main; sys.exit(main(sys.argv[1:]))",
]
"""`hotline` with the importer's batches of IMPORT_BATCH lines instead of 5,000, so that a kill
finds an import between two of its many transactions, or in one."""
ORDERS = 900
RECEIVED_FROM = datetime(2025, 10, 9, 8, 0, tzinfo=SHANGHAI)
EXPORTED = datetime(2025, 11, 21, 18, 0, tzinfo=SHANGHAI)
"""The export's end: the file holds the events that happened before."""
PASS_AT = datetime(2025, 11, 24, 8, 0, tzinfo=SHANGHAI)
"""The scheduler's pass (a Monday): many of the orders still open are overdue by then."""
UNITS = ("闵行区市场监管局", "徐汇区市场监管局", "浦东新区市场监管局", "松江区消保委", "市药监局")
Tables = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"kill points from seed {seed}: repeat with {SEED_ENV}={seed}")
    return random.Random(seed)


@pytest.fixture
def clean(other_store: str) -> str:
    """A second store, for the run without kills."""
    return other_store


@pytest.fixture
def opened() -> Iterator[Callable[[str], HotlineApplication]]:
    """Opens an application on a store; each is closed after the test."""
    apps: list[HotlineApplication] = []

    def open_app(location: str) -> HotlineApplication:
        apps.append(HotlineApplication(db=location))
        return apps[-1]

    yield open_app
    for app in apps:
        app.close()


@pytest.fixture
def orders_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(line + "\n" for line in _orders(random.Random(7))), encoding="utf-8")
    return path


def _orders(rng: random.Random) -> list[str]:
    """An export of ORDERS orders received over six weeks: most contacted, a few extended,
    returned or supervised, two thirds closed (then some rated or revisited); the rest still
    open, for the scheduler to flag. Sorted by time, as an export is."""
    span = (EXPORTED - RECEIVED_FROM).total_seconds() - 86_400
    events = [
        (at, line)
        for index in range(1, ORDERS + 1)
        for at, line in _Order(
            rng, index, RECEIVED_FROM + timedelta(seconds=rng.uniform(0, span))
        ).events
        if at <= EXPORTED
    ]
    events.sort(key=lambda item: item[0])
    return [json.dumps(line, ensure_ascii=False) for _, line in events]


class _Order:
    """One order's lines, each a random while after the one before."""

    def __init__(self, rng: random.Random, index: int, received: datetime) -> None:
        self.rng, self.number, self.at = rng, f"2025-{index:06d}", received
        self.events: list[tuple[datetime, dict[str, Any]]] = []
        self.log("received", 0, 0, unit=rng.choice(UNITS), channel=rng.choice(["12345", "12315"]),
                 kind=rng.choice(["complaint", "consultation", "report", "help"]),
                 summary=f"诉求 {index}")  # fmt: skip
        if rng.random() < 0.3:
            self.events[0][1].update(citizen_name="陈先生", citizen_phone=f"139{index:08d}")
        if rng.random() < 0.85:
            self.log("first_contact", 1, 40, method=rng.choice(["phone", "sms", "visit"]))
        if rng.random() < 0.1:
            until = (self.at + timedelta(days=30)).date().isoformat()
            self.log("extended", 24, 150, until=until, reason="需现场核查",
                     legal_basis="《消费者权益保护法》")  # fmt: skip
        if rng.random() < 0.05:
            self.log("supervised", 1, 48, at_fault=rng.random() < 0.3)
        closing = True
        if rng.random() < 0.06:
            self.log("returned", 2, 60, reason="非本单位职责", out_of_jurisdiction=True)
            closing = rng.random() < 0.5
            if closing:
                self.log("return_rejected", 2, 30, reason="属本单位职责")
        if closing and rng.random() < 0.65:
            self.log("closed", 20, 300, result=rng.choice(["resolved", "explained"]),
                     citizen_informed=True)  # fmt: skip
            if rng.random() < 0.3:
                self.log("rated", 20, 120, rating=rng.choice(["satisfied", "dissatisfied"]))
            if rng.random() < 0.2:
                self.log("revisited", 2, 150, evaluation=rng.choice(["excellent", "poor"]))

    def log(self, event: str, low: float, high: float, **fields: Any) -> None:
        """`event`, between `low` and `high` hours after the last one."""
        self.at += timedelta(hours=self.rng.uniform(low, high))
        line = {"order": self.number, "event": event, "at": self.at.isoformat(), **fields}
        self.events.append((self.at, line))


# Reading a store: its events, its read model.


def _events(app: HotlineApplication) -> Counter[tuple[str, str]]:
    """Every stored event as (class, its fields but the recorded `timestamp` and the `chain`
    that depends on it), counted."""
    found: Counter[tuple[str, str]] = Counter()
    for notification in app.recorder.select_notifications(None, 1_000_000_000):
        event = app.mapper.to_domain_event(notification)
        assert isinstance(event, DomainEvent)
        found[type(event).__name__, event.model_dump_json(exclude={"timestamp", "chain"})] += 1
    return found


def _head(app: HotlineApplication) -> int:
    return int(app.recorder.max_notification_id() or 0)


ORDER_TABLES = ("rm_orders", "rm_extensions", "rm_revisits", "rm_supervisions", "rm_flags",
                "rm_findings")  # fmt: skip
"""The read-model tables of what happened (not of when it was recorded, or up to which
notification): the same in two stores that hold the same events."""


def _tables(readmodel: ReadModel, names: Collection[str] | None = None) -> Tables:
    """The rows of every read-model table (or of those `names`), sorted."""
    with readmodel.engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(select(table)))
            for table in metadata.sorted_tables
            if names is None or table.name in names
        }


def _assert_read_model_is_a_rebuild(app: HotlineApplication, reference: HotlineApplication) -> None:
    """`app`'s read model, caught up once, is what a rebuild from scratch makes of its events,
    and holds what `reference`'s (a clean run's store) does."""
    projection = OrderProjection(app, app.readmodel)
    projection.catch_up()
    followed = _tables(app.readmodel)
    assert followed[tracking.name] == [(TRACKING_NAME, projection.head())]
    projection.rebuild()
    assert _tables(app.readmodel) == followed
    OrderProjection(reference, reference.readmodel).catch_up()
    assert {name: followed[name] for name in ORDER_TABLES} == _tables(
        reference.readmodel, ORDER_TABLES
    )


# Running and killing the command.


def _start(
    tmp_path: Path, name: str, command: list[str], stdin: int | None = None
) -> subprocess.Popen[bytes]:
    """`command` in the background, its output in tmp_path/NAME.out and NAME.err."""
    with (tmp_path / f"{name}.out").open("wb") as out, (tmp_path / f"{name}.err").open("wb") as err:
        return subprocess.Popen(command, stdin=stdin, stdout=out, stderr=err)


def _kill_when(
    process: subprocess.Popen[bytes], reached: Callable[[], bool], rng: random.Random
) -> bool:
    """SIGKILL `process` once `reached()`, a random 0-30 ms later; False if it ended first."""
    deadline = time.monotonic() + TIMEOUT
    while process.poll() is None and not reached():
        assert time.monotonic() < deadline, "the process made no progress"
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.03))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    assert process.wait(TIMEOUT) == -signal.SIGKILL
    return True


def _kill_at_head(
    process: subprocess.Popen[bytes], app: HotlineApplication, goal: int, rng: random.Random
) -> bool:
    """`_kill_when` the store's newest notification is `goal` or later."""
    return _kill_when(process, lambda: _head(app) >= goal, rng)


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


def _assert_no_error_output(tmp_path: Path) -> None:
    """The killed processes said nothing on stderr before they were killed."""
    for err in tmp_path.glob("*.err"):
        assert err.read_text() == "", err.name


def _import_clean(app: HotlineApplication, path: Path) -> None:
    with path.open("rb") as lines:
        assert Importer(app).run(lines).problems == []


# 1. An import killed, then run again.


def _line_keys(path: Path) -> list[tuple[str, str, datetime]]:
    """Each line's (order id, event, time happened), in the file's order."""
    keys = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = json.loads(raw)
        at = datetime.fromisoformat(line["at"])
        keys.append((str(order_id(line["order"])), line["event"], at))
    return keys


def _stored_keys(app: HotlineApplication) -> list[tuple[str, str, datetime]]:
    """Each stored event's (order id, event, time happened)."""
    keys = []
    for notification in app.recorder.select_notifications(None, 1_000_000_000):
        event = app.mapper.to_domain_event(notification)
        assert isinstance(event, DomainEvent)
        keys.append((str(event.originator_id), event.name, event.at))
    return keys


def test_an_import_killed_at_random_moments_loses_and_doubles_nothing(
    store: str,
    clean: str,
    opened: Callable[[str], HotlineApplication],
    orders_file: Path,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    reference, app = opened(clean), opened(store)
    _import_clean(reference, orders_file)
    lines = _line_keys(orders_file)
    command = [*SMALL_BATCHES, "--db", store, "import", str(orders_file)]
    killed = 0
    for attempt in range(KILLS):
        before = len(_stored_keys(app))
        goal = rng.randint(before + 1, max(before + 1, len(lines) - 3 * IMPORT_BATCH))
        process = _start(tmp_path, f"import-{attempt}", command)
        killed += _kill_at_head(process, app, goal, rng)
        # What is stored is the file's first lines, whole batches of them, each once.
        keys = _stored_keys(app)
        print(f"import {attempt} killed after {len(keys)} of {len(lines)} events: {killed}")
        assert len(keys) % IMPORT_BATCH == 0 or len(keys) == len(lines)
        assert sorted(keys) == sorted(lines[: len(keys)])
    assert killed, "every import ended before it was killed"
    _assert_no_error_output(tmp_path)
    present = len(_stored_keys(app))
    out = _run([*HOTLINE, "--db", store, "import", str(orders_file)])
    assert f"{len(lines)} lines, {len(lines) - present} events written, {present} already" in out
    assert sorted(_stored_keys(app)) == sorted(lines)
    assert _events(app) == _events(reference)
    assert verify(app).clean  # every event chained, after every kill
    _assert_read_model_is_a_rebuild(app, reference)


# 2. The follower killed while an import goes on, and started again.


def _feed(importing: subprocess.Popen[bytes], path: Path, seconds: float) -> None:
    """Write `path` to the import's stdin in batches, evenly over `seconds`."""
    assert importing.stdin is not None
    lines = path.read_bytes().splitlines(keepends=True)
    batches = range(0, len(lines), IMPORT_BATCH)
    for start in batches:
        importing.stdin.write(b"".join(lines[start : start + IMPORT_BATCH]))
        importing.stdin.flush()
        time.sleep(seconds / len(batches))
    importing.stdin.close()


def _kill_after_a_catch_up(
    follower: subprocess.Popen[bytes],
    app: HotlineApplication,
    importing: subprocess.Popen[bytes],
    rng: random.Random,
) -> bool:
    """`_kill_when` the follower has applied a batch (or the import has ended)."""
    start = app.readmodel.position()
    return _kill_when(
        follower, lambda: app.readmodel.position() > start or importing.poll() is not None, rng
    )


def test_a_follower_killed_while_an_import_goes_on_keeps_the_read_model_right(
    store: str,
    clean: str,
    opened: Callable[[str], HotlineApplication],
    orders_file: Path,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    reference, app = opened(clean), opened(store)
    _import_clean(reference, orders_file)
    follow = [*HOTLINE, "--db", store, "projections", "follow", "--interval", "0.05"]
    importing = _start(tmp_path, "import", [*SMALL_BATCHES, "--db", store, "import", "/dev/stdin"],
                       stdin=subprocess.PIPE)  # fmt: skip
    feeder = threading.Thread(target=_feed, args=(importing, orders_file, FEED_SECONDS))
    feeder.start()
    try:
        kills = 0
        while importing.poll() is None or kills < KILLS:
            follower = _start(tmp_path, f"follow-{kills}", follow)
            assert _kill_after_a_catch_up(follower, app, importing, rng), "the follower ended"
            print(f"follower {kills} killed at {app.readmodel.position()} of {_head(app)}")
            kills += 1
    finally:
        feeder.join(TIMEOUT)
    assert importing.wait(TIMEOUT) == 0
    _assert_no_error_output(tmp_path)
    # Started once more, it catches up and stops cleanly on SIGTERM.
    last = _start(tmp_path, "follow-last", follow)
    out = tmp_path / "follow-last.out"
    deadline = time.monotonic() + TIMEOUT
    while not out.read_text().startswith("following") or app.readmodel.position() < _head(app):
        assert time.monotonic() < deadline and last.poll() is None, "the follower did not catch up"
        time.sleep(0.01)
    last.send_signal(signal.SIGTERM)
    assert last.wait(TIMEOUT) == 0
    assert out.read_text().splitlines()[-1].startswith("stopped following;")
    assert _events(app) == _events(reference)
    _assert_read_model_is_a_rebuild(app, reference)


# 3. The scheduler's pass killed, then run again.


def test_a_scheduler_pass_killed_at_random_moments_flags_each_limit_once(
    store: str,
    clean: str,
    opened: Callable[[str], HotlineApplication],
    orders_file: Path,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    reference, app = opened(clean), opened(store)
    for each in (reference, app):
        _import_clean(each, orders_file)
    complete = flag_due_orders(reference, PASS_AT)
    flags = len(complete.flagged)
    assert flags > 100 and complete.already == 0
    tick = [*HOTLINE, "--db", store, "scheduler", "tick", "--as-of", f"{PASS_AT:%Y-%m-%d %H:%M}"]
    killed = 0
    for attempt in range(KILLS):
        goal = _head(app) + rng.randint(1, flags // (KILLS + 1))
        process = _start(tmp_path, f"tick-{attempt}", tick)
        killed += _kill_at_head(process, app, goal, rng)
        print(f"pass {attempt} killed at notification {_head(app)}: {killed}")
    assert killed, "every pass ended before it was killed"
    _assert_no_error_output(tmp_path)
    out = _run(tick)
    made, before = map(int, re.findall(r"(\d+) flagged, (\d+) flagged before", out)[0])
    assert made + before == flags and before > 0
    for number in {flag.number for flag in complete.flagged}:
        made_on = [(e.limit, e.level, e.due) for e in app.order(number).events_of(Flagged)]
        assert len(made_on) == len(set(made_on)), f"order {number} flagged twice"
    assert _events(app) == _events(reference)
    _assert_read_model_is_a_rebuild(app, reference)


# A new SQLite store opened by several processes at once.

OPENERS = 8
ROUNDS = 20


def _open_and_receive(
    paths: list[str], writer: int, start: Barrier, results: Queue[list[str]]
) -> None:
    """Open each new store at the same moment as the other writers, receive an order and
    catch the read model up."""
    outcomes = []
    for path in paths:
        start.wait()
        try:
            app = HotlineApplication(db=path)
            app.receive(f"N-{writer}", unit=UNITS[0], at=RECEIVED_FROM, kind="complaint",
                        channel="12345")  # fmt: skip
            OrderProjection(app, app.readmodel).catch_up()  # the read model's tables too
            app.close()
        except Exception as error:  # reported, and checked by the test
            outcomes.append(f"{type(error).__name__}: {error}")
        else:
            outcomes.append("ok")
    results.put(outcomes)


def test_a_new_sqlite_store_opened_by_several_processes_at_once(
    tmp_path: Path, opened: Callable[[str], HotlineApplication]
) -> None:
    if postgres_server() is not None:
        pytest.skip("about a SQLite file's first opening (run on the SQLite pass)")
    paths = [str(tmp_path / f"new-{n}" / "hotline.db") for n in range(ROUNDS)]
    context = multiprocessing.get_context("forkserver")  # each a fork of one that has hotline
    context.set_forkserver_preload(["hotline.service.application"])
    start = context.Barrier(OPENERS)
    results: Queue[list[str]] = context.Queue()
    processes = [
        context.Process(target=_open_and_receive, args=(paths, writer, start, results))
        for writer in range(OPENERS)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [outcome for _ in processes for outcome in results.get(timeout=TIMEOUT)]
    finally:
        for process in processes:
            process.join(TIMEOUT)
    assert outcomes == ["ok"] * OPENERS * ROUNDS
    for path in paths:
        assert sum(_events(opened(path)).values()) == OPENERS
