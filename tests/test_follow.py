"""`projections follow`: the read model kept caught up while orders are logged, transient errors
retried, a clean stop on the stop event, SIGTERM and Ctrl-C. Tests wait with generous timeouts
and never assert a speed."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError

from hotline.adapters.eventstore import StoreError
from hotline.cli.main import main
from hotline.domain.aggregate import SHANGHAI
from hotline.service import projection as projecting
from hotline.service.application import HotlineApplication
from hotline.service.projection import CatchUp, OrderProjection, follow

MINHANG = "闵行区市场监管局"
RECEIVED = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
CLOCK = datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)
TIMEOUT = 10.0


def receive(app: HotlineApplication, number: str) -> None:
    app.receive(number, unit=MINHANG, at=RECEIVED, kind="complaint", channel="12345")


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, f"not within {TIMEOUT} s: {what}"
        time.sleep(0.05)


class Scripted:
    """A waiter that runs the next step at each wait, and sets the stop event after the last."""

    def __init__(self, *steps: Callable[[], None]) -> None:
        self.steps = list(steps)
        self.timeouts: list[float] = []

    def wait(self, stop: threading.Event, timeout: float) -> None:
        self.timeouts.append(timeout)
        if self.steps:
            self.steps.pop(0)()
        else:
            stop.set()


def test_following_in_a_thread_keeps_up_with_orders_logged(app: HotlineApplication) -> None:
    projection = OrderProjection(app, app.readmodel)
    stop = threading.Event()
    caught: list[CatchUp] = []
    errors: list[str] = []
    stopped_at: list[int | None] = []

    def run() -> None:
        stopped_at.append(
            follow(projection, stop, on_catch_up=caught.append, on_error=errors.append,
                   interval=0.05)
        )  # fmt: skip

    follower = threading.Thread(target=run)
    follower.start()
    try:
        for number in ("F1", "F2", "F3"):
            receive(app, number)
        app.record("F1", "first_contact", at=datetime(2026, 2, 14, 9, 0, tzinfo=SHANGHAI))

        def caught_up() -> bool:
            found = projection.status()
            return found.lag == 0 and found.orders == 3

        eventually(caught_up, "the read model has the three orders")
    finally:
        stop.set()
        follower.join(TIMEOUT)
    assert not follower.is_alive()
    head = projection.head()
    assert stopped_at == [head] and errors == []
    assert caught and caught[-1].position == head
    assert sum(c.applied for c in caught) == head


def test_a_catch_up_is_reported_only_when_it_applied_something(app: HotlineApplication) -> None:
    projection = OrderProjection(app, app.readmodel)
    waiter = Scripted(lambda: receive(app, "F1"), lambda: None, lambda: receive(app, "F2"))
    caught: list[CatchUp] = []
    stopped = follow(
        projection,
        threading.Event(),
        on_catch_up=caught.append,
        on_error=pytest.fail,
        waiter=waiter,
        interval=0.25,
        clock=lambda: CLOCK,
    )
    assert waiter.timeouts == [0.25] * 4
    assert [(c.at, c.applied) for c in caught] == [(CLOCK, 1), (CLOCK, 1)]
    assert stopped == caught[-1].position == projection.head()
    found = projection.status()
    assert (found.position, found.head, found.orders, found.lag) == (stopped, stopped, 2, 0)


def test_a_set_stop_event_ends_a_catch_up_after_the_batch_under_way(
    app: HotlineApplication,
) -> None:
    for number in ("F1", "F2", "F3"):
        receive(app, number)
    stop = threading.Event()
    projection = OrderProjection(app, app.readmodel, batch_size=1)
    assert projection.catch_up(lambda *_: stop.set(), stop) == 1
    assert projection.status().position == 1


def test_a_transient_error_is_reported_and_retried(
    app: HotlineApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive(app, "F1")
    select = projecting.notifications
    failures = [OperationalError("database is locked")]

    def flaky(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return select(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(projecting, "notifications", flaky)  # how the projection reads the log
    errors: list[str] = []
    caught: list[CatchUp] = []
    stopped = follow(
        OrderProjection(app, app.readmodel),
        threading.Event(),
        on_catch_up=caught.append,
        on_error=errors.append,
        waiter=Scripted(),
        retry_pause=0,
    )
    assert errors == ["cannot catch up (database is locked); trying again in 0 s"]
    assert [c.applied for c in caught] == [1] and stopped == app.recorder.max_notification_id()


def test_a_hotline_error_ends_following(
    app: HotlineApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise StoreError("the store is gone")

    receive(app, "F1")
    monkeypatch.setattr(projecting, "notifications", broken)
    with pytest.raises(StoreError, match="the store is gone"):
        follow(
            OrderProjection(app, app.readmodel),
            threading.Event(),
            on_catch_up=pytest.fail,
            on_error=pytest.fail,
            waiter=Scripted(),
        )


def hotline(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_projections_follow_keeps_up_and_stops_cleanly(db: Path, stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline", "--db", str(db), "projections", "follow",
         "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first == "following the store every 0.2 s; stop with SIGTERM or Ctrl-C\n"
        for number in ("C1", "C2"):
            hotline(db, "order", "receive", number, "--unit", MINHANG, "--kind", "投诉",
                    "--channel", "12345", "--at", "2026-02-13 10:00")  # fmt: skip
        status = re.compile(
            r"read model at notification (\d+) of \1: \d+ events stored, 0 not yet applied; 2 orders"
        )
        eventually(
            lambda: bool(status.fullmatch(hotline(db, "projections", "status").stdout.strip())),
            "projections status shows the read model caught up",
        )
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    store = HotlineApplication(db=str(db))
    head = store.recorder.max_notification_id()
    assert (process.returncode, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1] == f"stopped following; read model at event {head}"
    applied = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d applied (\d+) events?; "
                         r"read model at event (\d+)")  # fmt: skip
    reports = [applied.fullmatch(line) for line in lines[:-1]]
    assert all(reports) and reports[-1] and reports[-1][2] == str(head), out


def test_projections_follow_on_a_store_that_cannot_be_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(tmp_path), "projections", "follow"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"hotline: store {tmp_path} is a directory")
    assert len(err.splitlines()) == 1
