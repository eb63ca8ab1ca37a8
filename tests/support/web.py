"""The web tests' small store (tricky titles, two accounts) and how a test client logs in."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.models import Paper
from tests.support.factories import make_submission
from tests.support.fakes import HashingEmbedder

UTC = dt.UTC
PASSWORD = "correct horse battery"
XSS_TITLE = "<script>alert('title')</script> Bounds when $a<b$ & c>d"
XSS_ABSTRACT = "We prove $a<b$ for <b>all</b> x. <img src=x onerror=alert(1)> Transformers help."

PAPERS = [
    Paper(
        id="2401.00001",
        title="Sparse Attention Transformers for Long Documents",
        abstract="We study sparse attention in transformers for long document summarisation.",
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper"],
        categories=["cs.CL", "cs.LG"],
        published=dt.datetime(2024, 1, 8, tzinfo=UTC),
        abs_url="https://arxiv.org/abs/2401.00001",
        pdf_url="https://arxiv.org/pdf/2401.00001",
    ),
    Paper(
        id="2401.00002",
        title=XSS_TITLE,
        abstract=XSS_ABSTRACT,
        authors=["Mallory <b>Evil</b>"],
        categories=["math.CO"],
        published=dt.datetime(2024, 1, 9, tzinfo=UTC),
        abs_url="javascript:alert(1)",
    ),
    Paper(
        id="2401.00003",
        title="Diffusion Models for Protein Design",
        abstract="Diffusion models generate protein backbones with attention layers.",
        authors=["Rosalind Franklin"],
        categories=["q-bio.BM"],
        published=dt.datetime(2024, 1, 5, tzinfo=UTC),
    ),
    Paper(
        id="hep-th/9901001",
        title="Strings on Old-Style Identifiers",
        abstract="An old paper about string theory dualities.",
        authors=["Edward Witten"],
        categories=["hep-th"],
        published=dt.datetime(1999, 1, 4, tzinfo=UTC),
    ),
    Paper(
        id="2401.00009",
        title="A Paper Nobody Submitted Yet",
        abstract="Graph neural networks for molecules, waiting to be submitted.",
        authors=["Marie Curie", "Pierre Curie"],
        categories=["cs.LG"],
    ),
]

# paper id, feed day, imported upvotes
SUBMISSIONS = [
    ("2401.00001", dt.date(2024, 1, 10), 5),
    ("2401.00002", dt.date(2024, 1, 10), 2),
    ("2401.00003", dt.date(2024, 1, 8), 7),
    ("hep-th/9901001", dt.date(2024, 1, 12), 1),
]


def load_fixture_papers(feed: PaperFeed) -> None:
    submitted = {
        pid: make_submission(pid, day, hour=9, submitter="curator", imported_upvotes=up)
        for pid, day, up in SUBMISSIONS
    }
    feed.ingest(iter([Record(p, submitted.get(p.id)) for p in PAPERS]))


def populate(feed: PaperFeed) -> PaperFeed:
    """The fixture papers, indexed, and the accounts alice and root (an admin). The feed
    must have been given the HashingEmbedder (see the `feed` fixture of tests/web)."""
    load_fixture_papers(feed)
    feed.index()
    feed.community.create_account("alice", PASSWORD, "alice@example.org")
    feed.community.create_account("root", PASSWORD, is_admin=True)
    return feed


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a form on `path`."""
    page = client.get(path)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the (new) CSRF token of the session."""
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client, "/")


@contextlib.contextmanager
def populated_site(data_dir: Path, database_url: str | None) -> Iterator[PaperFeed]:
    """A PaperFeed in `data_dir` (or on `database_url`) holding the fixture papers, submissions
    and the accounts alice and root, searched with the hashing embedder."""
    settings = Settings(
        data_dir=data_dir, database_url=database_url, secret_key="test-secret", arxiv_delay=0.0
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        yield populate(feed)


@pytest.fixture(scope="module", name="site")
def module_site(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    """The fixture ``site``: one populated store per module (per backend), for a conftest to
    import."""
    with populated_site(tmp_path_factory.mktemp("site") / "data", module_database_url) as feed:
        yield feed
