"""The channels an alert is delivered by, behind one small interface: `send(message)`,
which returns or raises `DeliveryFailed` with the receiver's own words (docs/alerts.md).

- 企业微信 / 政务微信 robot: POST {"msgtype": "markdown", ...}, answered {"errcode": 0};
  at most 20 messages a minute per robot (the sender waits, it never drops one), content
  at most 4096 bytes (digests are split before they get here: `MAX_BYTES`).
- 钉钉 robot: markdown; with a secret, `timestamp` and `sign` (HMAC-SHA256 of
  timestamp + "\\n" + secret, base64) as query parameters; also 20 a minute.
- mail over SMTP: STARTTLS or SSL, the subject in Chinese as RFC 2047 (EmailMessage).
- a generic JSON webhook: the alert as JSON, its stable id in `Idempotency-Key`.

The standard library's urllib and smtplib do all of it; the clock and the sleep are
injectable so a test of the rate limit does not wait a real minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

from hotline.adapters.alert_routing import ChannelKind, Route, Security

TIMEOUT = 15.0
"""Seconds to wait for a receiver before the message counts as failed."""
ROBOT_PER_MINUTE = 20
MAX_BYTES = {ChannelKind.WECOM: 4096, ChannelKind.DINGTALK: 20_000}
"""The largest message text a robot takes (UTF-8 bytes); mail and webhooks: no limit here."""


@dataclass(frozen=True)
class Message:
    """One message to send: a digest (part) or a single alert."""

    key: str
    """Its stable id: the alert's (order|limit|level|due), or a digest part's digest of them."""
    title: str
    text: str
    """Markdown for a robot, plain text for mail."""
    alert: dict[str, str] = field(default_factory=dict)
    """The alert's fields, for a webhook."""


class DeliveryFailed(Exception):
    """The receiver refused the message or could not be reached; `str()` is its reason."""


class Channel(Protocol):
    def send(self, message: Message) -> None: ...


class Pacer:
    """At most `per_minute` sends in any 60 s: `wait()` sleeps until one more may go."""

    def __init__(
        self,
        per_minute: int = ROBOT_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute, self.clock, self.sleep = per_minute, clock, sleep
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        while len(self.sent) >= self.per_minute:
            gap = 60.0 - (self.clock() - self.sent[0])
            if gap <= 0:
                self.sent.popleft()
            else:
                self.sleep(gap)
        self.sent.append(self.clock())


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer: bytes = response.read()
            return answer
    except urllib.error.HTTPError as error:
        said = error.read().decode("utf-8", "replace").strip()[:300]
        raise DeliveryFailed(f"HTTP {error.code} {error.reason}: {said}".rstrip(": ")) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"cannot reach {_host(url)}: {reason}") from None


def _host(url: str) -> str:
    """The URL without its path and query (a robot's key is in them)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _robot_answer(answer: bytes) -> None:
    try:
        said = json.loads(answer)
        code = said.get("errcode")
    except (ValueError, AttributeError):
        raise DeliveryFailed(f"not a robot's answer: {answer[:200]!r}") from None
    if code != 0:
        raise DeliveryFailed(f"errcode {code}: {said.get('errmsg', '')}")


class WeComRobot:
    """企业微信 / 政务微信 group robot (webhook URL with its key)."""

    def __init__(self, url: str, pacer: Pacer) -> None:
        self.url, self.pacer = url, pacer

    def send(self, message: Message) -> None:
        self.pacer.wait()
        body = {"msgtype": "markdown", "markdown": {"content": message.text}}
        _robot_answer(_post(self.url, body))


class DingTalkRobot:
    """钉钉 group robot; signed (加签) when it has a secret."""

    def __init__(
        self, url: str, secret: str | None, pacer: Pacer, wall: Callable[[], float] = time.time
    ) -> None:
        self.url, self.secret, self.pacer, self.wall = url, secret, pacer, wall

    def send(self, message: Message) -> None:
        self.pacer.wait()
        body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}
        _robot_answer(_post(self.signed_url(), body))

    def signed_url(self) -> str:
        if not self.secret:
            return self.url
        timestamp = str(int(self.wall() * 1000))
        digest = hmac.new(
            self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256
        ).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={timestamp}&sign={sign}"


class Webhook:
    """A generic JSON webhook: one POST per alert, any 2xx is taken."""

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, message: Message) -> None:
        _post(self.url, {"id": message.key, **message.alert}, {"Idempotency-Key": message.key})


class Mail:
    """Mail over SMTP, one connection per message."""

    def __init__(self, route: Route) -> None:
        assert route.mail is not None
        self.settings = route.mail

    def send(self, message: Message) -> None:
        s = self.settings
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = s.sender
        mail["To"] = ", ".join(s.to)
        mail["Message-ID"] = f"<{message.key}@hotline>"
        mail.set_content(message.text)
        try:
            smtp: smtplib.SMTP
            if s.security is Security.SSL:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
            with smtp:
                if s.security is Security.STARTTLS:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username and s.password:
                    smtp.login(s.username, s.password)
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as error:
            said = error.smtp_error
            if isinstance(said, bytes):
                said = said.decode("utf-8", "replace")
            raise DeliveryFailed(f"SMTP {error.smtp_code}: {said}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP {s.host}:{s.port}: {error}") from None


def channel_for(
    route: Route, pacers: dict[str, Pacer], new_pacer: Callable[[], Pacer] = Pacer
) -> Channel:
    """The channel that sends by `route`; a robot's pacer is shared by every route to it."""
    if route.channel is ChannelKind.MAIL:
        return Mail(route)
    assert route.url is not None
    if route.channel is ChannelKind.WEBHOOK:
        return Webhook(route.url)
    pacer = pacers.setdefault(route.url, new_pacer())
    if route.channel is ChannelKind.WECOM:
        return WeComRobot(route.url, pacer)
    return DingTalkRobot(route.url, route.secret, pacer)
