"""Personal recommendations: a reader's library file (`parse_library`), its papers in the store
(`match_library`), their interests (`ReaderSignals`) and the one ranker (`Recommender`) that the
/for-you page, the digest's picks, `paperfeed recommend` and ``POST /api/recommend`` use."""

from paperfeed.recommend.library import (
    FORMATS,
    LibraryEntry,
    LibraryError,
    LibraryFile,
    detect_format,
    parse_library,
)
from paperfeed.recommend.matching import LibraryMatch, match_library
from paperfeed.recommend.pool import CandidatePool
from paperfeed.recommend.ranker import (
    DEFAULT_OPTIONS,
    RankOptions,
    Recommendation,
    Recommender,
    VectorSource,
)
from paperfeed.recommend.signals import InterestText, PositivePaper, ReaderSignals

__all__ = [
    "DEFAULT_OPTIONS",
    "FORMATS",
    "CandidatePool",
    "InterestText",
    "LibraryEntry",
    "LibraryError",
    "LibraryFile",
    "LibraryMatch",
    "PositivePaper",
    "RankOptions",
    "ReaderSignals",
    "Recommendation",
    "Recommender",
    "VectorSource",
    "detect_format",
    "match_library",
    "parse_library",
]
