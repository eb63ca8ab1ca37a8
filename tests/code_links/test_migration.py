"""Migration 11 upgrades a database made before it: the new columns, and the code links of the
papers already stored, found in their abstracts and comments."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from paperfeed.query import parse_query
from paperfeed.store import rows
from paperfeed.store.paper_extras import NEW_COLUMNS
from paperfeed.store.schema import papers
from tests.support.factories import make_paper
from tests.support.stores import store_class

OLD_PAPERS = [
    make_paper(
        "2503.13881", title="Routing tokens", comments=r"Code: \url{https://github.com/jdg900/MMR}"
    ),
    make_paper(
        "2503.12024",
        title="Routing cameras",
        abstract="Project page: https://byeongjun-park.github.io/SteerX/.",
    ),
    make_paper("2503.00001", title="Routing without code"),
]


def test_a_database_from_before_gets_the_columns_and_its_code_links(
    backend: str, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = empty_database_url
    cls = store_class(backend)
    every = list(cls.migrations)
    monkeypatch.setattr(cls, "migrations", [m for m in every if m.version != 11])
    old = cls.open(url)
    with old.engine.begin() as conn:
        for table, names in NEW_COLUMNS.items():
            for name in names:
                conn.exec_driver_sql(f"ALTER TABLE {table.name} DROP COLUMN {name}")
        now = rows.utcnow()
        for paper in OLD_PAPERS:
            values = rows.paper_values(paper, now)
            conn.execute(
                papers.insert().values(
                    {k: values[k] for k in values if k not in NEW_COLUMNS[papers]}
                )
            )
    old.close()

    monkeypatch.setattr(cls, "migrations", every)
    upgraded = cls.open(url)
    found = {
        p.id: (p.code_url, p.project_url, p.keywords)
        for p in upgraded.papers.get_papers([p.id for p in OLD_PAPERS])
    }
    assert found == {
        "2503.13881": ("https://github.com/jdg900/MMR", None, None),
        "2503.12024": (None, "https://byeongjun-park.github.io/SteerX/", None),
        "2503.00001": (None, None, None),
    }
    with upgraded.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("submissions")}
    assert {"listed_at", "hf"} <= columns
    assert len(upgraded.papers.papers_without_keywords(10)) == 3
    upgraded.papers.catch_up_keyword_index()
    hits = upgraded.papers.keyword_search(parse_query("routing has:code"))
    assert [key for key, _ in hits] == list(upgraded.papers.paper_keys(["2503.13881"]).values())
    upgraded.close()
