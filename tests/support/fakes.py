"""Fakes that tests inject instead of the real thing: a fast deterministic embedder (a sum of
per-word random vectors, L2-normalised) and a mailer that records what it is given."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

import numpy as np
from argon2 import PasswordHasher

from paperfeed.query import STOPWORDS


class HashingEmbedder:
    """Each word (lower-cased, plural "s" stripped, stop words skipped) maps to a fixed
    pseudo-random direction, so texts sharing words are near and ties practically impossible."""

    def __init__(self, dim: int = 64, name: str = "hashing-test") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0  # documents embedded so far
        self._words: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._words[word] = vector
        return vector

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            if word in STOPWORDS:
                continue
            vector += self._word(word[:-1] if len(word) > 3 and word.endswith("s") else word)
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


@dataclass
class RecordingMailer:
    """A mailer that keeps what it is given (one per test: every digest run opens it again)."""

    where: str = "recording"
    sent: list[EmailMessage] = field(default_factory=list)
    opened: int = 0
    closed: int = 0

    def __call__(self) -> RecordingMailer:  # the mailer factory
        self.opened += 1
        return self

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def close(self) -> None:
        self.closed += 1

    def recipients(self) -> list[str]:
        return [str(m["To"]) for m in self.sent]


START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


class ManualClock:
    """The aware UTC time a PaperFeed sees (its `clock=`): START until a test moves it."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def cheap_password_hasher() -> PasswordHasher:
    """argon2 with its smallest cost: the same code path, without a second per hash."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
