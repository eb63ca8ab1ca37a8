"""Importing a library through the page: matched papers land in "Imported library", unmatched
entries are listed and kept as interests, a broken entry is reported with its line and reason;
the upload may be up to 10 MB (the rest of the site accepts 1 MiB)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from tests.library.conftest import new_reader, papers_of_day


def test_import_page_files_matches_lists_the_rest_and_reports_a_broken_entry(
    site: PaperFeed, client: TestClient
) -> None:
    user, csrf = new_reader(site, client)
    first, second = papers_of_day(site, dt.date(2025, 3, 18))[:2]
    title = site.store.papers.get_paper(second).title
    bib = f"""@article{{one, title = {{Whatever}}, eprint = {{{first}}}, archivePrefix = {{arXiv}}}}

@inproceedings{{two, title = {{{title}}}, year = {{2025}}}}

@article{{broken, title = {{Unbalanced braces, author = {{Nobody}}

@misc{{elsewhere, title = {{Quantum gravity of teapots in orbit}},
  abstract = {{We measure tea in low earth orbit.}}}}
"""
    page = client.post(
        "/library/import",
        data={"csrf_token": csrf},
        files={"library": ("mine.bib", bib.encode(), "application/x-bibtex")},
    )
    assert page.status_code == 200, page.text
    assert "line 5:" in page.text and "malformed BibTeX entry" in page.text
    assert "Quantum gravity of teapots in orbit" in page.text  # listed as not found here
    (library,) = site.store.collections.of_user(user.id)
    assert library.name == "Imported library"
    assert {p.id for p, _ in site.store.collections.papers(library.id)} == {first, second}
    (interest,) = site.store.readers.interests_of(user.id)
    assert interest.title == "Quantum gravity of teapots in orbit"
    assert interest.abstract == "We measure tea in low earth orbit."


def test_a_library_may_be_larger_than_other_requests_but_not_than_10_mb(
    site: PaperFeed, client: TestClient
) -> None:
    _, csrf = new_reader(site, client)
    ids = "".join(f"{p}\n" for p in papers_of_day(site, dt.date(2025, 3, 20)))
    padding = "# a comment line that pads the file to more than a mebibyte\n" * 40_000
    big = (ids + padding).encode()
    assert 2**20 < len(big) < 10 * 2**20
    accepted = client.post(
        "/library/import",
        data={"csrf_token": csrf},
        files={"library": ("ids.txt", big, "text/plain")},
    )
    assert accepted.status_code == 200, accepted.text[:500]
    refused = client.post(
        "/library/import",
        data={"csrf_token": csrf},
        files={"library": ("huge.txt", b"#" * (11 * 2**20), "text/plain")},
    )
    assert refused.status_code == 413
    assert client.post("/vote", content=b"x" * (2 * 2**20)).status_code == 413
