"""Digest subscription pages: subscribe (double opt-in), confirm, preferences, unsubscribe.

Confirm, preferences and unsubscribe are reached through the signed links in e-mails; the token
is the credential, so those forms need no session. Following a link (GET) never changes
anything, since mail scanners follow links too: it shows a page whose button POSTs the token.
``POST /unsubscribe?token=...`` with the body ``List-Unsubscribe=One-Click`` is the RFC 8058
one-click unsubscribe that mail clients send.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed.digest.digests import DigestService
from paperfeed.errors import Invalid
from paperfeed.models import ACTIVE, UNSUBSCRIBED, Preferences, Subscriber
from paperfeed.web.deps import check_csrf, client_key, current_user, get_feed, limiters
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _digest(request: Request) -> DigestService:
    return get_feed(request).digest


def _page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    response = render(request, f"subscribe/{name}", status_code, **context)
    response.headers.update(PRIVATE)
    return response


@dataclass(frozen=True, slots=True)
class PreferencesForm:
    """The preference fields of the subscribe and preferences forms, as submitted."""

    frequency: str = "daily"
    max_papers: str = "10"
    categories: str = ""
    searches: str = ""
    authors: str = ""
    like_upvoted: bool = False

    def preferences(self) -> Preferences:
        """The preferences these fields describe (Invalid when they are not acceptable)."""
        return Preferences.create(**asdict(self))

    def values(self) -> dict[str, object]:
        """The fields as submitted, to show the form again with an error."""
        return asdict(self)


def submitted_preferences(
    frequency: str = Form("daily"),
    max_papers: str = Form("10"),
    categories: str = Form(""),
    searches: str = Form(""),
    authors: str = Form(""),
    like_upvoted: str | None = Form(None),
) -> PreferencesForm:
    return PreferencesForm(
        frequency, max_papers, categories, searches, authors, like_upvoted is not None
    )


PreferencesFields = Annotated[PreferencesForm, Depends(submitted_preferences)]


def _prefs_form(prefs: Preferences) -> dict[str, object]:
    return {
        "frequency": prefs.frequency,
        "max_papers": prefs.max_papers,
        "categories": " ".join(prefs.categories),
        "searches": "\n".join(prefs.searches),
        "authors": "\n".join(prefs.authors),
        "like_upvoted": prefs.like_upvoted,
    }


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> Response:
    user = current_user(request)  # a reader's follows are their digest's too
    prefs = get_feed(request).readers.follows.preferences(user) if user else Preferences()
    return _page(request, "subscribe.html", form=_prefs_form(prefs), email="")


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    fields: PreferencesFields,
    email: str = Form(""),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    form = fields.values()
    try:
        prefs = fields.preferences()
        limiters(request).signups.hit("subscribe:" + client_key(request))
        _digest(request).subscriptions.subscribe(email, prefs, user_id=user.id if user else None)
    except Invalid as error:
        return _page(request, "subscribe.html", 400, form=form, email=email, error=str(error))
    # The same answer whether or not the address was already subscribed.
    return _page(request, "done.html", heading="Check your inbox", email=email.strip(), sent=True)


@router.get("/subscribe/confirm", response_class=HTMLResponse)
def confirm_form(request: Request, token: str = Query("")) -> Response:
    subscriber = _digest(request).subscriptions.to_confirm(token)
    if subscriber.status == ACTIVE:
        return _subscribed(request, subscriber)
    return _page(request, "confirm.html", subscriber=subscriber, token=token)


@router.post("/subscribe/confirm", response_class=HTMLResponse)
def confirm(request: Request, token: str = Form("")) -> Response:
    return _subscribed(request, _digest(request).subscriptions.confirm(token))


def _subscribed(request: Request, subscriber: Subscriber) -> HTMLResponse:
    return _page(
        request,
        "done.html",
        heading="You are subscribed",
        email=subscriber.email,
        preferences_url=_manage_path(request, subscriber),
    )


def _manage_path(request: Request, subscriber: Subscriber) -> str:
    preferences_url, _ = _digest(request).renderer.manage_urls(subscriber)
    return preferences_url.removeprefix(_digest(request).renderer.base_url)


@router.get("/preferences", response_class=HTMLResponse)
def preferences_form(request: Request, token: str = Query("")) -> Response:
    subscriber = _digest(request).subscriptions.for_token(token)
    return _preferences_page(request, subscriber, token, _prefs_form(subscriber.prefs))


def _preferences_page(
    request: Request,
    subscriber: Subscriber,
    token: str,
    form: dict[str, object],
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    return _page(
        request,
        "preferences.html",
        status_code,
        subscriber=subscriber,
        token=token,
        form=form,
        **context,
    )


@router.post("/preferences", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    fields: PreferencesFields,
    token: str = Form(""),
) -> Response:
    subscriptions = _digest(request).subscriptions
    subscriber = subscriptions.for_token(token)
    form = fields.values()
    try:
        prefs = fields.preferences()
        subscriber = subscriptions.update_preferences(token, prefs)
    except Invalid as error:
        return _preferences_page(request, subscriber, token, form, 400, error=str(error))
    return _preferences_page(request, subscriber, token, _prefs_form(prefs), saved=True)


@router.post("/preferences/new-link", response_class=HTMLResponse)
def new_link(request: Request, token: str = Form("")) -> Response:
    """Invalidate the links sent so far (this one too) and e-mail a new one."""
    subscriber = _digest(request).subscriptions.new_link(token)
    return _page(
        request, "done.html", heading="Check your inbox", email=subscriber.email, renewed=True
    )


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str = Query("")) -> Response:
    subscriber = _digest(request).subscriptions.for_token(token)
    return _page(
        request,
        "unsubscribe.html",
        subscriber=subscriber,
        token=token,
        done=subscriber.status == UNSUBSCRIBED,
    )


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(
    request: Request,
    token: str | None = Query(None),
    form_token: str | None = Form(None, alias="token"),
) -> Response:
    """The button on the page, or a mail client's one-click POST (RFC 8058): the signed token
    in the URL (or form) is what authorises it; no session or CSRF token is involved."""
    subscriber = _digest(request).subscriptions.unsubscribe(token or form_token or "")
    return _page(
        request, "unsubscribe.html", subscriber=subscriber, token=token or form_token, done=True
    )
