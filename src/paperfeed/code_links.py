"""A paper's code repository and project page, found in its abstract and arXiv comments.

Authors write links every which way: ``https://github.com/a/b.``, ``github.com/a/b/tree/main``,
``\\url{https://gitlab.com/g/sub/p.git}``, ``Project page: https://x.github.io/y/``. Repository
links become one normal form, ``https://<host>/<owner>/<repo>`` (GitLab keeps its subgroups);
any other http(s) link, but for arXiv, DOI and licence pages, may be the project page. Every link
passes the ground's allow-list (links.safe_url), so nothing but http(s) comes out of here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from paperfeed.links import safe_url
from paperfeed.models import Paper

CODE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com"})
# Links that are never a paper's project page: the paper itself, citations, licences.
NOT_PROJECT_HOSTS = frozenset(
    {"arxiv.org", "export.arxiv.org", "doi.org", "dx.doi.org", "creativecommons.org"}
)
# GitLab repository paths end where its own pages begin (``/-/tree/main``, or the old
# ``/tree/main``); so do GitHub's.
_PAGE_SEGMENTS = frozenset(
    {"-", "tree", "blob", "raw", "issues", "wikis", "wiki", "commits", "releases", "pulls"}
)
_URL_CHARS = r"[^\s<>\"'{}|^`\[\]]"
# Case-sensitive (4x faster than IGNORECASE): links are written in lower case but for a
# capital H. A bare host must not continue a word or an address (checked in links_in). Every
# alternative starts with a plain character, so the scan skips the positions no link starts at
# (3x faster on an abstract than ``[Hh]ttps?://|...``, the same matches).
_LINK = re.compile(
    rf"(?:Https?://|https?://|www\.|{'|'.join(re.escape(f'{h}/') for h in sorted(CODE_HOSTS))})"
    rf"{_URL_CHARS}+"
)
_GLUED = frozenset("_./@:-")  # before "www." or "github.com/": part of something else
_BARE_HOSTS = tuple(f"{host}/" for host in CODE_HOSTS)  # "github.com/a/b", no scheme
_MAY_LINK = ("://", "www.", ".com/", ".org/")  # in every link found (the code hosts' too)
_LATEX_ESCAPE = re.compile(r"\\([_%&#~$])")
_TRAILING = ".,;:!?*'\"”’"
_PAIRS = {")": "(", "]": "["}


@dataclass(frozen=True, slots=True)
class CodeLinks:
    code_url: str | None = None  # the normalised repository
    project_url: str | None = None


def add_code_links(paper: Paper) -> Paper:
    """`paper` with the repository and project page its abstract and comments link to, where
    the record gave none (Hugging Face gives its own)."""
    if paper.code_url is None or paper.project_url is None:
        found = find_code_links([paper.abstract, paper.comments])
        paper.code_url = paper.code_url or found.code_url
        paper.project_url = paper.project_url or found.project_url
    return paper


def find_code_links(texts: Iterable[str | None]) -> CodeLinks:
    """The first repository and the first project page linked in `texts`, in their order."""
    code_url = project_url = None
    for text in texts:
        for link in links_in(text or ""):
            repository = repository_url(link)
            if repository is not None:
                code_url = code_url or repository
            elif project_url is None and _may_be_project(link):
                project_url = link
            if code_url and project_url:
                return CodeLinks(code_url, project_url)
    return CodeLinks(code_url, project_url)


def links_in(text: str) -> list[str]:
    """The http(s) links written in `text`, trailing punctuation and LaTeX escapes removed;
    ``www.`` and bare code-host links get ``https://``."""
    if not any(mark in text for mark in _MAY_LINK):  # most abstracts: no regex at all
        return []
    if "\\" in text:
        text = _LATEX_ESCAPE.sub(r"\1", text)
    found = []
    for match in _LINK.finditer(text):
        link = _trim(match.group(0))
        if not link.lower().startswith(("http://", "https://")):
            before = text[match.start() - 1] if match.start() else " "
            if before.isalnum() or before in _GLUED:
                continue
            link = "https://" + link
        checked = safe_url(link)
        if checked is not None:
            found.append(checked)
    return found


def repository_url(url: str | None) -> str | None:
    """``https://<code host>/<owner>/<repo>`` for a link into a repository (``.git``, branches,
    files and a trailing slash dropped; an owner alone stays an owner), else None."""
    if url and url.lower().startswith(_BARE_HOSTS):
        url = "https://" + url
    checked = safe_url(url)
    if checked is None:
        return None
    parts = urlsplit(checked)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in CODE_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    for index, segment in enumerate(segments):
        if segment.lower() in _PAGE_SEGMENTS and index >= 2:
            segments = segments[:index]
            break
    if host != "gitlab.com":
        segments = segments[:2]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    segments = [s for s in segments if s]
    if not segments or any(not re.fullmatch(r"[\w.~-]+", s) for s in segments):
        return None
    return safe_url(f"https://{host}/" + "/".join(segments))


def project_page_url(url: str | None) -> str | None:
    """`url` when it is a safe http(s) link, without trailing punctuation."""
    return safe_url(_trim(url.strip())) if url else None


def _may_be_project(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return host not in NOT_PROJECT_HOSTS and host not in CODE_HOSTS


def _trim(link: str) -> str:
    """`link` without the punctuation that ends the sentence around it, nor an unbalanced
    closing bracket (``(see https://x.org/a)`` -> ``https://x.org/a``)."""
    while link:
        last = link[-1]
        if last in _TRAILING or (last in _PAIRS and link.count(last) > link.count(_PAIRS[last])):
            link = link[:-1]
        else:
            break
    return link
