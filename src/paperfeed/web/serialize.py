"""Papers and feed items in the JSON shapes of the Hugging Face Hub API (and as markdown).

Field names follow real ``/api/daily_papers`` and ``/api/papers/{id}`` responses, so the
``huggingface_hub`` client parses them unchanged; fields we hold no data for are left out.
What Hugging Face served for an imported paper or daily item (its ``hf`` fields: comments,
thumbnail, organization, the authors' and submitter's accounts...) is served back as it was;
``githubRepo`` and ``projectPage`` are the paper's code links, ``ai_keywords`` its keywords.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from typing import Any

from paperfeed.links import safe_url, source_links
from paperfeed.models import FeedItem, Paper, Submission

JsonObject = dict[str, Any]


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """The Hub's timestamp form: ``2026-07-24T00:00:00.000Z`` (UTC, milliseconds)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def object_id(*parts: object) -> str:
    """A stable 24-hex-digit id (the Hub's ``_id`` form) derived from `parts`."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def user_json(name: str, hub: JsonObject | None = None) -> JsonObject:
    """A submitter as the Hub's user object (``user`` is what the client reads as username):
    the one Hugging Face served, if any, with ``user`` and ``name`` added where it left them
    out; else the local account's name (no avatar: ``avatarUrl`` is left out, never "")."""
    local = {
        "_id": object_id("user", name),
        "fullname": name,
        "name": name,
        "user": name,
        "type": "user",
        "isPro": False,
    }
    return {**local, **hub} if hub else local


def _authors_json(paper: Paper) -> list[JsonObject]:
    """The authors, with their Hub accounts and claim status where Hugging Face gave them."""
    stem = object_id(paper.id)[:20]  # author i of the paper gets stem + i in 4 hex digits
    hub = paper.hf.get("authors")
    if not isinstance(hub, list) or len(hub) != len(paper.authors):
        hub = [{}] * len(paper.authors)
    return [
        {"_id": f"{stem}{i:04x}", "hidden": False, **(served if isinstance(served, dict) else {})}
        | {"name": name}
        for i, (name, served) in enumerate(zip(paper.authors, hub, strict=True))
    ]


def paper_json(paper: Paper, submission: Submission | None = None) -> JsonObject:
    """The flat paper object of ``/api/papers/{id}`` (also nested as ``paper`` in daily items)."""
    data: JsonObject = {
        "id": paper.id,
        "authors": _authors_json(paper),
        "publishedAt": iso(paper.published),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
    }
    if submission is not None:
        data["submittedOnDailyAt"] = iso(submission.submitted_at)
        if submission.submitter:
            hub = submission.hf.get("submittedOnDailyBy")
            data["submittedOnDailyBy"] = user_json(submission.submitter, hub)
    abs_url, pdf_url = source_links(paper)
    optional = {
        "updatedAt": iso(paper.updated),
        "categories": paper.categories or None,
        "doi": paper.doi,
        "journalRef": paper.journal_ref,
        "arxivComments": paper.comments,  # "comments" would clash with the client field
        "arxivUrl": abs_url,
        "pdfUrl": pdf_url,
        "githubRepo": safe_url(paper.code_url),
        "projectPage": safe_url(paper.project_url),
        "ai_keywords": paper.shown_keywords or None,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data.update({k: v for k, v in paper.hf.items() if k not in data})
    return data


def daily_item_json(paper: Paper, submission: Submission | None = None) -> JsonObject:
    """One element of ``/api/daily_papers`` and ``/api/papers/search`` lists.

    The top-level ``publishedAt`` is the time of the submission to the daily feed (the Hub sent
    that in 2024 and the client reads it as ``submitted_at``), or for an imported one the time
    Hugging Face gave; the paper's own publication time is ``paper.publishedAt``. Without a
    submission it falls back to the latter.
    """
    published = (submission.listed_at or submission.submitted_at) if submission else paper.published
    item: JsonObject = {
        "paper": paper_json(paper, submission),
        "publishedAt": iso(published),
        "title": paper.title,
        "summary": paper.abstract,
        "numComments": 0,
        "isAuthorParticipating": False,
    }
    if submission is None:
        return item
    item.update({k: v for k, v in submission.hf.items() if k not in _SUBMITTERS})
    if submission.submitter:
        item["submittedBy"] = user_json(submission.submitter, submission.hf.get("submittedBy"))
    return item


_SUBMITTERS = ("submittedBy", "submittedOnDailyBy")  # Hub accounts, served by user_json


def feed_item_json(item: FeedItem) -> JsonObject:
    return daily_item_json(item.paper, item.submission)


# Backslashes and brackets: escaped, no link (``[x](javascript:...)``) can be made of the text.
_MARKDOWN_LINK_CHARS = re.compile(r"([\\\[\]])")


def markdown_text(text: str) -> str:
    """Imported text made inert in markdown: ``&``, ``<`` and ``>`` escaped (``<script>`` shows
    as text, it never becomes markup in a renderer) and link brackets backslash-escaped."""
    return _MARKDOWN_LINK_CHARS.sub(r"\\\1", html.escape(text, quote=False))


def paper_markdown(paper: Paper, page_url: str, submission: Submission | None = None) -> str:
    """The paper page as markdown (``HfApi.read_paper``): title, authors, abstract, links.
    Text from the record goes through `markdown_text`; links through the URL allow-list."""
    lines = [f"# {markdown_text(paper.title)}", ""]
    if paper.authors:
        lines += [f"**Authors:** {markdown_text(', '.join(paper.authors))}", ""]
    facts = []
    if paper.published:
        facts.append(f"**Published:** {paper.published.date().isoformat()}")
    if submission is not None:
        by = f" by {markdown_text(submission.submitter)}" if submission.submitter else ""
        facts.append(f"**Submitted:** {submission.day.isoformat()}{by}")
    facts.append(f"**Upvotes:** {paper.upvotes}")
    abstract = markdown_text(paper.abstract) if paper.abstract else "(no abstract)"
    lines += [" · ".join(facts), "", "## Abstract", "", abstract, ""]
    abs_url, pdf_url = source_links(paper)
    lines += ["## Links", "", f"- Paper page: {page_url}"]
    if abs_url:
        lines.append(f"- Abstract: {abs_url}")
    if pdf_url:
        lines.append(f"- PDF: {pdf_url}")
    if paper.doi:
        lines.append(f"- DOI: https://doi.org/{markdown_text(paper.doi)}")
    return "\n".join(lines) + "\n"
