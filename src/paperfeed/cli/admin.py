"""`paperfeed hide|unhide ID` and `paperfeed unsubscribe EMAIL`: moderation and digest chores
for the operator (no account needed: whoever runs the command owns the deployment)."""

from __future__ import annotations

import click

from paperfeed.cli.context import echo_result, json_option, pass_existing_feed
from paperfeed.core import PaperFeed
from paperfeed.models import Subscriber

target_option = click.option(
    "--submission-only",
    is_flag=True,
    help="Only its submission to the daily feed (the paper stays findable).",
)


def _set_hidden(feed: PaperFeed, paper_id: str, hidden: bool, submission_only: bool, as_json: bool):
    target = "submission" if submission_only else "paper"
    feed.community.set_hidden_by_operator(paper_id, target=target, hidden=hidden)
    echo_result(
        as_json,
        {"id": paper_id, "target": target, "hidden": hidden},
        f"{target} {paper_id} is {'hidden' if hidden else 'visible again'}",
    )


@click.command()
@click.argument("paper_id")
@target_option
@json_option
@pass_existing_feed
def hide(feed: PaperFeed, paper_id: str, submission_only: bool, as_json: bool) -> None:
    """Hide the paper PAPER_ID from readers everywhere (or only its feed submission)."""
    _set_hidden(feed, paper_id, True, submission_only, as_json)


@click.command()
@click.argument("paper_id")
@target_option
@json_option
@pass_existing_feed
def unhide(feed: PaperFeed, paper_id: str, submission_only: bool, as_json: bool) -> None:
    """Show the paper PAPER_ID (or its feed submission) to readers again."""
    _set_hidden(feed, paper_id, False, submission_only, as_json)


def subscriber_json(subscriber: Subscriber) -> dict[str, object]:
    return {"id": subscriber.id, "email": subscriber.email, "status": subscriber.status}


@click.command()
@click.argument("email")
@json_option
@pass_existing_feed
def unsubscribe(feed: PaperFeed, email: str, as_json: bool) -> None:
    """Stop all digests to EMAIL (e.g. asked by mail, or a bouncing address)."""
    subscriber = feed.digest.subscriptions.unsubscribe_address(email)
    echo_result(
        as_json,
        subscriber_json(subscriber),
        f"{subscriber.email} is unsubscribed (subscriber {subscriber.id})",
    )
