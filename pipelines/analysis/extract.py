"""Extraction: page bytes to an article (title, authors, date, language, text, cited links).

A site adapter (:mod:`pipelines.analysis.sites`) reads the sites this digest cites most; trafilatura
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

import functools
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.metadata import extract_title
from trafilatura.xml import xmltotxt

from pipelines.analysis.authors import find_byline
from pipelines.analysis.dates import from_timestamp, parse_date
from pipelines.analysis.encoding import decode_html
from pipelines.analysis.links import Link, cited_links, clean_url
from pipelines.analysis.sites import adapter_for
from pipelines.analysis.sites.base import Page, SiteFields, anchors_in, block_text, search_at_word_start
from pipelines.analysis.text import CJK

logger = logging.getLogger(__name__)
# trafilatura warns about every empty or target-less link it renders ("empty link: ..."):
# noise on every crawl, about pages it handled fine.
logging.getLogger("trafilatura.xml").setLevel(logging.ERROR)

# <meta> names and properties that carry the publication instant, most trusted first.
DATE_META = ("article:published_time", "og:article:published_time", "og:published_time",
             "datepublished", "pubdate", "publishdate", "publish_date", "publish-date",
             "publication_date", "sailthru.date", "parsely-pub-date", "dc.date.issued",
             "dcterms.created", "dc.date", "citation_publication_date", "citation_online_date",
             "citation_date", "bytedance:published_time", "weibo:article:create_at", "date")
AUTHOR_META = ("author", "article:author", "og:article:author", "dc.creator", "byl",
               "sailthru.author", "parsely-author")
TITLE_META = ("og:title", "twitter:title", "citation_title")
DESCRIPTION_META = ("og:description", "description", "twitter:description")
# Elements whose class or id says they hold the date line under a headline.
DATE_CLASS = re.compile(r"(^|[-_ ])(pub(lish)?[-_]?(date|time)|date|time|a-time|post-date|dateline|"
                        r"article-time|info-time|ptime|pubtime)([-_ ]|$)", re.IGNORECASE)
DATE_LABEL = re.compile(r"(发布时间|發布時間|发表时间|发表于|發表於|时间|時間|日期|Published|Posted on|Updated|"
                        r"本[贴帖]由\s*\S{1,20}\s*于)\s*[：:]?\s*(?P<rest>.{6,40})", re.IGNORECASE)
# How far past the headline the date line and the byline are looked for, in characters of
# page text: room for a source name, an author and a "print this page" link (measured on
# the zh-pages corpus).
DATE_WINDOW = 200
DATE_LINE_MAX = 60  # characters: a line this short at the article's start may be its date line
# WeChat-style pages carry their publish time only in script: ``var ct = "1665709920"``; it
# counts at a word boundary (:func:`pipelines.analysis.sites.base.search_at_word_start`).
SCRIPT_TIMESTAMP = re.compile(r"""(?:var\s+ct|create_time|"publishTime"|publish_time)\s*[=:]\s*["']?(\d{10,13})""")
YEARLESS_DATE_LINE = re.compile(r"^\s*(?:\S{0,12}\s+)?(?P<date>\d{1,2}月\d{1,2}日\s*\d{1,2}[:：]\d{2}"
                                r"|(?:\d+|[一二两三四五六七八九十半]+)\s*(?:个|個)?\s*(?:秒|分钟|分鐘|小时|小時|天|周|週|月|年)前"
                                r"|刚刚|剛剛|(?:今天|昨天|前天)\s*\d{1,2}[:：]\d{2})")
_URL = re.compile(r"https?://\S+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Comments and processing instructions dropped while parsing, as trafilatura's own parser
# drops them: no read of ours needs them, and trafilatura takes our tree as it is. Every
# element is an HtmlElement, looked up in C: lxml.html's own lookup (which gives form
# fields classes of their own, used by no one here) is Python called for each element
# object made, by trafilatura on its copies too.
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))

