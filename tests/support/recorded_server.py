"""A local HTTP server for tests: serves given replies per path (+ query) and records requests.

    with RecordedServer() as server:
        server.serve("/oai", Reply(status=503, headers={"Retry-After": "1"}), Reply(body=xml))
        ... client.get(server.url + "/oai") ...
        assert server.requests[0].params["verb"] == "ListRecords"

Replies registered for one route are served in order; the last one repeats. A route with
``query`` matches only requests whose query parameters equal it (order ignored); routes
without ``query`` match any query. Unmatched requests get a 404. ``Reply(drop=True)`` hangs
up without answering (a transient network failure); ``Reply(delay=...)`` answers late.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit


@dataclass(slots=True)
class Reply:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"
    drop: bool = False  # close the connection without answering (a transient network failure)
    delay: float = 0.0  # seconds before answering (a server slower than the client's timeout)

    def payload(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(slots=True, frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    @property
    def params(self) -> dict[str, str]:
        """The query with one value per name (the last one)."""
        return {name: values[-1] for name, values in self.query.items()}


@dataclass(slots=True)
class _Route:
    path: str
    query: dict[str, str] | None
    replies: list[Reply]
    served: int = 0

    def matches(self, path: str, params: dict[str, str]) -> bool:
        return path == self.path and (self.query is None or self.query == params)

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class RecordedServer:
    """A threaded HTTP server on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def serve(
        self, path: str, *replies: Reply | bytes | str, query: dict[str, str] | None = None
    ) -> None:
        """Answer GETs of ``path`` (and ``query``, if given) with ``replies`` in turn."""
        if not replies:
            raise ValueError("serve() needs at least one reply")
        answers = [r if isinstance(r, Reply) else Reply(body=r) for r in replies]
        route = _Route(path, dict(query) if query is not None else None, answers)
        with self._lock:  # exact-query routes win over catch-all ones; otherwise first added wins
            self._routes.append(route)
            self._routes.sort(key=lambda r: r.query is None)

    def replace(
        self, path: str, *replies: Reply | bytes | str, query: dict[str, str] | None = None
    ) -> None:
        """As `serve`, after dropping the replies registered so far for ``path`` and ``query``
        (e.g. an upstream whose listing changed from one day to the next)."""
        wanted = dict(query) if query is not None else None
        with self._lock:
            self._routes = [r for r in self._routes if (r.path, r.query) != (path, wanted)]
        self.serve(path, *replies, query=query)

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if route.matches(request.path, request.params):
                    return route.next_reply()
        return Reply(
            body=f"no recorded reply for {request.path} {request.params}",
            status=404,
            content_type="text/plain",
        )

    def start(self) -> RecordedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _handler_for(server: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method="GET",
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=dict(self.headers.items()),
            )
            reply = server._answer(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            payload = reply.payload()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler
