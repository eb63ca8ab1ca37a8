"""A local stand-in for a slow or busy arXiv API, for the tests and benches of submissions."""

from __future__ import annotations

import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from tests.support.paths import DATA

ENTRY = DATA / "arxiv_api_atom_arxivpy" / "xml" / "id_1605.08386_s0_m100_199195aa31ad.xml"
PAPER_ID = "1605.08386"


class SlowArxiv:
    """The arXiv API at `url`. `mode` "hang" holds each request until `release` is set, the
    client hangs up or `hold` seconds pass; "trickle" sends a byte every 0.1 s for 30 s;
    "busy" answers 503 with Retry-After: 300; "ok" answers the recorded entry of PAPER_ID.
    Counts the requests, those held at once and the most held at once."""

    def __init__(self, mode: str = "hang", hold: float = 30.0) -> None:
        self.mode, self.hold = mode, hold
        self.release = threading.Event()
        self.requests = self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/query"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with stub._lock:
                    stub.requests += 1
                    stub.in_flight += 1
                    stub.most_in_flight = max(stub.most_in_flight, stub.in_flight)
                try:
                    stub._answer(self)
                except OSError:  # the client gave up first
                    pass
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "hang":
            self._hold_until_gone(handler.connection)
            return
        if self.mode == "trickle":
            handler.send_response(200)
            handler.send_header("Content-Length", "300")
            handler.end_headers()
            for _ in range(300):
                if self.release.wait(0.1):
                    return
                handler.wfile.write(b" ")
                handler.wfile.flush()
            return
        busy = self.mode == "busy"
        body = b"busy" if busy else ENTRY.read_bytes()
        handler.send_response(503 if busy else 200)
        if busy:
            handler.send_header("Retry-After", "300")
        handler.send_header("Content-Type", "application/atom+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _hold_until_gone(self, connection: socket.socket) -> None:
        """Wait for `release` or `hold` seconds, less when the client hangs up first (so that
        `in_flight` counts the lookups the server still waits on, not the ones it gave up)."""
        give_up = time.monotonic() + self.hold
        while time.monotonic() < give_up and not self.release.is_set():
            readable, _, _ = select.select([connection], [], [], 0.05)
            if readable and not connection.recv(1, socket.MSG_PEEK):
                return
