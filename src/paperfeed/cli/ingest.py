"""`paperfeed ingest ...`: one subcommand per source, each with a progress bar and a summary."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from paperfeed.cli.context import console, pass_feed, progress_bar
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import IngestReport, Source

existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _run(feed: PaperFeed, description: str, source: Source, *, as_json: bool = False) -> None:
    with progress_bar(description) as advance:
        report = feed.ingest(source, on_progress=advance, index_keywords=False)
    catch_up_keyword_index(feed)
    _print_report(report, as_json)


def catch_up_keyword_index(feed: PaperFeed) -> None:
    """Index new papers for keyword search, with a progress bar when there is work."""
    pending = feed.keyword_backlog()
    if pending:
        with progress_bar("keyword index", total=pending) as advance:
            feed.catch_up_keyword_index(on_progress=advance)


def _print_report(report: IngestReport, as_json: bool) -> None:
    for skipped in report.skipped[:20]:
        console.print(f"[yellow]skipped[/] {skipped.location}: {skipped.reason}")
    if len(report.skipped) > 20:
        console.print(f"[yellow]... and {len(report.skipped) - 20} more skipped[/]")
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        click.echo(report.summary())


json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")


@click.group()
def ingest() -> None:
    """Import papers from arXiv, Hugging Face or files (idempotent; re-runs resume)."""


@ingest.command("jsonl")
@click.argument("paths", nargs=-1, required=True, type=existing_file)
@json_option
@pass_feed
def ingest_jsonl(feed: PaperFeed, paths: tuple[Path, ...], as_json: bool) -> None:
    """JSON lines (plain or .gz) with at least title and abstract."""
    from paperfeed.ingest.files import read_jsonl

    for path in paths:
        _run(feed, path.name, read_jsonl(path), as_json=as_json)


@ingest.command("bibtex")
@click.argument("paths", nargs=-1, required=True, type=existing_file)
@json_option
@pass_feed
def ingest_bibtex(feed: PaperFeed, paths: tuple[Path, ...], as_json: bool) -> None:
    """BibTeX entries that carry an abstract."""
    from paperfeed.ingest.files import read_bibtex

    for path in paths:
        _run(feed, path.name, read_bibtex(path), as_json=as_json)


@ingest.command("snapshot")
@click.argument("path", type=existing_file)
@click.option("--restart", is_flag=True, help="Ignore a saved position and start from the top.")
@json_option
@pass_feed
def ingest_snapshot(feed: PaperFeed, path: Path, restart: bool, as_json: bool) -> None:
    """The arXiv bulk metadata snapshot (JSON lines, plain or .gz), streamed; resumes if killed."""
    from paperfeed.ingest.snapshot import SnapshotFile, snapshot_key

    saved = None if restart else feed.saved_position(snapshot_key(path))
    start = int(saved) if saved else 0
    if start:
        console.print(f"resuming {path.name} after line {start:,}")
    _run(feed, path.name, SnapshotFile(path, start_line=start), as_json=as_json)


@ingest.command("hf-daily")
@click.argument("targets", nargs=-1, required=True)
@click.option("--endpoint", help="Hugging Face endpoint for dates (default: settings).")
@json_option
@pass_feed
def ingest_hf_daily(
    feed: PaperFeed, targets: tuple[str, ...], endpoint: str | None, as_json: bool
) -> None:
    """Hugging Face daily papers: response files (.json, items .jsonl[.gz]) or dates YYYY-MM-DD."""
    from paperfeed.ingest.hf_daily import fetch_hf_daily, read_hf_daily

    for target in targets:
        path = Path(target)
        if path.exists():
            source = read_hf_daily(path)
        else:
            try:
                day = dt.date.fromisoformat(target)
            except ValueError as error:
                raise click.BadParameter(
                    f"{target!r} is neither a file nor a YYYY-MM-DD date"
                ) from error
            source = fetch_hf_daily(day, endpoint=endpoint or feed.settings.hf_endpoint)
        _run(feed, target, source, as_json=as_json)


@ingest.command("oai")
@click.option("--base-url", default="https://oaipmh.arxiv.org/oai", show_default=True)
@click.option(
    "--metadata-prefix",
    type=click.Choice(["arXiv", "arXivRaw"]),
    default="arXiv",
    show_default=True,
)
@click.option("--from", "from_date", help="Harvest records changed on or after YYYY-MM-DD.")
@click.option("--until", "until_date", help="... and on or before YYYY-MM-DD.")
@click.option("--set", "set_spec", help="OAI set, e.g. cs or physics:hep-th.")
@click.option("--restart", is_flag=True, help="Ignore a saved resumption token.")
@json_option
@pass_feed
def ingest_oai(
    feed: PaperFeed,
    base_url: str,
    metadata_prefix: str,
    from_date: str | None,
    until_date: str | None,
    set_spec: str | None,
    restart: bool,
    as_json: bool,
) -> None:
    """Harvest arXiv over OAI-PMH (ListRecords); a killed harvest resumes where it stopped."""
    from paperfeed.ingest.oai_pmh import harvest, harvest_key

    key = harvest_key(base_url, metadata_prefix, set_spec, from_date, until_date)
    token = None if restart else feed.saved_position(key)
    if token:
        console.print("resuming the interrupted harvest")
    source = harvest(
        base_url,
        metadata_prefix=metadata_prefix,
        from_date=from_date,
        until_date=until_date,
        set_spec=set_spec,
        resume_token=token,
        delay=feed.settings.arxiv_delay,
    )
    _run(feed, "OAI-PMH", source, as_json=as_json)


@ingest.command("arxiv")
@click.argument("ids", nargs=-1)
@click.option("-q", "--query", help="arXiv API search query, e.g. 'cat:cs.CL AND ti:retrieval'.")
@click.option("--max-results", type=int, default=100, show_default=True)
@click.option("--page-size", type=int, default=100, show_default=True)
@click.option("--base-url", default="http://export.arxiv.org/api/query", show_default=True)
@json_option
@pass_feed
def ingest_arxiv(
    feed: PaperFeed,
    ids: tuple[str, ...],
    query: str | None,
    max_results: int,
    page_size: int,
    base_url: str,
    as_json: bool,
) -> None:
    """Fetch papers from the arXiv API (Atom) by ids or by a search query."""
    from paperfeed.ingest.arxiv_api import search

    if not ids and not query:
        raise click.UsageError("give arXiv ids or --query")
    source = search(
        query=query,
        id_list=list(ids) or None,
        page_size=page_size,
        max_results=max_results,
        delay=feed.settings.arxiv_delay,
        base_url=base_url,
    )
    _run(feed, "arXiv API", source, as_json=as_json)


@ingest.command("rss")
@click.argument("targets", nargs=-1, required=True)
@json_option
@pass_feed
def ingest_rss(feed: PaperFeed, targets: tuple[str, ...], as_json: bool) -> None:
    """arXiv's daily RSS listings: categories (cs.CL), feed URLs or saved files."""
    from paperfeed.ingest.rss import read_rss

    for target in targets:
        source = read_rss(target, delay=feed.settings.arxiv_delay)
        _run(feed, target, source, as_json=as_json)
