import datetime as dt
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from paperfeed.errors import InvalidRecord
from paperfeed.ingest.arxiv_api import UnknownPaper, fetch_ids, search
from paperfeed.ingest.base import Record
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.models import SkippedRecord
from tests.support.recorded_server import RecordedServer, Reply

SHARED = Path(
    os.environ.get("PAPERFEED_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared")
)
ATOM = SHARED / "data" / "arxiv_api_atom_arxivpy"
API = "/api/query"


def fixture(name: str, *, sort: bool = False) -> tuple[dict[str, str], Reply]:
    """A recorded fixture as (the query it answered, its reply). Empty parameters, and the sort
    order unless ``sort`` (we send it only when asked), are left out of the query to match."""
    (path,) = (ATOM / "fixtures").glob(f"{name}_*.json")
    recorded = json.loads(path.read_text())
    query = dict(parse_qsl(urlsplit(recorded["url"]).query))
    dropped = () if sort else ("sortBy", "sortOrder")
    query = {k: v for k, v in query.items() if v and k not in dropped}
    return query, Reply(body=recorded["body"], status=recorded["status_code"])


def recorded_ids(name: str) -> list[str]:
    """Entry ids (with versions) straight from a recorded body, independently of feedparser."""
    (path,) = (ATOM / "xml").glob(f"{name}_*.xml")
    return re.findall(r"<id>http://arxiv\.org/abs/([^<]+)</id>", path.read_text())


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def transport():
    with httpx.Client() as client:
        yield client


@pytest.fixture
def server():
    with RecordedServer() as recorded:
        yield recorded


@pytest.fixture
def http(transport):
    return PoliteClient(delay=0.0, backoff=0.1, client=transport, sleep=lambda s: None)


def serve(server: RecordedServer, *names: str, sort: bool = False) -> None:
    for name in names:
        query, reply = fixture(name, sort=sort)
        server.serve(API, reply, query=query)


def papers(items):
    return [item.paper for item in items if isinstance(item, Record)]


def test_entry_fields_2026_format(server, http):
    serve(server, "id_astro-ph_0601001")
    (item,) = search(id_list=["astro-ph/0601001"], base_url=server.url + API, client=http)
    paper = item.paper
    assert paper.id == "astro-ph/0601001" and paper.version == 1
    assert paper.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE")
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters (HJs)")
    assert "V_max<17.5" in paper.abstract
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert (paper.primary_category, paper.categories) == ("astro-ph", ["astro-ph"])
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.comments.startswith("62 pages including 16 figures and 9 tables.")
    assert paper.published == paper.updated == utc(2006, 1, 2, 14, 57, 58)
    assert paper.doi is None
    assert paper.abs_url == "https://arxiv.org/abs/astro-ph/0601001v1"
    assert paper.pdf_url == "https://arxiv.org/pdf/astro-ph/0601001v1"
    assert paper.source == "arxiv-api"
    assert server.requests[0].params == {
        "id_list": "astro-ph/0601001",
        "start": "0",
        "max_results": "100",
    }


