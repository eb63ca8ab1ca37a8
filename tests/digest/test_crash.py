"""Exactly once across crashes: the sender runs as `paperfeed digest send` in a subprocess and is
SIGKILLed after k of n messages reached the SMTP server; a re-run completes the date."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import OUTBOX_SENT, Preferences
from tests.support.digest import DAY, Recorder, day_papers, populate
from tests.support.paths import REPO

N, K = 8, 3


def _prepare(settings: Settings) -> list[str]:
    addresses = [f"reader{i}@example.org" for i in range(N)]
    with PaperFeed(settings) as feed:
        populate(feed, day_papers(30))
        for address in addresses:
            feed.digest.subscriptions.add_confirmed(address, Preferences.create(max_papers=5))
    return addresses


def _sender(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PAPERFEED_DATA_DIR": str(settings.data_dir),
        "PAPERFEED_SECRET_KEY": settings.secret_key or "",
        "PAPERFEED_BASE_URL": settings.base_url,
        "PAPERFEED_SMTP_HOST": "127.0.0.1",
        "PAPERFEED_SMTP_PORT": str(port),
        "PAPERFEED_SMTP_SECURITY": "none",
        "PAPERFEED_DIGEST_RETRY_DELAY": "0.01",
    }
    if settings.database_url:
        env["PAPERFEED_DATABASE_URL"] = settings.database_url
    command = [sys.executable, "-c", "from paperfeed.cli import main; main()"]
    return subprocess.Popen(
        [*command, "digest", "send", "--date", DAY.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_when_held(process: subprocess.Popen[bytes], recorder: Recorder) -> None:
    assert recorder.held.wait(120), process.stderr.read().decode() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


@pytest.mark.parametrize("window", [False, True], ids=["between-messages", "in-the-crash-window"])
def test_sigkill_mid_run_then_rerun_delivers_each_address_once(
    settings: Settings, smtp: tuple[Recorder, int], tmp_path: Path, window: bool
) -> None:
    recorder, port = smtp
    settings = replace(settings, base_url="https://papers.example.org")
    addresses = _prepare(settings)
    # Message K+1 is held: either not accepted (killed between messages), or accepted by the
    # server while the sender, killed before the reply, never learns it (the crash window).
    recorder.hold_after = K
    recorder.record_held = window

    first = _sender(settings, port)
    _kill_when_held(first, recorder)
    accepted_before_rerun = len(recorder.arrivals)
    assert accepted_before_rerun == K + (1 if window else 0)

    second = _sender(settings, port)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    assert "resumed 1" in out.decode()  # the claimed-but-unconfirmed row was picked up

    by_rcpt = recorder.by_recipient()
    assert sorted(by_rcpt) == sorted(addresses)  # all n delivered
    for address, arrivals in by_rcpt.items():
        message_ids = {a.message["Message-ID"] for a in arrivals}
        assert len(message_ids) == 1, address  # one digest per address
    copies = {address: len(arrivals) for address, arrivals in by_rcpt.items()}
    if window:
        # The one message in flight at the kill is handed over again with the same
        # Message-ID (receivers de-duplicate on it); every other address got exactly one.
        assert sorted(copies.values()) == [1] * (N - 1) + [2]
    else:
        assert set(copies.values()) == {1}

    with PaperFeed(settings) as feed:
        entries = feed.store.subscriptions.outbox(DAY)
        assert len(entries) == N and {e.status for e in entries} == {OUTBOX_SENT}
        third = feed.digest.send(DAY)  # cron runs again: nothing left to do
        assert (third.sent, third.already_done) == (0, N)
    assert sum(copies.values()) == len(recorder.arrivals)
