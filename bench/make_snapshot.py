"""Generate a large file in the arXiv bulk-snapshot format from real records, for import benchmarks.

    python bench/make_snapshot.py OUT.jsonl[.gz] --lines 1000000 [--malformed 25] [--seed 7]

The first lines are the 200 real snapshot lines verbatim; the rest are variants of those and of the
cs.CV/cs.CL corpus (turned into snapshot records) with fresh ids ``yymm.NNNNN``, 1-5 versions and
shuffled abstract sentences. About 1% of lines repeat an earlier id with one more version (the
importer must merge them), and `--malformed` lines are broken on purpose (truncated, not JSON, no
title, bad id). Deterministic for a seed. Writes ``OUT.meta.json`` with ``lines``, ``distinct_ids``,
``malformed`` and ``repeats``, the counts a test of the importer checks against.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PAPERFEED_SHARED_DIR", ROOT.parent / "shared")) / "data"
HEAD = DATA / "kaggle_arxiv_snapshot_head" / "arxiv-metadata-oai-snapshot.head.json"
CORPUS = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"

IDS_PER_MONTH = 40_000
FIRST_MONTH = (2015, 1)
REPEAT_RATE = 0.01
LICENSE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PER_RECORD = ("id", "versions", "update_date")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def rfc2822(moment: dt.datetime) -> str:
    """``Mon, 2 Apr 2007 19:18:42 GMT``, as the snapshot writes version dates."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day} {_MONTHS[moment.month - 1]} {moment.year} "
        f"{moment:%H:%M:%S} GMT"
    )


def load_templates(corpus_limit: int) -> list[dict]:
    """The real snapshot lines plus corpus records in snapshot shape (without id and versions)."""
    templates = [json.loads(line) for line in HEAD.open(encoding="utf-8")]
    with gzip.open(CORPUS, "rt", encoding="utf-8") as corpus:
        for n, line in enumerate(corpus):
            if n >= corpus_limit:
                break
            templates.append(snapshot_shape(orjson.loads(line)))
    return templates


def snapshot_shape(row: dict) -> dict:
    authors = row.get("authors") or []
    categories = row.get("categories") or []
    return {
        "submitter": authors[0] if authors else None,
        "authors": ", ".join(authors),
        "title": "\n  ".join(wrap(row["title"])),
        "comments": row.get("comment"),
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(categories),
        "license": LICENSE,
        "abstract": row["abstract"],  # wrapped when used (`Generator.vary`)
        "authors_parsed": [_parsed_name(a) for a in authors],
    }


def wrap(text: str, width: int = 78) -> list[str]:
    """Greedy hard-wrap at `width` columns, as arXiv's metadata does (textwrap is too slow here)."""
    lines: list[str] = []
    words: list[str] = []
    size = -1
    for word in text.split():
        if words and size + 1 + len(word) > width:
            lines.append(" ".join(words))
            words, size = [], -1
        words.append(word)
        size += 1 + len(word)
    if words:
        lines.append(" ".join(words))
    return lines


def _parsed_name(name: str) -> list[str]:
    first, _, last = name.rpartition(" ")
    return [last, first, ""]