# Pages that stand where an article should: the phrase in the title, or in a short page.
CAPTCHA = ("验证码", "安全验证", "人机验证", "请完成验证", "访问验证", "滑动验证", "环境异常", "verify you are human",
           "are you a robot", "captcha", "just a moment", "attention required", "checking your browser",
           "请开启javascript", "enable javascript and cookies")
SOFT_404 = ("页面不存在", "页面未找到", "找不到页面", "页面找不到", "page not found", "文章不存在", "内容不存在",
            "已被删除", "文章已删除", "已下线", "您访问的页面", "404 not found", "error 404", "404错误", "404 error")
SHORT_PAGE = 400  # characters of body text below which a notice phrase decides
MIN_TEXT = 20  # a news flash is 100 characters; fewer than this is a notice, not news
LISTING_LINKS = 40  # a page this link-heavy with little running text is a listing
LISTING_LINES = 15  # ... or whose text is at least this many link titles,
LISTING_LINK_SHARE = 0.5  # making up this much of it,
HEADLINE_MIN, HEADLINE_MAX = 4, 80  # each the length of a headline
# Page soup: more table-cell separators than this per line of "extracted" text (the
# zh-pages corpus: real articles stay under 0.3, whole table-layout pages reach 2 and more).
SOUP_CELLS_PER_LINE = 1.0
SOUP_OVER_BLOCK = 2.0
# trafilatura's fast pass (no second opinion from its readability and jusText fallbacks)
# is a quarter of the extraction's time cheaper. Where it finds a long text the second
# opinion changed nothing on the shared corpus; where it finds little (a body it cut
# short, a page it misread), the full pass is asked, and its answer taken, when the page
# holds clearly more running text in one block than came out, or what came out reads as a
# menu (mostly short lines). A short text that is the page's whole story (a brief, a
# notice) is what the full pass finds too, at twice the cost of the fast one: 8 of the 11
# full passes on the shared corpus, a tenth of its extraction time.
FULL_PASS_BELOW = 1500  # characters
FULL_PASS_BLOCK_OVER = 1.5  # ... and the densest block this many times what came out,
MENU_LINE = 10  # ... or more than half its lines shorter than this
MIN_PARAGRAPH = 20  # characters of a node's own text that make it a paragraph
MAX_LINK_SHARE = 0.4  # a block more than this much link text is navigation
INLINE_TAGS = frozenset({"b", "strong", "i", "em", "font", "span", "u", "sup", "sub", "small", "big", "br"})


@dataclass(slots=True)
class Article:
    title: str | None
    author: str | None  # the byline as the page writes it ("宋怡 杨志华", "Ann Lee and Bo Chen")
    authors: list[str]  # the names in it
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


@dataclass(slots=True)
class Extraction:
    article: Article | None
    reason: str | None = None  # why there is no article


