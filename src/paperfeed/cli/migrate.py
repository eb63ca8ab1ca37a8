"""`paperfeed migrate --from sqlite:///... --to postgresql://...`: copy a whole store."""

from __future__ import annotations

import json

import click

from paperfeed.cli.context import progress_bar
from paperfeed.core import copy_database, copy_progress


@click.command()
@click.option(
    "--from",
    "source_url",
    required=True,
    help="The store to copy, e.g. sqlite:///data/paperfeed.db",
)
@click.option(
    "--to", "target_url", required=True, help="The new store, e.g. postgresql://user@host/paperfeed"
)
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="Print the row counts as JSON.")
def migrate(source_url: str, target_url: str, batch_size: int, as_json: bool) -> None:
    """Copy papers, users, votes, digests, embeddings and ingest state into another store.

    Keys are kept, so the copy searches and links exactly like the original. Safe to interrupt:
    running the same command again continues where it stopped. Stop writers to the source first.
    """
    total, done = copy_progress(source_url, target_url)
    with progress_bar("copying", total=total) as advance:
        advance(done)  # copied by an earlier run
        report = copy_database(source_url, target_url, batch_size=batch_size, on_progress=advance)
    tables = [
        {
            "table": c.table,
            "source": c.source,
            "target": c.target,
            "copied": report.copied.get(c.table, 0),
            "ok": c.ok,
        }
        for c in report.counts
    ]
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "tables": tables}))
    else:
        click.echo(f"{'table':<20} {'source':>10} {'target':>10}  copied now")
        for t in tables:
            mark = "" if t["ok"] else "  MISMATCH"
            click.echo(
                f"{t['table']:<20} {t['source']:>10,} {t['target']:>10,}  {t['copied']:>10,}{mark}"
            )
    if not report.ok:
        raise click.ClickException("row counts differ between the stores")
    if not as_json:
        click.echo("all rows copied")
