"""Schema migrations upgrade an existing database in place."""

from __future__ import annotations

import sqlalchemy as sa

from paperfeed.models import Paper
from paperfeed.store.sqlite import SQLITE_MIGRATIONS, SqliteStore
from tests.support.factories import make_paper


def reopened_after(url: str, monkeypatch, applied: int, paper: Paper) -> SqliteStore:
    """A store that held `paper` with only its first `applied` migrations, opened again now."""
    monkeypatch.setattr(SqliteStore, "migrations", SQLITE_MIGRATIONS[:applied])
    old = SqliteStore.open(url)
    old.papers.upsert_papers([paper])
    old.close()
    monkeypatch.setattr(SqliteStore, "migrations", SQLITE_MIGRATIONS)
    return SqliteStore.open(url)


def test_an_old_database_is_upgraded_in_place_keeping_its_papers(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    paper = make_paper("2401.00001", title="Periodic binary networks")
    upgraded = reopened_after(url, monkeypatch, 1, paper)
    assert upgraded.papers.get_paper("2401.00001").title == "Periodic binary networks"
    with upgraded.engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version FROM schema_migrations").scalars().all()
        assert sorted(versions) == [m.version for m in SQLITE_MIGRATIONS]
        assert "papers_fts" in sa.inspect(conn).get_table_names()
    assert upgraded.migrate() == SQLITE_MIGRATIONS[-1].version  # a second run is a no-op


def test_an_upgraded_database_matches_dois_through_the_doi_index(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgraded = reopened_after(url, monkeypatch, 13, make_paper("2401.00001", doi="10.1000/ABC.1"))
    assert upgraded.papers.ids_by_doi(["10.1000/abc.1"]) == {"10.1000/abc.1": "2401.00001"}
    with upgraded.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM papers WHERE lower(doi) IN ('10.1000/abc.1')"
        ).all()
    assert "ix_papers_doi_lower" in " ".join(str(row) for row in plan)
