import datetime as dt
import os
from pathlib import Path

import httpx
import pytest

from paperfeed.errors import InvalidRecord
from paperfeed.ingest.arxiv_api import UnknownPaper
from paperfeed.ingest.base import Checkpoint, Record
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.oai_pmh import get_record, harvest, harvest_key
from paperfeed.models import SkippedRecord
from tests.support.recorded_server import RecordedServer, Reply

SHARED = Path(
    os.environ.get("PAPERFEED_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared")
)
HEPCRAWL = SHARED / "data" / "arxiv_oaipmh_xml_hepcrawl" / "tests"
LISTS = HEPCRAWL / "functional" / "arxiv" / "fixtures" / "http_server" / "records"
SINGLES = HEPCRAWL / "unit" / "responses" / "arxiv"
HEP_TH = (LISTS / "arxiv-physics-hep-th.xml").read_text()
HEP_EX = (LISTS / "arxiv-physics-hep-ex.xml").read_text()
FIRST_PAGE = {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics:hep-th"}


def utc(year: int, month: int, day: int, *rest: int) -> dt.datetime:
    return dt.datetime(year, month, day, *rest, tzinfo=dt.UTC)


def with_token(page: str, token: str) -> str:
    element = f'<resumptionToken cursor="0" completeListSize="6">{token}</resumptionToken>'
    return page.replace("</ListRecords>", element + "\n</ListRecords>")


def oai_error(code: str, message: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-01-01T00:00:00Z</responseDate>"
        f'<request verb="ListRecords">http://x/oai</request><error code="{code}">{message}</error>'
        "</OAI-PMH>"
    )


@pytest.fixture
def server():
    with RecordedServer() as recorded:
        yield recorded


@pytest.fixture
def sleeps():
    return []


@pytest.fixture(scope="module")
def transport():
    with httpx.Client() as client:
        yield client


@pytest.fixture
def http(sleeps, transport):
    return PoliteClient(delay=0.0, backoff=0.5, client=transport, sleep=sleeps.append)


def records(items):
    return [item.paper for item in items if isinstance(item, Record)]


def test_list_records_parses_the_arxiv_format(server, http):
    server.serve("/oai", HEP_TH, query={**FIRST_PAGE, "from": "2017-12-14"})
    items = list(
        harvest(
            server.url + "/oai",
            set_spec="physics:hep-th",
            from_date=dt.date(2017, 12, 14),
            client=http,
        )
    )
    key = harvest_key(server.url + "/oai", set_spec="physics:hep-th", from_date="2017-12-14")
    assert items[-1] == Checkpoint(key, None)
    papers = records(items)
    assert [p.id for p in papers] == ["1412.8323", "1507.07790", "1607.01710"]
    paper = papers[1]
    assert (
        paper.title
        == "Relativistic quantum dynamics of vector bosons in an Aharonov-Bohm potential"
    )
    assert paper.abstract.startswith(
        "The Aharonov-Bohm (AB) problem for vector bosons by the Duffin-Kemmer-Petiau (DKP) "
        "formalism is analyzed. Depending"
    )
    assert paper.abstract.endswith("the conditions for the occurrence of bound states.")
    assert paper.authors == ["Luis B. Castro", "Edilberto O. Silva"]
    assert paper.categories == ["hep-th", "math-ph", "math.MP", "quant-ph"]
    assert paper.primary_category == "hep-th"
    assert (paper.published, paper.updated) == (utc(2015, 7, 28), utc(2016, 3, 4))
    assert paper.version is None  # the arXiv format does not say which version is latest
    assert paper.doi == "10.1088/1751-8121/aa9c53"
    assert paper.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"
    assert paper.comments == "7 pages"
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert paper.abs_url == "https://arxiv.org/abs/1507.07790"
    assert paper.pdf_url == "https://arxiv.org/pdf/1507.07790"
    assert paper.source == "oai-pmh"
    assert papers[2].journal_ref is None and papers[2].comments is None
    assert len(server.requests) == 1


def test_harvest_follows_resumption_tokens(server, http):
    server.serve("/oai", with_token(HEP_TH, "tok|2"), query=FIRST_PAGE)
    last_page = HEP_EX.replace("</ListRecords>", '<resumptionToken cursor="3"/></ListRecords>')
    server.serve("/oai", last_page, query={"verb": "ListRecords", "resumptionToken": "tok|2"})
    items = list(harvest(server.url + "/oai", set_spec="physics:hep-th", client=http))
    key = harvest_key(server.url + "/oai", set_spec="physics:hep-th")
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["Record"] * 3 + ["Checkpoint"] + ["Record"] * 3 + ["Checkpoint"]
    assert items[3] == Checkpoint(key, "tok|2")
    assert items[7] == Checkpoint(key, None)
    assert [p.id for p in records(items)[3:]] == ["1706.05371", "1706.09418", "1707.00874"]
    assert [r.params for r in server.requests] == [
        FIRST_PAGE,
        {"verb": "ListRecords", "resumptionToken": "tok|2"},
    ]


def test_resume_token_is_the_first_request(server, http):
    server.serve("/oai", HEP_EX, query={"verb": "ListRecords", "resumptionToken": "saved"})
    items = list(harvest(server.url + "/oai", resume_token="saved", client=http))
    assert [p.id for p in records(items)] == ["1706.05371", "1706.09418", "1707.00874"]
    assert server.requests[0].params == {"verb": "ListRecords", "resumptionToken": "saved"}
    assert items[-1] == Checkpoint(harvest_key(server.url + "/oai"), None)


def test_503_with_retry_after_then_success(server, http, sleeps):
    busy = Reply(body="Retry later", status=503, headers={"Retry-After": "4"})
    server.serve("/oai", busy, HEP_TH)
    items = list(harvest(server.url + "/oai", client=http))
    assert len(records(items)) == 3
    assert sleeps == [4.0]
    assert len(server.requests) == 2


def test_bad_and_deleted_records_are_skipped_and_the_rest_parsed(server, http):
    broken = HEP_TH.replace("<created>2015-07-28</created>", "<created>someday</created>")
    deleted = (
        '<record><header status="deleted"><identifier>oai:arXiv.org:1607.01710</identifier>'
        "<datestamp>2017-12-14</datestamp></header></record>"
    )
    broken = broken.replace("</ListRecords>", deleted + "</ListRecords>")
    server.serve("/oai", broken)
    items = list(harvest(server.url + "/oai", client=http))
    skipped = [item for item in items if isinstance(item, SkippedRecord)]
    url = str(server.url + "/oai?verb=ListRecords&metadataPrefix=arXiv")
    assert skipped == [
        SkippedRecord(f"{url} record 2", "unreadable date 'someday'"),
        SkippedRecord(f"{url} record 4", "deleted upstream"),
    ]
    assert [p.id for p in records(items)] == ["1412.8323", "1607.01710"]


def test_record_without_title_is_skipped(server, http):
    untitled = HEP_TH.replace(
        "<title>Refinements of the Weyl pure geometrical thick branes from\n"
        "  information-entropic measure</title>",
        "",
    )
    server.serve("/oai", untitled)
    items = list(harvest(server.url + "/oai", client=http))
    assert [s.reason for s in items if isinstance(s, SkippedRecord)] == ["record without title"]
    assert len(records(items)) == 2


def test_no_records_match_is_an_empty_harvest(server, http):
    server.serve("/oai", oai_error("noRecordsMatch", "No records"))
    items = list(harvest(server.url + "/oai", from_date="2030-01-01", client=http))
    assert items == [Checkpoint(harvest_key(server.url + "/oai", from_date="2030-01-01"), None)]


def test_oai_error_raises_fetch_error_with_its_code(server, http):
    server.serve("/oai", oai_error("badResumptionToken", "The token is invalid or expired"))
    with pytest.raises(FetchError) as caught:
        list(harvest(server.url + "/oai", resume_token="stale", client=http))
    assert caught.value.code == "badResumptionToken"
    assert "The token is invalid or expired" in str(caught.value)


def test_unreadable_response_raises_fetch_error(server, http):
    server.serve("/oai", HEP_TH[: len(HEP_TH) // 2])  # cut off mid-document
    with pytest.raises(FetchError, match="unreadable OAI-PMH response"):
        list(harvest(server.url + "/oai", client=http))


def test_get_record_authors_in_order_with_suffix(server, http):
    server.serve("/oai", (SINGLES / "sample_arxiv_record4.xml").read_bytes())
    paper = get_record("arXiv:1603.05976v2", server.url + "/oai", client=http)
    assert server.requests[0].params == {
        "verb": "GetRecord",
        "identifier": "oai:arXiv.org:1603.05976",
        "metadataPrefix": "arXiv",
    }
    assert paper.id == "1603.05976"
    assert paper.authors[:4] == ["Keck Array", "BICEP2 Collaborations", "P. Ade", "Z. Ahmed"]
    assert "R. W. IV" in paper.authors
    assert ":" not in paper.authors  # a placeholder author without a name
    assert paper.authors[-1] == "K. W. Yoon"
    assert paper.updated == paper.published == utc(2016, 3, 18)
    assert paper.abstract.endswith("a tensor-to-scalar ratio of $r<1\\times10^{-4}$.")


def test_get_record_single(server, http):
    server.serve("/oai", (LISTS / "arxiv-single.xml").read_bytes())
    paper = get_record("1401.2122", server.url + "/oai", client=http)
    assert paper.title == "New integrable (3+1)-dimensional systems and contact geometry"
    assert paper.primary_category == "math.AP"
    assert paper.journal_ref == "Lett. Math. Phys. 108 (2018), no. 2, 359-376"
    assert paper.comments.startswith("16 pages, LaTeX, no figures, revised and abridged, in this")
    assert "\n" not in paper.comments and "  " not in paper.comments


def test_get_record_unknown_and_deleted(server, http):
    server.serve(
        "/oai",
        oai_error("idDoesNotExist"),
        query={
            "identifier": "oai:arXiv.org:9999.99999",
            "verb": "GetRecord",
            "metadataPrefix": "arXiv",
        },
    )
    deleted = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record>'
        '<header status="deleted"><identifier>oai:arXiv.org:1401.0001</identifier></header>'
        "</record></GetRecord></OAI-PMH>"
    )
    server.serve("/oai", deleted)
    with pytest.raises(UnknownPaper, match=r"9999\.99999"):
        get_record("9999.99999", server.url + "/oai", client=http)
    with pytest.raises(UnknownPaper, match="deleted"):
        get_record("1401.0001", server.url + "/oai", client=http)
    with pytest.raises(InvalidRecord):
        get_record("not an id", server.url + "/oai", client=http)


ARXIV_RAW = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-04-02T10:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXivRaw">https://oaipmh.arxiv.org/oai</request>
<ListRecords><record>
<header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp>
<setSpec>physics:hep-ph</setSpec></header>
<metadata>
<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">
<id>0704.0001</id><submitter>Pavel Nadolsky</submitter>
<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date><size>424kb</size>
<source_type>D</source_type></version>
<version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date><size>434kb</size>
<source_type>D</source_type></version>
<title>Calculation of prompt diphoton production cross sections at Tevatron and
  LHC energies</title>
<authors>C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan</authors>
<categories>hep-ph</categories>
<comments>37 pages, 15 figures; published version</comments>
<report-no>ANL-HEP-PR-07-12</report-no>
<journal-ref>Phys.Rev.D76:013009,2007</journal-ref>
<doi>10.1103/PhysRevD.76.013009</doi>
<abstract>  A fully differential calculation in perturbative quantum chromodynamics is
presented for the production of massive photon pairs at hadron colliders.
</abstract>
</arXivRaw>
</metadata></record></ListRecords></OAI-PMH>
"""


def test_arxiv_raw_format_versions_and_author_string(server, http):
    server.serve("/oai", ARXIV_RAW, query={"verb": "ListRecords", "metadataPrefix": "arXivRaw"})
    items = list(harvest(server.url + "/oai", metadata_prefix="arXivRaw", client=http))
    (paper,) = records(items)
    assert paper.id == "0704.0001"
    assert paper.version == 2
    assert paper.published == utc(2007, 4, 2, 19, 18, 42)
    assert paper.updated == utc(2007, 7, 24, 20, 10, 27)
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert paper.abs_url == "https://arxiv.org/abs/0704.0001v2"
    assert paper.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.categories == ["hep-ph"]
    assert items[-1].key == harvest_key(server.url + "/oai", metadata_prefix="arXivRaw")


def test_harvest_key_is_stable_and_distinguishes_harvests():
    key = harvest_key(set_spec="cs", from_date=dt.date(2024, 1, 1))
    assert key == harvest_key(set_spec="cs", from_date="2024-01-01")
    assert key == harvest_key(set_spec="cs", from_date=dt.datetime(2024, 1, 1, 12, 0))
    assert key != harvest_key(set_spec="math", from_date="2024-01-01")
    assert key != harvest_key(set_spec="cs", from_date="2024-01-01", metadata_prefix="arXivRaw")
    assert key != harvest_key(set_spec="cs", from_date="2024-01-01", until_date="2024-02-01")
    assert key.startswith("oai-pmh:https://oaipmh.arxiv.org/oai|")
    positional = harvest_key("https://oaipmh.arxiv.org/oai", "arXiv", "cs", "2024-01-01", None)
    assert positional == key


def test_harvest_without_a_client_makes_its_own(server):
    server.serve("/oai", HEP_EX)
    items = list(harvest(server.url + "/oai", delay=0.0))
    assert len(records(items)) == 3


def test_latex_accents_in_author_names_are_decoded(server, http):
    accented = HEP_TH.replace("<keyname>Silva</keyname>", "<keyname>Silv{\\'a}</keyname>")
    server.serve("/oai", accented)
    papers = records(harvest(server.url + "/oai", client=http))
    assert papers[1].authors == ["Luis B. Castro", "Edilberto O. Silvá"]


def test_record_without_metadata_is_skipped(server, http):
    bare = "<record><header><identifier>oai:arXiv.org:1701.00001</identifier></header></record>"
    server.serve("/oai", HEP_EX.replace("<ListRecords>", "<ListRecords>" + bare))
    items = list(harvest(server.url + "/oai", client=http))
    assert [s.reason for s in items if isinstance(s, SkippedRecord)] == ["record without metadata"]
    assert len(records(items)) == 3
