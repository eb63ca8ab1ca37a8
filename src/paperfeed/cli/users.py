"""`paperfeed user ...`: accounts for operators (the first admin, password resets by hand)."""

from __future__ import annotations

import click

from paperfeed.cli.context import pass_feed
from paperfeed.core import PaperFeed


@click.group()
def user() -> None:
    """Create accounts and grant the admin role."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the account the admin role (hide papers).")
@click.option("--email", default=None, help="E-mail address (optional).")
@click.password_option(help="Password (asked for when not given).")
@pass_feed
def create(feed: PaperFeed, username: str, admin: bool, email: str | None, password: str) -> None:
    """Create the account USERNAME."""
    account = feed.create_account(username, password, email, is_admin=admin)
    role = "admin" if account.is_admin else "user"
    click.echo(f"created {role} {account.username} (id {account.id})")


@user.command("set-admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the admin role away instead.")
@pass_feed
def set_admin(feed: PaperFeed, username: str, revoke: bool) -> None:
    """Grant (or --revoke) the admin role of USERNAME."""
    feed.set_admin(username, not revoke)
    click.echo(f"{username} is {'no longer ' if revoke else 'now '}an admin")
