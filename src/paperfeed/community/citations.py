"""A list of papers as a reference manager's file: BibTeX (bibtexparser writes it), RIS (rispy)
and CSL-JSON. arXiv papers carry their id where each format's readers look for it (BibTeX
``eprint`` + ``archivePrefix``, the abstract page's URL, CSL's ``number``), so that importing an
export finds the same papers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import bibtexparser
import orjson
import rispy
from bibtexparser.middlewares import LatexEncodingMiddleware
from bibtexparser.model import Entry, Field

from paperfeed import links
from paperfeed.errors import Invalid
from paperfeed.models import Paper

BIBTEX, RIS, CSL_JSON = "bibtex", "ris", "csl-json"


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    extension: str
    media_type: str


class _RisWriter(rispy.RisWriter):
    """RIS records without rispy's numbered header line before each ("1.")."""

    def set_header(self, count: int) -> str:
        return ""


FORMATS = {
    BIBTEX: ExportFormat(BIBTEX, "bib", "application/x-bibtex; charset=utf-8"),
    RIS: ExportFormat(RIS, "ris", "application/x-research-info-systems; charset=utf-8"),
    CSL_JSON: ExportFormat(CSL_JSON, "json", "application/vnd.citationstyles.csl+json"),
}


def export_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise Invalid(f"unknown export format {name!r}: use {', '.join(FORMATS)}") from None


def write(papers: Sequence[Paper], name: str) -> bytes:
    """`papers` in the format `name` (one of FORMATS)."""
    writers = {BIBTEX: to_bibtex, RIS: to_ris, CSL_JSON: to_csl_json}
    export_format(name)
    return writers[name](papers)


def citation_keys(papers: Sequence[Paper]) -> list[str]:
    """One key per paper, unique in the list: first author's family name, year, first title
    word (``lovelace2024sparse``), a letter added to repeats."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for paper in papers:
        family = _ascii_word(paper.authors[0].split()[-1]) if paper.authors else "anon"
        year = str(paper.published.year) if paper.published else ""
        words = [_ascii_word(w) for w in paper.title.split()]
        first = next((w for w in words if len(w) > 3), words[0] if words else "")
        key = f"{family}{year}{first}" or "paper"
        count = seen.get(key, 0)
        seen[key] = count + 1
        keys.append(key if count == 0 else f"{key}{chr(ord('a') + count % 26)}{count // 26 or ''}")
    return keys


def to_bibtex(papers: Sequence[Paper]) -> bytes:
    library = bibtexparser.Library()
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        fields = {
            "title": paper.title,
            "author": " and ".join(paper.authors),
            "year": str(paper.published.year) if paper.published else None,
            "abstract": paper.abstract,
            "doi": paper.doi,
            "journal": paper.journal_ref,
            "url": _page(paper),
        }
        if paper.is_arxiv:
            fields.update(
                eprint=paper.id,
                archiveprefix="arXiv",
                primaryclass=paper.primary_category or None,
            )
        kind = "article" if paper.journal_ref else "misc"
        library.add(Entry(kind, key, [Field(k, v) for k, v in fields.items() if v]))
    encoded = bibtexparser.write_string(
        library, prepend_middleware=[LatexEncodingMiddleware(keep_math=True, enclose_urls=False)]
    )
    return encoded.encode("utf-8")


def to_ris(papers: Sequence[Paper]) -> bytes:
    records: list[dict[str, Any]] = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        record: dict[str, Any] = {
            "type_of_reference": "JOUR" if paper.journal_ref else "GEN",
            "id": key,
            "title": _one_line(paper.title),
            "authors": [_family_first(_one_line(name)) for name in paper.authors],
            "abstract": _one_line(paper.abstract),
            "urls": [url for url in (_page(paper),) if url],
        }
        if paper.published:
            record["year"] = str(paper.published.year)
            record["date"] = paper.published.strftime("%Y/%m/%d")
        if paper.doi:
            record["doi"] = paper.doi
        if paper.journal_ref:
            record["journal_name"] = _one_line(paper.journal_ref)
        if paper.is_arxiv:
            record["note"] = f"arXiv:{paper.id}"
            record["publisher"] = "arXiv"
        records.append({k: v for k, v in record.items() if v})
    return rispy.dumps(records, implementation=_RisWriter).encode("utf-8")


def to_csl_json(papers: Sequence[Paper]) -> bytes:
    items = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        item: dict[str, Any] = {
            "id": key,
            "type": "article-journal" if paper.journal_ref else "article",
            "title": paper.title,
            "author": [_csl_name(name) for name in paper.authors],
            "abstract": paper.abstract,
            "URL": _page(paper),
            "DOI": paper.doi,
            "container-title": paper.journal_ref,
        }
        if paper.published:
            date = paper.published
            item["issued"] = {"date-parts": [[date.year, date.month, date.day]]}
        if paper.is_arxiv:
            item.update(number=f"arXiv:{paper.id}", publisher="arXiv")
        items.append({k: v for k, v in item.items() if v})
    return orjson.dumps(items, option=orjson.OPT_INDENT_2)


def _page(paper: Paper) -> str | None:
    """The paper's own page (arXiv abstract page, or the http(s) page of its record)."""
    abs_url, _ = links.source_links(paper)
    return abs_url


def _one_line(text: str) -> str:
    """RIS values end at the line's end."""
    return " ".join(text.split())


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _family_first(name: str) -> str:
    """ "Ada Lovelace" -> "Lovelace, Ada" (RIS writes family names first)."""
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def _csl_name(name: str) -> dict[str, str]:
    parts = name.split()
    if len(parts) < 2:
        return {"literal": name}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}
