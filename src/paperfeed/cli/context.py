"""Shared CLI plumbing: the PaperFeed opened for a command, progress bars."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from functools import update_wrapper
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from paperfeed.config import Settings
from paperfeed.core import PaperFeed

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def echo_result(as_json: bool, result: object, text: str) -> None:
    """Print a command's `result` as one line of JSON (--json), else `text` for a person."""
    click.echo(json.dumps(result) if as_json else text)


class FeedOpener:
    """The deployment `paperfeed` was started for; its PaperFeed opens when a command first
    needs it, so that `--help`, `--version` and commands that refuse to run create nothing."""

    def __init__(self, ctx: click.Context, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        self._feed: PaperFeed | None = None

    def feed(self, *, must_exist: bool) -> PaperFeed:
        """The PaperFeed; with `must_exist`, a clear error instead of a new, empty store when
        the data directory (or the database URL) names none: a typo must not make one."""
        if self._feed is None:
            feed = PaperFeed(self.settings)
            if must_exist and not feed.store_exists():
                raise click.ClickException(
                    f"no paperfeed store at {self.settings.resolved_database_url}: check "
                    "--data-dir (PAPERFEED_DATA_DIR) or --database-url, or make one with "
                    "`paperfeed bootstrap` or `paperfeed ingest ...`"
                )
            self._feed = self.ctx.with_resource(feed)
        return self._feed


def feed_of(ctx: click.Context, *, must_exist: bool = False) -> PaperFeed:
    """The PaperFeed of the running command (see FeedOpener)."""
    opener = ctx.find_object(FeedOpener)
    if opener is not None:
        return opener.feed(must_exist=must_exist)
    feed = ctx.find_object(PaperFeed)  # a command invoked with obj=PaperFeed (tests)
    if feed is None:
        raise click.UsageError("run this command through `paperfeed`")
    return feed


def _passing_feed(command: F, *, must_exist: bool) -> F:
    def with_feed(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        return ctx.invoke(command, feed_of(ctx, must_exist=must_exist), *args, **kwargs)

    return update_wrapper(with_feed, command)  # type: ignore[return-value]


def pass_feed(command: F) -> F:
    """Give the command the PaperFeed as its first argument (creating the store if needed:
    for commands that write, such as ingest and bootstrap)."""
    return _passing_feed(command, must_exist=False)


def pass_existing_feed(command: F) -> F:
    """As `pass_feed`, but refuse to run (exit 1, nothing created) when there is no store yet:
    for commands that read or change what is there."""
    return _passing_feed(command, must_exist=True)


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields a callback taking the number of items just done."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
