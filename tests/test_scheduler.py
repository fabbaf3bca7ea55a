"""The scheduler daemon: its job kept in the store across restarts, passes missed while it was
down caught up once, nothing flagged twice, a clean stop on SIGTERM and Ctrl-C.

The daemon's clock (the time a pass is made at) is fixed on the first working day after the
2026 Spring Festival; APScheduler's own timing is real time. "Down since" rewinds the stored
job's next run, as if the daemon had stopped then.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import InvalidInput
from hotline.domain.order import Flagged, FlagLevel
from hotline.service.application import HotlineApplication
from hotline.service.flagging import Pass
from hotline.service.reports import Reports
from hotline.service.scheduler import (
    JOB_ID,
    JOB_TABLE,
    Daemon,
    SchedulerError,
    Started,
    stored_job,
)

PASS_TIME = datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)
QUIET = 1.5
"""Seconds to listen for a pass that must not come (a run is submitted within milliseconds)."""


class Heard:
    """What a daemon reported: passes and errors, as they come."""

    def __init__(self) -> None:
        self.passes: queue.Queue[Pass] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()

    def next_pass(self) -> Pass:
        return self.passes.get(timeout=30)

    def assert_quiet(self) -> None:
        with pytest.raises(queue.Empty):
            self.passes.get(timeout=QUIET)


def daemon(
    app: HotlineApplication, heard: Heard, *times: time, window: int = 0, at: datetime = PASS_TIME
) -> Daemon:
    """A daemon whose clock says `at`; its default pass time, 10:00, is still to come then
    (a time already past would be made at once on a first start)."""
    return Daemon(
        app,
        times or (time(10, 0),),
        window,
        on_pass=heard.passes.put,
        on_error=heard.errors.put,
        clock=lambda: at,
    )


def run_once(app: HotlineApplication, *times: time) -> Started:
    """Start a daemon and stop it at once."""
    running = daemon(app, Heard(), *times)
    started = running.start()
    running.stop()
    return started


def down_since(app: HotlineApplication, moment: datetime) -> None:
    """Rewind the stored job's next run to `moment`, as if the daemon had stopped then."""
    store = SQLAlchemyJobStore(engine=app.readmodel.engine, tablename=JOB_TABLE)
    store.start(BackgroundScheduler(timezone=SHANGHAI), "default")
    job = store.lookup_job(JOB_ID)
    job._modify(next_run_time=moment)
    store.update_job(job)


def days_ago(days: int) -> datetime:
    return datetime.now(SHANGHAI) - timedelta(days=days)


def receive(app: HotlineApplication, number: str) -> None:
    """An order whose first contact fell due on Sat 2026-02-14 (a make-up workday)."""
    received = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
    app.receive(number, unit="闵行区市场监管局", at=received, kind="complaint", channel="12345")


def test_the_job_lives_in_the_store_and_a_restart_keeps_it(app: HotlineApplication) -> None:
    assert stored_job(app) is None
    first = run_once(app, time(10, 0), time(12, 30))
    assert (first.kept, first.catch_up) == (False, None)
    kept = stored_job(app)
    assert kept is not None
    assert kept.times == (time(10, 0), time(12, 30)) and kept.window == 0
    assert kept.next_run is not None and kept.next_run > datetime.now(SHANGHAI)
    assert (kept.next_run.hour, kept.next_run.minute) in ((10, 0), (12, 30))
    again = run_once(app, time(12, 30), time(10, 0))
    assert again.kept and again.catch_up is None and again.job.next_run == kept.next_run


def test_a_missed_pass_is_caught_up_and_a_restart_reflags_nothing(
    app: HotlineApplication,
) -> None:
    receive(app, "S1")
    run_once(app)
    down_since(app, days_ago(3))
    heard = Heard()
    running = daemon(app, heard)
    started = running.start()
    assert started.kept and started.catch_up is not None
    first = heard.next_pass()
    running.stop()
    assert (first.day, [(f.number, f.limit, f.level) for f in first.flagged]) == (
        PASS_TIME.date(),
        [("S1", "first_contact", FlagLevel.OVERDUE)],
    )
    after = stored_job(app)
    assert after is not None and after.next_run is not None
    assert after.next_run > datetime.now(SHANGHAI)

    down_since(app, days_ago(1))
    heard = Heard()
    running = daemon(app, heard)
    running.start()
    second = heard.next_pass()
    running.stop()
    assert (second.flagged, second.already) == ([], 1)
    assert [e.level for e in app.order("S1").events_of(Flagged)] == [FlagLevel.OVERDUE]
    assert len(Reports(app, app.readmodel).alerts()) == 1
    assert heard.errors.empty()


