"""A stand-in 企业微信 group robot on a local port, for the demo: prints each message it
is sent and answers {"errcode": 0} as the robot does.

    python scripts/alert_receiver.py PORT_FILE   # writes its port there, serves until SIGTERM
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Robot(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        text = body.get("markdown", {}).get("content", json.dumps(body, ensure_ascii=False))
        print("   ┌ the robot's group sees:", *("   │ " + line for line in text.splitlines()),
              "   └", sep="\n", flush=True)  # fmt: skip
        answer = b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


def main(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
