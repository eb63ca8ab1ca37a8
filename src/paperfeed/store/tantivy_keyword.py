"""BM25 ranking and text filters for the SQLite store: tantivy indexes beside the database file.

SQLite's FTS5 scores every paper that matches any query word before it can sort, which grows with
the collection (p95 ~125 ms at 100k papers); tantivy keeps only the best `limit` with block-max
WAND. The papers are split by key over SHARDS indexes searched side by side. Tantivy also checks
the filters of candidates from elsewhere (required phrases, exclusions, authors, categories and
dates of nearest neighbours); FTS5 stays for listings without words and multi-word author names.
The papers table stays the truth: this index is a cache of it that `sync()` brings up to date and
that can always be rebuilt.

Keeping in step: new papers are those with a key above the marker saved in ``paperfeed.json``;
changed or deleted ones are logged by triggers in ``keyword_changes`` (see sqlite.py). A sync
commits to every shard first, then writes the marker, then clears the log rows it applied, so a
crash anywhere only repeats work (documents above the marker are deleted before they are
re-added). A missing, unreadable or foreign index is rebuilt. Only one process writes at a time
(tantivy's writer locks); the others keep searching what was last committed.

Longer than the store's other modules (~500 lines) on purpose: the index files and marker, the
sync with the papers table and the queries built for each shard share one schema, the analyzers
and the shard layout; split apart, each half would reach into the other's internals.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import tantivy

from paperfeed import private_files
from paperfeed.query import Query
from paperfeed.store import content_version
from paperfeed.store.chunks import chunks

log = logging.getLogger(__name__)

FORMAT = 4  # bump when the schema, the analyzer or SHARDS change: old indexes are rebuilt
MARKER = "paperfeed.json"
ANALYZER = "paperfeed"
# Title, abstract and authors are scored as one text (one IDF and length per paper, as FTS5's
# bm25 did): boosting separate fields over-rewards rare title words (known-item MRR@10 0.86 with
# equal weights, 0.56 with title x6). The title is repeated TITLE_REPEAT times in that text.
TITLE_REPEAT = 1
# Papers are split by key over this many indexes, searched side by side: a long OR query took
# p95 23 ms at 1M papers in one index, 15 ms in two on 2 cores. Each shard's query words are
# boosted so that it scores with the IDF of the whole collection, as one index would.
SHARDS = 2
SHARD_THREADS = 8  # threads searching the other shards (for as many concurrent searches)
BATCH = 20_000  # papers added per tantivy commit while catching up
WRITER_HEAP = 64_000_000  # per shard
# From BULK_FROM papers to add (a first build, a rebuild, a large import), each shard's writer
# gets a larger heap and commits once per BULK_BATCH papers: fewer, larger segments. Each segment
# starts block-max WAND from nothing; at 1M papers a long query took p95 13 ms on one segment
# per shard against 17 ms on eight. The heap is a cap, used as needed: building 1M papers so
# took 106 s at a peak RSS of 964 MB, one segment a shard (20k-paper commits: 160 s, eight).
BULK_FROM = 100_000
BULK_BATCH = 2_000_000
BULK_HEAP = 1_000_000_000  # per shard
PRUNE_COMMON_FROM = 50_000  # papers from which the commonest query words are not scored
COMMON_SHARE = 0.5  # ...those in more than this share of the papers
FILTER_CHUNK = 1000  # candidate keys checked per tantivy query
CHECK_SECONDS = 1.0  # searches look for new papers / other processes' commits this often
# A search indexes up to SEARCH_BACKLOG waiting papers (or changes) itself. A larger backlog of a
# built index is an import's, which catches up by itself in its own process (a sync, `ingest`):
# indexing a day of 1.5k papers inside a search held it 0.4-1 s while a sync ran. A search takes
# such a backlog on only once it has waited BACKLOG_GRACE seconds (an import that did not).
SEARCH_BACKLOG = 200
BACKLOG_GRACE = 30.0

PAPER_COLUMNS = "key, title, abstract, authors, categories, published, code_url"


def _analyzer(*, stop_words: bool = False) -> tantivy.TextAnalyzer:
    """Words split at non-alphanumerics (so "self-supervised" is two), long tokens dropped,
    lower-cased, accents folded, English-stemmed; with `stop_words`, those are dropped too.

    The index keeps stop words (phrases like "theory of mind" need them); a query's optional
    words leave them out, which costs nothing in ranking and spares scoring huge posting lists.
    """
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stop_words:
        builder = builder.filter(tantivy.Filter.stopword("english"))
    return builder.filter(tantivy.Filter.stemmer("english")).build()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", stored=False, indexed=True, fast=True)
    for name in ("text", "authors"):
        builder.add_text_field(name, stored=False, tokenizer_name=ANALYZER, index_option="position")
    builder.add_text_field("categories", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("has", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", stored=False, indexed=True, fast=False)
    return builder.build()


def _day(value: dt.datetime | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.toordinal()


def category_terms(categories: str) -> set[str]:
    """Index terms of a paper's categories: each one and its archive (cs.CL -> cs.cl, cs)."""
    terms = set()
    for category in categories.lower().split():
        terms.add(category)
        terms.add(category.split(".", 1)[0])
    return terms


