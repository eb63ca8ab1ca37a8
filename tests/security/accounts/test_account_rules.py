"""Account rules: names and e-mail addresses are one account whatever their case, passwords
must be hard to guess (and not huge), e-mail addresses are checked by a real validator
(no header injection, at sign-up and at /subscribe), and sign-up never tells whether an
address belongs to an account."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.errors import Conflict, Invalid
from tests.support.web import csrf_of, log_in

Browser = Callable[..., TestClient]
STRONG = "quiet violet lantern 42"
INJECTED = "a@b\r\nBcc: x@y"


def sign_up(client: TestClient, username: str, password: str = STRONG, email: str = ""):
    data = {
        "username": username,
        "password": password,
        "email": email,
        "next": "/trending",
        "csrf_token": csrf_of(client, "/signup"),
    }
    return client.post("/signup", data=data, follow_redirects=False)


def test_a_name_differing_only_in_case_is_taken(feed: PaperFeed, browser: Browser) -> None:
    response = sign_up(browser(), "ALICE")
    assert response.status_code == 409 and "already taken" in response.text
    assert feed.store.community.get_user_by_username("ALICE").username == "alice"
    with pytest.raises(Conflict):  # the unique index holds even without the rule's check
        feed.store.community.create_user("Alice", None)


def test_log_in_ignores_the_case_of_the_name(browser: Browser) -> None:
    client = browser()
    log_in(client, "ALICE")
    assert '<span class="who">alice' in client.get("/").text


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("password", "choose a harder password: This is a top-10 common password"),
        ("12345678", "choose a harder password"),
        ("qwertyuiop", "choose a harder password"),
        ("P@ssw0rd1", "choose a harder password"),
        ("carol2024", "choose a harder password"),  # the user name and a year
        ("x7$" * 86, "at most 256"),  # 258 characters
    ],
)
def test_weak_and_overlong_passwords_are_refused(
    feed: PaperFeed, browser: Browser, password: str, message: str
) -> None:
    response = sign_up(browser(), "carol", password)
    assert response.status_code == 400 and message in response.text
    assert feed.store.community.get_user_by_username("carol") is None
    with pytest.raises(Invalid, match=message.split(":")[0]):
        feed.community.create_account("carol", password)


def test_a_hard_password_is_accepted(feed: PaperFeed, browser: Browser) -> None:
    assert sign_up(browser(), "carol", STRONG).status_code == 303
    assert (
        sign_up(browser("10.9.0.1"), "dave", "v" + "ery long passphrase " * 12).status_code == 303
    )


@pytest.mark.parametrize(
    "address", [INJECTED, "reader@example.org\r\nBcc: victim@example.org", "reader@example.org\n"]
)
def test_header_injection_is_refused_at_sign_up_and_subscribe(
    feed: PaperFeed, browser: Browser, address: str
) -> None:
    signup = sign_up(browser(), "mallory", email=address)
    assert signup.status_code == 400 and "does not look right" in signup.text
    assert feed.store.community.get_user_by_username("mallory") is None

    client = browser("10.9.0.2")
    form = {"email": address, "frequency": "daily", "csrf_token": csrf_of(client, "/subscribe")}
    subscribe = client.post("/subscribe", data=form)
    assert subscribe.status_code == 400 and "does not look right" in subscribe.text
    assert feed.store.subscriptions.list_subscribers() == []
    outbox = feed.settings.outbox_dir
    assert not outbox.exists() or list(outbox.iterdir()) == []


def test_sign_up_with_a_registered_address_answers_as_with_a_new_one(
    feed: PaperFeed, browser: Browser
) -> None:
    taken = sign_up(browser("10.9.0.3"), "bob", email="ALICE@example.org")
    fresh = sign_up(browser("10.9.0.4"), "carol", email="carol@example.org")
    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["location"] == fresh.headers["location"] == "/trending"
    assert taken.text == fresh.text

    def cookie_names(response) -> list[str]:
        return sorted(c.split("=")[0] for c in response.headers.get_list("set-cookie"))

    assert cookie_names(taken) == cookie_names(fresh)
    community = feed.store.community
    assert community.get_user_by_username("bob").email is None  # made without the address
    assert community.get_user_by_username("alice").email == "alice@example.org"
    assert community.get_user_by_username("carol").email == "carol@example.org"
    assert community.get_user_by_email("Carol@Example.org").username == "carol"
