"""`paperfeed digest ...`: send the daily digest (cron-safe), add and list subscribers."""

from __future__ import annotations

import datetime as dt
import json

import click

from paperfeed.cli.context import console, pass_existing_feed, pass_feed
from paperfeed.core import PaperFeed
from paperfeed.errors import PaperfeedError


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("write dates as YYYY-MM-DD") from None


@click.group()
def digest() -> None:
    """E-mail digests: subscribers and sending."""


@digest.command("send")
@click.option(
    "--date",
    "date",
    callback=_date,
    help="Digest date YYYY-MM-DD (default: yesterday, UTC, or the latest day with papers).",
)
@click.option("--dry-run", is_flag=True, help="Compose and render only: send and record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_feed
def send(feed: PaperFeed, date: dt.date | None, dry_run: bool, as_json: bool) -> None:
    """Send a date's digests to every due subscriber not yet served.

    Idempotent: run it from cron as often as you like, or again after a crash; each subscriber
    gets each date's digest once. Without an SMTP host (PAPERFEED_SMTP_HOST) the e-mails are
    written as .eml files to the outbox directory. Without --date: yesterday's digest, or when
    yesterday had no papers, that of the latest day with papers (it says which and why)."""
    try:
        if date is None:
            reports = feed.digest.send_default(dry_run=dry_run)
        else:
            reports = [feed.digest.send(date, dry_run=dry_run)]
    except PaperfeedError as error:
        raise click.ClickException(str(error)) from error
    for report in reports:
        if report.chosen and not as_json:
            verb = "composing" if dry_run else "sending"
            click.echo(f"no --date: {verb} the digest of {report.chosen}")
        for line in report.errors[:20]:
            console.print(f"[yellow]{line}[/]")
        click.echo(json.dumps(report.as_dict()) if as_json else report.summary())
    if any(report.locked for report in reports):
        raise SystemExit(75)  # EX_TEMPFAIL: another run holds the lock


@digest.command("subscribe")
@click.argument("email")
@click.option("--confirmed", is_flag=True, help="Activate at once (you vouch for the address).")
@click.option("--weekly", is_flag=True, help="A weekly digest instead of a daily one.")
@click.option("--papers", "max_papers", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--category", "categories", multiple=True, help="Only these categories (repeatable).")
@click.option("--search", "searches", multiple=True, help="A saved search (repeatable).")
@click.option("--author", "authors", multiple=True, help="A followed author (repeatable).")
@pass_feed
def subscribe(
    feed: PaperFeed,
    email: str,
    confirmed: bool,
    weekly: bool,
    max_papers: int,
    categories: tuple[str, ...],
    searches: tuple[str, ...],
    authors: tuple[str, ...],
) -> None:
    """Subscribe EMAIL: sends a confirmation e-mail unless --confirmed."""
    from paperfeed.models import Preferences

    try:
        prefs = Preferences.create(
            frequency="weekly" if weekly else "daily",
            max_papers=max_papers,
            categories=categories,
            searches=searches,
            authors=authors,
        )
        subscriptions = feed.digest.subscriptions
        if confirmed:
            subscriber = subscriptions.add_confirmed(email, prefs)
        else:
            subscriber = subscriptions.subscribe(email, prefs)
    except PaperfeedError as error:
        raise click.ClickException(str(error)) from error
    if subscriber.status == "pending":
        click.echo(f"{subscriber.email}: confirmation e-mail sent (subscriber {subscriber.id})")
    else:
        click.echo(f"{subscriber.email}: {subscriber.status} (subscriber {subscriber.id})")


@digest.command("list")
@click.option("--status", type=click.Choice(["pending", "active", "unsubscribed", "bounced"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_existing_feed
def list_subscribers(feed: PaperFeed, status: str | None, as_json: bool) -> None:
    """Subscribers with their status and preferences."""
    for s in feed.digest.subscriptions.list_subscribers(status=status):
        if as_json:
            row = {
                "id": s.id,
                "email": s.email,
                "status": s.status,
                "user_id": s.user_id,
                "failures": s.failures,
            }
            click.echo(json.dumps({**row, "prefs": s.prefs.to_json()}))
            continue
        interests = len(s.prefs.searches) + len(s.prefs.authors)
        click.echo(
            f"{s.id:>6}  {s.status:<12}  {s.prefs.frequency:<6}  {s.prefs.max_papers:>2} papers  "
            f"{interests} interests  {s.email}"
        )
