"""What one sync of a source fetches: the steps from its saved position to today.

A source's cursor is the last day it has fetched (an ISO date); a first sync starts
``settings.sync_first_days`` back. Each step fetches some records and names the cursor to save
once its import has committed, so a run killed half-way repeats at most one step (imports are
idempotent, and an OAI-PMH harvest resumes from its saved token).

- arxiv (category or archive): the RSS listing says which day arXiv announced last; that day
  comes from the listing, and the days missed before it (down time, a first sync) from OAI-PMH,
  one harvest per day of the archive's set, kept to the category. (arXiv's OAI sets are
  archives: a cs.CL catch-up reads all of cs, ~2.2 kB a record, 3.3 MB for the replayed day of
  1,500 records against 0.8 MB for its 339 cs.CL papers from the API. Only missed days cost
  this (the RSS listing brings the regular day), and the API knows when a paper was submitted,
  not the day arXiv announced it, nor its new versions: the day's feed would be wrong.)
- arxiv-query: the arXiv API, papers submitted since a few days before the cursor (papers are
  announced a day or more after they are submitted; repeats change nothing).
- hf-daily: one request per day, from the cursor's day (its list and upvotes grow during the
  day) to today.

Papers first announced in a fetched day are put on the daily feed for that day.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from paperfeed.config import Settings
from paperfeed.ingest import arxiv_api, hf_daily, oai_pmh, rss
from paperfeed.ingest.base import Parsed, Record
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.models import FollowedSource, Paper, Submission
from paperfeed.sync.sources import in_category, oai_set

QUERY_OVERLAP_DAYS = 3  # arxiv-query: re-read this many days before the cursor
NEW_PAPER_DAYS = 7  # an OAI-PMH record is a new paper when first submitted this recently
API_PAGE = 200


@dataclass(frozen=True, slots=True)
class Step:
    """Records to import, then the position to save (only after they are committed)."""

    description: str
    records: Callable[[], Iterable[Parsed]]
    cursor: str


class Fetcher:
    """Plans the steps of a source's sync with the given HTTP clients."""

    def __init__(
        self,
        settings: Settings,
        *,
        arxiv_client: PoliteClient,
        hf_client: PoliteClient,
        saved_position: Callable[[str], str | None],
    ) -> None:
        self.settings = settings
        self._arxiv = arxiv_client
        self._hf = hf_client
        self._saved_position = saved_position

    def steps(self, source: FollowedSource, today: dt.date) -> Iterator[Step]:
        """The steps that bring `source` from its cursor to `today` (network errors raise
        FetchError, from the first request on)."""
        since = _cursor_day(source) or today - dt.timedelta(days=self.settings.sync_first_days)
        if source.kind == "arxiv":
            yield from self._arxiv_steps(source.value, since)
        elif source.kind == "arxiv-query":
            yield self._query_step(source, since, today)
        elif source.kind == "hf-daily":
            yield from self._hf_steps(source, since, today)
        else:
            raise ValueError(f"unknown source kind {source.kind!r}")

    # -- arXiv categories and archives ------------------------------------------------------

    def _arxiv_steps(self, category: str, since: dt.date) -> Iterator[Step]:
        listing = rss.fetch_listing(
            category, base_url=self.settings.arxiv_rss_url, client=self._arxiv
        )
        if listing.day <= since:
            return
        if listing.day - since > dt.timedelta(days=1):  # days were missed: OAI-PMH has them
            for day in _days(since + dt.timedelta(days=1), listing.day):
                yield Step(
                    f"{category} {day} (OAI-PMH)",
                    functools.partial(self._oai_day, category, day),
                    day.isoformat(),
                )
        yield Step(
            f"{category} {listing.day} (RSS)",
            lambda: _rss_records(listing),
            listing.day.isoformat(),
        )

    def _oai_day(self, category: str, day: dt.date) -> Iterator[Parsed]:
        url, set_spec = self.settings.arxiv_oai_url, oai_set(category)
        token = self._saved_position(oai_pmh.harvest_key(url, "arXiv", set_spec, day, day))
        harvest = self._harvest(set_spec, day, token)
        try:
            first = next(harvest, None)
        except FetchError as error:
            if not token or error.code != "badResumptionToken":
                raise
            harvest = self._harvest(set_spec, day, None)  # the token expired: start the day again
            first = next(harvest, None)
        if first is None:
            return
        for item in itertools.chain([first], harvest):
            if isinstance(item, Record):
                if not in_category(item.paper, category):
                    continue
                if _first_announced(item.paper, day):
                    item = Record(item.paper, _on_feed(item.paper, day, "arxiv"))
            yield item

    def _harvest(self, set_spec: str, day: dt.date, token: str | None) -> Iterator[Parsed]:
        return oai_pmh.harvest(
            self.settings.arxiv_oai_url,
            from_date=day,
            until_date=day,
            set_spec=set_spec,
            resume_token=token,
            client=self._arxiv,
        )

    # -- arXiv searches ---------------------------------------------------------------------

    def _query_step(self, source: FollowedSource, since: dt.date, today: dt.date) -> Step:
        if source.cursor:
            start = since - dt.timedelta(days=QUERY_OVERLAP_DAYS)
        else:
            start = since + dt.timedelta(days=1)
        query = f"({source.value}) AND submittedDate:[{start:%Y%m%d}0000 TO {today:%Y%m%d}2359]"

        def records() -> Iterator[Parsed]:
            found = arxiv_api.search(
                query,
                page_size=API_PAGE,
                base_url=self.settings.arxiv_api_url,
                sort_by="submittedDate",
                sort_order="descending",
                client=self._arxiv,
            )
            for item in found:
                if isinstance(item, Record) and item.paper.published is not None:
                    day = item.paper.published.date()
                    if item.paper.version in (None, 1) and start <= day <= today:
                        item = Record(item.paper, _on_feed(item.paper, day, "arxiv-query"))
                yield item

        return Step(f"arxiv-query {source.value} {start}..{today}", records, today.isoformat())

    # -- Hugging Face daily papers ----------------------------------------------------------

    def _hf_steps(self, source: FollowedSource, since: dt.date, today: dt.date) -> Iterator[Step]:
        first = since if source.cursor else since + dt.timedelta(days=1)
        for day in _days(first, today):
            fetch = functools.partial(
                hf_daily.fetch_hf_day, day, endpoint=self.settings.hf_endpoint, client=self._hf
            )
            yield Step(f"hf-daily {day}", fetch, day.isoformat())


def _rss_records(listing: rss.Listing) -> Iterator[Parsed]:
    for item in listing.records:
        if isinstance(item, Record) and item.paper.id in listing.first_announced:
            item = Record(item.paper, _on_feed(item.paper, listing.day, "arxiv"))
        yield item


def _first_announced(paper: Paper, day: dt.date) -> bool:
    """Whether an OAI-PMH record of `day` is a new paper (not a new version of an old one)."""
    if paper.published is None or paper.version not in (None, 1):
        return False
    if paper.updated is not None and paper.updated != paper.published:
        return False
    return day - dt.timedelta(days=NEW_PAPER_DAYS) <= paper.published.date() <= day


def _on_feed(paper: Paper, day: dt.date, source: str) -> Submission:
    """The daily feed entry of a paper announced on `day`."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    published = paper.published
    at = published if published is not None and published.date() == day else midnight
    return Submission(paper_id=paper.id, day=day, submitted_at=at, source=source)


def _cursor_day(source: FollowedSource) -> dt.date | None:
    return dt.date.fromisoformat(source.cursor) if source.cursor else None


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
