"""Keywords per paper: speed (papers/s) and agreement with Hugging Face's ``ai_keywords``, for
the pure-Python ``yake``, raw ``yake-rust`` and paperfeed's extractor (yake-rust + filters),
side by side on the same papers; and the speed of finding code links at ingest.

Agreement: over real daily papers that have ``ai_keywords`` (an LLM's picks, so a proxy, not a
truth), the share of our phrases matching one of theirs (precision) and of theirs matched
(recall); two phrases match when one's words (lower-cased) are all among the other's. A few
papers' phrases are written to the JSON for reading by eye.

Writes bench/results/keywords.json. Usage: python bench/keywords.py [--papers 500]
(``yake`` itself is not a dependency: pip install yake to compare with it.)
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import time
from collections.abc import Callable

import yake_rust

from bench.common import ARXIV_CORPUS, DATA, RESULTS
from paperfeed.code_links import find_code_links
from paperfeed.search.keywords import CANDIDATES, KEYWORDS, MAX_WORDS, KeywordExtractor

HF_ITEMS = DATA / "hf_daily_papers" / "items.jsonl.gz"
Extractor = Callable[[str, str], list[str]]


def hf_papers(count: int) -> list[tuple[str, str, list[str]]]:
    """(title, abstract, ai_keywords) of the first `count` items that have keywords."""
    found = []
    with gzip.open(HF_ITEMS, "rt") as lines:
        for line in lines:
            paper = json.loads(line)["paper"]
            keywords = [k for k in paper.get("ai_keywords") or [] if k]
            if keywords:
                title, abstract = (" ".join(paper[k].split()) for k in ("title", "summary"))
                found.append((title, abstract, keywords))
                if len(found) == count:
                    return found
    return found


def words(phrase: str) -> frozenset[str]:
    return frozenset(w.lower() for w in re.findall(r"\w+", phrase))


def matches(a: str, b: str) -> bool:
    left, right = words(a), words(b)
    return bool(left and right) and (left <= right or right <= left)


def extractors() -> dict[str, Extractor]:
    raw = yake_rust.Yake(language="en", ngrams=MAX_WORDS, deduplication_threshold=0.9)
    ours = KeywordExtractor()
    found: dict[str, Extractor] = {
        "yake_rust_raw": lambda t, a: [k for k, _ in raw.get_n_best(f"{t}.\n{a}", n=KEYWORDS)],
        "paperfeed": ours.extract,
    }
    try:
        import yake  # optional: only for the comparison

        python = yake.KeywordExtractor(lan="en", n=MAX_WORDS, top=KEYWORDS, dedupLim=0.9)
        found["yake_python"] = lambda t, a: [k for k, _ in python.extract_keywords(f"{t}.\n{a}")]
    except ImportError:
        pass
    return found


def measure(extract: Extractor, papers: list[tuple[str, str, list[str]]]) -> dict[str, object]:
    started = time.perf_counter()
    picked = [extract(title, abstract) for title, abstract, _ in papers]
    seconds = time.perf_counter() - started
    ours = sum(len(p) for p in picked)
    precise = sum(
        any(matches(k, h) for h in hf)
        for p, (_, _, hf) in zip(picked, papers, strict=True)
        for k in p
    )
    theirs = sum(len(hf) for _, _, hf in papers)
    recalled = sum(
        any(matches(h, k) for k in p)
        for p, (_, _, hf) in zip(picked, papers, strict=True)
        for h in hf
    )
    return {
        "papers_per_s": round(len(papers) / seconds, 1),
        "keywords_per_paper": round(ours / len(papers), 2),
        "precision_vs_hf": round(precise / max(ours, 1), 3),
        "recall_vs_hf": round(recalled / max(theirs, 1), 3),
        "examples": [
            {"title": t, "hf": hf, "ours": p}
            for p, (t, _, hf) in list(zip(picked, papers, strict=True))[:5]
        ],
    }


def code_link_speed(count: int = 20_000) -> dict[str, object]:
    with gzip.open(ARXIV_CORPUS, "rt") as lines:
        records = [json.loads(line) for line in itertools.islice(lines, count)]
    started = time.perf_counter()
    found = [find_code_links([r["abstract"], r.get("comment")]) for r in records]
    seconds = time.perf_counter() - started
    return {
        "papers": len(records),
        "papers_per_s": round(len(records) / seconds),
        "with_code": sum(1 for f in found if f.code_url),
        "with_project_page": sum(1 for f in found if f.project_url),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=500)
    args = parser.parse_args()
    papers = hf_papers(args.papers)
    result = {
        "papers": len(papers),
        "settings": {"keywords": KEYWORDS, "candidates": CANDIDATES, "max_words": MAX_WORDS},
        "extractors": {name: measure(extract, papers) for name, extract in extractors().items()},
        "code_links": code_link_speed(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "keywords.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for name, figures in result["extractors"].items():
        shown = {k: v for k, v in figures.items() if k != "examples"}
        print(f"{name:15} {shown}")
    print("code links:", result["code_links"])


if __name__ == "__main__":
    main()
