"""`paperfeed user create / set-admin`: accounts made from the command line can log in."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.community.accounts import authenticate
from paperfeed.config import Settings
from paperfeed.core import PaperFeed


def run(data_dir: Path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=stdin)


def test_user_create_and_set_admin(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run(data, "user", "create", "ops", "--admin", "--password", "a long password")
    assert created.exit_code == 0, created.output
    assert "created admin ops" in created.output
    prompted = run(data, "user", "create", "eve", stdin="another password\nanother password\n")
    assert prompted.exit_code == 0, prompted.output
    duplicate = run(data, "user", "create", "ops", "--password", "a long password")
    assert duplicate.exit_code != 0 and "already taken" in duplicate.output
    too_short = run(data, "user", "create", "bob", "--password", "short")
    assert too_short.exit_code != 0 and "at least 8" in too_short.output
    assert run(data, "user", "set-admin", "eve").exit_code == 0
    assert run(data, "user", "set-admin", "ops", "--revoke").exit_code == 0
    assert run(data, "user", "set-admin", "nobody").exit_code != 0
    with PaperFeed(Settings(data_dir=data, secret_key="x")) as feed:
        assert authenticate(feed.store, "ops", "a long password").is_admin is False
        assert authenticate(feed.store, "eve", "another password").is_admin is True