class Generator:
    """Snapshot lines and the ids they carry; every choice comes from one seeded RNG."""

    def __init__(self, templates: list[dict], seed: int) -> None:
        self.templates = templates
        self.rng = random.Random(seed)
        self.issued = 0
        self.recent: list[dict] = []  # records that may be repeated with a newer version

    def next_id(self) -> tuple[str, dt.datetime]:
        month_index, number = divmod(self.issued, IDS_PER_MONTH)
        self.issued += 1
        year, month = divmod(FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + month_index, 12)
        month += 1
        start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        moment = start + dt.timedelta(seconds=self.rng.randrange(27 * 86400))
        return f"{year % 100:02d}{month:02d}.{number + 1:05d}", moment

    def new_record(self) -> dict:
        template = self.rng.choice(self.templates)
        arxiv_id, first = self.next_id()
        record = {"id": arxiv_id}
        record.update((k, v) for k, v in template.items() if k not in _PER_RECORD)
        record["abstract"] = self.vary(template["abstract"])
        moments = [first]
        for _ in range(self.rng.choice((0, 0, 0, 1, 1, 2, 4))):
            moments.append(moments[-1] + dt.timedelta(days=self.rng.randrange(1, 200)))
        self.set_versions(record, moments)
        if len(self.recent) < 5000:
            self.recent.append(record)
        else:
            self.recent[self.rng.randrange(len(self.recent))] = record
        return record

    def repeat_record(self) -> dict:
        """An earlier record again, one version newer (as a later snapshot line would be)."""
        index = self.rng.randrange(len(self.recent))
        earlier = self.recent[index]
        moments = [_parse_rfc2822(v["created"]) for v in earlier["versions"]]
        moments.append(moments[-1] + dt.timedelta(days=self.rng.randrange(1, 100)))
        record = dict(earlier, comments=f"v{len(moments)}: revised")
        self.set_versions(record, moments)
        self.recent[index] = record
        return record

    def vary(self, abstract: str) -> str:
        """The same sentences, rotated: a different text with the same vocabulary."""
        sentences = _SENTENCE_END.split(abstract.strip())
        if len(sentences) > 2:
            k = self.rng.randrange(len(sentences))
            sentences = sentences[k:] + sentences[:k]
        return "  " + "\n".join(wrap(" ".join(sentences))) + "\n"

    @staticmethod
    def set_versions(record: dict, moments: list[dt.datetime]) -> None:
        record["versions"] = [
            {"version": f"v{i}", "created": rfc2822(m)} for i, m in enumerate(moments, 1)
        ]
        record["update_date"] = moments[-1].date().isoformat()

    def malformed(self, record: dict) -> bytes:
        kind = self.rng.randrange(4)
        if kind == 0:
            line = orjson.dumps(record)
            return line[: self.rng.randrange(10, len(line) - 2)]  # truncated
        if kind == 1:
            return b"{this is not json"
        if kind == 2:
            return orjson.dumps({k: v for k, v in record.items() if k != "title"})
        return orjson.dumps(dict(record, id="not-an-arxiv-id"))


def _parse_rfc2822(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)


def write_snapshot(
    out: Path, *, lines: int, malformed: int = 0, seed: int = 7, corpus_limit: int = 80_000
) -> dict[str, int]:
    """Write the file (gzip when `out` ends in .gz) and its meta sidecar; returns the meta."""
    head = [line.rstrip(b"\n") for line in HEAD.open("rb")][: max(0, lines - malformed)]
    gen = Generator(load_templates(corpus_limit), seed)
    bad_at = set(gen.rng.sample(range(len(head), lines), malformed)) if malformed else set()
    ids: set[str] = {json.loads(line)["id"] for line in head}
    repeats = 0
    opener = gzip.open if out.name.endswith(".gz") else open
    with opener(out, "wb", **({"compresslevel": 1} if opener is gzip.open else {})) as stream:
        for line in head:
            stream.write(line + b"\n")
        for n in range(len(head), lines):
            if n in bad_at:
                line = gen.malformed({**gen.rng.choice(gen.templates), "id": "1412.99999"})
            elif gen.recent and gen.rng.random() < REPEAT_RATE:
                line = orjson.dumps(gen.repeat_record())
                repeats += 1
            else:
                record = gen.new_record()
                ids.add(record["id"])
                line = orjson.dumps(record)
            stream.write(line + b"\n")
    meta = {"lines": lines, "distinct_ids": len(ids), "malformed": malformed, "repeats": repeats}
    meta_path(out).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def meta_path(out: Path) -> Path:
    name = out.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return out.with_name(name + ".meta.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output file (.jsonl or .jsonl.gz)")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--malformed", type=int, default=0, help="lines broken on purpose")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus-limit", type=int, default=80_000, help="corpus records to use")
    args = parser.parse_args(argv)
    if args.malformed > max(0, args.lines - 200):
        parser.error("--malformed must leave room for the 200 real lines")
    started = time.perf_counter()
    meta = write_snapshot(
        args.out,
        lines=args.lines,
        malformed=args.malformed,
        seed=args.seed,
        corpus_limit=args.corpus_limit,
    )
    meta["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(meta, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
