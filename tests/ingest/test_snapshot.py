import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.ingest.base import Checkpoint, Record
from paperfeed.ingest.normalize import clean_text, collapse_space
from paperfeed.ingest.snapshot import parse_snapshot_line, read_snapshot, snapshot_key
from paperfeed.models import SkippedRecord
from tests.support.paths import DATA

HEAD = DATA / "kaggle_arxiv_snapshot_head" / "arxiv-metadata-oai-snapshot.head.json"
HEAD_LINES = HEAD.read_bytes().splitlines(keepends=True)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def papers(items: list) -> dict:
    return {i.paper.id: i.paper for i in items if isinstance(i, Record)}


def test_head_file_parses_every_line_with_real_values() -> None:
    items = list(read_snapshot(HEAD, checkpoint_every=10_000))
    by_id = papers(items)
    assert len(by_id) == 200
    assert not [i for i in items if isinstance(i, SkippedRecord)]
    assert items[-1] == Checkpoint(snapshot_key(HEAD), None)

    first = by_id["0704.0001"]
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.abstract.startswith("A fully differential calculation in perturbative quantum")
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert (first.version, first.published, first.updated) == (
        2,
        utc(2007, 4, 2, 19, 18, 42),
        utc(2007, 7, 24, 20, 10, 27),
    )
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comments == "37 pages, 15 figures; published version"
    assert (first.primary_category, first.categories) == ("hep-ph", ["hep-ph"])
    assert first.abs_url == "https://arxiv.org/abs/0704.0001v2"
    assert first.source == "snapshot"

    second = by_id["0704.0002"]
    assert (second.primary_category, second.categories) == ("math.CO", ["math.CO", "cs.CG"])
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert by_id["0704.0009"].authors[4:] == [
        "Nicholas Chapman",
        "Neal J. Evans II",
        "Philip C. Myers",
    ]
    assert by_id["0704.0064"].version == 5
    assert by_id["0704.0064"].updated == utc(2008, 10, 24, 12, 23, 58)


def test_latex_authors_string_used_without_authors_parsed() -> None:
    row = json.loads(HEAD_LINES[0])
    del row["authors_parsed"]
    paper = parse_snapshot_line(json.dumps(row))
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]


def test_accents_left_in_authors_parsed_are_decoded() -> None:
    row = json.loads(HEAD_LINES[0])
    row["authors_parsed"] = [['M{\\"u}ller', 'J\\"org', ""], ["Stra\\ss er", "A.", ""]]
    assert parse_snapshot_line(json.dumps(row)).authors == ["Jörg Müller", "A. Straßer"]


def test_unordered_versions_and_update_date_fallback() -> None:
    row = json.loads(HEAD_LINES[0])
    row["versions"] = [
        {"version": "v10", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        {"version": "v2", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
    ]
    paper = parse_snapshot_line(json.dumps(row))
    assert (paper.version, paper.updated) == (10, utc(2007, 7, 24, 20, 10, 27))
    row["versions"] = []
    paper = parse_snapshot_line(json.dumps(row))
    assert (paper.version, paper.published, paper.updated) == (None, None, utc(2008, 11, 26))


def write_lines(path: Path, lines: list[bytes], *, compress: bool = False) -> Path:
    data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_malformed_lines_are_reported_with_location(tmp_path: Path) -> None:
    good = HEAD_LINES[:3]
    no_title = json.loads(good[1])
    no_title["title"] = "  "
    bad_id = dict(json.loads(good[1]), id="not/an-id")
    lines = [
        good[0],
        b"{not json",
        json.dumps(no_title).encode(),
        b"",  # blank lines are ignored, not reported
        json.dumps(bad_id).encode(),
        b"[1, 2]",
        good[1],
        good[2][:200],  # truncated, as a killed writer leaves it
    ]
    path = write_lines(tmp_path / "snap.jsonl", lines)
    items = list(read_snapshot(path))
    skipped = {s.location: s.reason for s in items if isinstance(s, SkippedRecord)}
    assert list(papers(items)) == ["0704.0001", "0704.0002"]
    assert set(skipped) == {f"{path}:{n}" for n in (2, 3, 5, 6, 8)}
    assert skipped[f"{path}:2"].startswith("invalid JSON")
    assert skipped[f"{path}:3"] == "missing title"
    assert "not an arXiv id" in skipped[f"{path}:5"]
    assert skipped[f"{path}:6"] == "not a JSON object"
    assert skipped[f"{path}:8"].startswith("invalid JSON")


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    plain = write_lines(tmp_path / "plain.jsonl", HEAD_LINES)
    hidden_gzip = write_lines(tmp_path / "looks-plain.jsonl", HEAD_LINES, compress=True)
    from_plain = [i.paper for i in read_snapshot(plain) if isinstance(i, Record)]
    from_gzip = [i.paper for i in read_snapshot(hidden_gzip) if isinstance(i, Record)]
    assert len(from_plain) == 200
    assert from_gzip == from_plain


@pytest.mark.parametrize("compress", [False, True])
def test_checkpoints_and_resume_yield_exactly_the_rest(tmp_path: Path, compress: bool) -> None:
    path = write_lines(tmp_path / "snap.jsonl.gz", HEAD_LINES, compress=compress)
    key = snapshot_key(path)
    items = list(read_snapshot(path, checkpoint_every=30))
    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    assert [c.value for c in checkpoints] == ["30", "60", "90", "120", "150", "180", None]
    assert {c.key for c in checkpoints} == {key}
    all_ids = [i.paper.id for i in items if isinstance(i, Record)]
    # Records before a checkpoint are the lines it counts.
    cut = items.index(Checkpoint(key, "90"))
    assert len([i for i in items[:cut] if isinstance(i, Record)]) == 90

    resumed = list(read_snapshot(path, start_line=90, checkpoint_every=30))
    assert [i.paper.id for i in resumed if isinstance(i, Record)] == all_ids[90:]
    assert [i.value for i in resumed if isinstance(i, Checkpoint)] == [
        "120",
        "150",
        "180",
        None,
    ]
    beyond = list(read_snapshot(path, start_line=500))
    assert beyond == [Checkpoint(key, None)]


def test_snapshot_key_changes_with_the_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "snap.jsonl", HEAD_LINES[:2])
    key = snapshot_key(path)
    assert key.startswith(f"snapshot:{path.resolve()}")
    write_lines(path, HEAD_LINES[:3])
    assert snapshot_key(path) != key


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_collapse_space_matches_clean_text(text: str) -> None:
    assert collapse_space(text) == clean_text(text)


@pytest.mark.parametrize(
    "text", ["a\tb", "a\x1cb", "  x\r\ny  ", "caf\u0065\u0301\n  au\u00a0lait", "a\u2009 b", ""]
)
def test_collapse_space_matches_clean_text_on_odd_spaces(text: str) -> None:
    assert collapse_space(text) == clean_text(text)
