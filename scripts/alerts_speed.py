"""How long a delivery pass takes: N flagged orders on a fresh SQLite store in a temporary
folder, delivered by a webhook route (one POST each) and a 企业微信 route (a digest per
unit) to a local stand-in receiver; then a second pass with nothing to send.

    .venv/bin/python scripts/alerts_speed.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hotline.adapters.alert_channels import Pacer
from hotline.adapters.alert_routing import read_routing
from hotline.domain.aggregate import SHANGHAI
from hotline.service.alerts import deliver
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.reports import Reports

UNITS = ("闵行区市场监管局", "松江区市场监管局", "嘉定区市场监管局", "青浦区市场监管局")
PASS_TIME = datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)


class Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        answer = b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    orders = parser.parse_args().orders
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ.update({"SPEED_HOOK": f"{url}/hook", "SPEED_WECOM": f"{url}/wecom?key=k"})
    with tempfile.TemporaryDirectory() as folder:
        app = HotlineApplication(db=str(Path(folder) / "hotline.db"))
        received = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
        for n in range(orders):
            app.receive(f"S-{n}", unit=UNITS[n % len(UNITS)], at=received, kind="complaint",
                        channel="12345")  # fmt: skip
        flagged = len(flag_due_orders(app, PASS_TIME).flagged)
        routing = Path(folder) / "routing.toml"
        routing.write_text(
            '[[route]]\nname = "hook"\nchannel = "webhook"\nurl_env = "SPEED_HOOK"\n'
            '[[route]]\nname = "wecom"\nchannel = "wecom"\nurl_env = "SPEED_WECOM"\n',
            encoding="utf-8",
        )
        routes = read_routing(routing)
        since = datetime(2026, 2, 1, tzinfo=SHANGHAI)
        waited = [0.0]

        def sleep(seconds: float) -> None:  # the robot's 20 a minute, counted apart
            waited[0] += seconds
            time.sleep(seconds)

        for label in ("first pass", "second pass (nothing to send)"):
            started = time.perf_counter()
            waited[0] = 0.0
            done = deliver(Reports(app), routes, at=PASS_TIME, since=since,
                           new_pacer=lambda: Pacer(sleep=sleep))  # fmt: skip
            seconds = time.perf_counter() - started
            sent = ", ".join(
                f"{r.route} {r.alerts} alerts in {r.messages} messages" for r in done.routes
            )
            print(f"{label}: {seconds:.2f} s for {flagged} flags, {waited[0]:.1f} s of it waiting "
                  f"for the robot's rate limit ({sent})")  # fmt: skip
        app.close()
    server.shutdown()


if __name__ == "__main__":
    main()