def test_passes_missed_over_a_holiday_week_are_caught_up_once(app: HotlineApplication) -> None:
    receive(app, "S1")
    run_once(app, time(10, 0), time(12, 0))
    down_since(app, days_ago(8))  # 16 passes missed
    heard = Heard()
    running = daemon(app, heard, time(10, 0), time(12, 0))
    running.start()
    try:
        assert len(heard.next_pass().flagged) == 1
        heard.assert_quiet()
        upcoming = running.job().next_run
    finally:
        running.stop()
    assert upcoming is not None and upcoming > datetime.now(SHANGHAI)


def test_new_times_reschedule_the_job_but_still_catch_up(app: HotlineApplication) -> None:
    run_once(app, time(10, 0))
    moved = run_once(app, time(9, 30))
    assert not moved.kept and moved.job.next_run is not None
    assert (moved.job.next_run.hour, moved.job.next_run.minute) == (9, 30)
    assert stored_job(app) == moved.job

    down_since(app, days_ago(2))
    heard = Heard()
    running = daemon(app, heard, time(7, 45), window=2)
    started = running.start()
    heard.next_pass()
    running.stop()
    assert not started.kept and started.catch_up is not None
    job = stored_job(app)
    assert job is not None and (job.times, job.window) == ((time(7, 45),), 2)


def test_a_failed_pass_is_reported_and_the_daemon_goes_on(app: HotlineApplication) -> None:
    run_once(app)
    down_since(app, days_ago(1))

    def broken_clock() -> datetime:
        raise InvalidInput("the clock is broken")

    heard = Heard()
    running = Daemon(
        app, (time(8, 0),), on_pass=heard.passes.put, on_error=heard.errors.put, clock=broken_clock
    )
    running.start()
    try:
        error = heard.errors.get(timeout=30)
        assert running.job().next_run is not None
    finally:
        running.stop()
    assert error == "the pass failed: the clock is broken; the next pass tries again"


def test_one_daemon_per_store_in_a_process(app: HotlineApplication, store: str) -> None:
    heard = Heard()
    running = daemon(app, heard)
    running.start()
    try:
        with pytest.raises(SchedulerError, match="already serves"):
            daemon(HotlineApplication(db=store), heard).start()
    finally:
        running.stop()
    run_once(app)  # the store is free again


def start_cli_daemon(store: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hotline", "scheduler", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOTLINE_DB": store},
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_run_stops_cleanly_and_keeps_its_job(store: str, stop: signal.Signals) -> None:
    process = start_cli_daemon(store, "--at", "07:30,13:00", "--window", "1")
    assert process.stdout is not None
    first = process.stdout.readline()
    start = "scheduler running: passes at 07:30, 13:00 Asia/Shanghai, window 1; job scheduled; "
    # Real time: started after 07:30 on a working day, today's pass is made at once.
    assert first.startswith((start + "next pass ", start + "catching up today's ")), first
    process.send_signal(stop)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (0, "")
    assert out.splitlines()[-1].startswith("scheduler stopped; its job stays in the store")
    status = subprocess.run(
        [sys.executable, "-m", "hotline", "--db", store, "scheduler", "status"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.startswith("passes at 07:30, 13:00 Asia/Shanghai, window 1; next pass ")


def test_scheduler_run_refuses_bad_times(store: str) -> None:
    process = start_cli_daemon(store, "--at", "8pm")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert err.strip() == (
        "hotline: --at '8pm' is not a list of times of day; write HH:MM[,HH:MM...], "
        "e.g. 08:00,12:00"
    )


def test_scheduler_status_before_any_run(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = cli("scheduler", "status")
    assert code == 0 and "no scheduler has run on this store" in out


def test_a_first_start_after_today_s_pass_time_makes_that_pass_once(
    app: HotlineApplication,
) -> None:
    """Issue 21 item 6: started at 09:00, the 08:00 pass is made at once, not tomorrow."""
    receive(app, "S1")
    heard = Heard()
    running = daemon(app, heard, time(8, 0), time(12, 0))
    started = running.start()
    try:
        assert not started.kept
        assert started.catch_up == PASS_TIME.replace(hour=8)
        made = heard.next_pass()
        heard.assert_quiet()
        upcoming = running.job().next_run
    finally:
        running.stop()
    assert made.day == PASS_TIME.date() and [f.number for f in made.flagged] == ["S1"]
    assert upcoming is not None and upcoming > datetime.now(SHANGHAI)
    again = run_once(app, time(8, 0), time(12, 0))
    assert again.kept and again.catch_up is None


def test_no_start_up_pass_on_a_day_off_or_before_the_first_time(app: HotlineApplication) -> None:
    sunday = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    assert not app.calendar().is_working_day(sunday.date())
    for at, times in ((PASS_TIME, (time(9, 30), time(14, 0))), (sunday, (time(8, 0),))):
        running = daemon(app, Heard(), *times, at=at)
        started = running.start()
        running.stop()
        assert started.catch_up is None and not started.kept
