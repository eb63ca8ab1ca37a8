"""Collections: private to their owner (404 to anyone else), public ones readable with an Atom
feed, saved from a card's button, and exported as BibTeX, RIS and CSL-JSON that read back."""

from __future__ import annotations

import datetime as dt
import json

import feedparser
import rispy
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.recommend.library import parse_library
from tests.library.conftest import new_reader, papers_of_day

DAY = dt.date(2025, 3, 19)


def _create(client: TestClient, csrf: str, name: str, *, public: bool = False) -> str:
    data = {"name": name, "csrf_token": csrf}
    if public:
        data["public"] = "1"
    response = client.post("/collections", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _save(client: TestClient, csrf: str, paper_id: str, **fields: str) -> None:
    data = {"paper_id": paper_id, "csrf_token": csrf, "next": "/", **fields}
    response = client.post("/collections/save", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_private_collection_is_theirs_alone(site: PaperFeed, client: TestClient) -> None:
    owner, csrf = new_reader(site, client)
    path = _create(client, csrf, "Secret reading")
    paper = papers_of_day(site, DAY)[0]
    _save(client, csrf, paper, new_name="Secret reading")
    mine = client.get(path)
    assert mine.status_code == 200 and site.store.papers.get_paper(paper).title[:30] in mine.text
    assert client.get(path + "/export?format=bibtex").status_code == 200

    with TestClient(client.app) as anonymous:
        for url in (path, path + "/export?format=ris", "/feeds" + path + ".atom"):
            assert anonymous.get(url).status_code == 404, url
        collection = site.store.collections.of_user(owner.id)[0]
        assert anonymous.get(f"/collections/{collection.id}").status_code == 404
    with TestClient(client.app) as other:
        _, other_csrf = new_reader(site, other)
        assert other.get(path).status_code == 404
        assert other.get(f"/collections/{collection.id}").status_code == 404
        # nor can they change it
        other.post(
            f"/collections/{collection.id}/remove",
            data={"paper_id": paper, "csrf_token": other_csrf},
        )
        other.post(f"/collections/{collection.id}/delete", data={"csrf_token": other_csrf})
    assert [p.id for p, _ in site.store.collections.papers(collection.id)] == [paper]


def test_public_collection_has_a_page_and_an_atom_feed(site: PaperFeed, client: TestClient) -> None:
    _, csrf = new_reader(site, client)
    path = _create(client, csrf, "Gaussian splatting", public=True)
    papers = papers_of_day(site, DAY)[:3]
    chosen = site.store.collections.find(path.rsplit("/", 1)[1])
    assert chosen is not None and chosen.public
    for paper_id in papers:
        _save(client, csrf, paper_id, collection_id=str(chosen.id))

    with TestClient(client.app) as anonymous:
        page = anonymous.get(path)
        assert page.status_code == 200
        for paper_id in papers:
            assert f"/papers/{paper_id}" in page.text
        feed = anonymous.get(f"/feeds{path}.atom")
        assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert parsed.feed.title == "Collection: Gaussian splatting"
    assert {e.link.rsplit("/papers/", 1)[1] for e in parsed.entries} == set(papers)


def test_a_cards_save_button_puts_the_paper_in_the_reading_list(
    site: PaperFeed, client: TestClient
) -> None:
    user, csrf = new_reader(site, client)
    search = client.get("/search", params={"q": "gaussian splatting"})
    assert 'action="/collections/save"' in search.text
    paper_id = search.text.split('name="paper_id" value="')[1].split('"')[0]
    _save(client, csrf, paper_id)
    (reading,) = site.store.collections.of_user(user.id)
    assert reading.name == "Reading list" and not reading.public
    assert [p.id for p, _ in site.store.collections.papers(reading.id)] == [paper_id]
    # the paper page offers that collection and says the paper is in it
    assert "Reading list (saved)" in client.get(f"/papers/{paper_id}").text


def test_exports_read_back_as_the_same_papers(site: PaperFeed, client: TestClient) -> None:
    _, csrf = new_reader(site, client)
    path = _create(client, csrf, "To export")
    chosen = site.store.collections.find(path.rsplit("/", 1)[1])
    assert chosen is not None
    papers = papers_of_day(site, DAY)[5:12]
    for paper_id in papers:
        _save(client, csrf, paper_id, collection_id=str(chosen.id))

    bibtex = client.get(path + "/export?format=bibtex")
    assert bibtex.headers["content-disposition"].endswith('.bib"')
    ris = client.get(path + "/export?format=ris").text
    csl = json.loads(client.get(path + "/export?format=csl-json").text)

    # BibTeX out, BibTeX in (another reader's import) -> the same papers
    with TestClient(client.app) as other:
        reader, other_csrf = new_reader(site, other)
        imported = other.post(
            "/library/import",
            data={"csrf_token": other_csrf},
            files={"library": ("export.bib", bibtex.content, "application/x-bibtex")},
        )
        assert imported.status_code == 200, imported.text
    (library,) = site.store.collections.of_user(reader.id)
    assert {p.id for p, _ in site.store.collections.papers(library.id)} == set(papers)

    titles = {site.store.papers.get_paper(p).title for p in papers}
    records = rispy.loads(ris)
    assert {r["title"] for r in records} == titles
    assert {e.arxiv_id for e in parse_library(ris.encode()).entries} == set(papers)
    assert {item["title"] for item in csl} == titles
    assert {item["number"] for item in csl} == {f"arXiv:{p}" for p in papers}
    assert {e.arxiv_id for e in parse_library(json.dumps(csl).encode()).entries} == set(papers)
