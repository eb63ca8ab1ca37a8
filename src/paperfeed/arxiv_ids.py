"""arXiv identifiers: parsing ids, versions and arxiv.org links into canonical ids."""

from __future__ import annotations

import re

from paperfeed.errors import InvalidRecord

# New-style ids (0704.0001, 2401.01234), old-style (hep-th/9901001, math.GT/0309136), + version.
_ARXIV_ID = re.compile(
    r"^(?:arxiv:)?(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?$",
    re.IGNORECASE,
)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$", re.I)


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split ``2401.01234v2`` / ``arXiv:2401.01234`` / an abs or pdf URL into (id, version)."""
    text = raw.strip()
    url = _ARXIV_URL.search(text)
    if url:
        text = url.group("rest")
    match = _ARXIV_ID.match(text)
    if not match:
        raise InvalidRecord(f"not an arXiv id: {raw!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def canonical_id(raw: str) -> str:
    """``2401.01234v2`` / ``arXiv:2401.01234`` / an arxiv.org link -> ``2401.01234``; other ids
    (``local:...``) unchanged."""
    try:
        return parse_arxiv_id(raw)[0]
    except InvalidRecord:
        return raw


def arxiv_links(arxiv_id: str, version: int | None = None) -> tuple[str, str]:
    suffix = f"v{version}" if version else ""
    return f"https://arxiv.org/abs/{arxiv_id}{suffix}", f"https://arxiv.org/pdf/{arxiv_id}{suffix}"
