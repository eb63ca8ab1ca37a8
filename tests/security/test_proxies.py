"""Per-address limits count the real client: X-Forwarded-For is believed only from a trusted
proxy (PAPERFEED_TRUSTED_PROXIES), and then only its rightmost hop that is not a proxy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.web.app import create_app
from paperfeed.web.deps import trusted_proxies
from paperfeed.web.limits import Limit, RateLimits
from tests.support.fakes import HashingEmbedder
from tests.support.web import csrf_of

LOGINS = 3
PROXY = ("127.0.0.1", 40000)
NAMES = itertools.count()  # a new name per attempt: only the per-address limit is at work
STRANGER = ("198.51.100.7", 40000)


@pytest.fixture
def client_for(site: PaperFeed) -> Iterator[object]:
    """Opens a client whose connections come from `peer`, over an app that trusts `trusted`."""
    opened: list[tuple[PaperFeed, TestClient]] = []

    def open_client(peer: tuple[str, int], trusted: str | None) -> TestClient:
        feed = PaperFeed(
            replace(site.settings, trusted_proxies=trusted), embedder=HashingEmbedder()
        )
        app = create_app(feed, rate_limits=RateLimits(logins=Limit(LOGINS, 300)))
        client = TestClient(app, client=peer, raise_server_exceptions=False)
        opened.append((feed, client))
        return client

    yield open_client
    for feed, client in opened:
        client.close()
        feed.close()


def failed_logins(client: TestClient, forwarded_for: list[str]) -> list[int]:
    """The statuses of one failed log-in per X-Forwarded-For value."""
    token = csrf_of(client)
    statuses = []
    for value in forwarded_for:
        form = {"username": f"ghost{next(NAMES)}", "password": "wrong", "csrf_token": token}
        response = client.post("/login", data=form, headers={"X-Forwarded-For": value})
        statuses.append(response.status_code)
    return statuses


def test_a_made_up_header_from_an_untrusted_peer_is_ignored(client_for) -> None:
    client = client_for(STRANGER, "127.0.0.1")
    statuses = failed_logins(client, [f"203.0.113.{n}" for n in range(LOGINS + 2)])
    assert statuses == [401] * LOGINS + [429, 429]


def test_without_trusted_proxies_even_a_local_peer_is_not_believed(client_for) -> None:
    client = client_for(PROXY, None)
    statuses = failed_logins(client, [f"203.0.113.{n}" for n in range(LOGINS + 1)])
    assert statuses[-1] == 429


def test_a_trusted_proxy_names_the_client(client_for) -> None:
    client = client_for(PROXY, "127.0.0.1, 10.0.0.0/8")
    # Different clients behind the proxy each have their own count...
    assert failed_logins(client, [f"203.0.113.{n}" for n in range(LOGINS + 2)]) == [401] * 5
    # ...and one client is limited whatever it writes to the left of the proxies' hops.
    forged = [f"192.0.2.{n}, 203.0.113.200, 10.1.2.3" for n in range(LOGINS + 1)]
    assert failed_logins(client, forged) == [401] * LOGINS + [429]


def test_an_ipv4_mapped_peer_address_is_trusted_as_its_ipv4_address(client_for) -> None:
    client = client_for(("::ffff:127.0.0.1", 40000), "127.0.0.1")
    assert failed_logins(client, [f"203.0.113.{n}" for n in range(LOGINS + 1)]) == [401] * 4


def test_a_malformed_proxy_list_is_refused_with_the_variable_named() -> None:
    assert [str(n) for n in trusted_proxies(" 127.0.0.1 ,, ::1,10.0.0.0/8")] == [
        "127.0.0.1/32",
        "::1/128",
        "10.0.0.0/8",
    ]
    with pytest.raises(Invalid, match="PAPERFEED_TRUSTED_PROXIES: 'nginx'"):
        trusted_proxies("127.0.0.1,nginx")
