"""BM25 ranking for the SQLite store: a tantivy index in a directory beside the database file.

SQLite's FTS5 scores every paper that matches any query word before it can sort, which grows with
the collection (p95 ~125 ms at 100k papers); tantivy keeps only the best `limit` with block-max
WAND and answers in a few milliseconds at a million. FTS5 stays for the filters (author names,
required phrases and exclusions of dense candidates), and the papers table stays the truth: this
index is a cache of it that `sync()` brings up to date and that can always be rebuilt.

Keeping in step: new papers are those with a key above the marker saved in ``paperfeed.json``;
changed or deleted ones are logged by triggers in ``keyword_changes`` (see sqlite.py). A sync
commits to tantivy first, then writes the marker, then clears the log rows it applied, so a crash
anywhere only repeats work (documents above the marker are deleted before they are re-added). A
missing, unreadable or foreign index is rebuilt. Only one process writes at a time (tantivy's
writer lock); the others keep searching what was last committed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tantivy

from paperfeed.search.query import Query

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the schema or the analyzer changes: old indexes are rebuilt
MARKER = "paperfeed.json"
ANALYZER = "paperfeed"
# Title, abstract and authors are scored as one text (one IDF and length per paper, as FTS5's
# bm25 did): boosting separate fields over-rewards rare title words (known-item MRR@10 0.86 with
# equal weights, 0.56 with title x6). The title is repeated TITLE_REPEAT times in that text.
TITLE_REPEAT = 1
BATCH = 20_000  # papers added per tantivy commit while catching up
WRITER_HEAP = 128_000_000
PRUNE_COMMON_FROM = 50_000  # papers from which the commonest query words are not scored
COMMON_SHARE = 0.5  # ...those in more than this share of the papers
FILTER_CHUNK = 1000  # candidate keys checked per tantivy query
CHECK_SECONDS = 1.0  # searches look for new papers / other processes' commits this often

_PAPER_COLUMNS = "key, title, abstract, authors, categories, published"


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
        self._marker_mtime: float | None = None
        self.index = self._open()

    # -- opening and the marker --------------------------------------------------------------

    def _open(self) -> tantivy.Index:
        if self.path is None:
            index = tantivy.Index(self.schema)
        else:
            if self._marker() is None and self.path.exists():
                shutil.rmtree(self.path)  # not ours, another format, or never finished: rebuild
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
            except ValueError as error:
                log.warning("keyword index %s unreadable (%s): rebuilding", self.path, error)
                shutil.rmtree(self.path)
                self.path.mkdir(parents=True)
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        index.register_tokenizer(ANALYZER, self.analyzer)
        return index

    def _marker(self) -> dict[str, int] | None:
        """The saved marker: highest paper key and change seq applied (None: start over)."""
        if self.path is None:
            return getattr(self, "_memory_marker", None)
        try:
            marker = json.loads((self.path / MARKER).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(marker, dict) or marker.get("format") != FORMAT:
            return None
        return marker

    def _save_marker(self, through: int, changes_through: int) -> None:
        marker = {"format": FORMAT, "through": through, "changes_through": changes_through}
        if self.path is None:
            self._memory_marker = marker
            return
        tmp = self.path / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker))
        os.replace(tmp, self.path / MARKER)

    # -- keeping in step ---------------------------------------------------------------------

    def pending(self) -> int:
        """Papers not in the index yet, plus logged changes not applied yet."""
        marker = self._marker() or {"through": 0, "changes_through": 0}
        with self.engine.connect() as conn:
            new = conn.exec_driver_sql(
                "SELECT count(*) FROM papers WHERE key > ?", (marker["through"],)
            ).scalar_one()
            changed = conn.exec_driver_sql(
                "SELECT count(*) FROM keyword_changes WHERE seq > ?", (marker["changes_through"],)
            ).scalar_one()
        return new + changed

    def sync(
        self, on_progress: Callable[[int], None] | None = None, *, rebuild: bool = False
    ) -> int:
        """Add new papers and apply logged changes (with `rebuild`, index every paper again);
        returns papers (re)indexed. Returns 0 at once when another process holds the writer
        (it is doing the same work)."""
        with self._lock:
            try:
                writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as error:
                log.info("keyword index busy in another process (%s)", error)
                return 0
            try:
                done = self._sync(writer, on_progress, rebuild)
                writer.wait_merging_threads()  # merge small segments now; frees the writer
            finally:
                del writer  # releases tantivy's lock file
            self.index.reload()
            return done

    def _sync(
        self,
        writer: tantivy.IndexWriter,
        on_progress: Callable[[int], None] | None,
        rebuild: bool,
    ) -> int:
        marker = self._marker()
        if rebuild or marker is None or self._behind_store_reset(marker):
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
            for start in range(0, len(changed), 900):
                chunk = changed[start : start + 900]
                for key in chunk:
                    writer.delete_documents_by_term("key", key)
                marks = ",".join("?" * len(chunk))
                rows = conn.exec_driver_sql(
                    f"SELECT {_PAPER_COLUMNS} FROM papers WHERE key IN ({marks})", tuple(chunk)
                ).all()
                self._add(writer, rows)
                done += len(chunk)
            # Documents above the marker can only be left from a commit whose marker was lost.
            writer.delete_documents_by_query(self._keys_above(through))
            while True:
                rows = conn.exec_driver_sql(
                    f"SELECT {_PAPER_COLUMNS} FROM papers WHERE key > ? ORDER BY key LIMIT ?",
                    (through, BATCH),
                ).all()
                if not rows and not done:
                    break
                self._add(writer, rows)
                writer.commit()
                through = rows[-1][0] if rows else through
                self._save_marker(through, top_change)
                done += len(rows)
                if on_progress and rows:
                    on_progress(len(rows))
                if len(rows) < BATCH:
                    break
        if top_change:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM keyword_changes WHERE seq <= ?", (top_change,))
        return done

    def _behind_store_reset(self, marker: dict[str, int]) -> bool:
        """True when the marker claims papers the store does not have (a restored database)."""
        with self.engine.connect() as conn:
            top = conn.exec_driver_sql("SELECT coalesce(max(key), 0) FROM papers").scalar_one()
        return marker["through"] > top

    def _keys_above(self, through: int) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, "key", tantivy.FieldType.Integer, through + 1, None
        )

    def _add(self, writer: tantivy.IndexWriter, rows: Iterable[Sequence[Any]]) -> None:
        for key, title, abstract, authors, categories, published in rows:
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
            writer.add_document(document)

    def _refresh(self) -> None:
        """At most every CHECK_SECONDS: index new papers, see other processes' commits."""
        now = time.monotonic()
        if now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        if self.pending():
            self.sync()
        elif self.path is not None:
            try:
                mtime = (self.path / MARKER).stat().st_mtime
            except OSError:
                return
            if mtime != self._marker_mtime:
                self._marker_mtime = mtime
                self.index.reload()

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: Query, limit: int) -> list[tuple[int, float]]:
        """(key, BM25 score) of the best `limit` papers for the query's words, phrases,
        exclusions, categories and dates (authors, visibility: the caller filters)."""
        self._refresh()
        searcher = self.index.searcher()
        built = self.build_query(query, searcher)
        if built is None:
            return []
        return _keys(searcher, searcher.search(built, limit, count=False).hits)

    def filter(self, keys: Sequence[int], query: Query) -> set[int]:
        """The `keys` whose papers pass the query's required phrases, exclusions, authors,
        categories and dates (visibility: the caller checks)."""
        self._refresh()
        clauses = self._filter_clauses(query)
        if not keys or not clauses:
            return set(keys)
        searcher = self.index.searcher()
        kept: set[int] = set()
        for start in range(0, len(keys), FILTER_CHUNK):
            # An OR of term queries: 3 ms for 1,000 keys at 1M papers, term_set_query 16 ms.
            chunk = [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "key", key))
                for key in keys[start : start + FILTER_CHUNK]
            ]
            built = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.boolean_query(chunk)), *clauses]
            )
            found = searcher.search(_const(built), len(chunk), count=False)
            kept.update(key for key, _ in _keys(searcher, found.hits))
        return kept

    def build_query(
        self, query: Query, searcher: tantivy.Searcher | None = None
    ) -> tantivy.Query | None:
        """The tantivy query: any of the words (scored), all required phrases, no excluded one,
        in the category and date filters. None when nothing in it can match."""
        searcher = searcher or self.index.searcher()
        optional = self._scored_words(query, searcher)
        optional += [
            q for q in (self._text_query(p, prefix=True) for p in query.prefixes) if q is not None
        ]
        clauses = self._filter_clauses(query)
        if not optional and not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            return None
        if optional:
            clauses.insert(0, (tantivy.Occur.Must, _any(optional)))
        if len(clauses) == 1 and clauses[0][0] == tantivy.Occur.Must:
            return clauses[0][1]
        return tantivy.Query.boolean_query(clauses)

    def _scored_words(self, query: Query, searcher: tantivy.Searcher) -> list[tantivy.Query]:
        """A term query per distinct stem of the query's words, boosted by how often it occurs
        (BM25 counts a repeated query word again); one flat OR of terms lets block-max WAND
        skip most papers (a phrase among them would make tantivy score every match).

        Stop words are left out unless there is nothing else; on large collections so are the
        stems in more than COMMON_SHARE of the papers (IDF < 0.35 against 3-10 for useful
        words: they barely move a ranking but make WAND score most of the collection).
        """
        stems = Counter(s for word in query.terms for s in self.content_words.analyze(word))
        if not stems:
            stems = Counter(s for word in query.terms for s in self.analyzer.analyze(word))
        papers = searcher.num_docs
        if papers >= PRUNE_COMMON_FROM:
            limit = COMMON_SHARE * papers
            rarer = {s: n for s, n in stems.items() if searcher.doc_freq("text", s) <= limit}
            stems = Counter(rarer) or stems
        return [
            _boosted(tantivy.Query.term_query(self.schema, "text", stem), times)
            for stem, times in stems.items()
        ]

    def _filter_clauses(self, query: Query) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Required phrases (scored), exclusions, authors, categories and dates (not scored)."""
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
        return clauses

    def _text_query(self, text: str, *, prefix: bool = False) -> tantivy.Query | None:
        """`text` in the paper's text: a term, a phrase when it has several tokens, or with
        `prefix` a phrase whose last word is a prefix (None when it has no tokens)."""
        tokens = self.analyzer.analyze(text)
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


def _const(query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.const_score_query(query, 0.0)


def _boosted(query: tantivy.Query, times: int) -> tantivy.Query:
    return query if times == 1 else tantivy.Query.boost_query(query, float(times))


def _keys(searcher: tantivy.Searcher, hits: list[tuple[float, Any]]) -> list[tuple[int, float]]:
    """(paper key, score) of search hits."""
    keys = searcher.fast_field_values("key", [address for _, address in hits])
    return [(int(key), float(score)) for key, (score, _) in zip(keys, hits, strict=True)]
