import datetime as dt
from email.utils import format_datetime

import httpx
import pytest

from paperfeed.ingest.http import FetchError, PoliteClient, parse_retry_after
from tests.support.recorded_server import RecordedServer, Reply


class FakeTime:
    """A clock that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def transport():
    with httpx.Client() as shared:
        yield shared


@pytest.fixture
def server():
    with RecordedServer() as recorded:
        yield recorded


def client(fake: FakeTime, transport: httpx.Client | None = None, **options) -> PoliteClient:
    options = {"delay": 0.0, "max_retries": 3, "backoff": 1.0, **options}
    return PoliteClient(sleep=fake.sleep, clock=fake.clock, client=transport, **options)


def test_get_sends_params_and_user_agent(server):
    server.serve("/q", Reply(body="ok"), query={"a": "1", "b": "x y"})
    with client(FakeTime()) as http:
        response = http.get(server.url + "/q", {"a": 1, "b": "x y", "skip": None})
    assert response.text == "ok"
    assert server.requests[0].params == {"a": "1", "b": "x y"}
    assert server.requests[0].headers["User-Agent"].startswith("paperfeed/")


def test_minimum_delay_between_requests(server, transport):
    server.serve("/q", "ok")
    fake = FakeTime()
    with client(fake, transport, delay=3.0) as http:
        http.get(server.url + "/q")
        fake.now += 1.0  # the caller spent a second between requests
        http.get(server.url + "/q")
        http.get(server.url + "/q")
    assert fake.sleeps == [2.0, 3.0]
    assert len(server.requests) == 3


def test_503_with_retry_after_seconds_is_honoured(server, transport):
    busy = Reply(body="busy", status=503, headers={"Retry-After": "7"})
    server.serve("/oai", busy, busy, Reply(body="<ok/>"))
    fake = FakeTime()
    with client(fake, transport) as http:
        assert http.get(server.url + "/oai").text == "<ok/>"
    assert fake.sleeps == [7.0, 7.0]
    assert len(server.requests) == 3


def test_retry_after_is_capped(server, transport):
    server.serve("/oai", Reply(status=429, headers={"Retry-After": "86400"}), Reply(body="ok"))
    fake = FakeTime()
    with client(fake, transport, max_wait=30.0) as http:
        http.get(server.url + "/oai")
    assert fake.sleeps == [30.0]


def test_retry_after_http_date():
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    later = format_datetime(now + dt.timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now=now) == 42.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_gives_up_after_max_retries_with_fetch_error(server, transport):
    server.serve("/oai", Reply(body="down", status=503))
    fake = FakeTime()
    with client(fake, transport, max_retries=2) as http, pytest.raises(FetchError) as caught:
        http.get(server.url + "/oai", {"verb": "Identify"})
    assert caught.value.status == 503
    assert "gave up after 3 attempts" in caught.value.reason
    assert caught.value.url.endswith("/oai?verb=Identify")
    assert fake.sleeps == [1.0, 2.0]  # exponential backoff without Retry-After
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(server, transport):
    server.serve("/missing", Reply(body="nope", status=404))
    with client(FakeTime(), transport) as http, pytest.raises(FetchError) as caught:
        http.get(server.url + "/missing")
    assert (caught.value.status, caught.value.body) == (404, b"nope")
    assert len(server.requests) == 1


def test_dropped_connection_is_retried(server, transport):
    server.serve("/flaky", Reply(drop=True), Reply(body="ok"))
    fake = FakeTime()
    with client(fake, transport) as http:
        assert http.get(server.url + "/flaky").text == "ok"
    assert fake.sleeps == [1.0]


def test_connection_refused_becomes_fetch_error(transport):
    with RecordedServer() as gone:
        url = gone.url + "/oai"
    fake = FakeTime()
    with client(fake, transport, max_retries=1) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.status is None
    assert "ConnectError" in str(caught.value)
    assert url in str(caught.value)
