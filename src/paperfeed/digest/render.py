"""Digests and confirmation requests as multipart e-mails (plain text + HTML).

The HTML is built for mail clients: tables for layout, inline styles only, no scripts, no
images. Every digest carries its own signed preferences and unsubscribe links, and the
RFC 2369 / RFC 8058 headers that let mail clients offer one-click unsubscribe: providers read
``List-Unsubscribe`` literally, so it is written on one line exactly as given (Python would fold
a long URL into an RFC 2047 encoded word, which they ignore). It holds only the https link: a
``mailto:`` one would need something reading that mailbox, and one-click needs https anyway.

Digests are assembled from the parts (macros) of digest.html and digest.txt. The same papers go
to many subscribers, so each paper is rendered once per format, with a slot for the reason it
was picked; heads and section titles are shared too. Per subscriber only the reasons and the
foot (address, signed links) are new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.policy import default as default_policy
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import markupsafe

from paperfeed import links
from paperfeed.digest.compose import Digest
from paperfeed.digest.tokens import CONFIRM, MANAGE, Clock, Tokens
from paperfeed.models import Paper, Subscriber

TEMPLATES = Path(__file__).parent / "templates"
SUMMARY_CHARS = 280
SLOT = "\x00reason\x00"  # where a subscriber's reason goes in a paper rendered once
MAX_CACHED_PAPERS = 10_000


class UnfoldedHeader(UnstructuredHeader, BaseHeader):
    """A header written on one line exactly as given, never folded nor RFC 2047 encoded, when
    its value is ASCII (URLs are; a line may hold 998 characters); otherwise as usual."""

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        if not value.isascii():
            return super().fold(policy=policy)
        return f"{self.name}: {value}{policy.linesep}"


_HEADERS = HeaderRegistry()
for _name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
    _HEADERS.map_to_type(_name, UnfoldedHeader)
POLICY = default_policy.clone(header_factory=_HEADERS)  # what every message is written with


@dataclass(frozen=True, slots=True)
class Rendered:
    """A digest as text, before it becomes a MIME message."""

    subscriber: Subscriber
    subject: str
    text: str
    html: str
    message_id: str
    unsubscribe_url: str
    paper_ids: list[str]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _Parts:
    """One format of the digest (digest.html or digest.txt): its macros, with the parts many
    digests share rendered once."""

    def __init__(self, template: jinja2.Template, escape: Callable[[str], str]) -> None:
        macros: Any = template.module  # the template's macros, as attributes
        self.head = lru_cache(maxsize=4096)(macros.head)
        self.section = lru_cache(maxsize=16)(macros.section)
        self.foot = macros.foot
        self.escape = lru_cache(maxsize=65536)(escape)  # reasons repeat across subscribers
        self._pick = macros.pick

    def pick(self, shown: dict[str, object]) -> tuple[str, str]:
        """A paper's block, split where the reason goes."""
        before, _, after = str(self._pick(shown, self.escape(SLOT))).partition(SLOT)
        return before, after


