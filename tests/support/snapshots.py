"""Snapshot files for the importer's tests: real snapshot records under fresh ids, with repeats."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.paths import DATA

HEAD = DATA / "kaggle_arxiv_snapshot_head" / "arxiv-metadata-oai-snapshot.head.json"
LATER_VERSIONS = [
    {"version": "v2", "created": "Tue, 2 Jan 2024 10:00:00 GMT"},
    {"version": "v3", "created": "Wed, 3 Jan 2024 10:00:00 GMT"},
]


def write_snapshot(path: Path, lines: int, *, malformed: dict[int, bytes] | None = None) -> int:
    """Real snapshot records with fresh ids as version 1; every 50th line repeats an earlier id
    as version 3; `malformed` replaces lines (1-based number -> content).

    Returns the number of distinct ids written."""
    records = [json.loads(line) for line in HEAD.read_text().splitlines()]
    broken = malformed or {}
    distinct = 0
    with path.open("wb") as out:
        for n in range(lines):
            if n + 1 in broken:
                out.write(broken[n + 1] + b"\n")
                continue
            record = dict(records[n % len(records)])
            record["versions"] = record["versions"][:1]
            if n % 50 == 49:
                record["id"] = f"2401.{n - 25:05d}"
                record["versions"] = [*record["versions"], *LATER_VERSIONS]
            else:
                record["id"] = f"2401.{n:05d}"
                distinct += 1
            record["title"] = f"{record['title']} (variant {n})"
            out.write(json.dumps(record).encode() + b"\n")
    return distinct


def paper_indexes(db: Path) -> list[str]:
    """The names of the indexes on the papers table of the SQLite file `db`."""
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers' "
            "ORDER BY name"
        )
        return [name for (name,) in found]
