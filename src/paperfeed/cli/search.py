"""`paperfeed search`, `paperfeed similar` and `paperfeed index`."""

from __future__ import annotations

import datetime as dt
import json

import click

from paperfeed.cli.context import console, pass_existing_feed, pass_feed, progress_bar
from paperfeed.core import PaperFeed
from paperfeed.errors import NotFound
from paperfeed.models import Paper
from paperfeed.query import SORTS, parse_query, snippet


def _paper_json(paper: Paper, **extra: object) -> dict[str, object]:
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": paper.authors,
        "published": paper.published.date().isoformat() if paper.published else None,
        "categories": paper.categories,
        "upvotes": paper.upvotes,
        **extra,
    }


def _print_paper(number: int, paper: Paper, text: str | None = None) -> None:
    day = paper.published.date().isoformat() if paper.published else "undated"
    count = paper.author_count
    authors = f"{count} author{'s' if count != 1 else ''}" if count else "authors unknown"
    click.echo(f"{number:>3}. {click.style(paper.title, bold=True)}")
    click.echo(f"     {paper.id} · {authors} · {day}")
    if text:
        click.echo(f"     {text}")


@click.command()
@click.argument("query", nargs=-1)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--offset", default=0, type=click.IntRange(0))
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--cat", "category", help="Category, e.g. cs.CL (or cs for all of cs.*).")
@click.option("--author", help="An author's name.")
@click.option("--after", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (date).")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (date).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_existing_feed
def search(
    feed: PaperFeed,
    query: tuple[str, ...],
    limit: int,
    offset: int,
    sort: str,
    category: str | None,
    author: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    as_json: bool,
) -> None:
    """Search papers: words, "phrases", -excluded, author:NAME, cat:cs.CL, after:/before:YYYY."""
    results = feed.search(
        parse_query(
            " ".join(query),
            category=category,
            author=author,
            date_from=after.date() if after else None,
            date_to=before.date() if before else None,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    )
    if as_json:
        hits = [
            _paper_json(
                h.paper, score=h.score, keyword_rank=h.keyword_rank, dense_rank=h.dense_rank
            )
            for h in results.hits
        ]
        payload = {
            "total": results.total,
            "more": results.more,
            "message": results.message,
            "hits": hits,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if results.message:
        console.print(f"[yellow]{results.message}[/]")
    if not results.hits:
        click.echo("No papers found.")
        return
    for number, hit in enumerate(results.hits, start=offset + 1):
        _print_paper(number, hit.paper, snippet(hit.paper.abstract, results.query, 160))
    shown = offset + len(results.hits)
    click.echo(f"\n{offset + 1}-{shown} of {'more than ' if results.more else ''}{results.total:,}")


@click.command()
@click.argument("paper_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the papers as JSON.")
@pass_existing_feed
def similar(feed: PaperFeed, paper_id: str, limit: int, as_json: bool) -> None:
    """Papers most similar to PAPER_ID (an arXiv id, URL or local:... id)."""
    try:
        papers = feed.similar(paper_id, limit=limit)
    except NotFound as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps([_paper_json(p) for p in papers], indent=2))
        return
    for number, paper in enumerate(papers, start=1):
        _print_paper(number, paper)


@click.command()
@click.option(
    "--rebuild", is_flag=True, help="Rebuild the vector and keyword indexes from the database."
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_feed
def index(feed: PaperFeed, rebuild: bool, as_json: bool) -> None:
    """Embed new and changed papers for semantic search (resumable; a no-op when up to date)."""
    indexer = feed.search_index
    report: dict[str, object] = {"model": indexer.model}
    say = (lambda _text: None) if as_json else click.echo
    if rebuild:
        report["rebuilt_vectors"] = indexer.rebuild_index()
        say(f"rebuilt the vector index: {report['rebuilt_vectors']} vectors")
        with progress_bar("keyword index", total=feed.count_papers()) as advance:
            report["rebuilt_keyword_papers"] = feed.catch_up_keyword_index(
                on_progress=advance, rebuild=True
            )
        say(f"rebuilt the keyword index: {report['rebuilt_keyword_papers']} papers")
    pending = indexer.pending()
    if not pending:
        indexer.sync()
        say(f"Nothing new to embed: the index is up to date ({indexer.vector_count()}).")
    else:
        with progress_bar(f"embedding with {indexer.model}", total=pending) as advance:
            embedded = feed.index(on_progress=advance)
        report["embedded"] = embedded
        say(f"embedded {embedded} papers; the vector index holds {indexer.vector_count()}")
    if as_json:
        report.setdefault("embedded", 0)
        click.echo(json.dumps({**report, "vectors": indexer.vector_count()}))
