"""The operator's command line: --version and -h, read commands that refuse a data directory
that is not there (and create nothing), the account, moderation and digest chores, and --json
output that parses. Run through click on real stores of both backends."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.errors import NotFound, Unauthorized
from paperfeed.ingest.base import Record
from tests.support.factories import make_paper, make_submission
from tests.support.paths import DATA
from tests.support.web import PASSWORD, load_fixture_papers

Run = Callable[..., Result]
NEW_PASSWORD = "quiet lantern orbit 42"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path, database_url: str | None) -> Run:
    base = ["--data-dir", str(data_dir)]
    base += ["--database-url", database_url] if database_url else []

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, [*base, *args], input=input)

    return invoke


@pytest.fixture
def feed(data_dir: Path, database_url: str | None) -> Iterator[PaperFeed]:
    """The store the commands work on, with papers, submissions and the accounts alice, root."""
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key="cli")
    with PaperFeed(settings) as paperfeed:
        load_fixture_papers(paperfeed)
        paperfeed.community.create_account("alice", PASSWORD, "alice@example.org")
        paperfeed.community.create_account("root", PASSWORD, is_admin=True)
        yield paperfeed


def test_version_and_short_help_everywhere() -> None:
    runner = CliRunner()
    version = runner.invoke(main, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("paperfeed ")
    for args in (
        ["-h"],
        ["user", "-h"],
        ["user", "passwd", "-h"],
        ["ingest", "jsonl", "-h"],
        ["digest", "send", "-h"],
        ["hide", "-h"],
        ["search", "-h"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert result.output.startswith("Usage: ") and "-h, --help" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["stats", "--json"],
        ["search", "attention"],
        ["similar", "2401.00001"],
        ["user", "list"],
        ["user", "delete", "alice", "--yes"],
        ["user", "passwd", "alice", "--password", NEW_PASSWORD],
        ["user", "set-admin", "alice"],
        ["digest", "list"],
        ["hide", "2401.00001"],
        ["unhide", "2401.00001"],
        ["unsubscribe", "reader@example.org"],
    ],
    ids=" ".join,
)
def test_read_commands_refuse_a_missing_data_dir_and_create_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "dta"
    result = CliRunner().invoke(main, ["--data-dir", str(typo), *args])
    assert result.exit_code == 1
    assert "no paperfeed store" in result.output and "--data-dir" in result.output
    assert not typo.exists()


def test_writing_commands_still_make_a_new_store(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(
        main,
        [
            "--data-dir",
            str(fresh),
            "user",
            "create",
            "admin",
            "--admin",
            "--json",
            "--password",
            PASSWORD,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["is_admin"] is True
    assert (fresh / "paperfeed.db").exists()


def test_user_list_as_text_and_json(run: Run, feed: PaperFeed) -> None:
    listed = json.loads(run("user", "list", "--json").output)
    assert [(u["username"], u["is_admin"], u["email"]) for u in listed] == [
        ("alice", False, "alice@example.org"),
        ("root", True, None),
    ]
    text = run("user", "list").output
    assert "alice" in text and "root" in text and "admin" in text


def test_user_delete_removes_the_account_its_votes_and_sessions(run: Run, feed: PaperFeed) -> None:
    alice = feed.community.authenticate("alice", PASSWORD)
    feed.community.vote("2401.00003", alice)
    token, _ = feed.community.start_session(alice)
    before = feed.community.paper_for_reader("2401.00003")[0].upvotes

    asked = run("user", "delete", "ALICE", input="n\n")  # asks first; "n" keeps it
    assert asked.exit_code == 1 and feed.community.users()[0].username == "alice"
    result = run("user", "delete", "ALICE", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["username"] == "alice"

    assert [u.username for u in feed.community.users()] == ["root"]
    assert feed.community.session(token) is None
    assert feed.community.paper_for_reader("2401.00003")[0].upvotes == before - 1
    with pytest.raises(Unauthorized):
        feed.community.authenticate("alice", PASSWORD)
    again = run("user", "delete", "alice", "--yes")
    assert again.exit_code == 1 and "no user 'alice'" in again.output


def test_deleting_a_submitter_keeps_the_papers_it_submitted(run: Run, feed: PaperFeed) -> None:
    alice = feed.community.authenticate("alice", PASSWORD)
    feed.ingest(iter([Record(make_paper("2401.07777", title="Submitted by alice"))]))
    feed.store.community.submit(make_submission("2401.07777", submitter="alice", user_id=alice.id))
    assert run("user", "delete", "alice", "--yes").exit_code == 0
    _, submission = feed.community.paper_for_reader("2401.07777")
    assert submission is not None and submission.submitter != "alice"


def test_user_passwd_prompts_hidden_checks_the_policy_and_ends_sessions(
    run: Run, feed: PaperFeed
) -> None:
    alice = feed.community.authenticate("alice", PASSWORD)
    token, _ = feed.community.start_session(alice)

    weak = run("user", "passwd", "alice", input="password\npassword\n")
    assert weak.exit_code == 1 and "harder password" in weak.output
    assert feed.community.authenticate("alice", PASSWORD).username == "alice"

    result = run("user", "passwd", "alice", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # typed, not echoed
    assert "New password" in result.output
    assert feed.community.authenticate("alice", NEW_PASSWORD).username == "alice"
    with pytest.raises(Unauthorized):
        feed.community.authenticate("alice", PASSWORD)
    assert feed.community.session(token) is None
    unknown = run("user", "passwd", "nobody", "--password", NEW_PASSWORD)
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_hide_and_unhide_a_paper_or_only_its_submission(run: Run, feed: PaperFeed) -> None:
    result = run("hide", "2401.00001", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"id": "2401.00001", "target": "paper", "hidden": True}
    with pytest.raises(NotFound):
        feed.community.paper_for_reader("2401.00001")

    assert run("unhide", "2401.00001").exit_code == 0
    assert feed.community.paper_for_reader("2401.00001")[1] is not None

    assert run("hide", "2401.00001", "--submission-only").exit_code == 0
    paper, submission = feed.community.paper_for_reader("2401.00001")
    assert paper.id == "2401.00001" and submission is None

    missing = run("hide", "2401.99999")
    assert missing.exit_code == 1 and "2401.99999" in missing.output


def test_unsubscribe_an_address(run: Run, feed: PaperFeed) -> None:
    feed.digest.subscriptions.add_confirmed("reader@example.org")
    result = run("unsubscribe", "Reader@Example.org", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "unsubscribed"
    listed = [json.loads(line) for line in run("digest", "list", "--json").output.splitlines()]
    assert [(s["email"], s["status"]) for s in listed] == [("reader@example.org", "unsubscribed")]
    unknown = run("unsubscribe", "nobody@example.org")
    assert unknown.exit_code == 1 and "not a subscriber" in unknown.output


def test_set_admin_json(run: Run, feed: PaperFeed) -> None:
    result = run("user", "set-admin", "alice", "--json")
    assert json.loads(result.output) == {"username": "alice", "is_admin": True}
    assert [u.is_admin for u in feed.community.users()] == [True, True]


@pytest.fixture
def small_shared_dir(tmp_path: Path) -> Path:
    """A shared folder for `bootstrap` with 30 Hugging Face items and 20 seed papers."""
    data = tmp_path / "shared" / "data"
    (data / "hf_daily_papers").mkdir(parents=True)
    with gzip.open(DATA / "hf_daily_papers" / "items.jsonl.gz", "rt") as items:
        head = "".join(islice(items, 30))
    with gzip.open(data / "hf_daily_papers" / "items.jsonl.gz", "wt") as out:
        out.write(head)
    with open(DATA / "seed_papers.jsonl") as seeds:
        (data / "seed_papers.jsonl").write_text("".join(islice(seeds, 20)))
    return tmp_path / "shared"


def test_bootstrap_and_migrate_report_as_json(
    tmp_path: Path, small_shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_SHARED_DIR", str(small_shared_dir))
    source = tmp_path / "source"
    result = CliRunner().invoke(main, ["--data-dir", str(source), "bootstrap", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [s["source"] for s in report["sources"]] == ["Hugging Face daily papers", "seed papers"]
    assert report["papers"] == sum(s["new"] for s in report["sources"]) > 20

    target = f"sqlite:///{tmp_path / 'copy.db'}"
    copied = CliRunner().invoke(
        main,
        ["migrate", "--from", f"sqlite:///{source / 'paperfeed.db'}", "--to", target, "--json"],
    )
    assert copied.exit_code == 0, copied.output
    tables = {t["table"]: t for t in json.loads(copied.stdout)["tables"]}
    assert tables["papers"]["copied"] == report["papers"] and tables["papers"]["ok"]

    typo = CliRunner().invoke(
        main, ["migrate", "--from", f"sqlite:///{tmp_path / 'nope.db'}", "--to", target]
    )
    assert typo.exit_code == 1 and "no store to copy" in typo.output
    assert not (tmp_path / "nope.db").exists()


def test_stats_json_parses(run: Run, feed: PaperFeed) -> None:
    result = run("stats", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["papers"] == 5
