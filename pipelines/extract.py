"""Extraction: page bytes to an article (title, authors, date, language, text, cited links).

A site adapter (:mod:`pipelines.sites`) reads the sites this digest cites most; trafilatura
and the page's metadata fill whatever it leaves empty, and read every other site. Here
the metadata that trafilatura is weak on for these sources is read first: authors written
without spaces (Chinese names), dates written the Chinese way (which htmldate turns into
January 1st) and never a date taken from a link the article cites. Bytes come in, never
a string decoded from a charset header that may lie.

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
from pipelines.sites import Page, SiteFields, adapter_for, anchors_in, split_authors

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# <meta> names and properties that carry the publication instant, most trusted first.
DATE_META = ("article:published_time", "og:article:published_time", "og:published_time",
             "datepublished", "pubdate", "publishdate", "publish_date", "publish-date",
             "publication_date", "sailthru.date", "parsely-pub-date", "dc.date.issued",
             "dcterms.created", "dc.date", "citation_publication_date", "citation_online_date",
             "citation_date", "bytedance:published_time", "weibo:article:create_at", "date")
AUTHOR_META = ("author", "article:author", "og:article:author", "dc.creator", "byl",
               "sailthru.author", "parsely-author")
TITLE_META = ("og:title", "twitter:title", "citation_title")
# Elements whose class or id says they hold the date line under a headline.
DATE_CLASS = re.compile(r"(^|[-_ ])(pub(lish)?[-_]?(date|time)|date|time|a-time|post-date|dateline|"
                        r"article-time|info-time|ptime|pubtime)([-_ ]|$)", re.IGNORECASE)
DATE_LABEL = re.compile(r"(发布时间|發布時間|发表时间|发表于|發表於|时间|時間|日期|Published|Posted on|Updated)"
                        r"\s*[：:]?\s*(?P<rest>.{6,40})", re.IGNORECASE)
# How far past the headline the date line and the byline are looked for, in characters of
# page text: room for a source name, an author and a "print this page" link (measured on
# the zh-pages corpus).
DATE_WINDOW = 200
# WeChat-style pages carry their publish time only in script: ``var ct = "1665709920"``.
SCRIPT_TIMESTAMP = re.compile(r"""\b(?:var\s+ct|create_time|"publishTime"|publish_time)\s*[=:]\s*["']?(\d{10,13})""")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CJK = re.compile(r"[\u3400-\u9fff]")

# Bylines: 作者：张三 / 记者 李四 / 文｜王五 / [ 黄宇 ] / By Jane Doe / 本贴由 大卫 于.
_NAME = r"(?P<name>[\u3400-\u9fffA-Za-z·•.\- ]{2,40}?)"
BYLINES = (
    re.compile(r"(?:作者|撰文|撰稿|文|记者|記者|编译|編譯|译者|By|by|BY)\s*[：:｜|丨/]\s*" + _NAME
               + r"(?=$|[\s,，;；|｜丨/（(【\[]|来源|來源|编辑|編輯|责编|责任编辑|日期|时间|发布|\d)"),
    re.compile(r"(?:^|[\s|｜])(?:记者|記者|通讯员|通訊員)\s+(?P<name>[\u3400-\u9fff·]{2,4}(?:\s+[\u3400-\u9fff·]{2,4}){0,3})(?=\s|$|[，,。])"),
    re.compile(r"本[贴帖]由\s*(?P<name>\S{1,20})\s*于"),
    re.compile(r"[\[【]\s*(?P<name>[\u3400-\u9fff·]{2,4})\s*[\]】]"),
)
NOT_NAMES = frozenset({"本报", "本站", "本网", "网友", "记者", "编辑", "作者", "来源", "原创", "转载", "佚名",
                       "admin", "Admin", "管理员", "小编", "图片", "摄影", "视频", "专题", "评论", "打印",
                       "关闭", "返回", "分享", "收藏", "查看", "更多"})
# Pages that stand where an article should: the phrase in the title, or in a short page.
CAPTCHA = ("验证码", "安全验证", "人机验证", "请完成验证", "访问验证", "滑动验证", "环境异常", "verify you are human",
           "are you a robot", "captcha", "just a moment", "attention required", "checking your browser",
           "请开启javascript", "enable javascript and cookies")
SOFT_404 = ("页面不存在", "页面未找到", "找不到页面", "页面找不到", "page not found", "文章不存在", "内容不存在",
            "已被删除", "文章已删除", "已下线", "您访问的页面", "404 not found", "error 404", "404错误", "404 error")
SHORT_PAGE = 400  # characters of body text below which a notice phrase decides
MIN_TEXT = 20  # a news flash is 100 characters; fewer than this is a notice, not news
LISTING_LINKS = 40  # a page this link-heavy with little running text is a listing


@dataclass(slots=True)
class Article:
    title: str | None
    authors: list[str]
    published: datetime | None  # aware; None when the page gives no trustworthy date
    published_from: str | None  # adapter | page: who read the date
    language: str | None
    text: str
    links: list[Link] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    description: str | None = None
    encoding: str = "utf-8"
    site: str | None = None  # the adapter that read the page
    canonical_url: str | None = None  # the address the page states for itself

    @property
    def author(self) -> str | None:
        return ", ".join(self.authors) or None


@dataclass(slots=True)
class Extraction:
    article: Article | None
    reason: str | None = None  # why there is no article


def extract_article(body: bytes, url: str | None = None, **options) -> Article | None:
    """Extract the article in a page, or None when the page holds no article."""
    return extract(body, url, **options).article


