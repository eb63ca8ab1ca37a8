"""Long lists of ids in bounded pieces: one ``IN (...)`` clause per piece.

SQLite allows a limited number of bound parameters per statement (999 in older builds), and a
very long ``IN`` list costs PostgreSQL more to plan than a few shorter ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

CHUNK = 900  # bound parameters per IN (...) clause


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`values` in order, as lists of at most `size` (none for no values)."""
    if size < 1:
        raise ValueError(f"chunk size must be positive, not {size}")
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk
