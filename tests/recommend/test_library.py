"""Library files: each export format read, broken entries reported with line and reason, and
entries matched to store papers by arXiv id, DOI and title."""

from __future__ import annotations

import io
import random
import tracemalloc
from pathlib import Path

import pytest

from paperfeed.core import PaperFeed
from paperfeed.recommend import detect_format, match_library, parse_library
from tests.support.factories import make_paper

DATA = Path(__file__).parent / "data"


def _read(name: str):  # type: ignore[no-untyped-def]
    return parse_library((DATA / name).read_bytes(), name)


def test_zotero_bibtex_with_braces_accents_and_broken_entries() -> None:
    library = _read("zotero.bib")

    assert library.format == "bibtex"
    attention, etude, titled = library.entries
    assert (attention.arxiv_id, attention.doi) == ("1706.03762", "10.48550/arXiv.1706.03762")
    assert attention.title == "Attention Is All You Need"
    assert attention.authors == ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar")
    assert attention.abstract and attention.abstract.startswith("The dominant sequence")
    assert etude.title == "Étude des réseaux: BERT et la syntaxe"
    assert etude.authors == ("José Müller", "Renée Schön") and etude.year == 2021
    assert etude.doi == "10.18653/v1/2021.acl-long.1" and etude.arxiv_id is None
    assert titled.title == "Binary Networks with Periodic Activations" and titled.line == 35
    assert [(e.line, e.reason) for e in library.errors] == [
        (25, "malformed BibTeX entry (unbalanced braces or quotes?)"),
        (30, "no arXiv id, DOI or title"),
    ]


def test_ris_records_and_a_record_left_open() -> None:
    library = _read("zotero.ris")

    assert library.format == "ris"
    attention, etude = library.entries
    assert attention.arxiv_id == "1706.03762" and attention.line == 1
    assert attention.authors == ("Ashish Vaswani", "Noam Shazeer") and attention.year == 2017
    assert etude.doi == "10.18653/v1/2021.acl-long.1" and etude.title.startswith("Étude")
    assert [(e.line, e.reason) for e in library.errors] == [
        (18, "record not closed by an 'ER  -' line"),
        (21, "no arXiv id, DOI or title"),
    ]


def test_csl_json_items_with_their_lines() -> None:
    library = _read("zotero.json")

    assert library.format == "csl-json"
    attention, etude = library.entries
    assert attention.arxiv_id == "1706.03762" and attention.line == 2
    assert etude.doi == "10.18653/V1/2021.ACL-LONG.1" and etude.line == 12
    assert etude.authors == ("José Müller", "The BERT Team") and etude.year == 2021
    assert [(e.line, e.reason) for e in library.errors] == [
        (20, "not a CSL-JSON item (expected an object)"),
        (21, "no arXiv id, DOI or title"),
    ]
    broken = parse_library(b'[{"title": "A fine paper title"},\n {"title": oops}]')
    assert [e.title for e in broken.entries] == ["A fine paper title"]
    assert [(e.line, e.reason) for e in broken.errors] == [(2, "invalid JSON: Expecting value")]


def test_one_id_doi_or_title_a_line() -> None:
    library = _read("reading.txt")

    assert library.format == "lines"
    assert [(e.line, e.arxiv_id, e.doi, e.title) for e in library.entries] == [
        (2, "2401.00001", None, None),
        (3, "1706.03762", None, None),
        (4, None, "10.18653/v1/2021.acl-long.1", None),
        (5, None, None, "Binary networks with periodic activations!"),
        (7, "hep-th/9901001", None, None),
    ]
    assert [(e.line, e.reason) for e in library.errors] == [
        (6, "not an arXiv id, DOI or title: '???'")
    ]


def test_format_from_content_before_the_extension() -> None:
    assert detect_format("\n\n@article{x, title={T}}", "refs.txt") == "bibtex"
    assert detect_format("TY  - JOUR\nER  - \n", None) == "ris"
    assert detect_format('  [{"title": "x"}]', "export.bib") == "csl-json"
    assert detect_format("2401.00001\n", "mine.ris") == "lines"
    assert detect_format("", "empty.bib") == "bibtex"
    assert parse_library(b"\xff\xfe garbage \x00 bytes").format == "lines"  # never raises


@pytest.mark.slow
def test_a_ten_megabyte_bibtex_file_is_read_in_bounded_memory() -> None:
    rng = random.Random(7)
    entry = (
        "@article{{key{n},\n  title = {{A study of {topic} number {n}}},\n"
        '  author = {{Smith, John and M{{\\"u}}ller, Anna}},\n  eprint = {{2401.{n:05d}}},\n'
        "  abstract = {{{abstract}}},\n}}\n\n"
    )
    words = ["vision", "language", "model", "speech", "parsing", "graph", "diffusion", "token"]
    out = io.StringIO()
    n = 0
    while out.tell() < 10 * 1024 * 1024:
        abstract = " ".join(rng.choices(words, k=150))
        out.write(entry.format(n=n % 100_000, topic=rng.choice(words), abstract=abstract))
        n += 1
    data = out.getvalue().encode()
    tracemalloc.start()
    library = parse_library(data, "big.bib")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(library.entries) == n and not library.errors
    assert library.entries[-1].authors == ("John Smith", "Anna Müller")
    assert peak < 4 * len(data)  # the text, its entries and one entry's parse at a time


def test_entries_matched_by_arxiv_id_doi_then_title(feed: PaperFeed) -> None:
    feed.store.papers.upsert_papers(
        [
            make_paper("1706.03762", title="Attention Is All You Need"),
            make_paper("2105.00001", title="Some other paper", doi="10.18653/v1/2021.acl-long.1"),
            make_paper("2401.00001", title="Binary networks with periodic activations"),
            make_paper("2402.00002", title="Étude des Réseaux — BERT et la Syntaxe"),
        ]
    )
    feed.catch_up_keyword_index()
    bib = _read("zotero.bib")
    lines = _read("reading.txt")
    json_items = _read("zotero.json")

    bib_match = match_library(feed.store, bib.entries)
    line_match = match_library(feed.store, lines.entries)
    json_match = match_library(feed.store, json_items.entries)

    # the DOI wins over the (differently punctuated) title; the title is exact but for case
    assert bib_match.paper_ids == ["1706.03762", "2105.00001", "2401.00001"]
    assert line_match.paper_ids == ["2401.00001", "1706.03762", "2105.00001"]
    assert [e.arxiv_id for e in line_match.unmatched] == ["hep-th/9901001"]
    assert json_match.paper_ids == ["1706.03762", "2105.00001"]  # DOI case ignored
    by_title = match_library(
        feed.store, parse_library(b"Etude des reseaux: BERT et la syntaxe\n").entries
    )
    assert by_title.paper_ids == ["2402.00002"]  # letters and digits compared, accents dropped
