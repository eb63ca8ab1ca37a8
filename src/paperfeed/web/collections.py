"""Collections on the site: a reader's reading lists, saving papers to them (a POST form on
every card and paper page, no JavaScript needed), a public collection's page and Atom feed, and
exports (BibTeX, RIS, CSL-JSON). A private collection is a 404 to everyone but its owner."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed.community.collections import Collections
from paperfeed.models import Collection, User
from paperfeed.web.atom import ATOM_TYPE, atom_feed
from paperfeed.web.deps import check_csrf, current_user, get_feed, require_user
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import login_redirect, private, redirect, render, safe_next

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)

READING_LIST = "Reading list"  # where a card's "Save" button puts a paper
FEED_LIMIT = 100


def _collections(request: Request) -> Collections:
    return get_feed(request).readers.collections


def collection_path(collection: Collection) -> str:
    return "/collections/" + quote(collection.slug, safe="")


def _private(response: Response, collection: Collection | None = None) -> Response:
    if collection is None or not collection.public:
        return private(response)
    return response


@router.get("/collections", response_class=HTMLResponse)
def my_collections(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/collections")
    page = render(
        request, "readers/collections.html", collections=_collections(request).of_user(user)
    )
    return _private(page)


@router.post("/collections", response_class=HTMLResponse)
def create_collection(
    request: Request,
    name: str = Form(""),
    description: str = Form(""),
    public: str | None = Form(None),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    if user is None:
        return login_redirect("/collections")
    created = _collections(request).create(
        user, name, public=public is not None, description=description
    )
    return redirect(collection_path(created))


@router.post("/collections/save")
def save_paper(
    request: Request,
    paper_id: str = Form(...),
    collection_id: str = Form(""),
    new_name: str = Form(""),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    """Save a paper into one of the reader's collections: the one chosen, a new one named
    `new_name`, else their reading list."""
    check_csrf(request, csrf_token)
    back = safe_next(next)
    user = current_user(request)
    if user is None:
        return login_redirect(back)
    collections = _collections(request)
    if new_name.strip():
        target = collections.named(user, new_name).id
    elif collection_id.isdigit():
        target = int(collection_id)
    else:
        target = collections.named(user, READING_LIST).id
    collections.save(user, paper_id, target)
    return redirect(back)


def _owned_form(request: Request, csrf_token: str | None) -> User:
    """The signed-in reader of a form that changes one of their collections."""
    check_csrf(request, csrf_token)
    return require_user(request)


@router.post("/collections/{collection_id:int}/remove")
def remove_paper(
    request: Request,
    collection_id: int,
    paper_id: str = Form(...),
    next: str = Form(""),
    csrf_token: str | None = Form(None),
) -> Response:
    user = _owned_form(request, csrf_token)
    collections = _collections(request)
    collections.remove(user, paper_id, collection_id)
    return redirect(safe_next(next, collection_path(collections.owned(collection_id, user))))


@router.post("/collections/{collection_id:int}/settings")
def collection_settings(
    request: Request,
    collection_id: int,
    name: str = Form(""),
    description: str = Form(""),
    public: str | None = Form(None),
    csrf_token: str | None = Form(None),
) -> Response:
    user = _owned_form(request, csrf_token)
    changed = _collections(request).update(
        collection_id, user, name=name, public=public is not None, description=description
    )
    return redirect(collection_path(changed))


@router.post("/collections/{collection_id:int}/delete")
def delete_collection(
    request: Request, collection_id: int, csrf_token: str | None = Form(None)
) -> Response:
    user = _owned_form(request, csrf_token)
    _collections(request).delete(collection_id, user)
    return redirect("/collections")


@router.get("/collections/{ref}", response_class=HTMLResponse)
def collection_page(request: Request, ref: str) -> Response:
    user = current_user(request)
    collections = _collections(request)
    collection = collections.for_reader(ref, user)
    papers = [paper for paper, _ in collections.papers(collection)]
    feed = get_feed(request)
    page = render(
        request,
        "readers/collection.html",
        collection=collection,
        papers=papers,
        owner=feed.community.user(collection.user_id),
        mine=user is not None and user.id == collection.user_id,
        path=collection_path(collection),
        voted=feed.community.voted(user, [p.id for p in papers]),
    )
    return _private(page, collection)


@router.get("/collections/{ref}/export")
def export_collection(request: Request, ref: str, format: str = Query("bibtex")) -> Response:
    collections = _collections(request)
    collection = collections.for_reader(ref, current_user(request))
    body, media_type, filename = collections.export(collection, format)
    response = Response(body, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response, collection)


@router.get("/feeds/collections/{ref}.atom", response_class=Response)
def collection_feed(request: Request, ref: str) -> Response:
    """A public collection's papers, latest added first."""
    collections = _collections(request)
    collection = collections.for_reader(ref, None)
    base = get_feed(request).settings.base_url
    body = atom_feed(
        title=f"Collection: {collection.name}",
        subtitle=collection.description or None,
        self_url=f"{base}/feeds/collections/{quote(collection.slug, safe='')}.atom",
        page_url=base + collection_path(collection),
        base_url=base,
        entries=((paper, None) for paper, _ in collections.papers(collection, limit=FEED_LIMIT)),
    )
    return Response(body, media_type=ATOM_TYPE)
