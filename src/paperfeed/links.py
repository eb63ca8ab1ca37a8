"""Addresses of paperfeed's own pages, built in one place for pages, feeds, the API and e-mails."""

from __future__ import annotations

from urllib.parse import quote, urlencode


def paper_path(paper_id: str) -> str:
    """``/papers/2401.01234``; old-style ids keep their slash (``/papers/hep-th/9901001``)."""
    return "/papers/" + quote(paper_id, safe=":/")


def paper_url(base_url: str, paper_id: str) -> str:
    """The paper page's full address under the deployment's public `base_url`."""
    return base_url.rstrip("/") + paper_path(paper_id)


def author_path(name: str) -> str:
    """A search for the papers of the author `name`."""
    return "/search?" + urlencode({"q": f'author:"{name}"'})
