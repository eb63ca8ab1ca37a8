"""Harvest arXiv metadata over OAI-PMH (ListRecords with resumption tokens, GetRecord).

Both arXiv metadata formats are read: ``arXiv`` (structured authors, created/updated dates) and
``arXivRaw`` (author string, one <version> per version with its date).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from lxml import etree

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.arxiv_api import UnknownPaper
from paperfeed.ingest.base import Checkpoint, Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.latex import latex_to_text
from paperfeed.ingest.normalize import (
    clean_text,
    optional_text,
    parse_datetime,
    split_authors,
    split_categories,
)
from paperfeed.models import Paper, SkippedRecord

log = logging.getLogger(__name__)

BASE_URL = "https://oaipmh.arxiv.org/oai"
SOURCE = "oai-pmh"
OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW = "http://arxiv.org/OAI/arXivRaw/"
_NS = {"oai": OAI}
DELETED = "deleted upstream"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

DateArg = dt.date | str | None


def harvest_key(
    base_url: str = BASE_URL,
    metadata_prefix: str = "arXiv",
    set_spec: str | None = None,
    from_date: DateArg = None,
    until_date: DateArg = None,
) -> str:
    """The checkpoint key of one harvest: same arguments, same key, so a killed run can resume."""
    parts = [base_url.rstrip("/"), metadata_prefix, set_spec or "", _day(from_date) or ""]
    parts.append(_day(until_date) or "")
    return "oai-pmh:" + "|".join(parts)


def harvest(
    base_url: str = BASE_URL,
    *,
    metadata_prefix: str = "arXiv",
    from_date: DateArg = None,
    until_date: DateArg = None,
    set_spec: str | None = None,
    resume_token: str | None = None,
    delay: float = 3.0,
    client: PoliteClient | None = None,
) -> Source:
    """ListRecords page by page: records, skipped ones, and a Checkpoint after every page whose
    value is the next resumption token (None after the last page).

    With ``resume_token`` (the value saved under ``harvest_key(...)``) the first request
    continues from it. ``noRecordsMatch`` is an empty harvest; other OAI errors raise FetchError.
    ``delay`` (seconds between requests) applies when no ``client`` is given.
    """
    key = harvest_key(base_url, metadata_prefix, set_spec, from_date, until_date)
    if resume_token:
        params: dict[str, str | None] = {"verb": "ListRecords", "resumptionToken": resume_token}
    else:
        params = {
            "verb": "ListRecords",
            "metadataPrefix": metadata_prefix,
            "from": _day(from_date),
            "until": _day(until_date),
            "set": set_spec,
        }
    http = client or PoliteClient(delay=delay)
    try:
        while True:
            url, root = _request(http, base_url, params)
            if _oai_error(url, root, allow="noRecordsMatch"):
                yield Checkpoint(key, None)
                return
            list_records = root.find("oai:ListRecords", _NS)
            if list_records is None:
                raise FetchError(url, "OAI-PMH response without ListRecords")
            records = list_records.findall("oai:record", _NS)
            for n, element in enumerate(records, start=1):
                yield parse_record(element, location=f"{url} record {n}")
            token = clean_text(list_records.findtext("oai:resumptionToken", "", _NS)) or None
            log.info("%s: %d records, %s", url, len(records), "more" if token else "done")
            yield Checkpoint(key, token)
            if token is None:
                return
            params = {"verb": "ListRecords", "resumptionToken": token}
    finally:
        if client is None:
            http.close()


def get_record(
    identifier: str,
    base_url: str = BASE_URL,
    *,
    metadata_prefix: str = "arXiv",
    delay: float = 3.0,
    client: PoliteClient | None = None,
) -> Paper:
    """One paper by arXiv id (``2401.01234``, ``arXiv:hep-th/9901001v2``) or OAI identifier.

    Raises UnknownPaper when arXiv has no such (or a deleted) record, InvalidRecord when the
    record cannot be read, FetchError for other failures.
    """
    oai_id = identifier if identifier.startswith("oai:") else _oai_identifier(identifier)
    params = {"verb": "GetRecord", "identifier": oai_id, "metadataPrefix": metadata_prefix}
    http = client or PoliteClient(delay=delay)
    try:
        url, root = _request(http, base_url, params)
    finally:
        if client is None:
            http.close()
    if _oai_error(url, root, allow="idDoesNotExist"):
        raise UnknownPaper(f"arXiv has no paper {identifier}")
    element = root.find("oai:GetRecord/oai:record", _NS)
    if element is None:
        raise FetchError(url, "OAI-PMH response without GetRecord/record")
    parsed = parse_record(element, location=url)
    if isinstance(parsed, SkippedRecord):
        if parsed.reason == DELETED:
            raise UnknownPaper(f"arXiv paper {identifier} was deleted")
        raise InvalidRecord(parsed.reason)
    return parsed.paper


def parse_record(element: etree._Element, *, location: str) -> Record | SkippedRecord:
    """An OAI <record> as a Record, or a SkippedRecord saying why it cannot be one."""
    header = element.find("oai:header", _NS)
    if header is not None and header.get("status") == "deleted":
        return SkippedRecord(location, DELETED)
    try:
        metadata = element.find("oai:metadata", _NS)
        body = None if metadata is None else next(metadata.iterchildren(etree.Element), None)
        if body is None:
            raise InvalidRecord("record without metadata")
        if body.tag == f"{{{ARXIV}}}arXiv":
            paper = _paper_from_arxiv(body)
        elif body.tag == f"{{{ARXIV_RAW}}}arXivRaw":
            paper = _paper_from_arxiv_raw(body)
        else:
            raise InvalidRecord(f"unsupported metadata format {etree.QName(body).localname}")
    except InvalidRecord as error:
        return SkippedRecord(location, str(error))
    return Record(paper)


def _paper_from_arxiv(body: etree._Element) -> Paper:
    ns = {"a": ARXIV}
    authors = [_author(a, ns) for a in body.iterfind("a:authors/a:author", ns)]
    published = parse_datetime(body.findtext("a:created", None, ns))
    updated = parse_datetime(body.findtext("a:updated", None, ns)) or published
    return _paper(
        body, ns, authors=[a for a in authors if a], version=None, dates=(published, updated)
    )


def _paper_from_arxiv_raw(body: etree._Element) -> Paper:
    ns = {"a": ARXIV_RAW}
    versions: list[tuple[int, dt.datetime | None]] = []
    for element in body.iterfind("a:version", ns):
        label = element.get("version", "")
        if not (label[:1] == "v" and label[1:].isdigit()):
            raise InvalidRecord(f"bad version label {label!r}")
        versions.append((int(label[1:]), parse_datetime(element.findtext("a:date", None, ns))))
    versions.sort(key=lambda v: v[0])
    version = versions[-1][0] if versions else None
    dates = (versions[0][1], versions[-1][1]) if versions else (None, None)
    authors = split_authors(latex_to_text(body.findtext("a:authors", "", ns)))
    return _paper(body, ns, authors=authors, version=version, dates=dates)


def _paper(
    body: etree._Element,
    ns: dict[str, str],
    *,
    authors: list[str],
    version: int | None,
    dates: tuple[dt.datetime | None, dt.datetime | None],
) -> Paper:
    raw_id = clean_text(body.findtext("a:id", None, ns))
    if not raw_id:
        raise InvalidRecord("record without id")
    arxiv_id, _ = parse_arxiv_id(raw_id)
    title = clean_text(body.findtext("a:title", None, ns))
    if not title:
        raise InvalidRecord("record without title")
    categories = split_categories(body.findtext("a:categories", None, ns))
    abs_url, pdf_url = arxiv_links(arxiv_id, version)
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=clean_text(body.findtext("a:abstract", None, ns)),
        version=version,
        authors=authors,
        primary_category=categories[0] if categories else None,
        categories=categories,
        published=dates[0],
        updated=dates[1],
        doi=optional_text(body.findtext("a:doi", None, ns)),
        journal_ref=optional_text(body.findtext("a:journal-ref", None, ns)),
        comments=optional_text(body.findtext("a:comments", None, ns)),
        license=optional_text(body.findtext("a:license", None, ns)),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=SOURCE,
    )


def _author(element: etree._Element, ns: dict[str, str]) -> str:
    """``forenames keyname suffix``, LaTeX accents decoded; placeholders without letters or
    digits (``:``) are dropped."""
    parts = (element.findtext(f"a:{part}", "", ns) for part in ("forenames", "keyname", "suffix"))
    name = latex_to_text(" ".join(parts))
    return name if any(ch.isalnum() for ch in name) else ""


def _request(
    http: PoliteClient, base_url: str, params: Mapping[str, str | None]
) -> tuple[str, etree._Element]:
    response = http.get(base_url, params)
    url = str(response.url)
    try:
        root = etree.fromstring(response.content, _PARSER)
    except etree.XMLSyntaxError as error:
        raise FetchError(url, f"unreadable OAI-PMH response: {error}") from error
    return url, root


def _oai_error(url: str, root: etree._Element, *, allow: str) -> bool:
    """True for the ``allow``-ed error code; raises FetchError for any other OAI error."""
    for error in root.iterfind("oai:error", _NS):
        code = error.get("code", "unknown")
        if code == allow:
            return True
        message = clean_text(error.text)
        reason = f"OAI-PMH error {code}" + (f": {message}" if message else "")
        raise FetchError(url, reason, code=code)
    return False


def _oai_identifier(identifier: str) -> str:
    arxiv_id, _ = parse_arxiv_id(identifier)
    return f"oai:arXiv.org:{arxiv_id}"


def _day(value: DateArg) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean_text(value)
