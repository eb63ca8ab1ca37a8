"""A site of real papers (600 arXiv listings of three days) with a few crafted author spellings,
shared by the tests of a module; each test signs its own readers up."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import User
from paperfeed.web.app import create_app
from tests.support.factories import make_paper
from tests.support.fakes import HashingEmbedder, ManualClock
from tests.support.paths import DATA
from tests.support.web import PASSWORD, log_in

LISTINGS = 600
# Spellings for the author page: "A. Quinlan" is only ever Ada; "J. Zedwick" may be Jo or Jan.
AUTHOR_PAPERS = [
    make_paper("2503.90001", title="Quinlan one: decision trees", authors=["Ada Quinlan"]),
    make_paper("2503.90002", title="Quinlan two: pruning", authors=["A. Quinlan", "Bo Li"]),
    make_paper("2503.90003", title="Zedwick one", authors=["Jo Zedwick"]),
    make_paper("2503.90004", title="Zedwick two", authors=["Jan Zedwick"]),
    make_paper("2503.90005", title="Zedwick three", authors=["J. Zedwick"]),
]
NOW = dt.datetime(2025, 3, 21, 8, tzinfo=dt.UTC)  # the day after the listings' last day


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("library") / "data",
        database_url=module_database_url,
        secret_key="test-secret",
        arxiv_delay=0.0,
    )
    clock = ManualClock(NOW)
    with PaperFeed(settings, embedder=HashingEmbedder(), clock=clock) as feed:
        listings = itertools.islice(
            read_jsonl(DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"), LISTINGS
        )
        feed.ingest(r for r in listings if isinstance(r, Record))
        feed.ingest(iter([Record(p) for p in AUTHOR_PAPERS]))
        feed.index()
        yield feed


@pytest.fixture
def client(site: PaperFeed) -> Iterator[TestClient]:
    with TestClient(create_app(site)) as test_client:
        yield test_client


_names = itertools.count(1)


def new_reader(site: PaperFeed, client: TestClient, prefix: str = "reader") -> tuple[User, str]:
    """A fresh account signed in on `client`: (the user, the session's CSRF token)."""
    name = f"{prefix}{next(_names)}"
    user = site.community.create_account(name, PASSWORD, f"{name}@example.org")
    return user, log_in(client, name)


def papers_of_day(site: PaperFeed, day: dt.date) -> list[str]:
    return [p.id for p in site.store.papers.papers_published_between(day, day, limit=1000)]


def count_rows(site: PaperFeed, tables: Sequence[sa.Table], **where: int) -> dict[str, int]:
    """Rows per table; with `where`, only in the tables that have those columns, the rows
    holding those values."""
    counts = {}
    with site.store.engine.connect() as conn:
        for table in tables:
            if not all(column in table.c for column in where):
                continue
            stmt = sa.select(sa.func.count()).select_from(table)
            for column, value in where.items():
                stmt = stmt.where(table.c[column] == value)
            counts[table.name] = conn.execute(stmt).scalar_one()
    return counts
