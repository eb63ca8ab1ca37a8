"""LaTeX accents and braces (``{\\'a}``, ``\\"o``, ``\\ss``, ``{BERT}``) as plain Unicode text."""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

from paperfeed.ingest.normalize import clean_text

_CONVERTER = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)
_BARE_PERCENT = re.compile(r"(?<!\\)%")  # a comment in LaTeX, a literal in metadata


def has_latex(text: str) -> bool:
    return "\\" in text or "{" in text


@lru_cache(maxsize=65536)
def latex_to_text(text: str) -> str:
    """Decode accents and drop grouping braces; math (``$...$``) is kept verbatim.

    Text without a backslash or brace is only whitespace-cleaned (the fast, common case).
    """
    if not has_latex(text):
        return clean_text(text)
    try:
        decoded = _CONVERTER.latex_to_text(_BARE_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc is lenient; keep the raw text if it still gives up
        return clean_text(text)
    return clean_text(decoded)
