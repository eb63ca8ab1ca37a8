"""Code repositories and project pages found in real arXiv abstracts and comments (the cs.CV /
cs.CL crawl of the shared data), and links that must never come out."""

from __future__ import annotations

import gzip
import json

import pytest

from paperfeed.code_links import find_code_links, repository_url
from paperfeed.ingest.hf_daily import read_hf_daily
from tests.support.paths import DATA

CRAWL = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"

# arXiv id -> (code repository, project page) as written in its abstract or comment
REAL = {
    # "...available at \textcolor{red}{https://github.com/yiyscut/VIO-IPNet.git}."
    "2503.12527": ("https://github.com/yiyscut/VIO-IPNet", None),
    # ".../Awesome-Multimodal-Large-Language-Models/tree/Alignment." (a branch, then a full stop)
    "2503.14504": ("https://github.com/BradyFU/Awesome-Multimodal-Large-Language-Models", None),
    # "(https://gitlab.com/nativqa/nativqa-framework)." and "https://gitlab.com/nct_tso_public/surgvgen."
    "2504.05995": ("https://gitlab.com/nativqa/nativqa-framework", None),
    "2505.09858": ("https://gitlab.com/nct_tso_public/surgvgen", None),
    # "https://www.github.com/sremedios/eclare." and a bare "github.com/Xu3XiWang/CAD-GD."
    "2503.11787": ("https://github.com/sremedios/eclare", None),
    "2503.12460": ("https://github.com/Xu3XiWang/CAD-GD", None),
    # "\url{https://github.com/jdg900/MMR}" and "\href{https://github.com/...}{...}" (comments)
    "2503.13881": ("https://github.com/jdg900/MMR", None),
    "2503.14029": ("https://github.com/Runsong123/Unified-Lift", None),
    # project pages in the comments
    "2503.12024": (None, "https://byeongjun-park.github.io/SteerX/"),
    "2503.12052": (None, "https://human-tailor.github.com"),
}


@pytest.fixture(scope="module")
def crawled() -> dict[str, dict]:
    if not CRAWL.exists():
        pytest.skip(f"no shared data at {CRAWL}")
    found = {}
    with gzip.open(CRAWL, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in REAL:
                found[record["id"]] = record
    assert set(found) == set(REAL)
    return found


@pytest.mark.parametrize("arxiv_id", sorted(REAL))
def test_links_of_real_abstracts_and_comments(crawled: dict[str, dict], arxiv_id: str) -> None:
    record = crawled[arxiv_id]
    links = find_code_links([record["abstract"], record["comment"]])
    assert (links.code_url, links.project_url) == REAL[arxiv_id]


@pytest.mark.parametrize(
    ("written", "repository"),
    [
        ("https://github.com/a/b.git", "https://github.com/a/b"),
        ("github.com/a/b/tree/main", "https://github.com/a/b"),
        ("http://GitHub.com/a/b/blob/main/README.md", "https://github.com/a/b"),
        (
            "https://gitlab.com/group/sub/project/-/tree/main",
            "https://gitlab.com/group/sub/project",
        ),
        ("https://github.com/Alibaba-NLP/WebAgent//", "https://github.com/Alibaba-NLP/WebAgent"),
        ("https://github.com/DFIR-Metric", "https://github.com/DFIR-Metric"),  # an owner alone
        ("https://example.org/a/b", None),
    ],
)
def test_repository_urls_are_normalised(written: str, repository: str | None) -> None:
    assert repository_url(written) == repository


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(1)",
        "javascript://github.com/%0aalert(document.cookie)",
        "JaVaScRiPt:alert('github.com/a/b')//",
        "data:text/html,<script>alert(1)</script>",
        'https://github.com/a/b"onmouseover="alert(1)',
        "vbscript:msgbox(1)",
    ],
)
def test_hostile_links_never_come_out(hostile: str) -> None:
    links = find_code_links([f"Code: {hostile}", hostile])
    for found in (links.code_url, links.project_url):
        assert found is None or found.startswith("https://")
        assert found is None or not any(c in found for c in "\"'<> ")
    assert repository_url(hostile) is None or repository_url(hostile).startswith("https://")


def test_hub_links_that_are_not_http_are_dropped_at_import(tmp_path) -> None:
    item = {
        "paper": {
            "id": "2501.00001",
            "title": "A paper",
            "summary": "An abstract.",
            "authors": [{"_id": "1", "name": "Ada", "user": {"avatarUrl": "javascript:x()"}}],
            "githubRepo": "javascript:alert(1)",
            "projectPage": "data:text/html,x",
            "upvotes": 1,
        },
        "publishedAt": "2025-01-02T03:04:05.000Z",
        "thumbnail": "javascript:alert(2)",
        "mediaUrls": ["https://cdn.example/x.png", "vbscript:y"],
        "submittedBy": {"name": "bob", "avatarUrl": "/avatars/b.svg"},
    }
    path = tmp_path / "2025-01-02.json"
    path.write_text(json.dumps([item]))
    (record,) = read_hf_daily(path)
    assert (record.paper.code_url, record.paper.project_url) == (None, None)
    assert record.paper.hf["authors"][0] == {"_id": "1", "name": "Ada", "user": {}}
    assert "thumbnail" not in record.submission.hf
    assert record.submission.hf["mediaUrls"] == ["https://cdn.example/x.png"]
    assert (
        record.submission.hf["submittedBy"]["avatarUrl"] == "https://huggingface.co/avatars/b.svg"
    )
