"""Digest batches: ranges of subscriber ids that senders may send side by side, never two
senders on one batch, nor a batch beside a whole run (`paperfeed digest send`)."""

from __future__ import annotations

from collections import Counter

import pytest

from paperfeed.core import PaperFeed
from paperfeed.digest.lock import sender_lock
from tests.jobs.conftest import subscribe
from tests.support.digest import Recorder
from tests.support.factories import DAY

pytestmark = pytest.mark.backends("postgres")


def test_batches_cover_the_due_subscribers_and_each_sends_only_its_range(
    queue_feed: PaperFeed, smtp: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp
    addresses = subscribe(queue_feed, 7)
    ids = sorted(s.id for s in queue_feed.digest.due_subscribers(DAY))
    batches = queue_feed.digest.batches(DAY, 3)
    assert all(b.start % 3 == 0 and len(b) == 3 for b in batches)
    assert sorted(i for b in batches for i in ids if i in b) == ids

    first = queue_feed.digest.send(DAY, among=batches[0])
    assert first.sent == sum(i in batches[0] for i in ids) > 0
    assert len(recorder.arrivals) == first.sent
    for batch in batches[1:]:
        queue_feed.digest.send(DAY, among=batch)
    queue_feed.digest.send(DAY)  # a whole run afterwards finds nothing left
    received = Counter(r for arrival in recorder.arrivals for r in arrival.recipients)
    assert received == Counter(addresses)


def test_batches_of_other_ranges_run_side_by_side_but_exclude_their_twin_and_whole_runs(
    queue_feed: PaperFeed,
) -> None:
    store, data_dir = queue_feed.store, queue_feed.settings.data_dir
    with sender_lock(store, data_dir, "2024-05-27.0-200") as first:
        with sender_lock(store, data_dir, "2024-05-27.200-400") as other_range:
            assert first and other_range
        with sender_lock(store, data_dir, "2024-05-27.0-200") as twin:
            assert not twin
        with sender_lock(store, data_dir) as whole_run:
            assert not whole_run
    with (
        sender_lock(store, data_dir) as whole_run,
        sender_lock(store, data_dir, "2024-05-27.0-200") as batch,
    ):
        assert whole_run and not batch
