"""`paperfeed serve` on the internet's edge, as a real subprocess on a free port: links name the
port served, a public address without PAPERFEED_BASE_URL is warned about, uvicorn believes no
X-Forwarded-For, the access log shows no tokens, and an oversized body is refused unread."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lxml import etree

from paperfeed.cli.serve import is_loopback
from paperfeed.config import Settings, served_url, server_settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from tests.support.factories import DAY, make_paper, make_submission
from tests.support.net import free_port

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "eyJzdWIiOjF9.aBcDeF.SiGnAtUrE_do_not_log"


# -- the settings derivation ---------------------------------------------------------------------


def test_links_follow_the_served_port_unless_base_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAPERFEED_BASE_URL", raising=False)
    assert server_settings(Settings(), "127.0.0.1", 8124).base_url == "http://127.0.0.1:8124"
    assert server_settings(Settings(), "0.0.0.0", 8124).base_url == "http://127.0.0.1:8124"
    assert server_settings(Settings(), "::", 8124).base_url == "http://[::1]:8124"
    assert server_settings(Settings(), "papers.lan", 80).base_url == "http://papers.lan:80"
    monkeypatch.setenv("PAPERFEED_BASE_URL", "https://papers.example.org")
    configured = Settings(base_url="https://papers.example.org")
    assert server_settings(configured, "0.0.0.0", 8124) is configured


def test_served_urls_and_loopback_hosts() -> None:
    assert served_url("::1", 8000) == "http://[::1]:8000"
    assert served_url("", 8000) == "http://127.0.0.1:8000"
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.1", "papers.lan"))


# -- a real server -------------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.log_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`paperfeed serve --host 0.0.0.0 --port P` over a store with one submitted paper."""
    data = tmp_path_factory.mktemp("served") / "data"
    with PaperFeed(Settings(data_dir=data)) as feed:
        feed.ingest(iter([Record(make_paper("2401.00001"), make_submission("2401.00001", DAY))]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env["PAPERFEED_DATA_DIR"] = str(data)
    port = free_port()
    log = data.parent / "serve.log"
    command = [sys.executable, "-m", "paperfeed", "serve", "--no-index"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", "0.0.0.0", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    site = Served(f"http://127.0.0.1:{port}", port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, site.log_text()
            try:
                httpx.get(site.url + "/about", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, site.log_text()
                time.sleep(0.1)
        yield site
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_atom_links_and_markdown_name_the_port_served(served: Served) -> None:
    feed = etree.fromstring(httpx.get(f"{served.url}/feeds/daily.atom?date={DAY}").content)
    links = [e.get("href") for e in feed.iter(f"{ATOM}link") if e.get("type") != "application/pdf"]
    assert links[0] == f"http://127.0.0.1:{served.port}/feeds/daily.atom?date={DAY}"
    assert f"http://127.0.0.1:{served.port}/papers/2401.00001" in links
    markdown = httpx.get(f"{served.url}/papers/2401.00001.md").text
    assert f"http://127.0.0.1:{served.port}/papers/2401.00001" in markdown
    assert ":8000" not in markdown


def test_a_wildcard_host_without_base_url_is_warned_about(served: Served) -> None:
    text = served.wait_for_log("without PAPERFEED_BASE_URL")
    assert re.search(
        rf"WARNING .*serving on 0\.0\.0\.0 without PAPERFEED_BASE_URL: links in e-mails and "
        rf"feeds will say http://127\.0\.0\.1:{served.port}",
        text,
    ), text


def test_the_access_log_shows_no_token(served: Served) -> None:
    for path in ("/unsubscribe", "/preferences", "/subscribe/confirm"):
        assert httpx.get(f"{served.url}{path}?token={SECRET}").status_code < 500
    text = served.wait_for_log('"GET /subscribe/confirm?token=[redacted] HTTP/1.1"')
    assert '"GET /unsubscribe?token=[redacted] HTTP/1.1"' in text
    assert SECRET not in text


def test_uvicorn_believes_no_forwarded_for_header(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page
        statuses = []
        for n in range(12):
            form = {"username": f"ghost{n}", "password": "wrong", "csrf_token": token.group(1)}
            headers = {"X-Forwarded-For": f"203.0.113.{n}"}
            statuses.append(client.post("/login", data=form, headers=headers).status_code)
    # The default limit, 10 log-ins per 5 minutes, counts the real peer (127.0.0.1).
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_an_oversized_body_is_refused_before_it_is_sent(served: Served) -> None:
    head = (
        "POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {5 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"a" * 65536)  # then nothing more: the rest never comes
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"x-content-type-options: nosniff" in answer.lower()
