"""A page rendered once for every reader, with the reader's own bits filled in per request.

A *shared render* (asked for by the page cache through the request scope) renders a page as
nobody in particular: ``current_login`` answers None, the CSRF token and the signed-in user's
name are placeholders, and every vote button is written twice, as "not voted" and as "voted",
between markers. `SharedPage.parse` cuts such a body into pieces once; `SharedPage.fill` then
builds one reader's page from them (their token, their name, their votes) with a few joins,
no template and no query but the reader's votes on that page.

The placeholders carry a random nonce per render, so text in a paper's title can never pose
as one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from starlette.types import Scope

SCOPE_KEY = "paperfeed.shared_render"


class SharedCsrf(str):
    """The CSRF placeholder a shared render writes where the reader's token goes; templates
    also ask it for the markers around vote buttons (``csrf is shared_render``)."""

    nonce: str

    def __new__(cls, nonce: str) -> SharedCsrf:
        placeholder = super().__new__(cls, f"pf-{nonce}-csrf")
        placeholder.nonce = nonce
        return placeholder

    def vote_start(self, paper_id: str) -> Markup:
        return Markup(f"pf-{self.nonce}-vote-{paper_id.encode().hex()}-")

    @property
    def vote_or(self) -> Markup:
        return Markup(f"pf-{self.nonce}-or")

    @property
    def vote_end(self) -> Markup:
        return Markup(f"pf-{self.nonce}-end")


@dataclass(frozen=True, slots=True)
class StandInUser:
    """Who a shared render for signed-in readers shows in the header."""

    username: str
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class SharedRender:
    """What a shared render puts in place of the reader: `user` (None for visitors) and the
    CSRF placeholder."""

    signed_in: bool
    csrf: SharedCsrf

    @classmethod
    def new(cls, *, signed_in: bool) -> SharedRender:
        return cls(signed_in, SharedCsrf(secrets.token_hex(8)))

    @property
    def user(self) -> StandInUser | None:
        return StandInUser(f"pf-{self.csrf.nonce}-user") if self.signed_in else None


def shared_render(scope: Scope) -> SharedRender | None:
    """The shared render this request is, if it is one."""
    found: SharedRender | None = scope.get(SCOPE_KEY)
    return found


def is_shared_csrf(value: Any) -> bool:
    """The Jinja test ``shared_render``: whether a template's csrf is the placeholder."""
    return isinstance(value, SharedCsrf)


@dataclass(frozen=True, slots=True)
class VoteChoice:
    paper_id: str
    not_voted: bytes
    voted: bytes


Piece = bytes | VoteChoice


@dataclass(frozen=True, slots=True)
class SharedPage:
    """A shared render cut at its vote buttons; `csrf` and `user` are its placeholders."""

    pieces: tuple[Piece, ...]
    csrf: bytes
    user: bytes

    @classmethod
    def parse(cls, body: bytes, render: SharedRender) -> SharedPage:
        nonce = render.csrf.nonce.encode()
        marker = re.compile(rb"pf-" + nonce + rb"-vote-([0-9a-f]*)-(.*?)pf-" + nonce + rb"-or"
                            rb"(.*?)pf-" + nonce + rb"-end", re.DOTALL)  # fmt: skip
        pieces: list[Piece] = []
        position = 0
        for match in marker.finditer(body):
            pieces.append(body[position : match.start()])
            paper_id = bytes.fromhex(match[1].decode()).decode()
            pieces.append(VoteChoice(paper_id, match[2], match[3]))
            position = match.end()
        pieces.append(body[position:])
        return cls(
            tuple(piece for piece in pieces if piece),
            csrf=render.csrf.encode(),
            user=f"pf-{render.csrf.nonce}-user".encode(),
        )

    @property
    def paper_ids(self) -> list[str]:
        """The papers with a vote button, whose votes `fill` needs."""
        return [piece.paper_id for piece in self.pieces if isinstance(piece, VoteChoice)]

    def fill(self, csrf: str, username: str | None, voted: set[str]) -> bytes:
        """The page of a reader with this CSRF token, name (None: a visitor) and votes."""
        body = b"".join(
            piece
            if isinstance(piece, bytes)
            else piece.voted
            if piece.paper_id in voted
            else piece.not_voted
            for piece in self.pieces
        )
        body = body.replace(self.csrf, escape(csrf).encode())
        if username is not None:
            body = body.replace(self.user, escape(username).encode())
        return body
