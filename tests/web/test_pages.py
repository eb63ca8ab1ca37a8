"""The HTML pages through FastAPI's TestClient: rendering, escaping, forms, votes, moderation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.core import community as core_community
from paperfeed.ingest.base import Record
from paperfeed.models import Paper
from paperfeed.web.app import create_app
from tests.support.net import free_port
from tests.support.paths import DATA
from tests.support.recorded_server import RecordedServer
from tests.support.web import PAPERS, PASSWORD, csrf_of, log_in

ATOM = DATA / "arxiv_api_atom_arxivpy" / "xml"


def titles(html: str) -> list[str]:
    """Paper ids of the cards on a page, in order."""
    return re.findall(r'<h3 class="title">.*?<a href="/papers/([^"]+)"', html)


def vote(client: TestClient, token: str, paper_id: str, action: str = "up", **extra: str):
    data = {
        "paper_id": paper_id,
        "action": action,
        "next": "/?date=2024-01-10",
        "csrf_token": token,
    }
    return client.post("/vote", data={**data, **extra}, follow_redirects=False)


def upvotes_shown(client: TestClient, paper_id: str) -> int:
    page = client.get(f"/papers/{paper_id}").text
    return int(re.search(r'<span class="count">(\d+)</span>', page).group(1))


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "Strings on Old-Style Identifiers"),
        ("/?date=2024-01-10", "Sparse Attention Transformers"),
        ("/?week=2024-W02", "Diffusion Models for Protein Design"),
        ("/?month=2024-01&sort=date", "Strings on Old-Style Identifiers"),
        ("/trending", "Trending papers"),
        ("/about", "How trending works"),
        ("/search", "Search papers"),
        ("/search?q=protein", "Diffusion Models for <mark>Protein</mark> Design"),
        ("/papers/2401.00001", "Ada Lovelace"),
        ("/papers/hep-th/9901001", "Edward Witten"),
        ("/submit", "Submit a paper"),
        ("/login", "Log in"),
        ("/signup", "Create account"),
        ("/static/style.css", ".card"),
    ],
)
def test_pages_render(reader: TestClient, path: str, expected: str) -> None:
    response = reader.get(path)
    assert response.status_code == 200
    assert expected in response.text


def test_daily_feed_defaults_to_latest_day_with_navigation(reader: TestClient) -> None:
    page = reader.get("/").text
    assert titles(page) == ["hep-th/9901001"]
    assert 'rel="prev" href="/?date=2024-01-10&amp;sort=upvotes"' in page
    assert "no later papers" in page
    day = reader.get("/?date=2024-01-10").text
    assert titles(day) == ["2401.00001", "2401.00002"]  # 5 upvotes before 2
    assert 'href="/?date=2024-01-08&amp;sort=upvotes"' in day
    assert 'href="/?date=2024-01-12&amp;sort=upvotes"' in day
    assert 'submitted 2024-01-10 by <strong class="submitter">curator</strong>' in day
    assert ">Grace Hopper</a>" in day and "cs.CL" in day


def test_week_and_month_views(reader: TestClient) -> None:
    week = reader.get("/?week=2024-W02").text  # Jan 8 – Jan 14
    assert titles(week) == ["2401.00003", "2401.00001", "2401.00002", "hep-th/9901001"]
    assert "Papers of the week" in week
    month = reader.get("/?month=2024-01&sort=date").text
    assert titles(month)[0] == "hep-th/9901001"  # newest submission first
    assert 'href="/?month=2024-01&amp;sort=date" class="active"' in month
    empty = reader.get("/?date=2023-05-01").text
    assert "No papers were submitted on May 1, 2023" in empty
    assert 'href="/?date=2024-01-08&amp;sort=upvotes"' in empty  # the next day with papers


def test_feed_pagination(client: TestClient, monkeypatch) -> None:
    # its own app: the module's shared one may have cached these pages at the usual size
    monkeypatch.setattr("paperfeed.web.pages.FEED_PAGE", 1)
    first = client.get("/?date=2024-01-10").text
    assert titles(first) == ["2401.00001"] and "page=2" in first
    second = client.get("/?date=2024-01-10&page=2").text
    assert titles(second) == ["2401.00002"] and "next page" not in second


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/?date=2024-02-30", 400, "YYYY-MM-DD"),
        ("/?week=2024-99", 400, "YYYY-Www"),
        ("/?date=2024-01-10&month=2024-01", 400, "only one of"),
        ("/?sort=random", 400, "sort must be one of"),
        ("/?page=0", 400, "page must be between"),
        ("/?page=abc", 400, "malformed request"),
        ("/search?q=x&from=yesterday", 400, "from must be a date"),
        ("/search?q=x&page=-1", 400, "page must be between"),
        ("/papers/9999.99999", 404, "there is no paper"),
        ("/papers/", 404, "Not found"),
        ("/no/such/page", 404, "page not found"),
    ],
)
def test_malformed_and_unknown_requests(reader: TestClient, path: str, status: int, message: str):
    response = reader.get(path)
    assert response.status_code == status
    assert message in response.text
    assert "Traceback" not in response.text


def test_unexpected_errors_hide_details(web_feed: PaperFeed, client: TestClient, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(web_feed.store.community, "listing", broken)
    response = client.get("/")
    assert response.status_code == 500
    assert "something went wrong" in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_titles_abstracts_and_names_render_as_text(reader: TestClient) -> None:
    for path in ("/?date=2024-01-10", "/papers/2401.00002", "/search?q=bounds", "/trending"):
        page = reader.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page, path
        assert "$a&lt;b$" in page, path
    paper = reader.get("/papers/2401.00002").text
    assert "Mallory &lt;b&gt;Evil&lt;/b&gt;" in paper
    assert "javascript:" not in paper  # an unsafe imported link is left out


def test_security_headers(reader: TestClient) -> None:
    headers = reader.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_about_explains_configured_trending(tmp_path) -> None:
    settings = Settings(
        data_dir=tmp_path, secret_key="k", trending_gravity=1.25, trending_window_days=3
    )
    with PaperFeed(settings) as feed, TestClient(create_app(feed)) as client:
        page = client.get("/about").text
    assert "(hours since submission + 2)<sup>1.25</sup>" in page
    assert "last <strong>3 days</strong>" in page


def test_trending_ranks_by_formula_and_says_when_archived(reader: TestClient) -> None:
    page = reader.get("/trending").text
    # all fixture submissions are from 2024: ranked as of the end of the latest feed day
    assert "ranking as of 2024-01-13" in page
    ids = titles(page)
    assert ids[0] == "hep-th/9901001"  # 1 vote but 15 h old beats 5 votes at 63 h (gravity 1.8)
    assert set(ids) == {"hep-th/9901001", "2401.00001", "2401.00002", "2401.00003"}
    assert re.search(r"score 0\.\d{4} · 15 h old", page)


# -- search ----------------------------------------------------------------------------------


def test_search_highlights_after_escaping(reader: TestClient) -> None:
    page = reader.get("/search?q=transformers+attention").text
    assert "Sparse <mark>Attention</mark> <mark>Transformers</mark> for Long Documents" in page
    # the escaped title of the XSS paper: <mark> is added around words only, never inside &lt;
    tricky = reader.get("/search", params={"q": "lt script bounds"}).text
    assert "&lt;<mark>script</mark>&gt;" in tricky
    assert "&<mark>lt</mark>;" not in tricky


def test_search_filters_sort_and_messages(reader: TestClient) -> None:
    assert titles(reader.get("/search?q=&category=math.CO").text) == ["2401.00002"]
    by_author = reader.get("/search", params={"q": "", "author": "Franklin"}).text
    assert titles(by_author) == ["2401.00003"]
    dated = reader.get("/search?q=attention&from=2024-01-06&to=2024-01-31").text
    assert "2401.00003" not in titles(dated) and "2401.00001" in titles(dated)
    newest = titles(reader.get("/search?q=attention&sort=date").text)
    published = {p.id: p.published for p in PAPERS}
    assert {"2401.00001", "2401.00003"} <= set(newest)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)  # undated papers last
    assert newest == sorted(newest, key=lambda i: published[i] or oldest, reverse=True)
    parsed = reader.get("/search", params={"q": '"unbalanced quote'}).text
    assert 'class="notice" role="status"' in parsed  # the parser explains what it changed


def test_search_without_results_gives_help(reader: TestClient) -> None:
    page = reader.get("/search?q=x&category=astro-ph.GA").text
    assert "No results" in page and "widening the date range" in page


def test_search_pagination(web_feed: PaperFeed, client: TestClient) -> None:
    web_feed.ingest(
        Record(Paper(id=f"2402.{n:05d}", title=f"Quasar survey number {n}", abstract="Quasars."))
        for n in range(25)
    )
    first = client.get("/search?q=quasar").text
    assert len(titles(first)) == 20 and "next page" in first
    second = client.get("/search?q=quasar&page=2").text
    assert "previous page" in second
    assert not set(titles(first)) & set(titles(second))
    quasars = {f"2402.{n:05d}" for n in range(25)}
    assert quasars <= set(titles(first)) | set(titles(second))


# -- one paper -------------------------------------------------------------------------------


def test_paper_page_details(reader: TestClient) -> None:
    page = reader.get("/papers/2401.00001").text
    assert "Sparse Attention Transformers for Long Documents" in page
    assert 'href="https://arxiv.org/pdf/2401.00001"' in page
    assert 'href="https://arxiv.org/abs/2401.00001"' in page
    assert "Ada Lovelace</a>, <a" in page
    assert 'href="/?date=2024-01-10"' in page and "curator" in page
    assert "Similar papers" in page
    assert "Hide paper" not in page  # not an admin


def test_paper_urls_are_canonicalised(reader: TestClient) -> None:
    response = reader.get("/papers/2401.00001v3", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/papers/2401.00001"
    assert reader.get("/papers/arXiv:hep-th/9901001").status_code == 200


# -- sessions, CSRF, votes -------------------------------------------------------------------


def test_post_forms_reject_missing_or_foreign_csrf(client: TestClient, web_feed: PaperFeed):
    token = log_in(client, "alice")
    assert vote(client, "", "2401.00001").status_code == 403
    assert vote(client, "forged", "2401.00001").status_code == 403
    with TestClient(create_app(web_feed)) as other:
        foreign = csrf_of(other)
    assert vote(client, foreign, "2401.00001").status_code == 403
    no_token = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert no_token.status_code == 403 and "reload the page" in no_token.text
    assert upvotes_shown(client, "2401.00001") == 5
    assert vote(client, token, "2401.00001").status_code == 303


def test_vote_once_and_unvote(client: TestClient) -> None:
    token = log_in(client, "alice")
    response = vote(client, token, "2401.00001")
    assert response.status_code == 303 and response.headers["location"] == "/?date=2024-01-10"
    assert upvotes_shown(client, "2401.00001") == 6
    vote(client, token, "2401.00001")
    assert upvotes_shown(client, "2401.00001") == 6  # a second upvote counts once
    assert "vote-button voted" in client.get("/papers/2401.00001").text
    vote(client, token, "2401.00001", action="down")
    assert upvotes_shown(client, "2401.00001") == 5


def test_anonymous_vote_goes_to_login(reader: TestClient) -> None:
    token = csrf_of(reader, "/")
    response = vote(reader, token, "2401.00001")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fdate%3D2024-01-10"
    assert upvotes_shown(reader, "2401.00001") == 5


def test_vote_rejects_bad_input(client: TestClient) -> None:
    token = log_in(client, "alice")
    assert vote(client, token, "2401.00001", action="sideways").status_code == 400
    assert vote(client, token, "0000.00000").status_code == 404
    missing = client.post("/vote", data={"csrf_token": token}, follow_redirects=False)
    assert missing.status_code == 400 and "paper_id" in missing.text


def test_votes_are_rate_limited(client: TestClient) -> None:
    token = log_in(client, "alice")
    statuses = [vote(client, token, "2401.00003", action=a).status_code for a in ["up", "down"] * 3]
    assert statuses == [303] * 5 + [429]
    assert "too many requests" in vote(client, token, "2401.00003").text


def test_redirects_stay_on_site(client: TestClient) -> None:
    token = log_in(client, "alice")
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        response = vote(client, token, "2401.00001", next=target)
        assert response.headers["location"] == "/", target


# -- accounts --------------------------------------------------------------------------------


def test_signup_login_logout(client: TestClient) -> None:
    token = csrf_of(client, "/signup")
    form = {"username": "bob", "password": "long enough pw", "email": "", "csrf_token": token}
    response = client.post("/signup", data={**form, "next": "/trending"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/trending"
    page = client.get("/").text
    assert '<span class="who">bob' in page
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert '<span class="who">' not in client.get("/").text
    again = client.post("/signup", data={**form, "csrf_token": csrf_of(client, "/signup")})
    assert again.status_code == 409 and "already taken" in again.text
    log_in(client, "bob", "long enough pw")
    assert '<span class="who">bob' in client.get("/").text


@pytest.mark.parametrize(
    ("username", "password", "email", "message"),
    [
        ("x", "long enough pw", "", "user names are"),
        ("<script>", "long enough pw", "", "user names are"),
        ("carol", "short", "", "at least 8"),
        ("carol", "long enough pw", "not-an-address", "does not look right"),
    ],
)
def test_signup_rejects_bad_accounts(client: TestClient, username, password, email, message):
    token = csrf_of(client, "/signup")
    data = {"username": username, "password": password, "email": email, "csrf_token": token}
    response = client.post("/signup", data=data)
    assert response.status_code == 400 and message in response.text
    assert "&lt;script&gt;" in response.text or "<script>" not in response.text


def test_login_failures_and_limit(client: TestClient) -> None:
    token = csrf_of(client)
    for n in range(6):
        wrong = client.post(
            "/login", data={"username": "alice", "password": f"wrong{n}", "csrf_token": token}
        )
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    unknown = client.post(
        "/login", data={"username": "ghost", "password": "x", "csrf_token": token}
    )
    assert unknown.status_code == 429


# -- moderation ------------------------------------------------------------------------------


def hide(client: TestClient, token: str, paper_id: str, target: str = "paper", hidden: str = "1"):
    data = {
        "paper_id": paper_id,
        "target": target,
        "hidden": hidden,
        "next": "/",
        "csrf_token": token,
    }
    return client.post("/admin/hide", data=data, follow_redirects=False)


def test_only_admins_hide(client: TestClient) -> None:
    assert hide(client, csrf_of(client, "/"), "2401.00001").status_code == 401
    token = log_in(client, "alice")
    response = hide(client, token, "2401.00001")
    assert response.status_code == 403 and "only administrators" in response.text
    assert "2401.00001" in titles(client.get("/?date=2024-01-10").text)


def test_admin_hides_paper_and_submission(web_feed: PaperFeed, client: TestClient) -> None:
    token = log_in(client, "root")
    assert "Hide paper" in client.get("/papers/2401.00001").text
    assert hide(client, token, "2401.00001").status_code == 303
    assert hide(client, token, "2401.00002", target="submission").status_code == 303
    assert "This paper is hidden" in client.get("/papers/2401.00001").text  # admins still see it
    assert titles(client.get("/?date=2024-01-10").text) == []
    with TestClient(create_app(web_feed)) as anonymous:
        assert anonymous.get("/papers/2401.00001").status_code == 404
        assert anonymous.get("/papers/2401.00002").status_code == 200  # only its submission is
        assert "2401.00001" not in titles(anonymous.get("/search?q=attention").text)
    assert hide(client, token, "2401.00001", hidden="0").status_code == 303
    assert titles(client.get("/?date=2024-01-10").text) == ["2401.00001"]
    assert hide(client, token, "2401.00001", target="everything").status_code == 400
    assert hide(client, token, "0000.00000").status_code == 404


# -- submissions -----------------------------------------------------------------------------


def submit(client: TestClient, token: str, arxiv_id: str):
    return client.post(
        "/submit", data={"arxiv_id": arxiv_id, "csrf_token": token}, follow_redirects=False
    )


def test_submit_needs_login(client: TestClient) -> None:
    assert "Log in</a> or" in client.get("/submit").text
    response = submit(client, csrf_of(client), "2401.00009")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/submit"


def test_submit_stored_paper_puts_it_on_todays_feed(client: TestClient) -> None:
    token = log_in(client, "alice")
    response = submit(client, token, "https://arxiv.org/abs/2401.00009v2")
    assert response.status_code == 303 and response.headers["location"] == "/papers/2401.00009"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    feed_page = client.get(f"/?date={today}").text
    assert titles(feed_page) == ["2401.00009"] and "alice" in feed_page
    again = submit(client, token, "2401.00009")
    assert again.status_code == 409 and f"already submitted on {today}" in again.text


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        ("2401.00001", 409, "already submitted on 2024-01-10"),
        ("not an id", 400, "is not an arXiv id"),
        ("", 400, "is not an arXiv id"),
    ],
)
def test_submit_errors(client: TestClient, raw: str, status: int, message: str) -> None:
    token = log_in(client, "alice")
    response = submit(client, token, raw)
    assert response.status_code == status and message in response.text


@pytest.fixture
def at_arxiv(web_feed: PaperFeed) -> Iterator[Callable[[str], PaperFeed]]:
    """Feeds over `web_feed`'s store that look submitted papers up in the arXiv API at a URL."""
    opened: list[PaperFeed] = []

    def looking_up_at(api_url: str) -> PaperFeed:
        opened.append(PaperFeed(web_feed.settings.with_overrides(arxiv_api_url=api_url)))
        return opened[-1]

    yield looking_up_at
    for feed in opened:
        feed.close()