def extract(body: bytes, url: str | None = None, *, content_type: str | None = None,
            tz: tzinfo = SHANGHAI, now: datetime | None = None) -> Extraction:
    """Extract the article in a page, or say why there is none."""
    html, encoding = decode_html(body, content_type)
    html = _XML_DECLARATION.sub("", html, count=1)
    if not html.strip():
        return Extraction(None, "empty page")
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return Extraction(None, "not HTML")
    now = now or datetime.now(timezone.utc)
    page = Page(url=url, html=html, tree=tree, tz=tz, now=now)
    adapter = adapter_for(page)
    fields = SiteFields()
    if adapter is not None:
        try:
            fields = adapter.extract(page)
        except Exception as exc:  # a site changed its layout: fall back to the generic path
            logger.warning("%s adapter failed on %s: %s: %s", adapter.NAME, url, type(exc).__name__, exc)
    if fields.not_article:
        return Extraction(None, fields.not_article)

    anchors = anchors_in(fields.body) if fields.body is not None else []
    text, doc = fields.text, None
    if not text or not fields.title:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_links=True,
                                          include_comments=False, include_tables=True)
        if not text and doc is not None and doc.body is not None:
            anchors = [(ref.get("target") or "", _words_before(ref)) for ref in doc.body.iter("ref")]
            etree.strip_tags(doc.body, "ref")
            text = xmltotxt(doc.body, include_formatting=False).strip()
    text = (text or "").strip()
    title = _clean(fields.title or (doc.title if doc else None) or _meta(tree, TITLE_META)
                   or _first_text(tree, "//h1") or _first_text(tree, "//title"))
    reason = _not_an_article(tree, title, text, adapter is not None)
    if reason:
        return Extraction(None, reason)
    published, origin = fields.published, "adapter"
    if published is None:
        published, origin = _published(tree, html, title, tz, now), "page"
    authors = fields.authors or _authors(tree, title, text) or split_authors(doc.author if doc else None)
    return Extraction(Article(
        title=title,
        authors=authors,
        published=published,
        published_from=origin if published else None,
        language=_language(tree, text),
        text=text,
        links=_merge_links(fields.links, cited_links(anchors, text, url)),
        images=fields.images,
        description=_clean(fields.description or (doc.description if doc else None)),
        encoding=encoding,
        site=adapter.NAME if adapter else None,
        canonical_url=fields.canonical_url or _declared_canonical(tree, url),
    ))


def _merge_links(first: list[Link], second: list[Link]) -> list[Link]:
    merged = {link.url: link for link in second}
    merged.update({link.url: link for link in first})
    return list(merged.values())


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


def _page_text(tree) -> str:
    return " ".join(" ".join(tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]")).split())


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


def _authors(tree, title: str | None, text: str) -> list[str]:
    """Bylines from metadata, JSON-LD, or the text near the headline; Chinese names whole."""
    value = _meta(tree, AUTHOR_META)
    if not value:
        for obj in _json_ld(tree):
            author = obj.get("author")
            names = author if isinstance(author, list) else [author]
            names = [n.get("name") if isinstance(n, dict) else n for n in names]
            names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
            if names:
                return names
    if value and not value.startswith(("http://", "https://")) and len(value) <= 80:
        return split_authors(value)
    page_text = _page_text(tree)
    start = _headline_position(page_text, title) or 0
    for region in (page_text[start:start + DATE_WINDOW], text[:DATE_WINDOW], text[-DATE_WINDOW:]):
        for pattern in BYLINES:
            for match in pattern.finditer(region):
                names = [n for n in split_authors(match["name"].strip()) if n not in NOT_NAMES and len(n) >= 2]
                if names:
                    return names
    return []


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
    text = _page_text(tree)
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


def _not_an_article(tree, title: str | None, text: str, adapted: bool) -> str | None:
    """Why a page that parsed is still no article: a notice, a captcha, a listing."""
    if len(text) < MIN_TEXT:
        return "no article text"
    heading = f"{title or ''} {_first_text(tree, '//h1') or ''}".lower()
    short = len(text) < SHORT_PAGE
    probe = f"{heading} {text.lower()}" if short else heading
    if any(phrase in probe for phrase in CAPTCHA):
        return "captcha or verification page"
    if any(phrase in probe for phrase in SOFT_404):
        return "soft 404"
    if not adapted and short:
        links = tree.xpath("count(//body//a[@href])")
        prose = max((len(line) for line in text.splitlines()), default=0)
        if links >= LISTING_LINKS and prose < 80:
            return "listing page"
    return None


def _declared_canonical(tree, url: str | None) -> str | None:
    """``<link rel=canonical>`` when it names another path on the same host."""
    from urllib.parse import urljoin, urlsplit

    href = next(iter(tree.xpath('//link[@rel="canonical"]/@href')), None)
    if not href or not url:
        return None
    target = urljoin(url, href.strip())
    here, there = urlsplit(url), urlsplit(target)
    if there.scheme not in ("http", "https") or (there.hostname or "") != (here.hostname or ""):
        return None
    if there.path.strip("/") == "":
        return None  # a page claiming to be the home page is mistaken, not a duplicate
    return target


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
            result = extract(item.body, item.final_url, content_type=item.content_type, tz=tz,
                             now=item.fetched_at)
        except Exception as exc:  # one odd page must not end the crawl: count it, name it
            logger.warning("extraction failed on %s: %s: %s", item.final_url, type(exc).__name__, exc)
            self.stats.inc_value("aibrief/dropped/extract_error")
            raise DropItem(f"extraction failed: {item.final_url}", log_level="DEBUG") from None
        if result.article is None:
            self.stats.inc_value("aibrief/dropped/not_article")
            self.stats.inc_value(f"aibrief/not_article/{result.reason}")
            raise DropItem(f"not an article ({result.reason}): {item.final_url}", log_level="INFO")
        if result.article.site:
            self.stats.inc_value(f"aibrief/adapter/{result.article.site}")
        item.article = result.article
        return item
