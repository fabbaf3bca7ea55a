"""Alerts delivered to robots, mail and webhooks against real local receivers: each flag
once per route, a second pass sends nothing, a receiver down for two passes gets
everything once when back, routing by unit, group and district, nothing personal, a
5,000-alert digest within a robot's rate and size limits, and a kill -9 repeating at most
the message in flight."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from alert_receivers import FakeClock, Mailbox, Received, Robot, robot_server, smtp_server
from hotline.adapters.alert_channels import Pacer, WeComRobot
from hotline.adapters.alert_outbox import Alert, Outbox
from hotline.adapters.alert_routing import ChannelKind, read_routing
from hotline.cli.alerts import summary
from hotline.domain.aggregate import SHANGHAI
from hotline.service.alerts import RATES, DeliveryPass, RouteOutcome, deliver, digest, quarter_of
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.reports import Reports
from test_scheduler import days_ago, down_since, run_once, start_cli_daemon

PASS_TIME = datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)
SINCE = datetime(2026, 2, 1, tzinfo=SHANGHAI)
RECEIVED = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
CITIZEN = {"citizen_name": "张晓明", "citizen_phone": "13912345678", "address": "七莘路1888弄5号"}
ORDERS = {  # number: (unit, district)
    "M1": ("闵行区市场监管局", "闵行区"),
    "M2": ("闵行区市场监管局", "闵行区"),
    "S1": ("松江区市场监管局", "松江区"),
    "C1": ("闵行区消保委", "闵行区"),
    "O1": ("办公室", None),
}


def flagged_store(app: HotlineApplication, orders: dict[str, tuple[str, str | None]]) -> None:
    for number, (unit, district) in orders.items():
        app.receive(number, unit=unit, at=RECEIVED, kind="complaint", channel="12345",
                    district=district, **CITIZEN)  # fmt: skip
    assert not flag_due_orders(app, PASS_TIME).failed


def feed_keys(app: HotlineApplication, units: set[str] | None = None) -> set[str]:
    return {
        f"{f.number}|{f.limit}|{f.level}|{f.due}"
        for f in Reports(app).alerts()
        if units is None or f.unit in units
    }


def routing_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def lines_of(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("- ")]


def key_of_line(line: str) -> tuple[str, str]:
    number, limit = line.split()[:2]
    return number, limit


@pytest.fixture
def robot() -> Iterator[Robot]:
    with robot_server(Robot(secret="SECabc")) as found:
        yield found


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(Mailbox()) as found:
        yield found


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, robot: Robot, mailbox: Mailbox) -> Robot:
    monkeypatch.setenv("T_WECOM", robot.url("/wecom?key=k1"))
    monkeypatch.setenv("T_DING", robot.url("/dingtalk?access_token=t1"))
    monkeypatch.setenv("T_DING_SECRET", "SECabc")
    monkeypatch.setenv("T_HOOK", robot.url("/hook"))
    monkeypatch.setenv("T_SMTP_PORT", str(mailbox.port))
    return robot


def every_channel(tmp_path: Path, mailbox: Mailbox) -> Path:
    return routing_file(
        tmp_path,
        f"""
[[route]]
name = "wecom-all"
channel = "wecom"
url_env = "T_WECOM"

[[route]]
name = "ding-all"
channel = "dingtalk"
url_env = "T_DING"
secret_env = "T_DING_SECRET"

[[route]]
name = "hook-all"
channel = "webhook"
url_env = "T_HOOK"

