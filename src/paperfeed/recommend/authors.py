"""Author names as the ranker compares them: case, accents and punctuation ignored, and an
initial ("J. Smith") taken for any first name with that letter ("John Smith", "Jane Smith").

A full name matches the same full name and abbreviated spellings of it; an abbreviated name
matches every name with its initial and family name; "Smith, John" is "John Smith". Nothing
else is guessed (no nicknames, no reordering without a comma): "Wei Wang" is not "Wang Wei".
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

_SUFFIXES = {"", "jr", "sr", "ii", "iii", "iv"}  # "John Smith, Jr." stays as it is


@lru_cache(maxsize=65_536)
def normalize_name(name: str) -> str:
    """Lower-case, accents and punctuation dropped, spaces collapsed: "J. Müller" -> "j muller"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


@lru_cache(maxsize=65_536)
def name_keys(name: str) -> tuple[str, str, bool]:
    """(full key, initial key, whether the name is abbreviated): "J. Smith" -> ("j smith",
    "j smith", True); "John Smith" -> ("john smith", "j smith", False). A name written family
    name first ("Smith, John", as BibTeX and RIS do) is turned around."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip(" .").lower() not in _SUFFIXES:
        name = f"{given} {family}"
    words = normalize_name(name).split()
    if not words:
        return "", "", False
    if len(words) == 1:
        return words[0], words[0], False
    abbreviated = all(len(w) == 1 for w in words[:-1])
    return " ".join(words), f"{words[0][0]} {words[-1]}", abbreviated


class AuthorIndex:
    """Which of a list of papers (by position) each author name wrote."""

    def __init__(self, authors_of: Sequence[Sequence[str]]) -> None:
        self._full: defaultdict[str, list[int]] = defaultdict(list)
        self._abbreviated: defaultdict[str, list[int]] = defaultdict(list)  # by initial key
        self._initial: defaultdict[str, list[int]] = defaultdict(list)
        for position, names in enumerate(authors_of):
            for name in names:
                full, initial, abbreviated = name_keys(name)
                if not full:
                    continue
                self._full[full].append(position)
                self._initial[initial].append(position)
                if abbreviated:
                    self._abbreviated[initial].append(position)

    def papers_by(self, name: str) -> set[int]:
        """Positions of the papers `name` (in any spelling this module accepts) wrote."""
        full, initial, abbreviated = name_keys(name)
        if not full:
            return set()
        if abbreviated:
            return set(self._initial.get(initial, ()))
        return {*self._full.get(full, ()), *self._abbreviated.get(initial, ())}


def author_counts(authors_of: Iterable[tuple[Sequence[str], float]]) -> dict[str, float]:
    """Summed weight per full name key over (authors, weight) of papers, keeping the first
    spelling seen as the key's display name: {display name: weight}."""
    weights: dict[str, float] = {}
    shown: dict[str, str] = {}
    for names, weight in authors_of:
        for name in dict.fromkeys(names):
            full = name_keys(name)[0]
            if full:
                shown.setdefault(full, name)
                weights[full] = weights.get(full, 0.0) + weight
    return {shown[key]: weight for key, weight in weights.items()}
