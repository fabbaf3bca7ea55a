"""Stand-ins for the receivers of alerts, run by the tests on local ports: an HTTP server
that answers like a 企业微信 / 钉钉 group robot (and takes webhooks), and an SMTP server
(aiosmtpd)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class FakeClock:
    """A clock that a sleep moves on, for the rate limit without a real minute's wait."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Robot:
    """What the robot server heard and how it answers: `answer` is "ok", "http503" or
    "errcode"; at most `per_minute` messages a minute per path (by `clock`), `max_bytes`
    of content; with `secret`, 钉钉's signature is checked."""

    clock: Callable[[], float] = time.monotonic
    per_minute: int = 20
    max_bytes: int = 4096
    secret: str | None = None
    answer: str = "ok"
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    on_request: Callable[[Received], None] | None = None
    sent_at: dict[str, list[float]] = field(default_factory=dict)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def respond(self, got: Received) -> tuple[int, dict[str, Any]]:
        if self.answer == "http503":
            return 503, {"error": "service unavailable"}
        if self.answer == "errcode":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        markdown = got.body.get("markdown", {})
        content = markdown.get("content", markdown.get("text", ""))
        if len(content.encode()) > self.max_bytes:
            return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
        if self.secret is not None and got.path.startswith("/dingtalk"):
            stamp = got.query.get("timestamp", "")
            want = base64.b64encode(
                hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                         hashlib.sha256).digest()
            ).decode()  # fmt: skip
            if got.query.get("sign") != want:
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        times = [t for t in self.sent_at.get(got.path, []) if self.clock() - t < 60]
        if len(times) >= self.per_minute:
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        self.sent_at[got.path] = [*times, self.clock()]
        self.received.append(got)
        return 200, {"errcode": 0, "errmsg": "ok"}


@contextmanager
def robot_server(robot: Robot) -> Iterator[Robot]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            got = Received(
                parts.path,
                dict(urllib.parse.parse_qsl(parts.query)),
                dict(self.headers.items()),
                json.loads(self.rfile.read(length)),
            )
            if robot.on_request is not None:
                robot.on_request(got)
            with lock:
                status, answer = robot.respond(got)
                if status != 200 or answer["errcode"]:
                    robot.refused.append(got.path)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    robot.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robot
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """What the SMTP server took; `refuse` is the reply to DATA while set."""

    mails: list[EmailMessage] = field(default_factory=list)
    refuse: str | None = None
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse is not None:
            return self.refuse
        content = envelope.original_content or b""
        self.mails.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[Mailbox]:
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