[[route]]
name = "mail-all"
channel = "mail"
smtp_host = "127.0.0.1"
smtp_port = {mailbox.port}
security = "none"
from = "hotline@example.org"
to = ["duty@example.org"]
""",
    )


def robot_lines(robot: Robot, path: str) -> list[tuple[str, str]]:
    found = []
    for got in robot.received:
        if got.path == path:
            markdown = got.body["markdown"]
            found += [
                key_of_line(line) for line in lines_of(markdown.get("content") or markdown["text"])
            ]
    return found


def mail_lines(mailbox: Mailbox) -> list[tuple[str, str]]:
    return [key_of_line(line) for mail in mailbox.mails for line in lines_of(mail.get_content())]


def test_each_flag_once_per_channel_and_a_second_pass_sends_nothing(
    app: HotlineApplication, env: Robot, mailbox: Mailbox, tmp_path: Path
) -> None:
    flagged_store(app, ORDERS)
    routes = read_routing(every_channel(tmp_path, mailbox))
    keys = feed_keys(app)
    assert keys
    wanted = sorted(tuple(k.split("|")[:2]) for k in keys)
    done = deliver(Reports(app), routes, at=PASS_TIME, since=SINCE)
    assert [r.failed for r in done.routes] == [None] * 4
    assert sorted(robot_lines(env, "/wecom")) == wanted
    assert sorted(robot_lines(env, "/dingtalk")) == wanted  # signed: the server checked it
    hooks = [g for g in env.received if g.path == "/hook"]
    assert sorted(g.headers["Idempotency-Key"] for g in hooks) == sorted(keys)
    assert all(g.body["id"] == g.headers["Idempotency-Key"] for g in hooks)
    assert sorted(mail_lines(mailbox)) == wanted
    units = {unit for unit, _ in ORDERS.values()}
    assert len(mailbox.mails) == len(units)  # a digest per unit
    assert {m["Subject"].split(" · ")[1] for m in mailbox.mails} == units  # Chinese, decoded
    assert not env.refused
    heard, mails = len(env.received), len(mailbox.mails)
    again = deliver(Reports(app), routes, at=PASS_TIME + timedelta(hours=3))
    assert (len(env.received), len(mailbox.mails)) == (heard, mails)
    assert all(r.messages == 0 and r.failed is None for r in again.routes)
    sent = Outbox(app.readmodel.engine).deliveries()
    assert Counter(d.route for d in sent) == {r.name: len(keys) for r in routes}
    assert {d.status for d in sent} == {"sent"}


def test_the_digest_shows_the_units_rates_as_the_reports_service_gives_them(
    app: HotlineApplication, env: Robot, tmp_path: Path
) -> None:
    flagged_store(app, ORDERS)
    routes = read_routing(routing_file(tmp_path, '[[route]]\nname = "w"\nchannel = "wecom"\n'
                                                 'url_env = "T_WECOM"\nunits = ["闵行区市场监管局"]\n'))  # fmt: skip
    deliver(Reports(app), routes, at=PASS_TIME, since=SINCE)
    (got,) = env.received
    row = next(r for r in Reports(app).rates(quarter_of(PASS_TIME.date()), unit="闵行区市场监管局").rows
               if r.name == "闵行区市场监管局")  # fmt: skip
    text = got.body["markdown"]["content"]
    for key, label in RATES:
        value = row.values[key].value
        assert f"{label} {'—' if value is None else f'{value:.1%}'}" in text
    assert quarter_of(PASS_TIME.date()).label in text


def test_a_late_catch_up_sends_a_digest_per_pass_headed_by_the_pass_and_its_quarter(
    app: HotlineApplication, env: Robot, tmp_path: Path
) -> None:
    flagged_store(app, {"M1": ORDERS["M1"]})
    later = datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI)  # the next quarter's first pass
    assert flag_due_orders(app, later).flagged
    routes = read_routing(routing_file(tmp_path, '[[route]]\nname = "w"\nchannel = "wecom"\n'
                                                 'url_env = "T_WECOM"\n'))  # fmt: skip
    delivered = later + timedelta(days=100)  # in the quarter after
    deliver(Reports(app), routes, at=delivered, since=SINCE)
    heads = [got.body["markdown"]["content"].splitlines()[:2] for got in env.received]
    quarters = [quarter_of(PASS_TIME.date()), quarter_of(later.date())]
    assert quarters[0] != quarters[1] != quarter_of(delivered.date())
    assert [(title.rsplit(" · ", 1)[1].strip("*"), rates.split()[0]) for title, rates in heads] == [
        (f"{PASS_TIME:%Y-%m-%d %H:%M}", quarters[0].label),
        (f"{later:%Y-%m-%d %H:%M}", quarters[1].label),
    ]
    on_time = dict(RATES)["on_time_rate"]
    for (_, shown), quarter in zip(heads, quarters, strict=True):
        (row,) = [r for r in Reports(app).rates(quarter, unit="闵行区市场监管局").rows]
        value = row.values["on_time_rate"].value
        assert f"{on_time} {'—' if value is None else f'{value:.1%}'}" in shown


def test_routing_by_unit_group_and_district(
    app: HotlineApplication, env: Robot, tmp_path: Path
) -> None:
    flagged_store(app, ORDERS)
    routes = read_routing(
        routing_file(
            tmp_path,
            """
[[route]]
name = "by-unit"
channel = "webhook"
url_env = "T_HOOK"
units = ["松江区市场监管局"]

