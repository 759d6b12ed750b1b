"""Extraction: page bytes to an article (title, author, date, language, text, cited links).

trafilatura finds the body; the metadata it is weak on for this digest's sources is read
here first: authors written without spaces (Chinese names), dates written the Chinese way
(which htmldate turns into January 1st) and dates taken from a link the article cites.
Bytes come in, never a string decoded from a charset header that may lie.

trafilatura is not thread-safe (called from several threads it crashed the process in
probes here), so this runs in the reactor thread or in worker processes, never in a
thread pool.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

import lxml.html
import trafilatura
from lxml import etree
from scrapy.exceptions import DropItem
from trafilatura.xml import xmltotxt

from pipelines.dates import from_timestamp, parse_date
from pipelines.encoding import decode_html
from pipelines.links import Link, cited_links

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# <meta> names and properties that carry the publication instant, most trusted first.
DATE_META = ("article:published_time", "og:article:published_time", "og:published_time",
             "datepublished", "pubdate", "publishdate", "publish_date", "publish-date",
             "publication_date", "sailthru.date", "parsely-pub-date", "dc.date.issued",
             "dcterms.created", "dc.date", "citation_publication_date", "citation_online_date",
             "citation_date", "bytedance:published_time", "weibo:article:create_at", "date")
AUTHOR_META = ("author", "article:author", "og:article:author", "dc.creator", "byl",
               "sailthru.author", "parsely-author", "citation_author")
TITLE_META = ("og:title", "twitter:title", "citation_title")
# Elements whose class or id says they hold the date line under a headline.
DATE_CLASS = re.compile(r"(^|[-_ ])(pub(lish)?[-_]?(date|time)|date|time|a-time|post-date|dateline|"
                        r"article-time|info-time|ptime|pubtime)([-_ ]|$)", re.IGNORECASE)
DATE_LABEL = re.compile(r"(发布时间|發布時間|发表时间|发表于|發表於|时间|時間|日期|Published|Posted on|Updated)"
                        r"\s*[：:]?\s*(?P<rest>.{6,40})", re.IGNORECASE)
AUTHOR_LABEL = re.compile(r"(?:作者|文|撰文|记者|記者|By)\s*[：:｜|]\s*(?P<name>[^\s|｜,，/]{2,20})")
# WeChat pages carry their publish time only in script: ``var ct = "1665709920"``.
SCRIPT_TIMESTAMP = re.compile(r"""\b(?:var\s+ct|create_time|"publishTime"|publish_time)\s*[=:]\s*["']?(\d{10,13})""")
# How far past the headline the date line is looked for, in characters of page text: room
# for a source name, an author and a "print this page" link (measured on the zh-pages corpus).
DATE_WINDOW = 200
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:https?|ftp|mailto)[^)\s]*\)")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(slots=True)
class Article:
    title: str | None
    author: str | None
    published: datetime | None  # aware; None when the page gives no trustworthy date
    language: str | None
    text: str
    links: list[Link] = field(default_factory=list)
    description: str | None = None
    encoding: str = "utf-8"


def extract_article(body: bytes, url: str | None = None, *, content_type: str | None = None,
                    tz: tzinfo = SHANGHAI, now: datetime | None = None) -> Article | None:
    """Extract the article in a page, or None when the page holds no article."""
    html, encoding = decode_html(body, content_type)
    html = _XML_DECLARATION.sub("", html, count=1)
    if not html.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_links=True,
                                      include_comments=False, include_tables=True)
    if doc is None or doc.body is None:
        return None
    anchors = [(ref.get("target") or "", _words_before(ref)) for ref in doc.body.iter("ref")]
    etree.strip_tags(doc.body, "ref")
    text = xmltotxt(doc.body, include_formatting=False).strip()
    if not text:
        return None
    now = now or datetime.now(timezone.utc)
    title = doc.title or _meta(tree, TITLE_META) or _first_text(tree, "//h1") or _first_text(tree, "//title")
    return Article(
        title=_clean(title),
        author=_author(tree, text) or _clean(doc.author),
        published=_published(tree, html, title, tz, now),
        language=_language(tree, text),
        text=text,
        links=cited_links(anchors, text, url),
        description=_clean(doc.description),
        encoding=encoding,
    )


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _words_before(ref: etree._Element) -> str:
    """The text of the ref's block up to and including the ref: its label."""
    block = ref.getparent()
    if block is None:
        return ref.text or ""
    words: list[str] = [block.text or ""]
    for child in block:
        if child is ref:
            words.append("".join(ref.itertext()))
            break
        words.append("".join(child.itertext()) + (child.tail or ""))
    return "".join(words)


