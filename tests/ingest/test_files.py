import datetime as dt
import gzip
import json
from itertools import islice
from pathlib import Path

from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_bibtex, read_jsonl
from paperfeed.ingest.normalize import local_id, optional_text
from paperfeed.models import SkippedRecord
from tests.support.paths import DATA


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def split(items: list) -> tuple[list, list[SkippedRecord]]:
    return (
        [i.paper for i in items if isinstance(i, Record)],
        [i for i in items if isinstance(i, SkippedRecord)],
    )


def test_seed_papers_all_parse() -> None:
    rows = [json.loads(line) for line in (DATA / "seed_papers.jsonl").open()]
    papers, skipped = split(list(read_jsonl(DATA / "seed_papers.jsonl")))
    assert len(papers) == len(rows) == 344
    assert not skipped
    assert [p.title for p in papers] == [" ".join(r["title"].split()) for r in rows]
    assert all(p.id == local_id(p.title) and p.version is None for p in papers)
    assert [p.n_authors for p in papers] == [r.get("n_authors") for r in rows]
    dated = [
        (r["listed_date"], p.published)
        for r, p in zip(rows, papers, strict=True)
        if r.get("listed_date")
    ]
    assert len(dated) == 89 and all(published for _, published in dated)
    first = papers[0]
    assert first.title.startswith("Statistical mechanics of continual learning")
    assert (first.published, first.n_authors) == (utc(2022, 12, 6), 4)
    this_year = dt.datetime.now(dt.UTC).year
    assert dict(dated)["May 21"] == utc(this_year, 5, 21)  # no year shown = this year
    assert dict(dated)["Oct 31, 2024 6"] == utc(2024, 10, 31)  # a stray count after the date


def test_ml_conference_papers_get_local_ids_and_venues() -> None:
    papers, skipped = split(list(read_jsonl(DATA / "ml_conference_papers.jsonl.gz")))
    assert len(papers) == 22088 and not skipped
    assert all(p.id.startswith("local:") for p in papers)
    first = papers[0]
    assert first.title == "A Study of Approximate Inference in Probabilistic Relational Models"
    assert first.authors == ["Fabian Kaelin", "Doina Precup"]
    assert (first.journal_ref, first.published) == ("acml", utc(2010, 1, 1))
    assert first.abs_url == "https://proceedings.mlr.press/v13/kaelin10a.html"


def test_arxiv_listing_corpus_reads_ids_dates_and_categories() -> None:
    path = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"
    first = next(read_jsonl(path)).paper
    assert first.id == "2503.11731"
    assert first.title.startswith("Industrial-Grade Sensor Simulation via Gaussian Splatting")
    assert first.authors[:2] == ["Xianming Zeng", "Sicong Du"] and len(first.authors) == 16
    assert (first.primary_category, first.categories) == ("cs.CV", ["cs.CV", "cs.RO"])
    assert first.published == utc(2025, 3, 18)
    assert first.pdf_url == "https://arxiv.org/pdf/2503.11731"
    with gzip.open(path, "rt") as raw:
        expected = [json.loads(line) for line in islice(raw, 2000)]
    papers, skipped = split(list(islice(read_jsonl(path), 2000)))
    assert not skipped
    assert [p.id for p in papers] == [r["id"] for r in expected]
    assert [p.comments for p in papers] == [optional_text(r["comment"]) for r in expected]


