"""The query language: what each piece of syntax becomes, and messages for what is dropped."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.query import MAX_QUERY_CHARS, MAX_TERMS, parse_query, snippet


def test_words_phrases_exclusions_and_prefixes() -> None:
    q = parse_query('graph "neural network" -survey -"large language" +pruning transform*')
    assert q.terms == ["graph"]
    assert q.required == ["neural network", "pruning"]
    assert q.excluded == ["survey", "large language"]
    assert q.prefixes == ["transform"]
    assert q.semantic_text == "graph neural network pruning transform"
    assert q.message is None


def test_stopwords_dropped_from_terms_unless_nothing_else() -> None:
    assert parse_query("the attention of transformers").terms == ["attention", "transformers"]
    assert parse_query("the who").terms == ["the", "who"]
    assert parse_query('"the art of"').required == ["the art of"]


def test_fields() -> None:
    q = parse_query(
        'author:hinton author:"Yann LeCun" cat:cs.CL cat:math after:2020 before:2021-06'
    )
    assert q.authors == ["hinton", "Yann LeCun"]
    assert q.categories == ["cs.CL", "math"]
    assert q.date_from == dt.date(2020, 1, 1)
    assert q.date_to == dt.date(2021, 5, 31)
    assert not q.has_text and q.has_filters


def test_year_and_form_filters_intersect() -> None:
    q = parse_query(
        "year:2022 diffusion",
        category="cs.CV",
        author="Ho",
        date_from=dt.date(2022, 3, 1),
        date_to=dt.date(2023, 1, 1),
    )
    assert (q.date_from, q.date_to) == (dt.date(2022, 3, 1), dt.date(2022, 12, 31))
    assert q.categories == ["cs.CV"] and q.authors == ["Ho"] and q.terms == ["diffusion"]


@pytest.mark.parametrize("value", ["2023-13", "20x1", "2023-02-30", "yesterday", "0000"])
def test_bad_dates_give_messages(value: str) -> None:
    q = parse_query(f"before:{value} transformers")
    assert q.date_to is None and q.terms == ["transformers"]
    assert value in (q.message or "")


def test_empty_date_range_is_explained() -> None:
    q = parse_query("x", date_from=dt.date(2024, 1, 1), date_to=dt.date(2023, 1, 1))
    assert q.empty_range and "empty" in (q.message or "")


def test_unbalanced_quote_is_closed_with_a_message() -> None:
    q = parse_query('"graph neural')
    assert q.required == ["graph neural"]
    assert "quote" in (q.message or "")


def test_operators_and_symbols_are_dropped_with_messages() -> None:
    q = parse_query("cats AND dogs OR birds NOT fish * ^ ( ) : 🤖")
    assert q.terms == ["cats", "dogs", "birds"]
    assert q.excluded == ["fish"]
    assert "AND/OR" in (q.message or "") and "🤖" in (q.message or "")


def test_latex_and_unknown_fields_become_text() -> None:
    q = parse_query(r"$a<b$ \alpha title:foo")
    assert q.terms == ["$a<b$", r"\alpha", "title:foo"]


def test_huge_query_is_truncated_with_message() -> None:
    q = parse_query("word " * 5000)
    assert "characters" in (q.message or "") and len(" ".join(q.terms)) <= MAX_QUERY_CHARS
    many = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert len(many.terms) == MAX_TERMS and "words" in (many.message or "")


def test_control_characters_and_empty_input() -> None:
    q = parse_query("graph\x00neural\x1b[31m \u200b")
    assert q.terms == ["graph", "neural", "[31m"]
    assert not parse_query(None).has_text and parse_query("").message is None


def test_bad_category_and_sort_and_paging_are_clamped() -> None:
    q = parse_query("cat:cs.CL;drop", sort="hot", limit=10_000, offset=-5)
    assert q.categories == [] and "category" in (q.message or "")
    assert q.sort == "relevance" and "sort" in (q.message or "")
    assert q.limit == 100 and q.offset == 0


def test_snippet_centres_on_a_query_word() -> None:
    text = "Intro words. " * 40 + "We propose a periodic activation for binary networks."
    piece = snippet(text, parse_query("periodic"), width=80)
    assert "periodic" in piece and piece.startswith("…") and len(piece) <= 82


def test_nul_characters_never_reach_the_store(feed) -> None:
    """PostgreSQL refuses NUL in text: a query holding one is answered, not a server error."""
    from paperfeed.query import parse_query

    for text in ("graph year:\x00", "\x00", "Attention\x00 is all you need"):
        assert "\x00" not in parse_query(text).raw
        feed.search(parse_query(text))
