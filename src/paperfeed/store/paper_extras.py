"""Migration 11, on both backends: code links, key phrases and Hugging Face's other fields.

Papers get ``code_url`` and ``project_url`` (typed columns: ``has:code`` filters on the first),
``keywords`` (NULL until the background indexer computes them; a partial index finds those) and
``hf``; submissions get ``listed_at`` (Hugging Face's listing time, which orders equal upvotes)
and ``hf``. The two ``hf`` columns hold Hugging Face's fields as it served them, as JSON: its
daily items gained and renamed fields over time (``mediaUrl`` became ``mediaUrls``,
``ai_summary_model`` and ``submitterOrganization`` appeared), nothing filters or sorts on them,
and a JSON column keeps whatever it sends next without another migration.

Papers stored before the migration get their code links from their abstracts and comments here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paperfeed.code_links import find_code_links
from paperfeed.store.schema import papers, submissions

NEW_COLUMNS = {
    papers: ("code_url", "project_url", "keywords", "hf"),
    submissions: ("listed_at", "hf"),
}
BACKFILL_BATCH = 5000
# Only texts that may hold a link are read back (a LIKE pass is much faster than the regex).
_LINK_MARKS = ("%http%", "%www.%", "%github.%", "%gitlab.%", "%bitbucket.%", "%codeberg.%")


def add_paper_extras(conn: Connection) -> None:
    """Migration body: the new columns (a database made since has them from its creation), the
    index of papers without keywords, and the code links of the papers already stored."""
    for table, names in NEW_COLUMNS.items():
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        for name in names:
            if name not in present:
                ddl = table.c[name].type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {ddl}")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_papers_keywords_pending ON papers (key) "
        "WHERE keywords IS NULL"
    )
    backfill_code_links(conn)


def backfill_code_links(conn: Connection) -> int:
    """Code links of the papers that have none, from their abstracts and comments; returns how
    many papers got one."""
    texts = [papers.c.abstract, papers.c.comments]
    may_link = sa.or_(*[text.like(mark) for text in texts for mark in _LINK_MARKS])
    found, after = 0, 0
    while True:
        batch = conn.execute(
            sa.select(papers.c.key, papers.c.abstract, papers.c.comments)
            .where(papers.c.key > after, papers.c.code_url.is_(None), may_link)
            .order_by(papers.c.key)
            .limit(BACKFILL_BATCH)
        ).all()
        if not batch:
            return found
        after = batch[-1].key
        updates = []
        for row in batch:
            links = find_code_links([row.abstract, row.comments])
            if links.code_url or links.project_url:
                updates.append(
                    {"_key": row.key, "code_url": links.code_url, "project_url": links.project_url}
                )
        if updates:
            conn.execute(
                papers.update()
                .where(papers.c.key == sa.bindparam("_key"))
                .values(
                    code_url=sa.bindparam("code_url"),
                    project_url=sa.func.coalesce(papers.c.project_url, sa.bindparam("project_url")),
                ),
                updates,
            )
            found += sum(1 for u in updates if u["code_url"])
