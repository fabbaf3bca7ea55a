"""The overdue scheduler as a daemon (`hotline scheduler run`).

APScheduler 3 runs the pass (`flagging.flag_due_orders`) at set times of day, Asia/Shanghai,
every day: a pass on a day off does nothing, and a make-up workday (调休) can be a Saturday.
Its one job lives in the store's own database (table `scheduler_jobs`), so a restart finds
the job and its next run time: runs missed while the daemon was down are caught up by one
pass however late (coalesced), and a pass flags nothing twice.

APScheduler pickles the job, so the job's function is `scheduled_pass`, found by name, and
its arguments are plain values; the application and clock it works with are those of the
daemon serving that store in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from hotline.adapters.eventstore import store_failure
from hotline.adapters.postgres import JOB_TABLE
from hotline.domain.aggregate import SHANGHAI, in_shanghai, now
from hotline.domain.errors import HotlineError
from hotline.service.application import HotlineApplication
from hotline.service.flagging import Pass, flag_due_orders

JOB_ID = "flag-due-orders"
DEFAULT_TIMES = (time(8, 0), time(12, 0))
"""Passes at 08:00 (before the office opens) and at noon."""


class SchedulerError(HotlineError):
    """The scheduler cannot start or its job cannot run."""


@dataclass(frozen=True)
class Job:
    """The scheduled pass as kept in the store."""

    times: tuple[time, ...]
    window: int
    next_run: datetime | None


@dataclass(frozen=True)
class Started:
    """How the daemon found its job: `kept` from an earlier run (else new, or rescheduled
    to other times), and `catch_up`: the next run it found already passed (or, for a job
    new or rescheduled, today's pass time already past), made now."""

    job: Job
    kept: bool
    catch_up: datetime | None


_serving: dict[str, Daemon] = {}
"""The daemon serving each store in this process, for `scheduled_pass`."""
_serving_lock = threading.Lock()


def scheduled_pass(store: str, window: int) -> Pass:
    """The job: one pass by the daemon serving `store`."""
    daemon = _serving.get(store)
    if daemon is None:
        raise SchedulerError(f"no scheduler serves {store} in this process")
    return flag_due_orders(daemon.app, daemon.clock(), window)


class Daemon:
    """Runs the pass at `times` each day with the warning `window`, until stopped.

    `on_pass` hears each pass's result and `on_error` each failed pass, in the
    scheduler's worker thread; `clock` is the time a pass is made at.
    """

    def __init__(
        self,
        app: HotlineApplication,
        times: tuple[time, ...] = DEFAULT_TIMES,
        window: int = 0,
        *,
        on_pass: Callable[[Pass], None],
        on_error: Callable[[str], None],
        clock: Callable[[], datetime] = now,
    ) -> None:
        if not times:
            raise SchedulerError("give at least one time of day for the pass")
        self.app = app
        self.times = tuple(sorted(set(times)))
        self.window = window
        self.clock = clock
        # The job keeps this name of the store: with any password hidden.
        self.store = app.readmodel.engine.url.render_as_string()
        self._on_pass = on_pass
        self._on_error = on_error
        self._scheduler = _scheduler(app)

    def start(self) -> Started:
        """Start serving: keep the stored job (and its next run) if its schedule is the same,
        else (re)schedule it; a next run already past is caught up now, once."""
        with _serving_lock:
            if self.store in _serving:
                raise SchedulerError(f"a scheduler already serves {self.store} in this process")
            _serving[self.store] = self
        try:
            return self._start()
        except Exception as error:
            self.stop()
            if isinstance(error, HotlineError):
                raise
            raise SchedulerError(f"cannot start the scheduler: {error}") from None

    def _start(self) -> Started:
        self._scheduler.start(paused=True)
        trigger = _trigger(self.times)
        stored = self._scheduler.get_job(JOB_ID)
        kept = stored is not None and repr(stored.trigger) == repr(trigger)
        moment = datetime.now(SHANGHAI)
        upcoming = stored.next_run_time if stored is not None else None
        keep: dict[str, datetime] = {}
        # A missed pass is caught up even if the times changed meanwhile.
        if upcoming is not None and (kept or upcoming <= moment):
            keep["next_run_time"] = upcoming
        elif (missed := self._missed_today(stored)) is not None:
            keep["next_run_time"] = missed
        self._scheduler.add_job(
            "hotline.service.scheduler:scheduled_pass",
            trigger,
            id=JOB_ID,
            name="flag orders due soon or overdue",
            kwargs={"store": self.store, "window": self.window},
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
            **keep,
        )
        self._scheduler.add_listener(self._heard, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        job = self.job()
        late = job.next_run if job.next_run is not None and job.next_run <= moment else None
        self._scheduler.resume()
        return Started(job, kept, late)

    def _missed_today(self, stored: Any) -> datetime | None:
        """Today's latest pass time already past, for a job new or rescheduled (no stored run
        to catch up): started after 08:00, the daemon makes the 08:00 pass at once rather
        than tomorrow (what coalescing means to a user). Not on a day off (a pass flags
        nothing then), nor if the job it replaces was running and has passed a time today."""
        moment = in_shanghai(self.clock())
        if not self.app.calendar().is_working_day(moment.date()):
            return None
        if stored is not None and any(t <= moment.time() for t in _times(stored.trigger)):
            return None
        passed = [t for t in self.times if t <= moment.time()]
        return datetime.combine(moment.date(), max(passed), SHANGHAI) if passed else None

    def job(self) -> Job:
        """The job as the scheduler now holds it."""
        found = self._scheduler.get_job(JOB_ID)
        if found is None:
            raise SchedulerError("the scheduler's job is missing; restart the scheduler")
        return _job(found)

    def stop(self) -> None:
        """Stop after the pass under way, if any; the job stays in the store."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        with _serving_lock:
            if _serving.get(self.store) is self:
                del _serving[self.store]

    def _heard(self, event: JobExecutionEvent) -> None:
        if event.exception is not None:
            error = store_failure(event.exception) or event.exception
            why = str(error) if isinstance(error, HotlineError) else repr(error)
            self._on_error(f"the pass failed: {why}; the next pass tries again")
        else:
            self._on_pass(event.retval)


def stored_job(app: HotlineApplication) -> Job | None:
    """The scheduled pass kept in `app`'s store, if a daemon ever ran on it (read from the
    job store alone: a scheduler, even paused, would run a due job on shutdown)."""
    store = _job_store(app)
    store.start(_Scheduler(timezone=SHANGHAI), "default")
    found = store.lookup_job(JOB_ID)
    if found is None:
        return None
    return _job(found)


def _job(found: Any) -> Job:
    """Our view of APScheduler's job."""
    window = found.kwargs.get("window")
    return Job(_times(found.trigger), window if isinstance(window, int) else 0, found.next_run_time)


def _times(trigger: object) -> tuple[time, ...]:
    """The times of day of a trigger made by `_trigger`."""
    crons = trigger.triggers if isinstance(trigger, OrTrigger) else []
    fields = [{field.name: str(field) for field in cron.fields} for cron in crons]
    return tuple(time(int(f["hour"]), int(f["minute"])) for f in fields)


def _trigger(times: tuple[time, ...]) -> OrTrigger:
    return OrTrigger([CronTrigger(hour=t.hour, minute=t.minute, timezone=SHANGHAI) for t in times])


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's background scheduler, less a race (agronholm/apscheduler#285): on
    shutdown its loop wakes once more and processes due jobs with the executor already shut,
    which fails to run them yet moves their next run on, so a missed pass would be lost."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


class _JobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store, creating its table on SQLite only: on PostgreSQL
    `hotline db init` does (`create_job_table`)."""

    def start(self, scheduler: Any, alias: str) -> None:
        if self.engine.dialect.name == "sqlite":
            super().start(scheduler, alias)
        else:
            BaseJobStore.start(self, scheduler, alias)


def create_job_table(app: HotlineApplication) -> None:
    """Create the job store's table if it is not there (for `hotline db init`)."""
    _job_store(app).jobs_t.create(app.readmodel.engine, checkfirst=True)


def _job_store(app: HotlineApplication) -> SQLAlchemyJobStore:
    return _JobStore(engine=app.readmodel.engine, tablename=JOB_TABLE)


def _scheduler(app: HotlineApplication) -> _Scheduler:
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return _Scheduler(
        jobstores={"default": _job_store(app)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        timezone=SHANGHAI,
    )