def extract(body: bytes, url: str | None, *, tz: tzinfo, content_type: str | None = None,
            now: datetime | None = None) -> Extraction:
    """Extract the article in a page, or say why there is none. ``tz``: the zone naive
    dates are read in (the source's, else the configuration's); ``now``: the fetch time,
    against which relative dates (3分钟前) are read. A ``url`` that does not parse is taken
    for none (nothing is resolved against it)."""
    if url is not None and clean_url(url) is None:
        url = None
    html, encoding = decode_html(body, content_type)
    html = _XML_DECLARATION.sub("", html, count=1)
    if not html.strip():
        return Extraction(None, "empty page")
    try:
        tree = lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return Extraction(None, "not HTML")
    now = now or datetime.now(timezone.utc)
    page = Page(url=url, html=html, tree=tree, tz=tz, now=now)
    adapter = adapter_for(page)
    fields = SiteFields()
    if adapter is not None:
        try:
            fields = adapter.extract(page)
        except Exception as exc:  # noqa: BLE001 (a site changed its layout: fall back to the generic path)
            logger.warning("%s adapter failed on %s: %s: %s", adapter.NAME, url, type(exc).__name__, exc)
    if fields.not_article:
        return Extraction(None, fields.not_article)

    anchors = anchors_in(fields.body) if fields.body is not None else []
    text = fields.text
    densest = functools.cache(lambda: _densest_text(tree))  # looked for once, if at all
    if not text:
        # Metadata is read here, not by trafilatura: its date and author guesses are the ones
        # this stage exists to replace, and skipping them is a fifth of its time.
        doc = _trafilatura(tree, fast=True)
        found = len(doc.text or "") if doc is not None and doc.body is not None else 0
        if not found or found < FULL_PASS_BELOW and (len(densest()[1]) > FULL_PASS_BLOCK_OVER * found
                                                     or _reads_as_menu(doc.text)):
            doc = _trafilatura(tree, fast=False)
        if doc is not None and doc.body is not None:
            anchors = [(ref.get("target") or "", _words_before(ref)) for ref in doc.body.iter("ref")]
            etree.strip_tags(doc.body, "ref")
            text = xmltotxt(doc.body, include_formatting=False)
    text = (text or "").strip()
    if fields.text is None and _looks_like_page_soup(text):
        block, dense = densest()
        # A data table in an article also reads as cells; the whole page is the case where
        # the densest block is a fraction of what came out.
        if dense and (not text or len(text) > SOUP_OVER_BLOCK * len(dense)):
            text, anchors = dense, anchors_in(block)
    metas = _metas(tree)
    title = _clean(fields.title or _meta(metas, TITLE_META) or extract_title(tree)
                   or _first_text(tree, "//h1") or _first_text(tree, "//title"))
    reason = _not_an_article(tree, title, text, adapter is not None)
    if reason:
        return Extraction(None, reason)
    linked_data = _json_ld(tree)  # before _page_text drops the scripts it sits in
    page_text = _page_text(tree)
    headline_end = _headline_position(page_text, title)
    language = _language(tree, text)
    published, origin = fields.published, "adapter"
    if published is None:
        published, origin = _published(tree, html, metas, linked_data, page_text, headline_end, text, tz, now), "page"
    if published is None and language not in (None, "zh"):
        published, origin = _htmldate(html, url, tz, now), "page"
    if fields.authors:
        byline = ", ".join(fields.authors), fields.authors
    else:
        byline = find_byline(page_text, headline_end, text, _meta(metas, AUTHOR_META) or _json_ld_author(linked_data),
                             site_names=_site_names(tree, url))
    return Extraction(Article(
        title=title,
        author=byline[0] if byline else None,
        authors=byline[1] if byline else [],
        published=published,
        published_from=origin if published else None,
        language=language,
        text=text,
        links=_merge_links(fields.links, cited_links(anchors, text, url, base=_link_base(tree, url))),
        images=fields.images,
        description=_clean(fields.description or _meta(metas, DESCRIPTION_META)),
        encoding=encoding,
        site=adapter.NAME if adapter else None,
        canonical_url=fields.canonical_url or _declared_canonical(tree, url),
    ))


def _trafilatura(tree, fast: bool):
    """trafilatura's body, its links as the page wrote them. (Given the page's URL, it
    resolves relative links against the site's root, not the page: ``files/paper.pdf`` on
    ``/news/2022/npu.html`` came out as ``/files/paper.pdf``, and the resolving took a
    few per cent of its time. :func:`pipelines.analysis.links.cited_links` resolves them instead.)

    It is given the page's tree rather than the text, which it would parse again: it works
    on a copy of a tree it is handed (a copy costs a third of a parse), and the tree was
    parsed without the comments and processing instructions its own parser drops."""
    return trafilatura.bare_extraction(tree, with_metadata=False, include_links=True, fast=fast,
                                       include_comments=False, include_tables=True)


def _reads_as_menu(text: str) -> bool:
    """Mostly short lines: a menu or a list of links, not the article's paragraphs."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return sum(len(line) < MENU_LINE for line in lines) * 2 > len(lines)


def _link_base(tree, url: str | None) -> str | None:
    """What the page's relative links are relative to: its ``<base href>``, else its URL."""
    href = next(iter(tree.xpath("//head/base/@href")), None)
    if not href or not url:
        return url
    return urljoin(url, href.strip())


