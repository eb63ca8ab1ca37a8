"""Password checks cost memory (argon2id: 64 MiB each), so only a few run at once; and failed
log-ins lock the account's name for a while, whichever addresses they come from."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from paperfeed.community import accounts
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.errors import Unavailable
from tests.support.fakes import ManualClock
from tests.support.web import PASSWORD, csrf_of

Browser = Callable[..., TestClient]
THREADS = 20


class CountingHasher(PasswordHasher):
    """A cheap argon2 hasher that takes `seconds` per call and records how many calls ran at
    the same time."""

    def __init__(self, seconds: float = 0.05) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.seconds)
            yield
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password, *, salt=None):
        with self._counted():
            return super().hash(password, salt=salt)

    def verify(self, hash, password):
        with self._counted():
            return super().verify(hash, password)


def run_together(count: int, call: Callable[[], object]) -> list[object]:
    """`call` from `count` threads started at once: each one's result or exception."""
    start = threading.Barrier(count)

    def one() -> object:
        start.wait()
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: one(), range(count)))


def test_concurrent_log_ins_hash_a_few_at_a_time(settings: Settings) -> None:
    hasher = CountingHasher()
    with PaperFeed(settings, password_hasher=hasher) as feed:
        feed.community.create_account("alice", PASSWORD)
        results = run_together(THREADS, lambda: feed.community.authenticate("alice", PASSWORD))
    assert [getattr(r, "username", r) for r in results] == ["alice"] * THREADS
    assert 1 <= hasher.most <= accounts.hashing_slots() < THREADS


def test_a_log_in_that_cannot_get_a_slot_in_time_is_told_the_server_is_busy() -> None:
    hasher = CountingHasher(seconds=0.5)
    hashing = accounts.PasswordHashing(hasher, slots=2, wait=0.05)
    results = run_together(6, lambda: hashing.hash(PASSWORD))
    busy = [r for r in results if isinstance(r, Unavailable)]
    assert len(busy) == 4 and hasher.most == 2
    assert busy[0].status_code == 503 and "busy" in str(busy[0])


def log_in_from(browser: Browser, address: str, username: str, password: str):
    client = browser(address)
    data = {"username": username, "password": password, "csrf_token": csrf_of(client)}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.mark.parametrize("username", ["alice", "ghost"])  # the same for names nobody has
def test_failed_log_ins_lock_the_name_whatever_the_address(
    browser: Browser, clock: ManualClock, username: str
) -> None:
    for n in range(accounts.FREE_FAILURES):
        wrong = log_in_from(browser, f"10.1.0.{n}", username.upper(), f"wrong guess {n}")
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    locked = log_in_from(browser, "10.2.0.1", username, PASSWORD)
    assert locked.status_code == 429 and "too many failed log-ins" in locked.text
    assert "try again in 1 minute" in locked.text

    clock.advance(minutes=1, seconds=1)
    wrong = log_in_from(browser, "10.2.0.2", username, "wrong again")
    assert wrong.status_code == 401  # the lock is over; this failure locks for twice as long
    clock.advance(minutes=1, seconds=1)
    assert log_in_from(browser, "10.2.0.3", username, PASSWORD).status_code == 429
    clock.advance(minutes=1)
    if username == "alice":
        assert log_in_from(browser, "10.2.0.4", username, PASSWORD).status_code == 303
        # a success starts the count afresh
        assert log_in_from(browser, "10.2.0.5", username, "wrong").status_code == 401
        assert log_in_from(browser, "10.2.0.6", username, PASSWORD).status_code == 303
