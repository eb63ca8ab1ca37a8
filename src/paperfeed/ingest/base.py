"""What every ingest source yields, and the report an import produces."""

from __future__ import annotations

from abc import abstractmethod
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from paperfeed.models import Paper, SkippedRecord, Submission


@dataclass(slots=True, frozen=True)
class Record:
    """A parsed paper, with its daily-feed submission when the source has one (Hugging Face)."""

    paper: Paper
    submission: Submission | None = None


@dataclass(slots=True, frozen=True)
class Checkpoint:
    """A resumable position in a source (an OAI-PMH resumption token, a file offset...).

    A source yields one after a page or a block of records; the runner commits every record before
    it and stores ``value`` under ``key`` in the same transaction, so a killed run resumes here.
    ``value=None`` clears the key (the source finished).
    """

    key: str
    value: str | None


Parsed = Record | SkippedRecord | Checkpoint
"""A source is any ``Iterator[Parsed]``: records, malformed ones and checkpoints, in order."""

Source = Iterator[Parsed]


@dataclass(slots=True)
class EncodedBatch:
    """Papers parsed and encoded for a store's driver in a second process (PaperRowCodec),
    the malformed records among them and, when the batch ends at one, a checkpoint."""

    papers: list[tuple[Any, ...]]
    skipped: list[SkippedRecord]
    checkpoint: Checkpoint | None = None


class ParallelSource(Iterator[Parsed]):
    """A source that can also run in a second process, which parses its records and encodes
    them for the store (a bulk load); iterated, it parses here like any source."""

    @abstractmethod
    def expected_records(self) -> int:
        """About how many records are left to read (a bulk load decides how to load by it)."""

    @abstractmethod
    def encoded_batches(
        self, dialect: str, batch_size: int, part: tuple[int, int] = (0, 1)
    ) -> Iterator[EncodedBatch]:
        """The records encoded for `dialect`, in batches cut where the runner cuts its own:
        after `batch_size` records and at each checkpoint. ``part=(i, n)``: the batches of
        every n-th run between two checkpoints, from run i (for n processes; each run ends
        with a batch that holds its checkpoint, the last with ``Checkpoint(key, None)``)."""


@dataclass(slots=True)
class IngestReport:
    """Counts for the summary line: read / new / updated / unchanged / skipped (with reasons)."""

    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    submissions: int = 0
    skipped: list[SkippedRecord] = field(default_factory=list)

    def skip_reasons(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)

    def summary(self) -> str:
        line = (
            f"read {self.read}, new {self.new}, updated {self.updated}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}"
        )
        if self.submissions:
            line += f", submissions {self.submissions}"
        reasons = self.skip_reasons()
        if reasons:
            line += " (" + "; ".join(f"{n}× {r}" for r, n in reasons.most_common(5)) + ")"
        return line

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "submissions": self.submissions,
            "skipped": [{"location": s.location, "reason": s.reason} for s in self.skipped],
        }