def _looks_like_page_soup(text: str) -> bool:
    """Nothing, or a whole table-layout page as cells ("a | b |"): the generic extractor
    did not find the article (old portal and blog pages built of nested tables)."""
    if not text:
        return True
    lines = text.splitlines()
    cells = sum(line.count(" | ") + line.startswith("|") for line in lines)
    return cells > len(lines) * SOUP_CELLS_PER_LINE


def _densest_block(tree) -> etree._Element | None:
    """The element holding the most running text outside links, Readability-style: each
    text-bearing node credits its own text to itself, its parent and half to its
    grandparent; the best-scoring node with little link text wins."""
    text, links, unstripped = _text_lengths(tree)
    in_links = {node for a in tree.iter("a") for node in a.iterdescendants()}
    scores: dict[etree._Element, float] = {}
    for node in tree.iter():
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "a", "head", "title", "option"):
            continue
        if unstripped[node] < MIN_PARAGRAPH:
            continue  # stripping only shortens: most elements end here
        own = len((node.text or "").strip()) + sum(len((child.tail or "").strip()) for child in node)
        own += sum(len("".join(child.itertext()).strip()) for child in node
                   if isinstance(child.tag, str) and child.tag in INLINE_TAGS)
        if own < MIN_PARAGRAPH or node in in_links:
            continue
        scores[node] = scores.get(node, 0) + own
        parent = node.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + own
            grandparent = parent.getparent()
            if grandparent is not None:
                scores[grandparent] = scores.get(grandparent, 0) + own / 2
    best, best_score = None, 0.0
    for node, score in scores.items():
        total = text[node]
        if total and links[node] / total < MAX_LINK_SHARE and score > best_score:
            best, best_score = node, score
    return best


def _densest_text(tree) -> tuple[etree._Element | None, str]:
    """The densest block and its text (empty when there is none)."""
    block = _densest_block(tree)
    return block, block_text(block) if block is not None else ""


def _text_lengths(tree) -> tuple[dict, dict, dict]:
    """For each element, in one pass from the leaves up (measuring each block apart walked
    the same subtrees again and again): its text length as ``itertext`` gives it (comments'
    own text left out, their tails kept); how much of that lies in links (a link inside a
    link counts twice, as iterating both would); and its own text, its children's tails and
    its inline children's text, unstripped."""
    text: dict = {}
    links: dict = {}
    own: dict = {}
    for node in reversed(list(tree.iter())):
        length = len(node.text or "") if isinstance(node.tag, str) else 0
        linked = 0
        mine = length
        for child in node:
            tail = len(child.tail or "")
            length += text[child] + tail
            linked += links[child]
            mine += tail + (text[child] if isinstance(child.tag, str) and child.tag in INLINE_TAGS else 0)
        text[node] = length
        links[node] = linked + length if node.tag == "a" else linked
        own[node] = mine
    return text, links, own


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


def _metas(tree) -> dict[str, str]:
    """Each ``<meta>`` name (its property, name or itemprop, lower case) with the first
    content given for it: read once for every :func:`_meta`."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
        if key not in found and (element.get("content") or "").strip():
            found[key] = element.get("content").strip()
    return found


def _meta(metas: dict[str, str], names: tuple[str, ...]) -> str | None:
    """The content of the first of ``names`` the page's ``<meta>`` tags give (:func:`_metas`)."""
    return next((metas[name] for name in names if name in metas), None)


def _first_text(tree, xpath: str) -> str | None:
    for element in tree.xpath(xpath):
        text = " ".join("".join(element.itertext()).split())
        if text:
            return text
    return None


def _page_text(tree) -> str:
    """The page's visible text on one line, URLs written out in it left out (their dates
    are the cited page's, not this one's). Scripts and styles are dropped from the page's
    tree (trafilatura is done with it: it worked on copies) rather than tested for on every
    text node, which took longer than all the rest of this function."""
    etree.strip_elements(tree, "script", "style", "noscript", with_tail=False)
    body = tree.find("body")
    text = " ".join((body if body is not None else tree).itertext())
    return " ".join(_URL.sub(" ", text).split())


SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "twitter:site")
_TITLE_PARTS = re.compile(r"\s+[-–—|_·]\s+|[|｜_]")


def _site_names(tree, url: str | None) -> tuple[str, ...]:
    """What the site calls itself: its declared name, the last part of its <title>
    ("标题 - 某某网"), its host's name. None of them is an author."""
    names = [element.get("content", "").strip() for element in tree.iter("meta")
             if (element.get("property") or element.get("name") or "").lower() in SITE_NAME_META]
    title = _first_text(tree, "//title") or ""
    parts = [p.strip() for p in _TITLE_PARTS.split(title) if p.strip()]
    if len(parts) > 1:
        names.append(parts[-1])
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [label for label in host.split(".") if label not in ("www", "m", "com", "cn", "net", "org", "news")]
    names += labels[:1]
    return tuple(n.lstrip("@") for n in names if n)


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


def _json_ld_author(linked_data: list[dict]) -> str | None:
    for obj in linked_data:
        author = obj.get("author")
        names = author if isinstance(author, list) else [author]
        names = [n.get("name") if isinstance(n, dict) else n for n in names]
        names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
        if names:
            return ", ".join(names)
    return None


def _published(tree, html: str, metas: dict[str, str], linked_data: list[dict], text: str, headline_end: int | None,
               article_text: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The page's own publication instant, or None: never a date read from a cited link,
    a related-articles list, a sidebar or a footer.

    The date line under the headline is what the page shows its readers; the metadata
    (``<meta>``, JSON-LD, a timestamp in script) is what its software wrote, with a time and
    a zone. Where both give the same day (in the source's zone) the metadata's instant is
    taken for its precision; where they disagree, the line under the headline: metadata
    is where templates leave the date a page was last built or first drafted.
    """
    visible = _headline_date(text, headline_end, article_text, tz, now)
    structured = _structured_date(tree, html, metas, linked_data, tz, now)
    if visible and structured:
        same_day = visible.astimezone(tz).date() == structured.astimezone(tz).date()
        return structured if same_day else visible
    if visible or structured:
        return visible or structured
    for element in tree.xpath("//time|//*[@class or @id]"):
        if element.tag != "time" and not DATE_CLASS.search(f"{element.get('class', '')} {element.get('id', '')}"):
            continue
        if _aside(element):
            continue
        words = " ".join("".join(element.itertext()).split())
        if 6 <= len(words) <= 80:
            moment = parse_date(words, tz, now)
            if moment:
                return moment
    for label in DATE_LABEL.finditer(text):
        moment = parse_date(label["rest"], tz, now, with_year=True)
        if moment:
            return moment
    return None


def _structured_date(tree, html: str, metas: dict[str, str], linked_data: list[dict], tz: tzinfo,
                     now: datetime) -> datetime | None:
    """The publication instant the page's metadata states: ``<meta>``, JSON-LD, a
    timestamp in script, a ``<time datetime>`` outside lists and sidebars."""
    candidates: list[str] = []
    meta = _meta(metas, DATE_META)
    if meta:
        candidates.append(meta)
    candidates += [str(obj["datePublished"]) for obj in linked_data if obj.get("datePublished")]
    for value in candidates:
        moment = parse_date(value, tz, now)
        if moment:
            return moment
    match = search_at_word_start(SCRIPT_TIMESTAMP, html)
    if match:
        moment = from_timestamp(match.group(1))
        if moment and moment <= now:
            return moment
    for element in tree.xpath("//time[@datetime]"):
        if _aside(element):
            continue
        moment = parse_date(element.get("datetime"), tz, now)
        if moment:
            return moment
    return None


def _headline_date(text: str, headline_end: int | None, article_text: str, tz: tzinfo,
                   now: datetime) -> datetime | None:
    """The date in the lines between the headline and the article's first words: the first
    full date there, or a ``10月14日 10:30`` or ``3小时前`` standing alone (the year that puts
    it in the past; the fetch time less the span)."""
    if headline_end is None:
        return None
    near = text[headline_end:headline_end + DATE_WINDOW]
    opening = " ".join(article_text.split())[:12]
    starts = near.find(opening) if len(opening) >= 6 else -1
    if starts >= 0:
        # A short article: the window would reach past it, into lists and footers. It ends
        # where the article starts, or past its first line when that is a short one (an
        # extracted text that opens with the date line itself).
        first_line = " ".join(article_text.strip().split("\n", 1)[0].split())
        near = near[:starts + (len(first_line) if len(first_line) <= DATE_LINE_MAX else 0)]
    label = DATE_LABEL.search(near)
    moment = (label and parse_date(label["rest"], tz, now)) or parse_date(near, tz, now, with_year=True)
    if moment:
        return moment
    line = YEARLESS_DATE_LINE.match(near)
    return parse_date(line["date"], tz, now) if line else None


# Containers of other pages' dates: lists of related or popular articles, sidebars, footers.
ASIDE_TAGS = frozenset({"aside", "footer", "nav"})
ASIDE_CLASS = re.compile(r"(?<![a-z])(related|recommend|sidebar|side-bar|hot|rank|list|footer|comment|tuijian|"
                         r"xiangguan)", re.IGNORECASE)
LIST_ITEMS = 3  # an item of a list this long is one of several entries, not the article's info line


def _aside(element) -> bool:
    """Whether the element sits in a list, sidebar, footer or comment thread."""
    for node in (element, *element.iterancestors()):
        if not isinstance(node.tag, str):
            continue
        if node.tag in ASIDE_TAGS:
            return True
        if node.tag == "li" and node.getparent() is not None and len(node.getparent().findall("li")) >= LIST_ITEMS:
            return True
        if ASIDE_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
    return False


def _htmldate(html: str, url: str | None, tz: tzinfo, now: datetime) -> datetime | None:
    """htmldate's reading of a non-Chinese page that states no date of its own: the
    original date, without its extensive search (which guesses from any date in the page).
    Its English heuristics reach further than the text scans above; on Chinese pages it is
    never asked (it reads 2022年10月14日 as January 1st)."""
    try:
        found = find_date(html, extensive_search=False, original_date=True, url=url,
                          max_date=now.astimezone(tz).strftime("%Y-%m-%d"))
    except (ValueError, TypeError):
        return None
    return parse_date(found, tz, now) if found else None


def _headline_position(text: str, title: str | None) -> int | None:
    """Where the headline ends in the page text (its last mention, past the <title> and
    breadcrumbs), or None."""
    if not title:
        return None
    for probe in (title, title[:12]):
        at = text.rfind(probe, 0, len(text) // 2 + len(probe))
        if at >= 0:
            end = at + len(probe)
            # A <title> carries a site suffix the headline on the page does not: follow the
            # title as far as the page text agrees with it.
            while end < len(text) and end - at < len(title) and text[end] == title[end - at]:
                end += 1
            return end
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
    if not adapted and _mostly_headlines(tree, text):
        return "listing page"
    if not adapted and short:
        prose = max((len(line) for line in text.splitlines()), default=0)
        if tree.xpath("count(//body//a[@href])") >= LISTING_LINKS and prose < 80:
            return "listing page"
    return None


def _mostly_headlines(tree, text: str) -> bool:
    """What came out is mostly the titles of links on the page: the headlines of a channel,
    tag or search page, not an article. Titles are short: a deals roundup that links whole
    sentences inside its paragraphs is still an article."""
    titles = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    titles = [t for t in titles if HEADLINE_MIN <= len(t) <= HEADLINE_MAX and t in text]
    return len(titles) >= LISTING_LINES and sum(map(len, titles)) > len(text) * LISTING_LINK_SHARE


def _declared_canonical(tree, url: str | None) -> str | None:
    """``<link rel=canonical>`` when it names another path on the same host."""
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
    cjk = len(CJK.findall(sample))
    if cjk > len(sample) * 0.15:
        return "zh"
    if declared and not declared.startswith("zh"):
        return declared.split("-")[0]
    letters = sum(ch.isascii() and ch.isalpha() for ch in sample)
    return "en" if letters > len(sample) * 0.5 else (declared.split("-")[0] or None)
