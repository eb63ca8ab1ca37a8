"""`paperfeed bootstrap`: fill a new deployment with real papers to look at."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from paperfeed.cli.context import console, pass_feed, progress_bar
from paperfeed.cli.ingest import catch_up_keyword_index
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Source
from paperfeed.ingest.http import FetchError

LARGE_CORPORA = ("arxiv_cs_cv_cl_2025_2026.jsonl.gz", "ml_conference_papers.jsonl.gz")


def find_sample_data(configured: Path | None) -> Path | None:
    """The shared sample data folder: the configured one, else ``../shared/data`` of the cwd."""
    candidates = [configured / "data"] if configured else []
    candidates += [Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    return next((c for c in candidates if (c / "hf_daily_papers").is_dir()), None)


def _sample_sources(data: Path, everything: bool) -> list[tuple[str, Source]]:
    from paperfeed.ingest.files import read_jsonl
    from paperfeed.ingest.hf_daily import read_hf_daily

    sources: list[tuple[str, Source]] = [
        ("Hugging Face daily papers", read_hf_daily(data / "hf_daily_papers" / "items.jsonl.gz")),
        ("seed papers", read_jsonl(data / "seed_papers.jsonl")),
    ]
    if everything:
        sources += [(name, read_jsonl(data / name)) for name in LARGE_CORPORA]
    return sources


def _recent_hf_days(feed: PaperFeed, days: int) -> list[tuple[str, Source]]:
    from paperfeed.ingest.hf_daily import fetch_hf_daily

    today = dt.datetime.now(dt.UTC).date()
    return [
        (f"Hugging Face {day}", fetch_hf_daily(day, endpoint=feed.settings.hf_endpoint))
        for day in (today - dt.timedelta(days=n) for n in range(days))
    ]


@click.command()
@click.option(
    "--all", "everything", is_flag=True, help="Also load the large sample corpora (~97k papers)."
)
@click.option(
    "--days", default=3, show_default=True, help="Without sample data: days of HF papers to fetch."
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as one JSON object.")
@pass_feed
def bootstrap(feed: PaperFeed, everything: bool, days: int, as_json: bool) -> None:
    """Load real papers: the shared sample data if present, else recent days from Hugging Face."""
    data = find_sample_data(feed.settings.shared_dir)
    if data is not None:
        console.print(f"loading sample data from {data}")
        sources = _sample_sources(data, everything)
    else:
        console.print("no sample data found: fetching recent days from Hugging Face")
        sources = _recent_hf_days(feed, days)
    reports: list[dict[str, object]] = []
    for description, source in sources:
        with progress_bar(description) as advance:
            try:
                report = feed.ingest(source, on_progress=advance, index_keywords=False)
            except FetchError as error:  # one unreachable day must not stop the others
                console.print(f"[red]{description}: {error}[/]")
                reports.append({"source": description, "error": str(error)})
                continue
        reports.append({"source": description, **report.as_dict()})
        if not as_json:
            click.echo(f"{description}: {report.summary()}")
    catch_up_keyword_index(feed)
    papers, database = feed.count_papers(), feed.settings.resolved_database_url
    if as_json:
        click.echo(json.dumps({"sources": reports, "papers": papers, "database": database}))
    else:
        click.echo(f"{papers:,} papers in {database}")