def test_arxiv_listing_corpus_reads_fully() -> None:
    papers, skipped = split(list(read_jsonl(DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz")))
    assert len(papers) == 74728 and not skipped
    assert not [p for p in papers if not p.is_arxiv or p.published is None]


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_loose_keys_and_id_forms(tmp_path: Path) -> None:
    base = {"title": "A  Title\n", "abstract": "An abstract."}
    rows = [
        {**base, "id": "2401.01234v2", "categories": "cs.LG stat.ML", "published": "2024-03-16"},
        {**base, "arxiv_id": "https://arxiv.org/abs/hep-th/9901001v3", "date": "Mar 16, 2024"},
        {**base, "id": "W1234", "authors": "Ann Lee and Bo Chen", "venue": "ICML", "year": 2019},
        {**base, "doi": "10.48550/arXiv.2310.00001", "listed": "Mar 16", "comments": "8 pages"},
        {**base, "url": "https://openreview.net/forum?id=x", "journal_ref": "JMLR 1", "venue": "v"},
        {**base, "authors": ['M{\\"u}ller, J.'], "publishedAt": "2024-03-16T10:00:00+02:00"},
    ]
    papers, skipped = split(list(read_jsonl(write_jsonl(tmp_path / "p.jsonl", rows))))
    assert not skipped
    assert (papers[0].id, papers[0].version, papers[0].title) == ("2401.01234", 2, "A Title")
    assert (papers[0].primary_category, papers[0].published) == ("cs.LG", utc(2024, 3, 16))
    assert papers[0].abs_url == "https://arxiv.org/abs/2401.01234v2"
    assert (papers[1].id, papers[1].version, papers[1].published) == (
        "hep-th/9901001",
        3,
        utc(2024, 3, 16),
    )
    assert papers[2].id == local_id("A Title", ["Ann Lee", "Bo Chen"])
    assert papers[2].authors == ["Ann Lee", "Bo Chen"]
    assert (papers[2].journal_ref, papers[2].published) == ("ICML", utc(2019, 1, 1))
    assert (papers[3].id, papers[3].comments) == ("2310.00001", "8 pages")
    assert papers[3].published == utc(dt.datetime.now(dt.UTC).year, 3, 16)
    assert (papers[4].journal_ref, papers[4].abs_url) == (
        "JMLR 1",
        "https://openreview.net/forum?id=x",
    )
    assert papers[5].authors == ["Müller, J."]
    assert papers[5].published == utc(2024, 3, 16, 8)


def test_bad_lines_are_reported_and_gzip_found_by_magic(tmp_path: Path) -> None:
    rows = [
        {"title": "Kept", "abstract": "Yes."},
        "{broken",
        {"title": "No abstract"},
        ["a", "list"],
        {"title": "Also kept", "abstract": "Yes.", "published": "not a date"},
    ]
    plain = write_jsonl(tmp_path / "rows.jsonl", rows)
    hidden = tmp_path / "rows.data"
    hidden.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, hidden):
        papers, skipped = split(list(read_jsonl(path)))
        assert [p.title for p in papers] == ["Kept", "Also kept"]
        assert papers[1].published is None  # an unreadable date does not lose the paper
        assert [(s.location, s.reason[:12]) for s in skipped] == [
            (f"{path}:2", "invalid JSON"),
            (f"{path}:3", "missing abst"),
            (f"{path}:4", "not a JSON o"),
        ]


BIBTEX = r"""% exported references
@string{neurips = "Advances in Neural Information Processing Systems"}

@inproceedings{muller2019,
  title = {{BERT}-style Pre-training for {\"O}zg{\"u}r's Graphs},
  author = {M{\"u}ller, J\"org and Smith, John and van der Berg, Jr., Anna},
  booktitle = neurips,
  year = 2019,
  month = jun,
  abstract = {We pre-train $f(x)$ on graphs.},
  doi = {10.5555/12345},
}

@article{arxiv2023,
  title = "Attention Everywhere",
  author = "Lee, Ann",
  journal = {arXiv preprint},
  eprint = {2305.01234v2},
  archivePrefix = {arXiv},
  primaryClass = {cs.CL},
  year = {2023},
  abstract = {Attention, again.},
}

@misc{noabstract,
  title = {No Abstract Here},
  author = {Doe, Jane},
  year = {2020},
}

@article{viaurl, title = {Found by URL}, author = {Roe, Rick}, year = 2021, month = {11},
  url = {https://arxiv.org/abs/2111.00042}, abstract = {Linked.}}

@article{broken,
  title = {Unclosed
"""


def test_bibtex_entries(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(BIBTEX)
    papers, skipped = split(list(read_bibtex(path)))
    assert [p.title for p in papers] == [
        "BERT-style Pre-training for Özgür's Graphs",
        "Attention Everywhere",
        "Found by URL",
    ]
    first = papers[0]
    assert first.authors == ["Jörg Müller", "John Smith", "Anna van der Berg Jr."]
    assert first.journal_ref == "Advances in Neural Information Processing Systems"
    assert (first.published, first.doi) == (utc(2019, 6, 1), "10.5555/12345")
    assert first.abstract == "We pre-train $f(x)$ on graphs."
    assert first.id == local_id(first.title, first.authors) and first.source == "bibtex"
    second = papers[1]
    assert (second.id, second.version, second.authors) == ("2305.01234", 2, ["Ann Lee"])
    assert (second.primary_category, second.published) == ("cs.CL", utc(2023, 1, 1))
    assert (papers[2].id, papers[2].published) == ("2111.00042", utc(2021, 11, 1))
    reasons = {s.location: s.reason for s in skipped}
    assert reasons == {
        f"{path}:25": "noabstract: missing abstract",
        f"{path}:34": "malformed BibTeX entry (ParsingFailedBlock)",
    }


def test_bibtex_gzip(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib.gz"
    path.write_bytes(gzip.compress(BIBTEX.encode()))
    papers, _ = split(list(read_bibtex(path)))
    assert [p.id for p in papers][1:] == ["2305.01234", "2111.00042"]
