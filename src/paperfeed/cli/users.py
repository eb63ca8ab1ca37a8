"""`paperfeed user ...`: accounts for operators (the first admin, password resets, removal)."""

from __future__ import annotations

import json

import click

from paperfeed.cli.context import echo_result, json_option, pass_existing_feed, pass_feed
from paperfeed.core import PaperFeed
from paperfeed.models import User


def user_json(account: User) -> dict[str, object]:
    return {
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "is_admin": account.is_admin,
        "created_at": account.created_at.isoformat() if account.created_at else None,
    }


@click.group()
def user() -> None:
    """Create, list and delete accounts; reset passwords; grant the admin role."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the account the admin role (hide papers).")
@click.option("--email", default=None, help="E-mail address (optional).")
@click.password_option(help="Password (asked for when not given).")
@json_option
@pass_feed
def create(
    feed: PaperFeed, username: str, admin: bool, email: str | None, password: str, as_json: bool
) -> None:
    """Create the account USERNAME."""
    account = feed.community.create_account(username, password, email, is_admin=admin)
    role = "admin" if account.is_admin else "user"
    echo_result(as_json, user_json(account), f"created {role} {account.username} (id {account.id})")


@user.command("list")
@json_option
@pass_existing_feed
def list_users(feed: PaperFeed, as_json: bool) -> None:
    """Every account, oldest first."""
    accounts = feed.community.users()
    if as_json:
        click.echo(json.dumps([user_json(a) for a in accounts], indent=2))
        return
    for account in accounts:
        role = "admin" if account.is_admin else "user"
        created = account.created_at.date().isoformat() if account.created_at else ""
        click.echo(
            f"{account.id:>6}  {role:<5}  {created:<10}  {account.username}  {account.email or ''}"
        )


@user.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_existing_feed
def delete(feed: PaperFeed, username: str, yes: bool, as_json: bool) -> None:
    """Delete the account USERNAME and all it holds: log-ins, votes, collections, follows, its
    digest subscription. Papers it submitted stay on the feed, no longer naming it."""
    if not yes:
        click.confirm(f"Delete the account {username} and its votes?", abort=True)
    account = feed.community.remove_account(username)
    echo_result(as_json, user_json(account), f"deleted {account.username} (id {account.id})")


@user.command("passwd")
@click.argument("username")
@click.password_option(
    prompt="New password", help="The new password (asked for, hidden, when not given)."
)
@json_option
@pass_existing_feed
def passwd(feed: PaperFeed, username: str, password: str, as_json: bool) -> None:
    """Set the password of USERNAME (as hard to guess as at sign-up); logs it out everywhere."""
    account = feed.community.set_password(username, password)
    echo_result(
        as_json,
        user_json(account),
        f"new password set for {account.username}; its sessions have ended",
    )


@user.command("set-admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the admin role away instead.")
@json_option
@pass_existing_feed
def set_admin(feed: PaperFeed, username: str, revoke: bool, as_json: bool) -> None:
    """Grant (or --revoke) the admin role of USERNAME."""
    feed.community.set_admin(username, not revoke)
    echo_result(
        as_json,
        {"username": username, "is_admin": not revoke},
        f"{username} is {'no longer ' if revoke else 'now '}an admin",
    )
