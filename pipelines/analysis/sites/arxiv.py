"""arXiv abstract pages (``arxiv.org/abs/<id>``) and the arXiv API's Atom answers.

An abs page states its paper twice: in ``citation_*`` metas (authors as "Last, First"),
and for readers, with the title and abstract behind a "Title:"/"Abstract:" descriptor and
the authors as links in natural order. Only the submission history gives the exact moment:
its v1 line reads "Wed, 12 Oct 2022 14:23:51 UTC", where ``citation_date`` and the dateline
give the day alone. The article is the abstract; its links are the paper's abs and PDF
addresses, never the header, browse context, labs tabs or footer around it. An unknown id or
a withdrawn paper is no article. Mirrors are known by the ``citation_arxiv_id`` meta.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from pipelines.analysis.dates import parse_date
from pipelines.analysis.links import Link
from pipelines.analysis.sites.base import (
    Page,
    SiteFields,
    block_text,
    clean,
    first,
    first_text,
    host_in,
    meta_content,
    meta_contents,
)
from pipelines.analysis.urls import arxiv_id

NAME = "arxiv"
HOSTS = ("arxiv.org",)
SIGNATURE = "citation_arxiv_id"
TITLE = '//h1[contains(concat(" ", normalize-space(@class), " "), " title ")]'
ABSTRACT = '//blockquote[contains(concat(" ", normalize-space(@class), " "), " abstract ")]'
AUTHOR_LINKS = '//div[contains(concat(" ", normalize-space(@class), " "), " authors ")]/a'
HISTORY = '//div[contains(@class, "submission-history")]'
DATELINE = '//div[contains(@class, "dateline")]'
COMMENTS = '//td[contains(@class, "comments")]'
DESCRIPTOR = re.compile(r"^\s*(?:Title|Abstract):\s*")
FIRST_VERSION = re.compile(r"\[v1\]\s*(?P<when>[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} [\d:]{8} UTC)")
# arXiv's headings for an identifier it has no paper (or no such version) for, and our reason.
MISSING = (("not recognized", "unknown identifier"), ("article not found", "no such version"))
WITHDRAWN = "has been withdrawn"  # in the comments or the abstract that replaces the paper's


def matches(page: Page) -> bool:
    return host_in(page, HOSTS) or (SIGNATURE in page.html and meta_content(page.tree, SIGNATURE) is not None)


def extract(page: Page) -> SiteFields:
    reason = _notice(page)
    if reason:
        return SiteFields(not_article=f"arxiv: {reason}")
    abstract = first(page.tree, ABSTRACT)
    if abstract is None:
        return SiteFields()  # another arXiv page (a listing, help): the generic path reads it
    text = DESCRIPTOR.sub("", block_text(abstract)).strip()
    return SiteFields(
        title=meta_content(page.tree, "citation_title") or clean(DESCRIPTOR.sub("", first_text(page.tree, TITLE) or "")),
        authors=_authors(page),
        published=_submitted(page),
        text=text,
        description=clean(text),
        body=abstract,  # its anchors are the code and data links an abstract may give
        links=_paper_links(page),
    )


def _notice(page: Page) -> str | None:
    """Why the page holds no paper: arXiv's notice in place of one, or a withdrawal."""
    if meta_content(page.tree, SIGNATURE) is None:
        heading = " ".join(page.tree.xpath("//title//text() | //h1//text()")).lower()
        found = next((why for notice, why in MISSING if notice in heading), None)
        if found:
            return found
    remarks = " ".join(first_text(page.tree, xpath) or "" for xpath in (COMMENTS, ABSTRACT)).lower()
    if (first_text(page.tree, HISTORY) or "").endswith("(withdrawn)") or WITHDRAWN in remarks:
        return "withdrawn"
    return None


def _authors(page: Page) -> list[str]:
    names = [clean("".join(a.itertext())) for a in page.tree.xpath(AUTHOR_LINKS)]
    if any(names):
        return [name for name in names if name]
    # citation_author is "Last, First": turned round into the order readers write.
    return [" ".join(reversed(name.split(", ", 1))) for name in meta_contents(page.tree, "citation_author")]


def _submitted(page: Page) -> datetime | None:
    """The v1 submission time (exact, UTC), else the submission day in the source's zone."""
    match = FIRST_VERSION.search(first_text(page.tree, HISTORY) or "")
    moment = parse_date(match["when"], timezone.utc, page.now) if match else None
    for day in (meta_content(page.tree, "citation_date"), first_text(page.tree, DATELINE)):
        moment = moment or parse_date(day, page.tz, page.now, with_year=True)
    return moment


def _paper_links(page: Page) -> list[Link]:
    """arXiv's own abs and PDF addresses; a mirror's as it states them."""
    paper = meta_content(page.tree, SIGNATURE) or (arxiv_id(page.url) if page.url else None)
    if host_in(page, HOSTS) and paper:
        urls = [f"https://arxiv.org/abs/{paper}", f"https://arxiv.org/pdf/{paper}"]
    else:
        urls = [page.url, meta_content(page.tree, "citation_pdf_url")]
    return [Link(url=url, role="paper", label=label) for url, label in zip(urls, ("abstract", "PDF")) if url]


# --- the arXiv API (export.arxiv.org/api/query): an Atom feed -----------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
ENTRY_ID = re.compile(r"/abs/(?P<id>.+?)(?:v\d+)?$")


@dataclass(slots=True)
class ApiEntry:
    arxiv_id: str  # without its version
    title: str
    authors: list[str]
    summary: str  # the abstract
    published: datetime  # v1
    updated: datetime  # the latest version
    abs_url: str
    pdf_url: str
    categories: list[str]  # the primary first


def api_entries(xml: bytes) -> list[ApiEntry]:
    """The papers in an arXiv API answer; ValueError when it is none."""
    # No entity is expanded and nothing is fetched: the answer is data from the network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"arXiv API: not well-formed XML: {' '.join(str(exc).split())}") from None
    if root.tag != f"{ATOM}feed":
        raise ValueError(f"arXiv API: expected an Atom feed, got <{etree.QName(root).localname}>")
    return [_api_entry(entry) for entry in root.iterfind(f"{ATOM}entry")]


def _api_entry(entry: etree._Element) -> ApiEntry:
    entry_id = _child(entry, "id")
    if "/api/errors" in entry_id:  # arXiv answers a bad query with one entry that says why
        raise ValueError(f"arXiv API error: {_child(entry, 'summary')}")
    match = ENTRY_ID.search(entry_id)
    if not match:
        raise ValueError(f"arXiv API: entry id {entry_id!r} names no paper")
    paper = match["id"]
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [category.get("term") for category in entry.iterfind(f"{ATOM}category")]
    return ApiEntry(
        arxiv_id=paper,
        title=_child(entry, "title"),
        authors=[name for name in (clean(n.text) for n in entry.iterfind(f"{ATOM}author/{ATOM}name")) if name],
        summary=_child(entry, "summary"),
        published=_instant(entry, "published"),
        updated=_instant(entry, "updated"),
        abs_url=f"https://arxiv.org/abs/{paper}",
        pdf_url=f"https://arxiv.org/pdf/{paper}",
        categories=list(dict.fromkeys(term for term in terms if term)),
    )


def _child(entry: etree._Element, name: str) -> str:
    return clean(entry.findtext(f"{ATOM}{name}")) or ""


def _instant(entry: etree._Element, name: str) -> datetime:
    text = _child(entry, name)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"arXiv API: <{name}> {text!r} is no date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # arXiv writes UTC
