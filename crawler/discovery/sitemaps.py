"""Sitemaps (sitemaps.org 0.9), sitemap indexes, gzipped sitemaps, Google News sitemaps,
and the ``Sitemap:`` lines of robots.txt (RFC 9309, 2.4 allows other records such as it).

A source's URL may be any of them; :func:`read_sitemap` says which it got and what it
lists. Google News sitemaps give each page's title and publication date (used as hints);
``<lastmod>`` dates only the window (a page modified is not a page published).

XML comes from the network: it is parsed by lxml with no entity expanded and nothing
loaded (RELIABILITY 28), and a document that declares entities is refused outright.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from lxml import etree

from crawler.discovery import DiscoveryError, Found, one_line
from pipelines.analysis.dates import parse_date
from pipelines.analysis.links import clean_url

# The protocol's own cap on one sitemap, uncompressed (sitemaps.org/protocol.html: 50 MB,
# 50,000 URLs); a gzip body that inflates past it is a bomb, not a sitemap.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# The window of a source's first crawl, and the most any crawl looks back (days).
DEFAULT_DAYS = 2
DEFAULT_MAX_ENTRIES = 100  # pages taken from one sitemap in one crawl, newest first
# Content types that claim a gzip file (a .gz served as a file, not as a Content-Encoding).
GZIP_TYPES = ("application/x-gzip", "application/gzip", "application/x-gunzip", "application/gzip-compressed")
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None
    title: str | None = None  # news:title
    published: datetime | None = None  # news:publication_date

    @property
    def when(self) -> datetime | None:
        """The date the window goes by: publication, else last modification."""
        return self.published or self.lastmod

    def found(self) -> Found:
        return Found(self.url, title=self.title, published=self.published)


@dataclass(slots=True)
class Sitemap:
    kind: str  # "urlset" (pages), "index" (sitemaps) or "robots" (sitemaps named by robots.txt)
    entries: list[SitemapEntry] = field(default_factory=list)
    rejected: int = 0  # <loc>s that are no http(s) URL
    news: bool = False  # a Google News sitemap

    @property
    def lists_sitemaps(self) -> bool:
        return self.kind in ("index", "robots")


def is_robots(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


def read_sitemap(body: bytes, url: str, content_type: str | None, tz: tzinfo,
                 now: datetime | None = None) -> Sitemap:
    """What a robots.txt, sitemap index or sitemap at ``url`` lists; DiscoveryError when
    it is none of them, is broken, or lists nothing."""
    if is_robots(url):
        return _robots(body)
    xml = _uncompressed(body, url, content_type)
    if not xml.strip():
        raise DiscoveryError("empty body")
    root = _parse_xml(xml)
    name = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    if name == "urlset":
        sitemap = Sitemap("urlset", news=False)
        for node in _children(root, "url"):
            _add(sitemap, node, tz, now)
        if not sitemap.entries and not sitemap.rejected:
            raise DiscoveryError("sitemap lists no URLs")
        return sitemap
    if name == "sitemapindex":
        index = Sitemap("index")
        for node in _children(root, "sitemap"):
            _add(index, node, tz, now)
        if not index.entries and not index.rejected:
            raise DiscoveryError("sitemap index lists no sitemaps")
        return index
    raise DiscoveryError(f"not a sitemap (root element <{name}>)")


def select_entries(entries: list[SitemapEntry], since: datetime | None, pattern: re.Pattern | None,
                   limit: int) -> tuple[list[SitemapEntry], int, int]:
    """The entries to follow: in the window (undated ones too: they cannot be placed),
    matching the pattern, newest first, at most ``limit``. Returns (entries, older, unmatched)."""
    older = unmatched = 0
    kept: list[SitemapEntry] = []
    for entry in entries:
        if since is not None and entry.when is not None and entry.when < since:
            older += 1
        elif pattern is not None and not pattern.search(entry.url):
            unmatched += 1
        else:
            kept.append(entry)
    # Newest first; undated after the dated, in document order (a stable sort).
    kept.sort(key=lambda e: (e.when is None, -(e.when.timestamp() if e.when else 0)))
    seen: set[str] = set()
    unique = [e for e in kept if not (e.url in seen or seen.add(e.url))]
    return unique[:limit], older, unmatched


def _robots(body: bytes) -> Sitemap:
    text = body.decode("utf-8", "replace")
    sitemap = Sitemap("robots")
    for match in _ROBOTS_SITEMAP.finditer(text):
        url = clean_url(match.group(1))
        if url is None:
            sitemap.rejected += 1
        else:
            sitemap.entries.append(SitemapEntry(url))
    if not sitemap.entries:
        raise DiscoveryError("robots.txt names no sitemap (no 'Sitemap:' line)")
    return sitemap


def _uncompressed(body: bytes, url: str, content_type: str | None) -> bytes:
    """The XML of a sitemap, gunzipped when it is gzip data, never past MAX_SITEMAP_BYTES.

    Scrapy undoes a ``Content-Encoding: gzip`` itself and drops the header, so an XML body
    served as XML under a ``.gz`` name is a sitemap that came decoded. A body served as a
    gzip file (or under a .gz name with no type of its own) that is no gzip data is broken.
    """
    if body[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            xml = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
        except zlib.error as exc:
            raise DiscoveryError(f"broken gzip data ({one_line(exc)})") from None
        if len(xml) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
            raise DiscoveryError(f"inflates past {MAX_SITEMAP_BYTES // 2**20} MB, the sitemap size limit")
        if not inflater.eof:
            raise DiscoveryError("truncated gzip data")
        return xml
    mime = (content_type or "").split(";")[0].strip().lower()
    named_gz = urlsplit(url).path.lower().endswith(".gz")
    if mime in GZIP_TYPES or (named_gz and mime in ("", "application/octet-stream")):
        kind = "plain XML" if body.lstrip()[:1] == b"<" else "plain data"
        raise DiscoveryError(f"named .gz and served as {mime or 'a file'}, but the body is {kind}, not gzip")
    return body


def _parse_xml(xml: bytes) -> etree._Element:
    # No entity is expanded, no DTD loaded, nothing fetched: the document is data from the network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not well-formed XML ({one_line(exc)})") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise DiscoveryError("declares XML entities: refused (entity expansion)")
    return root


def _children(root: etree._Element, name: str):
    """Elements named ``name`` under the root, in any namespace or none: sitemaps in the
    wild use the 0.9 namespace, the old Google one, or none at all."""
    return (node for node in root if isinstance(node.tag, str) and etree.QName(node).localname == name)


def _text(node: etree._Element, name: str, namespace: str | None = None) -> str | None:
    """The text of the child ``name`` (any namespace), or with ``namespace``, of the first
    such descendant (news:title sits inside news:news)."""
    candidates = node.iter(f"{{{namespace}}}{name}") if namespace else (
        child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name)
    for child in candidates:
        text = " ".join("".join(child.itertext()).split())
        return text or None
    return None


def _add(sitemap: Sitemap, node: etree._Element, tz: tzinfo, now: datetime | None) -> None:
    loc = _text(node, "loc")
    url = clean_url(loc) if loc else None
    if url is None:
        sitemap.rejected += 1
        return
    entry = SitemapEntry(url, lastmod=parse_date(_text(node, "lastmod"), tz, now))
    if _text(node, "publication_date", NEWS_NS) or _text(node, "title", NEWS_NS):
        sitemap.news = True
        entry.title = _text(node, "title", NEWS_NS)
        entry.published = parse_date(_text(node, "publication_date", NEWS_NS), tz, now)
    sitemap.entries.append(entry)