class TantivyKeywordIndex:
    """The BM25 index of one SQLite store (`path` None: in memory, for a :memory: database)."""

    def __init__(self, engine: sa.Engine, path: Path | None) -> None:
        self.engine = engine
        self.path = path
        self.schema = _schema()
        self.analyzer = _analyzer()
        self.content_words = _analyzer(stop_words=True)
        self._lock = threading.Lock()  # one sync at a time in this process
        self._checked_at = 0.0
        self._backlog_since: float | None = None
        self._marker_mtime: float | None = None
        self._side_by_side = ThreadPoolExecutor(SHARD_THREADS, thread_name_prefix="paperfeed-shard")
        self.shards = self._open()

    # -- opening and the marker --------------------------------------------------------------

    def _open(self) -> list[tantivy.Index]:
        if self.path is None:
            shards = [tantivy.Index(self.schema) for _ in range(SHARDS)]
        else:
            private_files.tighten(self.path, private_files.DIR_MODE)
            complete = all(d.is_dir() and tantivy.Index.exists(str(d)) for d in self._shard_dirs())
            if self.path.exists() and (self._marker() is None or not complete):
                shutil.rmtree(self.path)  # not ours, another format, never finished: rebuild
            try:
                shards = self._open_dirs()
            except ValueError as error:
                log.warning("keyword index %s unreadable (%s): rebuilding", self.path, error)
                shutil.rmtree(self.path)
                shards = self._open_dirs()
        for shard in shards:
            shard.register_tokenizer(ANALYZER, self.analyzer)
        return shards

    def _shard_dirs(self) -> list[Path]:
        assert self.path is not None
        return [self.path / str(number) for number in range(SHARDS)]

    def _open_dirs(self) -> list[tantivy.Index]:
        shards = []
        for directory in self._shard_dirs():
            private_files.make_dir(directory)
            shards.append(tantivy.Index(self.schema, path=str(directory), reuse=True))
        return shards

    def _marker(self) -> dict[str, Any] | None:
        """The saved marker: where the index stands (here the highest paper key and change
        seq applied; None: start over)."""
        if self.path is None:
            return getattr(self, "_memory_marker", None)
        try:
            marker = json.loads((self.path / MARKER).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(marker, dict) or marker.get("format") != FORMAT:
            return None
        return marker

    def _save_marker(self, **position: Any) -> None:
        marker = {"format": FORMAT, **position}
        if self.path is None:
            self._memory_marker = marker
            return
        tmp = self.path / (MARKER + ".tmp")
        private_files.write_bytes(tmp, json.dumps(marker).encode())
        os.replace(tmp, self.path / MARKER)

    # -- keeping in step ---------------------------------------------------------------------

    def pending(self) -> int:
        """Papers not in the index yet, plus logged changes not applied yet."""
        marker = self._marker() or {"through": 0, "changes_through": 0}
        with self.engine.connect() as conn:
            changed = conn.exec_driver_sql(
                "SELECT count(*) FROM keyword_changes WHERE seq > ?", (marker["changes_through"],)
            ).scalar_one()
        return self._papers_above(marker["through"]) + int(changed)

    def _papers_above(self, key: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM papers WHERE key > :key"), {"key": key}
                ).scalar_one()
            )

    def sync(
        self, on_progress: Callable[[int], None] | None = None, *, rebuild: bool = False
    ) -> int:
        """Add new papers and apply logged changes (with `rebuild`, index every paper again);
        returns papers (re)indexed. Returns 0 at once when another process holds a writer
        (it is doing the same work)."""
        with self._lock:
            marker = self._marker()
            start = 0 if rebuild or marker is None else marker["through"]
            bulk = self._papers_above(start) >= BULK_FROM
            heap, commit_every = (BULK_HEAP, BULK_BATCH) if bulk else (WRITER_HEAP, BATCH)
            writers: list[tantivy.IndexWriter] = []
            try:
                for shard in self.shards:
                    writers.append(shard.writer(heap_size=heap, num_threads=1))
                done = self._sync(writers, marker, on_progress, rebuild, commit_every)
                for writer in writers:
                    writer.wait_merging_threads()  # merge small segments now; frees the writer
            except ValueError as error:
                if len(writers) == len(self.shards):
                    raise
                log.info("keyword index busy in another process (%s)", error)
                return 0
            finally:
                writers.clear()  # releases tantivy's lock files
            for shard in self.shards:
                shard.reload()
            if done:  # searches answered before now may be cached: they are stale
                content_version.bump(self.engine)
            return done

    def _sync(
        self,
        writers: list[tantivy.IndexWriter],
        marker: dict[str, Any] | None,
        on_progress: Callable[[int], None] | None,
        rebuild: bool,
        commit_every: int,
    ) -> int:
        if rebuild or marker is None or self._behind_store_reset(marker):
            for writer in writers:
                writer.delete_all_documents()
            marker = {"through": 0, "changes_through": 0}
        through, changes_through = marker["through"], marker["changes_through"]
        done = 0
        with self.engine.connect() as conn:
            top_change = conn.exec_driver_sql(
                "SELECT coalesce(max(seq), 0) FROM keyword_changes"
            ).scalar_one()
            changed = sorted(
                {
                    key
                    for (key,) in conn.exec_driver_sql(
                        "SELECT key FROM keyword_changes WHERE seq > ? AND seq <= ? AND key <= ?",
                        (changes_through, top_change, through),
                    )
                }
            )
            for chunk in chunks(changed):
                for key in chunk:
                    writers[key % SHARDS].delete_documents_by_term("key", key)
                marks = ",".join("?" * len(chunk))
                rows = conn.exec_driver_sql(
                    f"SELECT {PAPER_COLUMNS} FROM papers WHERE key IN ({marks})", tuple(chunk)
                ).all()
                self._add(writers, rows)
                done += len(chunk)
            # Documents above the marker can only be left from a commit whose marker was lost.
            for writer in writers:
                writer.delete_documents_by_query(self._keys_above(through))
            # changes applied above are committed with the first batch
            done += self._add_papers_above(
                conn,
                writers,
                through,
                lambda key: self._save_marker(through=key, changes_through=top_change),
                commit_every=commit_every,
                on_progress=on_progress,
                uncommitted=done,
            )
        if top_change:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM keyword_changes WHERE seq <= ?", (top_change,))
        return done

    def _add_papers_above(
        self,
        conn: sa.Connection,
        writers: list[tantivy.IndexWriter],
        through: int,
        save_marker: Callable[[int], None],
        *,
        commit_every: int,
        on_progress: Callable[[int], None] | None,
        uncommitted: int = 0,
    ) -> int:
        """Add the papers keyed above `through` in key order, committing every shard and then
        calling `save_marker` with the highest key added every `commit_every` papers and at the
        end (also when only `uncommitted` earlier changes wait); returns papers added."""
        done = 0
        while True:
            rows = conn.execute(
                sa.text(
                    f"SELECT {PAPER_COLUMNS} FROM papers WHERE key > :through "
                    "ORDER BY key LIMIT :batch"
                ),
                {"through": through, "batch": BATCH},
            ).all()
            if rows:
                self._add(writers, rows)
                through = rows[-1][0]
                uncommitted += len(rows)
                done += len(rows)
                if on_progress:
                    on_progress(len(rows))
            finished = len(rows) < BATCH
            if uncommitted and (finished or uncommitted >= commit_every):
                for writer in writers:
                    writer.commit()
                save_marker(through)
                uncommitted = 0
            if finished:
                return done

    def _behind_store_reset(self, marker: dict[str, Any]) -> bool:
        """True when the marker claims papers the store does not have (a restored database)."""
        with self.engine.connect() as conn:
            top = conn.exec_driver_sql("SELECT coalesce(max(key), 0) FROM papers").scalar_one()
        return bool(marker["through"] > top)

    def _keys_above(self, through: int) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, "key", tantivy.FieldType.Integer, through + 1, None
        )

    def _add(self, writers: list[tantivy.IndexWriter], rows: Iterable[Sequence[Any]]) -> None:
        for key, title, abstract, authors, categories, published, code_url in rows:
            document = tantivy.Document()
            document.add_integer("key", key)
            parts = [title or ""] * TITLE_REPEAT + [abstract or "", authors or ""]
            document.add_text("text", "\n".join(parts))
            document.add_text("authors", authors or "")
            for term in category_terms(categories or ""):
                document.add_text("categories", term)
            day = _day(published)
            if day is not None:
                document.add_integer("day", day)
            if code_url:
                document.add_text("has", "code")
            writers[key % SHARDS].add_document(document)

    def _refresh(self) -> None:
        """At most every CHECK_SECONDS: index new papers, see other processes' commits."""
        now = time.monotonic()
        if now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        if self._search_takes_on(self.pending(), now):
            self.sync()
        else:
            self._reload_if_committed()

    def _reload_if_committed(self) -> None:
        """See what another process committed since (it rewrote the marker)."""
        if self.path is None:
            return
        try:
            mtime = (self.path / MARKER).stat().st_mtime
        except OSError:
            return
        if mtime != self._marker_mtime:
            self._marker_mtime = mtime
            for shard in self.shards:
                shard.reload()

    def _search_takes_on(self, pending: int, now: float) -> bool:
        """Whether a search indexes the `pending` papers itself (see SEARCH_BACKLOG)."""
        if not pending:
            self._backlog_since = None
            return False
        if pending <= SEARCH_BACKLOG or self._marker() is None:
            return True
        if self._backlog_since is None:
            self._backlog_since = now
        return now - self._backlog_since >= BACKLOG_GRACE

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: Query, limit: int) -> list[tuple[int, float]]:
        """(key, BM25 score) of the best `limit` papers for the query's words, phrases,
        exclusions, categories and dates (authors, visibility: the caller filters)."""
        self._refresh()
        searchers = [shard.searcher() for shard in self.shards]
        built = self.build_queries(query, searchers)
        jobs = [
            self._side_by_side.submit(_best, searcher, shard_query, limit)
            for searcher, shard_query in zip(searchers[1:], built[1:], strict=True)
            if shard_query is not None
        ]
        hits = _best(searchers[0], built[0], limit) if built[0] is not None else []
        for job in jobs:
            hits += job.result()
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:limit]

    def count(
        self, query: Query, *, among: Sequence[int] | None = None, leave_out: Collection[int] = ()
    ) -> int:
        """How many papers `search` finds for the query with no limit (only those keyed in
        `among` if given), not counting the keys in `leave_out` (hidden papers: few, so each
        shard counts the ones that match apart)."""
        self._refresh()
        searchers = [shard.searcher() for shard in self.shards]
        built = self.build_queries(query, searchers)
        total = 0
        for number, (searcher, shard_query) in enumerate(zip(searchers, built, strict=True)):
            if shard_query is None:
                continue
            if among is not None:
                keys = [k for k in among if k % SHARDS == number and k not in leave_out]
                total += self._count_among(searcher, shard_query, keys)
                continue
            left_out = [key for key in leave_out if key % SHARDS == number]
            total += _count(searcher.search(shard_query, 1))
            total -= self._count_among(searcher, shard_query, left_out)
        return total

    def _count_among(
        self, searcher: tantivy.Searcher, shard_query: tantivy.Query, keys: Sequence[int]
    ) -> int:
        """How many of the papers keyed `keys` (all in this shard) match `shard_query`."""
        found = 0
        for start in range(0, len(keys), FILTER_CHUNK):
            chunk = [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "key", key))
                for key in keys[start : start + FILTER_CHUNK]
            ]
            among = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, shard_query),
                    (tantivy.Occur.Must, tantivy.Query.boolean_query(chunk)),
                ]
            )
            found += _count(searcher.search(among, 1))
        return found

    def filter(self, keys: Sequence[int], query: Query) -> set[int]:
        """The `keys` whose papers pass the query's required phrases, exclusions, authors,
        categories and dates (visibility: the caller checks)."""
        self._refresh()
        clauses = self._filter_clauses(query)
        if not keys or not clauses:
            return set(keys)
        kept: set[int] = set()
        for number, shard in enumerate(self.shards):
            searcher = shard.searcher()
            mine = [key for key in keys if key % SHARDS == number]
            for start in range(0, len(mine), FILTER_CHUNK):
                # An OR of term queries: 3 ms for 1,000 keys at 1M papers, term_set_query 16 ms.
                chunk = [
                    (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "key", key))
                    for key in mine[start : start + FILTER_CHUNK]
                ]
                built = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, tantivy.Query.boolean_query(chunk)), *clauses]
                )
                found = searcher.search(_const(built), len(chunk), count=False)
                kept.update(key for key, _ in _keys(searcher, found.hits))
        return kept

    def build_queries(
        self, query: Query, searchers: list[tantivy.Searcher]
    ) -> list[tantivy.Query | None]:
        """The tantivy query of each shard: any of the words (scored), all required phrases,
        no excluded one, in the category and date filters (None: nothing there can match).

        The words are one flat OR of terms, so block-max WAND skips most papers (a phrase among
        them would make tantivy score every match). Each term is boosted by the ratio of the
        whole collection's IDF to the shard's, so scores from different shards compare as from
        one index. On large collections the stems in more than COMMON_SHARE of the papers are
        left out (IDF < 0.35 against 3-10 for useful words: they barely move a ranking but make
        WAND score most of the collection), unless nothing else is left.
        """
        papers = [searcher.num_docs for searcher in searchers]
        stems = self._query_stems(query)
        counts = {stem: [s.doc_freq("text", stem) for s in searchers] for stem in stems}
        if sum(papers) >= PRUNE_COMMON_FROM:
            limit = COMMON_SHARE * sum(papers)
            stems = Counter({s: n for s, n in stems.items() if sum(counts[s]) <= limit}) or stems
        overall = {stem: _idf(sum(counts[stem]), sum(papers)) for stem in stems}
        prefixes = [q for q in (self._text_query(p, prefix=True) for p in query.prefixes) if q]
        clauses = self._filter_clauses(query)
        required = any(occur == tantivy.Occur.Must for occur, _ in clauses)
        built: list[tantivy.Query | None] = []
        for shard, shard_papers in enumerate(papers):
            optional = [
                tantivy.Query.boost_query(
                    tantivy.Query.term_query(self.schema, "text", stem),
                    times * overall[stem] / _idf(counts[stem][shard], shard_papers),
                )
                for stem, times in stems.items()
                if counts[stem][shard]  # absent from this shard: nothing to score
            ] + prefixes
            if not optional and not required:
                built.append(None)
                continue
            shard_clauses = [(tantivy.Occur.Must, _any(optional))] if optional else []
            shard_clauses += clauses
            if len(shard_clauses) == 1 and shard_clauses[0][0] == tantivy.Occur.Must:
                built.append(shard_clauses[0][1])
            else:
                built.append(tantivy.Query.boolean_query(shard_clauses))
        return built

    def _query_stems(self, query: Query) -> Counter[str]:
        """The distinct stems of the query's words and how often each occurs (BM25 counts a
        repeated query word again); stop words only when there is nothing else."""
        stems = Counter(s for word in query.terms for s in self.content_words.analyze(word))
        return stems or Counter(s for word in query.terms for s in self.analyzer.analyze(word))

    def _filter_clauses(self, query: Query) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Required phrases (scored), exclusions, authors, categories, dates and has:code (not
        scored)."""
        clauses = [
            (tantivy.Occur.Must, matched)
            for matched in map(self._text_query, query.required)
            if matched is not None
        ]
        clauses += [
            (tantivy.Occur.MustNot, matched)
            for matched in map(self._text_query, query.excluded)
            if matched is not None
        ]
        for name in query.authors:
            tokens = self.analyzer.analyze(name)
            if tokens:
                clauses.append((tantivy.Occur.Must, self._author_words(tokens)))
        if query.categories:
            terms = [
                tantivy.Query.term_query(self.schema, "categories", c.lower())
                for c in query.categories
            ]
            clauses.append((tantivy.Occur.Must, _const(_any(terms))))
        if query.date_from or query.date_to:
            days = tantivy.Query.range_query(
                self.schema,
                "day",
                tantivy.FieldType.Integer,
                query.date_from.toordinal() if query.date_from else None,
                query.date_to.toordinal() if query.date_to else None,
            )
            clauses.append((tantivy.Occur.Must, _const(days)))
        if query.has_code:
            has_code = tantivy.Query.term_query(self.schema, "has", "code")
            clauses.append((tantivy.Occur.Must, _const(has_code)))
        return clauses

    def _text_query(self, text: str, *, prefix: bool = False) -> tantivy.Query | None:
        """`text` in the paper's text: a term, a phrase when it has several tokens, or with
        `prefix` a phrase whose last word is a prefix (None when it has no tokens)."""
        tokens: list[str | tuple[int, str]] = list(self.analyzer.analyze(text))
        if not tokens:
            return None
        if prefix:
            return tantivy.Query.phrase_prefix_query(self.schema, "text", tokens)
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, "text", tokens[0])
        return tantivy.Query.phrase_query(self.schema, "text", tokens)

    def _author_words(self, tokens: list[str]) -> tantivy.Query:
        """All `tokens` among the authors (one-letter initials as prefixes), unscored."""
        parts = [
            (
                tantivy.Occur.Must,
                tantivy.Query.phrase_prefix_query(self.schema, "authors", [t])
                if len(t) == 1
                else tantivy.Query.term_query(self.schema, "authors", t),
            )
            for t in tokens
        ]
        return _const(tantivy.Query.boolean_query(parts))


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _count(result: tantivy.SearchResult) -> int:
    """All the matches a search counted (tantivy's type stubs leave `count` out)."""
    return int(result.count or 0)  # type: ignore[attr-defined]


def _const(query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.const_score_query(query, 0.0)


def _idf(matching: int, papers: int) -> float:
    """Tantivy's BM25 IDF of a term in `matching` of `papers` documents."""
    matching = min(matching, papers)  # deleted documents still count in a term's frequency
    return math.log(1.0 + (papers - matching + 0.5) / (matching + 0.5))


def _best(searcher: tantivy.Searcher, query: tantivy.Query, limit: int) -> list[tuple[int, float]]:
    """(key, score) of the `limit` best papers of one shard."""
    return _keys(searcher, searcher.search(query, limit, count=False).hits)


def _keys(searcher: tantivy.Searcher, hits: list[tuple[float, Any]]) -> list[tuple[int, float]]:
    """(paper key, score) of search hits."""
    keys = searcher.fast_field_values("key", [address for _, address in hits])
    return [(int(cast(int, key)), float(score)) for key, (score, _) in zip(keys, hits, strict=True)]
