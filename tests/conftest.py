"""Shared fixtures: real stores on temporary files, per storage backend.

Every test using `settings` or `feed` (or `database_url`) runs once per storage backend:
``--backend=sqlite|postgres|both`` (default: both when the pgserver binaries are installed).
PostgreSQL runs in a throwaway local server (tests/support/pg.py), one fresh database per test.
What tests share besides fixtures (paths to the shared data, builders, fakes) is in tests/support.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from paperfeed.community import accounts
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from tests.support import pg
from tests.support.digest import Recorder
from tests.support.fakes import ManualClock, cheap_password_hasher
from tests.support.net import free_port

BACKENDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "both"),
        default=None,
        help="Store backend(s) for tests using the store (default: both if pgserver is installed).",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    choice = config.getoption("--backend") or ("both" if pg.available() else "sqlite")
    return list(BACKENDS) if choice == "both" else [choice]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run only on these store backends (e.g. the ANN file tests)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = selected_backends(metafunc.config)
        marker = metafunc.definition.get_closest_marker("backends")
        if marker is not None:
            backends = [b for b in backends if b in marker.args]
        metafunc.parametrize(
            "backend",
            backends
            or [pytest.param("none", marks=pytest.mark.skip(reason="backend not selected"))],
            indirect=True,
            scope="module",
        )


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of this test: "sqlite" or "postgres"."""
    return request.param


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PostgresServer]:
    server = pg.start_server()
    with pytest.MonkeyPatch.context() as patch:  # the nodes' keyword indexes: gone with it
        patch.setenv("PAPERFEED_KEYWORD_INDEX_DIR", str(server.base / "keywords"))
        yield server
    server.stop()


def _database(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    if backend != "postgres":
        yield None  # the default: a SQLite file in the data dir
        return
    server: pg.PostgresServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database URL, or None for SQLite (a file in the data dir)."""
    yield from _database(backend, request)


@pytest.fixture(scope="module")
def module_database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """As `database_url`, shared by the tests of a module."""
    yield from _database(backend, request)


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database of the test's backend that no migration has touched yet."""
    if backend != "postgres":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server: pg.PostgresServer = request.getfixturevalue("pg_server")
    url = server.create_database(migrated=False)
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Settings for a fresh deployment in a temporary data dir."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        arxiv_delay=0.0,
    )


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    """A PaperFeed on a fresh store of the test's backend."""
    with PaperFeed(settings) as paperfeed:
        yield paperfeed


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    """A real SMTP server (aiosmtpd) on a free local port, recording what it receives."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Every test hashes passwords with argon2's smallest cost (same code path, no second each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", cheap_password_hasher())
        yield


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves, for PaperFeed(clock=...)."""
    return ManualClock()
