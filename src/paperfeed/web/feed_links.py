"""The Atom feeds of the list a page shows: in its head (``rel="alternate"``) and as a visible
link, so a reader can follow the day, trending, a search, a category or an author."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import Request

from paperfeed import links

PERIODS = ("date", "week", "month")


def feeds_for(request: Request) -> list[tuple[str, str]]:
    """(title, path) of the feeds of the list on this page; none for other pages."""
    path, params = request.url.path, request.query_params
    if path == "/":
        period = next(((name, params[name]) for name in PERIODS if params.get(name)), None)
        title = f"Daily papers ({period[1]})" if period else "Daily papers (the latest day)"
        return [(title, links.daily_feed_path(period))]
    if path == "/trending":
        return [("Trending papers", "/feeds/trending.atom")]
    if path == "/search":
        feeds = []
        if params.get("q", "").strip():
            feeds.append((f"Papers matching “{params['q']}”", links.search_feed_path(params["q"])))
        if params.get("category", "").strip():
            category = params["category"]
            feeds.append((f"Papers in {category}", links.category_feed_path(category)))
        if params.get("author", "").strip():
            author = params["author"]
            feeds.append((f"Papers by {author}", links.author_feed_path(author)))
        return feeds
    if path.startswith("/authors/") and len(path) > len("/authors/"):
        name = unquote(path.removeprefix("/authors/"))
        return [(f"Papers by {name}", links.author_feed_path(name))]
    return []