def test_entry_fields_2016_format(server, http):
    body = (ATOM / "xml_2016" / "id_list=1111.2011v2.xml").read_bytes()
    server.serve(API, body)
    (paper,) = papers(search(id_list=["1111.2011v2"], base_url=server.url + API, client=http))
    assert (paper.id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert "\n" not in paper.abstract
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comments == "8 pages, 3 figures. Published version"
    assert paper.published == utc(2011, 11, 8, 18, 48, 36)
    assert paper.updated == utc(2012, 4, 2, 12, 38, 54)


def test_old_format_search_stops_at_max_results(server, http):
    body = (ATOM / "xml_2016" / "search_query=au_del_maestro.xml").read_bytes()
    server.serve(
        API, body, query={"search_query": "au:del_maestro", "start": "0", "max_results": "10"}
    )
    items = list(
        search(
            "au:del_maestro", page_size=10, max_results=10, base_url=server.url + API, client=http
        )
    )
    assert len(papers(items)) == 10
    assert all({"Adrian Del Maestro", "A. Del Maestro"} & set(p.authors) for p in papers(items))
    assert len(server.requests) == 1


def test_paging_over_recorded_pages(server, http):
    serve(server, *(f"q_testing_s{start}_m10" for start in range(0, 60, 10)), sort=True)
    items = list(
        search(
            "testing",
            page_size=10,
            max_results=60,
            sort_by="relevance",
            sort_order="descending",
            base_url=server.url + API,
            client=http,
        )
    )
    expected = [i for start in range(0, 60, 10) for i in recorded_ids(f"q_testing_s{start}_m10")]
    assert [f"{p.id}v{p.version}" for p in papers(items)] == expected
    assert expected == recorded_ids("q_testing_s0_m100")[:60]  # pages line up with one big page
    assert [r.params["start"] for r in server.requests] == ["0", "10", "20", "30", "40", "50"]
    assert server.requests[0].params["sortBy"] == "relevance"
    first = papers(items)[0]
    assert first.title == (
        "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.categories == ["cs.SE", "cs.LG"]
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.authors == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"]


def test_paging_stops_at_total_results(server, http):
    serve(server, "id_1707.08567")
    items = list(search(id_list=["1707.08567"], base_url=server.url + API, client=http))
    assert [p.id for p in papers(items)] == ["1707.08567"]
    assert len(papers(items)[0].authors) == 34
    assert len(server.requests) == 1  # totalResults 1: no second page


def test_duplicates_across_shifted_pages_are_dropped(server, http):
    _, first = fixture("q_testing_s0_m10")
    _, shifted = fixture("q_testing_s5_m10")  # page 2 repeats five entries of page 1
    server.serve(API, first, query={"search_query": "testing", "start": "0", "max_results": "10"})
    server.serve(
        API, shifted, query={"search_query": "testing", "start": "10", "max_results": "10"}
    )
    items = list(
        search("testing", page_size=10, max_results=20, base_url=server.url + API, client=http)
    )
    ids = [p.id for p in papers(items)]
    assert len(ids) == len(set(ids)) == 15


def test_bad_id_request_raises_arxiv_message(server, http):
    serve(server, "id_abc")
    with pytest.raises(FetchError) as caught:
        list(search(id_list=["abc"], base_url=server.url + API, client=http))
    assert caught.value.status == 400
    assert caught.value.reason == "arXiv API error: incorrect id format for abc"
    assert len(server.requests) == 1  # a 400 is not retried


def test_error_entry_in_a_page_is_skipped(server, http):
    _, reply = fixture("id_abc")
    server.serve(API, Reply(body=reply.body, status=200))
    (item,) = search(id_list=["abc"], base_url=server.url + API, client=http)
    assert isinstance(item, SkippedRecord)
    assert item.reason == "arXiv API error: incorrect id format for abc"
    assert item.location.endswith("entry 1")


def test_empty_page_is_retried_before_failing(server, http):
    _, page = fixture("q_testing_s0_m10")
    empty = page.payload().decode().split("<entry>")[0] + "</feed>"
    server.serve(API, empty, empty, page)
    items = list(
        search("testing", page_size=10, max_results=10, base_url=server.url + API, client=http)
    )
    assert len(papers(items)) == 10
    assert len(server.requests) == 3
    server.serve(API, empty, query={"search_query": "never", "start": "0", "max_results": "10"})
    with pytest.raises(FetchError, match="empty page at start=0 of 214881"):
        list(search("never", page_size=10, max_results=10, base_url=server.url + API, client=http))


def test_fetch_ids_in_order_with_versions(server, http):
    _, crypto = fixture("id_2104.12255v1")
    _, jupiters = fixture("id_astro-ph_0601001")
    entry = re.search(r"<entry>.*</entry>", crypto.body, re.S).group(0)
    both = jupiters.body.replace("</feed>", entry + "</feed>").replace(
        "<opensearch:totalResults>1<", "<opensearch:totalResults>2<"
    )  # one answer for both ids, in arXiv's order rather than ours
    server.serve(
        API,
        both,
        query={"id_list": "2104.12255v1,astro-ph/0601001", "start": "0", "max_results": "100"},
    )
    found = fetch_ids(
        ["https://arxiv.org/abs/2104.12255v1", "astro-ph/0601001", "arXiv:2104.12255v1"],
        base_url=server.url + API,
        client=http,
    )
    assert [(p.id, p.version) for p in found] == [("2104.12255", 1), ("astro-ph/0601001", 1)]
    assert found[0].title == "0"  # a real title, not an error
    assert found[0].authors == ["Quan Thoi Minh Nguyen"]
    assert found[0].published == utc(2021, 4, 20, 16, 7, 14)


def test_fetch_single_id(server, http):
    serve(server, "id_1605.08386")
    (paper,) = fetch_ids(["1605.08386"], base_url=server.url + API, client=http)
    assert (paper.id, paper.title) == ("1605.08386", "Heat-bath random walks with Markov bases")
    assert paper.categories == ["math.CO", "math.ST"]
    assert paper.comments == "20 pages, 3 figures"
    assert server.requests[0].params["id_list"] == "1605.08386"


def test_fetch_ids_unknown_paper(server, http):
    serve(server, "id_0808.05394_1707.08567", "id_0000.0000")
    with pytest.raises(UnknownPaper) as caught:
        fetch_ids(["0808.05394", "1707.08567"], base_url=server.url + API, client=http)
    assert caught.value.ids == ["0808.05394"]
    assert "0808.05394" in str(caught.value)
    with pytest.raises(UnknownPaper):
        fetch_ids(["0000.0000"], base_url=server.url + API, client=http)


def test_fetch_ids_rejects_malformed_ids_without_asking(server, http):
    with pytest.raises(InvalidRecord, match="not an arXiv id"):
        fetch_ids(["abc"], base_url=server.url + API, client=http)
    assert server.requests == []
