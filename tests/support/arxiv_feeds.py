"""arXiv's answers for a given day, built from real records: the recorded RSS listing (stat,
2024-03-26) re-dated and cut into days, and OAI-PMH ListRecords pages written from records
(the RSS items, or the arXiv cs crawl in the shared data) in arXiv's own metadata format."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import format_datetime
from xml.sax.saxutils import escape

from lxml import etree

from tests.support.paths import DATA

RSS_SAMPLE = DATA / "arxiv_rss_feed_sample" / "rss_arxiv_stat_2024-03-26.xml"
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
_ANNOUNCE = re.compile(r"arXiv:(\S+?)v(\d+) Announce Type: ([\w-]+)")


@dataclass(frozen=True, slots=True)
class ArxivRecord:
    """What an OAI-PMH record says of a paper."""

    id: str
    title: str
    abstract: str
    authors: Sequence[str]
    categories: Sequence[str]
    created: dt.date  # the first version's date

    @property
    def archive(self) -> str:
        return self.categories[0].split(".")[0]


def rss_items() -> list[etree._Element]:
    """The <item>s of the recorded listing, in order."""
    return list(etree.parse(str(RSS_SAMPLE)).getroot().iterfind("channel/item"))


def first_announced(items: Iterable[etree._Element]) -> set[str]:
    """Ids of the items that are new papers (new, or a first version's cross-list)."""
    found = set()
    for item in items:
        match = _ANNOUNCE.search(item.findtext("description") or "")
        assert match, "every recorded item says its id and announce type"
        if match[3] in ("new", "cross") and match[2] == "1":
            found.add(match[1])
    return found


def item_ids(items: Iterable[etree._Element]) -> set[str]:
    return {_ANNOUNCE.search(i.findtext("description") or "")[1] for i in items}  # type: ignore[index]


def rss_listing(day: dt.date, items: Sequence[etree._Element]) -> bytes:
    """The recorded listing as arXiv would publish it on `day`, holding only `items`."""
    root = etree.parse(str(RSS_SAMPLE)).getroot()
    channel = root.find("channel")
    assert channel is not None
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    channel.find("pubDate").text = format_datetime(midnight)  # type: ignore[union-attr]
    channel.find("lastBuildDate").text = format_datetime(midnight)  # type: ignore[union-attr]
    for old in channel.findall("item"):
        channel.remove(old)
    for item in items:
        channel.append(etree.fromstring(etree.tostring(item)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def records_of_items(items: Iterable[etree._Element], created: dt.date) -> list[ArxivRecord]:
    """The RSS items as OAI-PMH records of new papers first submitted on `created`."""
    records = []
    for item in items:
        description = item.findtext("description") or ""
        match = _ANNOUNCE.search(description)
        assert match
        records.append(
            ArxivRecord(
                id=match[1],
                title=" ".join((item.findtext("title") or "").split()),
                abstract=description.split("Abstract:", 1)[1].strip(),
                authors=(item.findtext("{http://purl.org/dc/elements/1.1/}creator") or "").split(
                    ", "
                ),
                categories=[c.text or "" for c in item.iterfind("category")],
                created=created,
            )
        )
    return records


def oai_page(records: Iterable[ArxivRecord], day: dt.date, *, token: str | None = None) -> str:
    """A ListRecords page (metadataPrefix=arXiv) of `records`, datestamped `day`."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">',
        f"<responseDate>{day}T21:00:00Z</responseDate><ListRecords>",
    ]
    for record in records:
        authors = "".join(
            f"<author><keyname>{escape(name.rpartition(' ')[2])}</keyname>"
            f"<forenames>{escape(name.rpartition(' ')[0])}</forenames></author>"
            for name in record.authors
        )
        parts.append(
            f"<record><header><identifier>oai:arXiv.org:{record.id}</identifier>"
            f"<datestamp>{day}</datestamp><setSpec>{record.archive}</setSpec></header>"
            f'<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{record.id}</id>'
            f"<created>{record.created}</created><authors>{authors}</authors>"
            f"<title>{escape(record.title)}</title>"
            f"<categories>{' '.join(record.categories)}</categories>"
            f"<abstract>{escape(record.abstract)}</abstract></arXiv></metadata></record>"
        )
    if token is not None:
        parts.append(f"<resumptionToken>{token}</resumptionToken>")
    parts.append("</ListRecords></OAI-PMH>")
    return "".join(parts)


def oai_no_records() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        '<error code="noRecordsMatch">no records</error></OAI-PMH>'
    )


def oai_query(set_spec: str, day: dt.date) -> dict[str, str]:
    """The parameters of a sync's first ListRecords request for one day."""
    return {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": day.isoformat(),
        "until": day.isoformat(),
        "set": set_spec,
    }
