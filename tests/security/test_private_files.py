"""The data directory is the owner's alone, whatever the umask: directories 0700, files 0600
(database with its -wal/-shm, keyword index, ANN index, outbox, secret key); an existing one that
others could read is tightened when it is opened."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.digest.deliver import open_mailer
from paperfeed.ingest.base import Record
from paperfeed.store.tantivy_keyword import MARKER
from tests.support.factories import make_paper, make_submission
from tests.support.fakes import HashingEmbedder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files readable and writable by the group and readable by all."""
    previous = os.umask(0o002)
    yield
    os.umask(previous)


def records(count: int = 3) -> Iterator[Record]:
    for n in range(1, count + 1):
        paper_id = f"2401.{n:05d}"
        yield Record(make_paper(paper_id, title=f"Paper number {n}"), make_submission(paper_id))


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Message-ID"] = "<digest-1@example.org>"
    mail["To"] = "reader@example.org"
    mail.set_content("your papers")
    return mail


@pytest.mark.usefixtures("loose_umask")
def test_everything_in_a_new_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "data"
    settings = Settings(data_dir=data, arxiv_delay=0.0)
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        feed.ingest(records())
        assert feed.index() == 3
        settings.resolved_secret_key()
        open_mailer(settings).send(message())
        db = settings.sqlite_path
        expected_files = [
            db,
            db.with_name(db.name + "-wal"),
            db.with_name(db.name + "-shm"),
            data / "secret.key",
            data / "outbox" / "digest-1@example.org.eml",
            *data.glob("vectors.*.usearch"),
            *data.glob("vectors.*.usearch.json"),
            db.with_name(db.name + ".keywords") / MARKER,
        ]
        assert len(list(data.glob("vectors.*"))) == 2
        for path in expected_files:
            assert path.exists() and mode(path) == 0o600, (path, oct(mode(path)))
        directories = [data.parent, data, *(p for p in data.rglob("*") if p.is_dir())]
        assert db.with_name(db.name + ".keywords") in directories
        for directory in directories:
            assert mode(directory) == 0o700, (directory, oct(mode(directory)))
        # Files the keyword index library writes itself sit in 0700 directories; all others:
        keywords = db.with_name(db.name + ".keywords")
        for path in data.rglob("*"):
            if path.is_file() and keywords not in path.parents:
                assert mode(path) == 0o600, (path, oct(mode(path)))


def test_an_existing_loose_data_dir_is_tightened_on_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, secret_key="k")
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        feed.ingest(records(1))
    db = settings.sqlite_path
    keywords = db.with_name(db.name + ".keywords")
    os.chmod(data, 0o755)
    os.chmod(db, 0o644)
    os.chmod(keywords, 0o755)
    with caplog.at_level(logging.WARNING), PaperFeed(settings) as feed:
        assert feed.count_papers() == 1
        assert (mode(data), mode(db), mode(keywords)) == (0o700, 0o600, 0o700)
        assert mode(db.with_name(db.name + "-wal")) == 0o600
    assert f"made {data} private: mode 755 -> 700" in caplog.text
    assert f"made {db} private: mode 644 -> 600" in caplog.text


def test_a_shared_sticky_directory_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with PaperFeed(Settings(data_dir=shared, secret_key="k")) as feed:
        assert feed.count_papers() == 0
    assert mode(shared) == 0o1777
