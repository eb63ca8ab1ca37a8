"""Addresses of paperfeed's own pages, built in one place for pages, feeds, the API and e-mails,
and the one allow-list every outside link (a paper's abstract or PDF link) passes on its way out."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from paperfeed.arxiv_ids import arxiv_links
from paperfeed.models import Paper

SAFE_SCHEMES = frozenset({"http", "https"})
# Whitespace, control characters and what could end an attribute, a markdown autolink or a tag.
_UNSAFE_CHARS = re.compile(r'[\x00-\x20\x7f-\x9f<>"`\\]')


def paper_path(paper_id: str) -> str:
    """``/papers/2401.01234``; old-style ids keep their slash (``/papers/hep-th/9901001``)."""
    return "/papers/" + quote(paper_id, safe=":/")


def author_path(name: str) -> str:
    """``/authors/Yann%20LeCun``: an author's page, by the name as the papers spell it."""
    return "/authors/" + quote(name.strip(), safe="")


def keyword_search_path(keyword: str) -> str:
    """``/search?q=%22state+space+model%22``: a search for papers with `keyword`, as a phrase."""
    return "/search?q=" + quote_plus('"' + keyword.replace('"', " ").strip() + '"')


def daily_feed_path(param: tuple[str, str] | None = None) -> str:
    """``/feeds/daily.atom`` (of the latest day), or of one period: ``?week=2024-W02``."""
    return "/feeds/daily.atom" + (f"?{urlencode([param])}" if param else "")


def search_feed_path(query: str) -> str:
    """``/feeds/search.atom?q=...``: new papers matching a search, to follow a topic."""
    return "/feeds/search.atom?" + urlencode({"q": query})


def category_feed_path(category: str) -> str:
    """``/feeds/category/cs.CL.atom``: the newest papers of a category (or an archive: cs)."""
    return f"/feeds/category/{quote(category.strip(), safe='')}.atom"


def author_feed_path(name: str) -> str:
    """``/feeds/author/Yann%20LeCun.atom``: the newest papers of an author."""
    return f"/feeds/author/{quote(name.strip(), safe='')}.atom"


def atom_id(path: str) -> str:
    """A permanent Atom id for the feed or entry at `path` (a site path, or a paper id), the
    same whatever address the site is served under (RFC 4287 4.2.6)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "paperfeed:" + path))


def paper_atom_id(paper: Paper) -> str:
    """An arXiv paper's id is its arXiv abstract address (without version); other papers get
    a name-based UUID of their own id."""
    return arxiv_links(paper.id)[0] if paper.is_arxiv else atom_id(paper.id)


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
