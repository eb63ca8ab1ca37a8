"""SQLite transactions: reads share the file with a writer, writes take the lock up front."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from paperfeed.store.sqlite import SqliteStore
from tests.support.factories import make_paper


def open_store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    store.papers.upsert_papers([make_paper("2401.00001", title="Before")])
    return store


def test_a_read_goes_on_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with store.engine.begin() as writer:
        writer.execute(sa.text("UPDATE papers SET title = 'During' WHERE id = '2401.00001'"))
        # Before this change a read began IMMEDIATE too and waited the busy timeout here.
        assert store.papers.get_paper("2401.00001").title == "Before"
    assert store.papers.get_paper("2401.00001").title == "During"


def test_writers_queue_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    errors: list[BaseException] = []

    def rename() -> None:
        try:
            for _ in range(20):
                with store.engine.begin() as conn:
                    title = conn.execute(sa.text("SELECT title FROM papers")).scalar_one()
                    conn.execute(sa.text("UPDATE papers SET title = :t"), {"t": f"{title}."})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=rename) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Each read-then-write saw the one before it: no lost update.
    assert store.papers.get_paper("2401.00001").title == "Before" + "." * 80