class Renderer:
    """Renders e-mails for one deployment (its address, sender and secret key)."""

    def __init__(
        self,
        base_url: str,
        sender: str,
        secret_key: str,
        site_name: str = "paperfeed",
        *,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self.site_name = site_name
        self.tokens = Tokens(secret_key, clock)  # links are stamped and aged by `clock`
        self._key = hashlib.sha256(("message-id:" + secret_key).encode()).digest()
        self.mail_domain = parseaddr(sender)[1].rpartition("@")[2] or self.domain
        env = _environment()
        self._templates = {name: env.get_template(name) for name in ("confirm.html", "confirm.txt")}
        self._html = _Parts(env.get_template("digest.html"), markupsafe.escape)
        self._text = _Parts(env.get_template("digest.txt"), str)
        # paper id -> (paper, HTML before and after the reason, text before and after)
        self._papers: dict[str, tuple[Paper, str, str, str, str]] = {}

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    # -- links -------------------------------------------------------------------------------

    def paper_url(self, paper_id: str) -> str:
        return links.paper_url(self.base_url, paper_id)

    def manage_urls(self, subscriber: Subscriber) -> tuple[str, str]:
        """(preferences URL, unsubscribe URL), both carrying the subscriber's manage token."""
        token = self.tokens.make(MANAGE, subscriber)
        return (
            f"{self.base_url}/preferences?token={token}",
            f"{self.base_url}/unsubscribe?token={token}",
        )

    def confirm_url(self, subscriber: Subscriber) -> str:
        return f"{self.base_url}/subscribe/confirm?token={self.tokens.make(CONFIRM, subscriber)}"

    def message_id(self, subscriber_id: int, date: dt.date) -> str:
        """The same Message-ID every time this digest is (re)sent, so receivers can drop a copy
        delivered twice after a crash (see digests.DigestService.send)."""
        tag = hmac.digest(self._key, f"{subscriber_id}:{date}".encode(), "sha256").hex()[:12]
        return f"<digest.{date.isoformat()}.{subscriber_id}.{tag}@{self.mail_domain}>"

    # -- digests -----------------------------------------------------------------------------

    def render_digest(self, digest: Digest) -> Rendered:
        subscriber = digest.subscriber
        preferences_url, unsubscribe_url = self.manage_urls(subscriber)
        weekly = digest.start != digest.date
        label = _period_label(digest.start, digest.date)
        count = len(digest.picks) + len(digest.trending)
        first = (digest.picks or digest.trending)[0].paper.title
        subject = f"{self.site_name}: {count} paper{'s' if count != 1 else ''} for {label}"
        html = [
            self._html.head(
                subject, _shorten(first, 120), label, self.base_url + "/", self.site_name
            )
        ]
        text = [self._text.head(self.site_name, label)]
        sections = [("Picked for you", digest.picks)]
        sections.append(("Trending this week" if weekly else "Trending today", digest.trending))
        for title, picks in sections:
            if picks:
                html.append(self._html.section(title))
                text.append(self._text.section(title))
            for pick in picks:
                _, html_before, html_after, text_before, text_after = self._paper(pick.paper)
                html += (html_before, self._html.escape(pick.reason), html_after)
                text += (text_before, pick.reason, text_after)
        foot = ("weekly" if weekly else "daily", subscriber.email, self.site_name)
        html.append(self._html.foot(*foot, preferences_url, unsubscribe_url))
        text.append(self._text.foot(*foot, preferences_url, unsubscribe_url))
        return Rendered(
            subscriber=subscriber,
            subject=subject,
            text="".join(text),
            html="".join(html),
            message_id=self.message_id(subscriber.id, digest.date),
            unsubscribe_url=unsubscribe_url,
            paper_ids=digest.paper_ids,
        )

    def _paper(self, paper: Paper) -> tuple[Paper, str, str, str, str]:
        """A paper's blocks in both formats, rendered again only for a new Paper object (the
        next day's papers, with their new upvotes)."""
        parts = self._papers.get(paper.id)
        if parts is None or parts[0] is not paper:
            if len(self._papers) >= MAX_CACHED_PAPERS:
                self._papers.clear()
            authors = ", ".join(paper.authors[:6]) + (" et al." if len(paper.authors) > 6 else "")
            source_url, _ = links.source_links(paper)  # http(s) only, as everywhere
            shown = {
                "title": " ".join(paper.title.split()),
                "authors": authors,
                "summary": _shorten(paper.abstract, SUMMARY_CHARS),
                "upvotes": paper.upvotes,
                "url": self.paper_url(paper.id),
                "source_url": source_url,
                "source_label": "arXiv" if paper.is_arxiv else "Web page",
            }
            parts = self._papers[paper.id] = (
                paper,
                *self._html.pick(shown),
                *self._text.pick(shown),
            )
        return parts

    def digest_message(
        self, rendered: Rendered, *, date: dt.datetime | None = None
    ) -> EmailMessage:
        message = self._message(
            rendered.subscriber.email, rendered.subject, rendered.text, rendered.html
        )
        message["Message-ID"] = rendered.message_id
        message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
        message["List-Id"] = f"{self.site_name} digest <digest.{self.mail_domain}>"
        message["List-Unsubscribe"] = f"<{rendered.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        return message

    # -- confirmation ------------------------------------------------------------------------

    def confirmation_message(
        self, subscriber: Subscriber, *, already: bool = False, new_link: bool = False
    ) -> EmailMessage:
        """The double opt-in request, or a link to manage the subscription: one that is
        `already` active, or (`new_link`) in place of the links just invalidated."""
        preferences_url, _ = self.manage_urls(subscriber)
        if new_link:
            subject = f"Your new {self.site_name} digest link"
        elif already:
            subject = f"Your {self.site_name} digest subscription"
        else:
            subject = f"Confirm your {self.site_name} digest subscription"
        manage_only = already or new_link
        context = {
            "site_name": self.site_name,
            "subject": subject,
            "email": subscriber.email,
            "already": already,
            "new_link": new_link,
            "confirm_url": None if manage_only else self.confirm_url(subscriber),
            "preferences_url": preferences_url,
        }
        message = self._message(
            subscriber.email,
            subject,
            self._templates["confirm.txt"].render(context),
            self._templates["confirm.html"].render(context),
        )
        message["Message-ID"] = (
            f"<confirm.{subscriber.id}.{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}@{self.mail_domain}>"
        )
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Auto-Submitted"] = "auto-generated"
        return message

    def _message(self, to: str, subject: str, text: str, html: str) -> EmailMessage:
        message = EmailMessage(policy=POLICY)
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


@lru_cache(maxsize=64)
def _period_label(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{end:%A, %B} {end.day}, {end.year}"
    return f"the week of {start:%B} {start.day} – {end:%B} {end.day}, {end.year}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"