def test_submit_fetches_unknown_papers_from_arxiv(web_feed: PaperFeed, at_arxiv, limits) -> None:
    with RecordedServer() as server:
        server.serve("/api/query", (ATOM / "id_1605.08386_s0_m100_199195aa31ad.xml").read_bytes())
        app = create_app(at_arxiv(server.url + "/api/query"), rate_limits=limits)
        with TestClient(app) as client:
            response = submit(client, log_in(client, "alice"), "arXiv:1605.08386")
            assert response.status_code == 303
            page = client.get("/papers/1605.08386").text
        assert server.requests[0].params["id_list"] == "1605.08386"
    assert web_feed.store.community.get_submission("1605.08386").submitter == "alice"
    assert "Submitted to the feed on" in page


def test_submit_unknown_and_unreachable_arxiv(
    web_feed: PaperFeed, at_arxiv, limits, monkeypatch
) -> None:
    monkeypatch.setattr(core_community, "LOOKUP_BACKOFF", 0.0)
    with RecordedServer() as server:
        server.serve("/api/query", (ATOM / "id_0000.0000_s0_m100_8b51d9633a68.xml").read_bytes())
        app = create_app(at_arxiv(server.url + "/api/query"), rate_limits=limits)
        with TestClient(app) as client:
            unknown = submit(client, log_in(client, "alice"), "0000.00001")
    assert unknown.status_code == 404 and "no such paper on arXiv" in unknown.text
    port = free_port()  # a port nobody listens on
    app = create_app(at_arxiv(f"http://127.0.0.1:{port}/api/query"), rate_limits=limits)
    with TestClient(app) as client:
        offline = submit(client, log_in(client, "alice"), "2403.00001")
    # unreachable: the submission waits for arXiv (tests/security/test_slow_arxiv.py)
    assert offline.status_code == 202 and "we'll add 2403.00001 shortly" in offline.text
    assert web_feed.store.community.get_submission("2403.00001") is None
    assert web_feed.store.community.pending.get("2403.00001").user_id is not None


def test_submissions_are_rate_limited(client: TestClient) -> None:
    token = log_in(client, "alice")
    statuses = [submit(client, token, raw).status_code for raw in ["x", "y", "z", "2401.00009"]]
    assert statuses == [400, 400, 400, 429]


def test_api_feed_and_digest_routers_are_included(reader: TestClient) -> None:
    api = reader.get("/api/daily_papers?date=2024-01-10")
    assert api.status_code == 200 and api.headers["content-type"].startswith("application/json")
    atom = reader.get("/feeds/daily.atom")
    assert atom.status_code == 200 and "<feed" in atom.text
    assert reader.get("/api/papers/9999.99999").json()["error"]
    assert reader.get("/papers/2401.00001.md").status_code == 200  # before the HTML route
    assert "Get the papers by e-mail" in reader.get("/subscribe").text