[[route]]
name = "by-group"
channel = "wecom"
url_env = "T_WECOM"
groups = ["consumer_council", "municipal"]

[[route]]
name = "by-district"
channel = "dingtalk"
url_env = "T_DING"
secret_env = "T_DING_SECRET"
districts = ["闵行区"]
""",
        )
    )
    deliver(Reports(app), routes, at=PASS_TIME, since=SINCE)
    hooks = {g.headers["Idempotency-Key"] for g in env.received if g.path == "/hook"}
    assert hooks == feed_keys(app, {"松江区市场监管局"})
    by_group = {n for n, _ in robot_lines(env, "/wecom")}
    assert by_group == {"C1", "O1"}
    by_district = {n for n, _ in robot_lines(env, "/dingtalk")}
    assert by_district == {"M1", "M2", "C1"}  # the order's district, not the unit's name


def test_nothing_personal_in_any_message(
    app: HotlineApplication, env: Robot, mailbox: Mailbox, tmp_path: Path
) -> None:
    flagged_store(app, ORDERS)
    deliver(Reports(app), read_routing(every_channel(tmp_path, mailbox)), at=PASS_TIME, since=SINCE)
    said = [str(g.body) for g in env.received] + [m.as_string() for m in mailbox.mails]
    said += [m.get_content() for m in mailbox.mails]
    assert len(said) > 4
    for text in said:
        for value in ("张晓明", "晓明", "13912345678", "12345678", "七莘路", "1888"):
            assert value not in text


@pytest.mark.parametrize("outage", ["http503", "errcode", "smtp"])
def test_a_receiver_down_for_two_passes_gets_everything_once_when_back(
    app: HotlineApplication,
    env: Robot,
    mailbox: Mailbox,
    tmp_path: Path,
    outage: str,
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    flagged_store(app, ORDERS)
    routes = read_routing(every_channel(tmp_path, mailbox))
    if outage == "smtp":
        mailbox.refuse = "554 5.7.1 被拒绝: mailbox unavailable"
    else:
        env.answer = outage
    for minutes in (0, 10):  # both passes after the first retry falls due
        done = deliver(Reports(app), routes, at=PASS_TIME + timedelta(minutes=minutes), since=SINCE)
        failed = {r.route for r in done.routes if r.failed}
        down = {"smtp": {"mail-all"}, "errcode": {"wecom-all", "ding-all"}}  # a webhook: any 2xx
        assert failed == down.get(outage, {"wecom-all", "ding-all", "hook-all"})
    code, out, _ = cli("alerts", "deliveries", "--failed", "--format", "jsonl")
    assert code == 0
    reasons = {line.split('"response": ')[1] for line in out.splitlines()}
    expected = {"http503": "HTTP 503", "errcode": "errcode 93000", "smtp": "SMTP 554"}[outage]
    assert reasons and all(expected in r for r in reasons)
    assert '"attempts": 2' in out
    mailbox.refuse, env.answer = None, "ok"
    done = deliver(Reports(app), routes, at=PASS_TIME + timedelta(hours=1))
    assert all(r.failed is None and r.waiting == 0 for r in done.routes)
    wanted = sorted(tuple(k.split("|")[:2]) for k in feed_keys(app))
    assert sorted(robot_lines(env, "/wecom")) == wanted
    assert sorted(robot_lines(env, "/dingtalk")) == wanted
    assert sorted(mail_lines(mailbox)) == wanted
    assert not [d for d in Outbox(app.readmodel.engine).deliveries() if d.status != "sent"]


def test_a_failed_message_waits_for_its_retry(
    app: HotlineApplication, env: Robot, tmp_path: Path
) -> None:
    flagged_store(app, {"M1": ORDERS["M1"]})
    routes = read_routing(routing_file(tmp_path, '[[route]]\nname = "h"\nchannel = "webhook"\n'
                                                 'url_env = "T_HOOK"\n'))  # fmt: skip
    env.answer = "http503"
    deliver(Reports(app), routes, at=PASS_TIME, since=SINCE)
    env.answer = "ok"
    soon = deliver(Reports(app), routes, at=PASS_TIME + timedelta(minutes=1))
    assert not env.received and soon.routes[0].waiting == len(feed_keys(app))
    deliver(Reports(app), routes, at=PASS_TIME + timedelta(minutes=6))
    assert {g.headers["Idempotency-Key"] for g in env.received} == feed_keys(app)


def test_a_digest_of_5000_alerts_keeps_to_the_robots_rate_and_size() -> None:
    clock = FakeClock()
    units = ["闵行区市场监管局", "松江区市场监管局"]
    alerts = [
        Alert(f"2026-0224-{n:05d}", units[n % 2], None, "first_contact" if n % 3 else "close",
              "overdue" if n % 2 else "due_soon", date(2026, 2, 24) - timedelta(days=n % 9),
              PASS_TIME)
        for n in range(5000)
    ]  # fmt: skip
    with robot_server(Robot(clock=clock)) as robot:
        sender = WeComRobot(robot.url("/wecom?key=k"), Pacer(clock=clock, sleep=clock.sleep))
        started = clock()
        parts = []
        for unit in units:
            parts += digest(ChannelKind.WECOM, unit, [a for a in alerts if a.unit == unit],
                            "2026Q2", {}, PASS_TIME)  # fmt: skip
        for message, _ in parts:
            sender.send(message)
        assert not robot.refused  # none over 4096 bytes, never over 20 a minute
        assert len(robot.received) == len(parts) > 20
        assert clock() - started >= 60 * ((len(parts) - 1) // 20)  # the sender waited
    carried = [a.key for _, theirs in parts for a in theirs]
    assert sorted(carried) == sorted(a.key for a in alerts)
    said = [
        key_of_line(line)
        for g in robot.received
        for line in lines_of(g.body["markdown"]["content"])
    ]
    assert sorted(said) == sorted((a.number, a.limit) for a in alerts)


class Killer:
    """Kills `victim` with SIGKILL `delay` s after the `at`-th request to `path` came, while
    that request is answered and recorded or the next one is on its way: a random point."""

    def __init__(self, victim: subprocess.Popen[bytes], path: str, at: int, delay: float) -> None:
        self.victim, self.path, self.at, self.delay = victim, path, at, delay
        self.count, self.killed = 0, False

    def __call__(self, got: Received) -> None:
        if got.path != self.path:
            return
        self.count += 1
        if self.count == self.at:
            threading.Timer(self.delay, self.victim.send_signal, [signal.SIGKILL]).start()
            self.killed = True


def test_kill_9_repeats_at_most_the_message_in_flight(
    app: HotlineApplication, store: str, tmp_path: Path
) -> None:
    orders = {f"K{n}": ("闵行区市场监管局", "闵行区") for n in range(25)}
    flagged_store(app, orders)
    keys = feed_keys(app)
    chance = random.Random()
    with robot_server(Robot(per_minute=10_000)) as robot:
        for round_ in range(3):
            path = f"/hook{round_}"
            routing = routing_file(tmp_path, f'[[route]]\nname = "kill{round_}"\n'
                                             f'channel = "webhook"\nurl_env = "T_HOOK"\n')  # fmt: skip
            env = {**os.environ, "T_HOOK": robot.url(path)}
            command = [sys.executable, "-m", "hotline", "--db", store, "alerts", "deliver",
                       "--routing", str(routing), "--since", "2026-02-01 00:00"]  # fmt: skip
            victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip
            killer = Killer(victim, path, chance.randint(1, len(keys)), chance.random() * 0.05)
            robot.on_request = killer
            victim.wait(timeout=120)
            robot.on_request = None
            assert killer.killed and victim.returncode in (-signal.SIGKILL, 0)  # 0: it was done
            rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert rerun.returncode == 0, rerun.stderr
            heard = Counter(g.headers["Idempotency-Key"] for g in robot.received if g.path == path)
            assert set(heard) == keys
            assert sum(heard.values()) - len(keys) <= 1
            assert all(n <= 2 for n in heard.values())


def test_cli_deliver_and_deliveries(
    app: HotlineApplication, env: Robot, tmp_path: Path, cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    flagged_store(app, ORDERS)
    path = routing_file(
        tmp_path, '[[route]]\nname = "h"\nchannel = "webhook"\nurl_env = "T_HOOK"\n'
    )
    monkeypatch.setenv("HOTLINE_ALERTS", str(path))
    code, out, err = cli("alerts", "deliver", "--since", "2026-02-01 00:00")
    keys = feed_keys(app)
    assert code == 0 and err == ""
    assert f"h: {len(keys)} alerts in {len(keys)} messages" in out
    code, out, _ = cli("alerts", "deliveries", "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == len(keys) and '"status": "sent"' in out
    code, out, _ = cli("alerts", "deliveries", "--failed")
    assert code == 0 and "0 deliveries" in out
    code, out, _ = cli("alerts", "--format", "jsonl")  # the feed, as before
    assert code == 0 and len(out.splitlines()) == len(keys)
    code, out, _ = cli("alerts", "check")
    assert code == 0 and out == "h: ok\n"
    env.answer = "http503"
    code, out, err = cli("alerts", "check")
    assert code == 1 and err.startswith("hotline: route h: HTTP 503") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[route]]\nname = "h"\nchannel = "sms"\nurl_env = "T_HOOK"\n', "channel must be one of"),
        ('[[route]]\nname = "h"\nchannel = "webhook"\nurl = "http://x"\n', "do not write the url"),
        ('[[route]]\nname = "h"\nchannel = "webhook"\nurl_env = "T_UNSET"\n', "T_UNSET"),
        ('[[route]]\nchannel = "webhook"\nurl_env = "T_HOOK"\n', "give it a name"),
        ("[[route]\n", "not valid TOML"),
        ('[[route]]\nname = "m"\nchannel = "mail"\nsmtp_host = "h"\nto = ["a@b"]\n', "from ="),
        ('[[route]]\nname = "h"\nchannel = "webhook"\nurl_file = "SECRET"\n', "chmod 600"),
    ],
)
def test_a_broken_routing_file_is_one_line_and_nothing_sent(
    app: HotlineApplication, env: Robot, tmp_path: Path, cli: Callable[..., tuple[int, str, str]],
    text: str, says: str,
) -> None:  # fmt: skip
    flagged_store(app, {"M1": ORDERS["M1"]})
    secret = tmp_path / "secret"
    secret.write_text(env.url("/hook"))
    secret.chmod(0o644)
    path = routing_file(tmp_path, text.replace("SECRET", str(secret)))
    code, out, err = cli("alerts", "deliver", "--routing", str(path))
    assert (code, out) == (1, "")
    assert err.startswith("hotline: ") and says in err and len(err.splitlines()) == 1
    assert not env.received
    assert Outbox(app.readmodel.engine).deliveries() == []


def test_a_secret_file_of_mode_600_is_read(env: Robot, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(env.url("/hook") + "\n")
    secret.chmod(0o600)
    path = routing_file(
        tmp_path, f'[[route]]\nname = "h"\nchannel = "webhook"\nurl_file = "{secret}"\n'
    )
    (route,) = read_routing(path, {})
    assert route.url == env.url("/hook")


def test_deliver_without_routing_says_how(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = cli("alerts", "deliver")
    assert (code, out) == (1, "")
    assert err == "hotline: no routing file: give --routing FILE or set HOTLINE_ALERTS\n"


def test_scheduler_run_delivers_after_each_pass(
    app: HotlineApplication, env: Robot, store: str, tmp_path: Path
) -> None:
    flagged_store(app, ORDERS)
    Outbox(app.readmodel.engine).start("hook", SINCE)  # the route started before these flags
    run_once(app)
    down_since(app, days_ago(1))  # so the daemon catches up with one pass at start
    path = routing_file(tmp_path, '[[route]]\nname = "hook"\nchannel = "webhook"\n'
                                  'url_env = "T_HOOK"\n')  # fmt: skip
    process = start_cli_daemon(store, "--routing", str(path))
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(2)]
    while not (line := process.stdout.readline()).strip().split(" ", 2)[-1].startswith("delivery"):
        lines.append(line)
        assert line, lines
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (0, "")
    keys = feed_keys(app)
    assert f"hook: {len(keys)} alerts in {len(keys)} messages" in line
    assert sorted(g.headers["Idempotency-Key"] for g in env.received) == sorted(keys)


def test_scheduler_run_refuses_a_broken_routing_file(store: str, tmp_path: Path) -> None:
    path = routing_file(tmp_path, '[[route]]\nname = "x"\nchannel = "fax"\n')
    process = start_cli_daemon(store, "--routing", str(path))
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out) == (1, "")
    assert err.startswith("hotline: routing file ") and len(err.splitlines()) == 1


def test_a_pass_is_summed_up_in_the_singular_for_one() -> None:
    """ "2 alerts in 1 message", "1 alert waiting", as the other CLI counts are."""
    done = DeliveryPass(
        datetime(2019, 3, 4, 8, 0, tzinfo=SHANGHAI),
        [RouteOutcome("a", messages=1, alerts=2), RouteOutcome("b", alerts=0, waiting=1)],
    )
    assert summary(done) == (
        "delivery 2019-03-04 08:00: a: 2 alerts in 1 message; "
        "b: 0 alerts in 0 messages; 1 alert waiting for a retry"
    )
