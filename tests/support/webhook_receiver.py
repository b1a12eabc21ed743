"""A webhook receiver as its own process, for acceptance tests (stdlib only, on loopback).

Every POST is appended to a JSON-lines log with its headers and body. What it answers is set by
a control file, re-read on every request: {"statuses": [500, [200, 3.0]], "default": 200}
— the listed answers are used up one per request (a [status, seconds] pair answers after a
delay), then `default` (after `delay` seconds, if set).

    python -m tests.support.webhook_receiver PORT LOGFILE CONTROLFILE
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_lock = threading.Lock()


def main() -> None:
    port, log_path, control_path = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with _lock:
                control = json.loads(control_path.read_text()) if control_path.exists() else {}
                statuses = control.get("statuses", [])
                answer = statuses.pop(0) if statuses else control.get("default", 200)
                delay = float(control.get("delay", 0))
                if isinstance(answer, list):
                    answer, delay = answer
                status = int(answer)
                control["statuses"] = statuses
                control_path.write_text(json.dumps(control))
                entry = {
                    "at": time.time(),
                    "path": self.path,
                    "status": status,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }
                with log_path.open("a") as log:
                    log.write(json.dumps(entry) + "\n")
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver says no")

        do_GET = do_POST  # phone hooks call with GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
