"""Addresses of paperfeed's own pages, built in one place for pages, feeds, the API and e-mails,
and the one allow-list every outside link (a paper's abstract or PDF link) passes on its way out."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from paperfeed.arxiv_ids import arxiv_links
from paperfeed.models import Paper

SAFE_SCHEMES = frozenset({"http", "https"})
# Whitespace, control characters and what could end an attribute, a markdown autolink or a tag.
_UNSAFE_CHARS = re.compile(r'[\x00-\x20\x7f-\x9f<>"`\\]')


def paper_path(paper_id: str) -> str:
    """``/papers/2401.01234``; old-style ids keep their slash (``/papers/hep-th/9901001``)."""
    return "/papers/" + quote(paper_id, safe=":/")


def paper_url(base_url: str, paper_id: str) -> str:
    """The paper page's full address under the deployment's public `base_url`."""
    return base_url.rstrip("/") + paper_path(paper_id)


def safe_url(url: str | None) -> str | None:
    """`url` when it is an http(s) link to a host, else None: no ``javascript:``, ``data:`` or
    ``vbscript:`` from imported data reaches a page, a feed, the API, markdown or an e-mail."""
    text = (url or "").strip()
    if not text or _UNSAFE_CHARS.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    return text if parts.scheme.lower() in SAFE_SCHEMES and parts.hostname else None


def source_links(paper: Paper) -> tuple[str | None, str | None]:
    """(abstract page, PDF) addresses that are safe to show: the record's own when they pass
    `safe_url`, else, for an arXiv paper, those derived from its id."""
    abs_url, pdf_url = safe_url(paper.abs_url), safe_url(paper.pdf_url)
    if paper.is_arxiv and not (abs_url and pdf_url):
        arxiv_abs, arxiv_pdf = arxiv_links(paper.id)
        return abs_url or arxiv_abs, pdf_url or arxiv_pdf
    return abs_url, pdf_url
