"""How a newly ingested record combines with what the store already holds."""

from __future__ import annotations

from paperfeed.models import Paper

MERGED_FIELDS = (
    "title",
    "abstract",
    "authors",
    "n_authors",
    "primary_category",
    "categories",
    "updated",
    "doi",
    "journal_ref",
    "comments",
    "license",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


def incoming_wins(stored: Paper, incoming: Paper) -> bool:
    """A record with a known newer (or equal) arXiv version replaces fields of the stored one.

    A record without a version (HF, JSONL, BibTeX) only fills gaps of a record that has one.
    """
    if incoming.version is None:
        return stored.version is None
    return stored.version is None or incoming.version >= stored.version


def merge_papers(stored: Paper, incoming: Paper) -> Paper:
    """The stored paper updated by `incoming`: winning non-empty fields replace, the rest fill gaps.

    ``published`` keeps the earliest date known; ``field_sources`` records the fields that came
    from another source than the stored paper's own. Hugging Face's fields (``hf``) are the
    latest it served; computed keywords are dropped (to be computed again) when the text changes.
    """
    wins = incoming_wins(stored, incoming)
    merged = stored.replace(field_sources=dict(stored.field_sources))
    for name in MERGED_FIELDS:
        new = getattr(incoming, name)
        if _is_empty(new):
            continue
        old = getattr(stored, name)
        if (wins or _is_empty(old)) and new != old:
            setattr(merged, name, new)
            _attribute(merged, name, incoming.source)
    if incoming.published and (stored.published is None or incoming.published < stored.published):
        merged.published = incoming.published
        _attribute(merged, "published", incoming.source)
    if incoming.version is not None and (
        stored.version is None or incoming.version > stored.version
    ):
        merged.version = incoming.version
    if incoming.hf:
        merged.hf = {**stored.hf, **incoming.hf}
    if (merged.title, merged.abstract) != (stored.title, stored.abstract):
        merged.keywords = None
    return merged


def with_sources(paper: Paper) -> Paper:
    """A new paper: every field comes from its own source, so no per-field sources are kept."""
    paper.field_sources = {}
    return paper


def _attribute(paper: Paper, name: str, source: str) -> None:
    if source == paper.source:
        paper.field_sources.pop(name, None)
    else:
        paper.field_sources[name] = source