def _meta(tree, names: tuple[str, ...]) -> str | None:
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
        if key in names and key not in found and (element.get("content") or "").strip():
            found[key] = element.get("content").strip()
    return next((found[name] for name in names if name in found), None)


def _first_text(tree, xpath: str) -> str | None:
    for element in tree.xpath(xpath):
        text = " ".join("".join(element.itertext()).split())
        if text:
            return text
    return None


def _json_ld(tree) -> list[dict]:
    objects: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                stack.extend(v for k, v in item.items() if k == "@graph")
    return objects


def _author(tree, text: str) -> str | None:
    """Byline from metadata, JSON-LD or a ``作者：`` label; Chinese names kept whole."""
    value = _meta(tree, AUTHOR_META)
    if not value:
        for obj in _json_ld(tree):
            author = obj.get("author")
            if isinstance(author, list):
                author = author[0] if author else None
            if isinstance(author, dict):
                author = author.get("name")
            if isinstance(author, str) and author.strip():
                value = author
                break
    if not value:
        head = " ".join(" ".join(tree.xpath("//body//text()")[:400]).split())
        match = AUTHOR_LABEL.search(head) or AUTHOR_LABEL.search(text[:300])
        value = match["name"] if match else None
    value = _clean(value)
    if value and (value.startswith(("http://", "https://")) or len(value) > 80):
        return None
    return value


def _published(tree, html: str, title: str | None, tz: tzinfo, now: datetime) -> datetime | None:
    """The page's own publication instant, or None: never a date read from a cited link."""
    candidates: list[str] = []
    meta = _meta(tree, DATE_META)
    if meta:
        candidates.append(meta)
    candidates += [str(obj["datePublished"]) for obj in _json_ld(tree) if obj.get("datePublished")]
    for value in candidates:
        moment = parse_date(value, tz, now)
        if moment:
            return moment
    match = SCRIPT_TIMESTAMP.search(html)
    if match:
        moment = from_timestamp(match.group(1))
        if moment and moment <= now:
            return moment
    for element in tree.xpath("//time[@datetime]"):
        moment = parse_date(element.get("datetime"), tz, now)
        if moment:
            return moment
    # News pages print the date line right under the headline: the first full date there.
    text = " ".join(" ".join(tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]")).split())
    start = _headline_position(text, title)
    if start is not None:
        near = text[start:start + DATE_WINDOW]
        label = DATE_LABEL.search(near)
        moment = (label and parse_date(label["rest"], tz, now)) or parse_date(near, tz, now, with_year=True)
        if moment:
            return moment
    for element in tree.xpath("//time|//*[@class or @id]"):
        if element.tag != "time" and not DATE_CLASS.search(f"{element.get('class', '')} {element.get('id', '')}"):
            continue
        words = " ".join("".join(element.itertext()).split())
        if 6 <= len(words) <= 80:
            moment = parse_date(words, tz, now)
            if moment:
                return moment
    label = DATE_LABEL.search(text)
    return parse_date(label["rest"], tz, now) if label else None


def _headline_position(text: str, title: str | None) -> int | None:
    """Where the headline ends in the page text (its last mention, past the <title> and
    breadcrumbs), or None."""
    if not title:
        return None
    for probe in (title, title[:12]):
        at = text.rfind(probe, 0, len(text) // 2 + len(probe))
        if at >= 0:
            return at + len(probe)
    return None


def _language(tree, text: str) -> str | None:
    declared = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    sample = text[:2000]
    cjk = len(_CJK.findall(sample))
    if cjk > len(sample) * 0.15:
        return "zh"
    if declared and not declared.startswith("zh"):
        return declared.split("-")[0]
    letters = sum(ch.isascii() and ch.isalpha() for ch in sample)
    return "en" if letters > len(sample) * 0.5 else (declared.split("-")[0] or None)


class ExtractPipeline:
    """Turns a fetched page into an article; pages that hold none are dropped and counted."""

    def __init__(self, crawler) -> None:
        from crawler.config import config_for_crawler

        self.stats = crawler.stats
        self.config = config_for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        source = self.config.source(item.source_id) if item.source_id else None
        tz = ZoneInfo(source.timezone) if source and source.timezone else self.config.tz
        try:
            article = extract_article(item.body, item.final_url, content_type=item.content_type,
                                      tz=tz, now=item.fetched_at)
        except Exception as exc:  # one odd page must not end the crawl: count it, name it
            logger.warning("extraction failed on %s: %s: %s", item.final_url, type(exc).__name__, exc)
            self.stats.inc_value("aibrief/dropped/extract_error")
            raise DropItem(f"extraction failed: {item.final_url}", log_level="DEBUG") from None
        if article is None:
            self.stats.inc_value("aibrief/dropped/not_article")
            raise DropItem(f"not an article: {item.final_url}", log_level="INFO")
        item.article = article
        return item
