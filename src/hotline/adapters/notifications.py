"""Waiting for new events on PostgreSQL: LISTEN on the channel the event store NOTIFYs.

eventsourcing's PostgreSQL recorder runs `NOTIFY <channel>` in every transaction that
stores events, so a listener hears of new events as they commit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from hotline.adapters.eventstore import postgres_connection

LOOK = 0.1
"""Seconds between looks at the stop event while listening."""
RECONNECT_PAUSE = 1.0
"""Seconds to wait after failing to connect, before a catch-up looks anyway."""


class PostgresListener:
    """Returns from `wait` when events are stored, `timeout` passes, or `stop` is set.

    It listens on a connection of its own, from construction on, so that whatever the
    first catch-up after it does not see wakes a wait. After a connection error it
    connects again at the next wait and returns at once: a catch-up then looks for what
    was stored meanwhile."""

    listens = True

    def __init__(self, env: dict[str, str], channel: str) -> None:
        self._env = env
        self._channel = channel
        self._connection: psycopg.Connection[Any] | None = None
        with contextlib.suppress(psycopg.Error):  # the first wait tries again
            self._listen()

    def wait(self, stop: threading.Event, timeout: float) -> None:
        if self._connection is None:
            try:
                self._listen()
            except psycopg.Error:
                stop.wait(min(RECONNECT_PAUSE, timeout))
            return
        deadline = time.monotonic() + timeout
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            try:
                for _ in self._connection.notifies(timeout=min(LOOK, left), stop_after=1):
                    return
            except psycopg.Error:
                self.close()
                return

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _listen(self) -> None:
        connection = postgres_connection(self._env)
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        self._connection = connection
