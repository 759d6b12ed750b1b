"""Every parser of outside text, fuzzed: no input raises anything but our own one-line
errors, and the same input parsed twice gives the same result.

Bounded (a fixed number of examples each, no deadline on a shared machine) so that the
file runs in well under a minute.
"""
from __future__ import annotations

import string
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.config import ConfigError, default_config_text, load_config
from crawler.discovery import DiscoveryError
from crawler.discovery.feeds import parse_feed
from crawler.discovery.listings import ListingRules, read_listing
from crawler.discovery.sitemaps import read_sitemap
from pipelines.analysis.authors import find_byline
from pipelines.analysis.dates import feed_date, from_timestamp, parse_date
from pipelines.analysis.encoding import decode_html
from pipelines.analysis.urls import canonical_url
from pipelines.editorial.importer import IssueFormatError, parse_issue
from pipelines.extract import extract_article

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2023, 3, 31, 4, 0, tzinfo=timezone.utc)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that dates are made of, so that examples reach deep into the formats.
DATE_PIECES = st.sampled_from([
    "2022", "年", "月", "日", "10", "14", "-", "/", ".", ":", "：", " ", "T", "Z", "+08:00", "-0130", "GMT", "PT",
    "CST", "MEST", "下午", "晚", "凌晨", "中午", "点", "分", "秒", "前", "半", "小时", "个月", "個", "天", "周", "年前",
    "刚刚", "昨天", "今天", "二〇二二", "十", "十四", "Oct", "October", "Sun", "Mon,", "ago", "hours", "an", "half",
    "am", "p.m.", "st", "99", "0", "2099", "1900", "\u3000", "\n",
])
dates_text = st.one_of(st.text(max_size=60), st.lists(DATE_PIECES, max_size=14).map("".join))


@FUZZ
@given(dates_text, st.booleans())
def test_parse_date_returns_an_aware_plausible_instant_or_none(text, with_year):
    got = parse_date(text, SHANGHAI, NOW, with_year=with_year)
    assert got == parse_date(text, SHANGHAI, NOW, with_year=with_year)
    if got is not None:
        assert got.tzinfo is not None and got.utcoffset() is not None
        assert 1995 <= got.year and got <= NOW + timedelta(days=1)


@FUZZ
@given(dates_text, st.one_of(st.none(), st.tuples(*[st.integers(-5, 3000)] * 9)))
def test_feed_date_never_raises(text, parsed):
    got = feed_date(text, parsed, SHANGHAI, NOW)
    assert got == feed_date(text, parsed, SHANGHAI, NOW)
    assert got is None or got.tzinfo is not None


@FUZZ
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.none()))
def test_from_timestamp_never_raises(value):
    got = from_timestamp(value)
    assert got is None or got.tzinfo is not None


URL_PIECES = st.sampled_from([
    "http://", "https://", "HTTP://", "ftp://", "//", "[::1]", "[2001:db8::1]", "[", "]", "a.test", "中文.test", "xn--",
    ":80", ":443", ":8080", ":99999", ":", "/", "./", "../", "%", "%7e", "%C3%A9", "%e9", "%zz", "?", "&", "=", "#",
    "utm_source=x", "s_cid=1", "id=2", "__biz=MzA==", "mid=1", "idx=1", "sn=a", "mp.weixin.qq.com/s", "arxiv.org/abs/",
    "2210.03142v2", ".pdf", "路径", " ", "\t", "@", "user:pw@", "\x00", "+",
])
urls = st.one_of(st.text(max_size=80), st.lists(URL_PIECES, max_size=16).map("".join))


@FUZZ
@given(urls)
def test_canonical_url_is_a_key_or_a_value_error_and_a_key_is_its_own_key(url):
    try:
        key = canonical_url(url)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert key.startswith("https://")
    assert canonical_url(key) == key  # idempotent: stored keys are looked up as computed
    assert canonical_url(url) == key


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.text(max_size=120).map(lambda t: t.encode("utf-8")),
                 st.text(max_size=120).map(lambda t: t.encode("gb18030", "replace"))),
       st.one_of(st.none(), st.sampled_from(["text/html", "text/html; charset=gbk", "text/html; charset=utf-8",
                                             "text/html; charset=latin-1", "text/html; charset=base64",
                                             "text/html; charset=utf-16", "text/html; charset=", "charset=\x00"])),
       st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00",
                        b"<meta charset='big5'>", b"<?xml version='1.0' encoding='gb2312'?>"]))
def test_decode_html_always_decodes(body, content_type, prefix):
    text, used = decode_html(prefix + body, content_type)
    assert isinstance(text, str) and used
    assert decode_html(prefix + body, content_type) == (text, used)


FEED_PIECES = st.sampled_from([
    "<?xml version='1.0' encoding='utf-8'?>", "<rss version='2.0'>", "<channel>", "</channel>", "</rss>", "<item>",
    "</item>", "<link>", "</link>", "http://a.test/1", "/rel", "javascript:x", "<pubDate>", "</pubDate>",
    "Tue, 07 Mar 2017 09:10:00 PT", "2022年10月14日", "<title>", "</title>", "芯片", "<feed xmlns='http://www.w3.org/2005/Atom'>",
    "</feed>", "<entry>", "</entry>", "<link href='http://a.test/2'/>", "<updated>", "</updated>", "2022-10-14T08:00:00Z",
    "<guid>", "</guid>", "&amp;", "&bogus;", "<![CDATA[", "]]>", "<!DOCTYPE x [<!ENTITY e 'x'>]>", "&e;",
])
documents = st.one_of(st.binary(max_size=200), st.lists(FEED_PIECES, max_size=20).map(lambda p: "".join(p).encode()))


@SLOW_FUZZ
@given(documents, st.sampled_from([None, "", "application/rss+xml", "text/html; charset=gbk"]), st.booleans())
def test_feeds_read_or_fail_in_one_line(body, content_type, wechat):
    try:
        first = parse_feed(body, "http://feeds.test/f.xml", content_type, SHANGHAI, NOW, wechat)
    except DiscoveryError as exc:
        assert "\n" not in str(exc)
        return
    assert parse_feed(body, "http://feeds.test/f.xml", content_type, SHANGHAI, NOW, wechat) == first


SITEMAP_PIECES = st.sampled_from([
    "<?xml version='1.0'?>", "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>", "</urlset>",
    "<sitemapindex>", "</sitemapindex>", "<url>", "</url>", "<sitemap>", "</sitemap>", "<loc>", "</loc>",
    "https://a.test/p/1", "ftp://x", "<lastmod>", "</lastmod>", "2022-10-14", "2022-10-14T08:00+08:00", "yesterday",
    "<news:news xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>", "</news:news>",
    "<news:publication_date>", "</news:publication_date>", "<news:title>", "</news:title>", "芯片",
    "<!DOCTYPE x [<!ENTITY e 'x'>]>", "&e;", "\x1f\x8b",
])
sitemaps = st.one_of(st.binary(max_size=200), st.lists(SITEMAP_PIECES, max_size=20).map(lambda p: "".join(p).encode()))


@SLOW_FUZZ
@given(sitemaps, st.sampled_from(["http://a.test/sitemap.xml", "http://a.test/sitemap.xml.gz", "http://a.test/robots.txt"]),
       st.sampled_from([None, "application/xml", "application/x-gzip"]))
def test_sitemaps_read_or_fail_in_one_line(body, url, content_type):
    try:
        first = read_sitemap(body, url, content_type, SHANGHAI, NOW)
    except DiscoveryError as exc:
        assert "\n" not in str(exc)
        return
    assert read_sitemap(body, url, content_type, SHANGHAI, NOW) == first


BYLINE_PIECES = st.sampled_from(["作者：", "文｜", "记者", "（", "）", "【", "】", "[", "]", "By ", "and ", "Ann ", "Lee",
                                 "王小明", "、", " ", "编辑：", "本帖由", "于", "由", "张贴", "第 3 楼", "招聘", "user_1"])


@FUZZ
@given(st.lists(BYLINE_PIECES, max_size=16).map("".join), st.one_of(st.none(), st.text(max_size=30)),
       st.one_of(st.none(), st.integers(0, 40)))
def test_bylines_never_raise(text, meta_author, headline_end):
    got = find_byline(text, headline_end, text, meta_author)
    assert got == find_byline(text, headline_end, text, meta_author)
    if got is not None:
        byline, names = got
        assert names and all(name for name in names)


SHIPPED_LINES = default_config_text().splitlines()
TOML_VALUES = st.sampled_from(['""', '"x"', "0", "-1", "1e400", "true", "[]", "{}", '"http://"', '"Mars/Olympus"',
                               '"1x"', '"[[["', "[[sources]]", "nan", '"feed"', '"\\u0000"'])


@SLOW_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SHIPPED_LINES) - 1), TOML_VALUES), max_size=4),
       st.text(alphabet=string.printable, max_size=40))
def test_the_config_loader_accepts_or_names_the_problem_in_one_line(edits, noise):
    """The shipped config with values replaced (wrong types, bad zones, broken URLs) or
    noise appended: a Config or a one-line ConfigError, never a traceback."""
    lines = list(SHIPPED_LINES)
    for index, value in edits:
        key, sep, _ = lines[index].partition("=")
        lines[index] = f"{key}= {value}" if sep and not key.lstrip().startswith("#") else value
    text = "\n".join(lines) + "\n" + noise
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aibrief.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path, Path(folder) / "fuzz.db")
        except ConfigError as exc:
            assert "\n" not in str(exc).strip()


# Pieces of every issue layout the importer reads, so that examples reach its readers.
ISSUE_PIECES = st.sampled_from([
    "[TOC]\n", "> 导读：本期为 AI 简报 20201120 期，将为您带来 3 条新闻\n", "# 🤖 AI 早报 | 2026.08.22（周六）\n",
    "> 📌 **今日一句话**：芯片\n", "---\n", "## 🔥 今日精选\n", "## ⭐ GitHub 今日趋势（AI）\n", "## 💡 今日洞察\n",
    "| [a/b](https://github.com/a/b) | 说明 | 2,858 |\n", "| --- | --- | --- |\n", "🔴 **Waymo** 芯片 — 说明。（[源](https://x.test/a)）\n",
    "# 1. [标题](https://a.test/1)\n", "## [2. 标题](https://a.test/2) | 来源\n", "## 3.【芯片】[t](https://:80/x)\n",
    "# 其他\n", "- [链接](http://[::1)\n", "原文：https://a.test/3\n", "> Github：\n", "> https://github.com/x/y\n",
    "```\n# 不是标题\n```\n", "1. 列表\n", "![](https://img.test/a.png)\n", "嵌入式 AI\n", "AI 簡報 20221014 期\n",
    "原文:\n", "https://mp.weixin.qq.com/s/abc\n", "- END -\n", "---\ntitle: x\n---\n", "# 嵌入式AI简报 (2022-07-01)：x\n",
    "- [标题 | 来源](https://b.test/1)\n", "摘要：一句话。\n", "\n", "\\", "[", "](", "<img src=x>",
])
issue_texts = st.one_of(st.text(max_size=200), st.lists(ISSUE_PIECES, max_size=25).map("".join))


@SLOW_FUZZ
@given(issue_texts, st.booleans())
def test_the_importer_reads_or_fails_in_one_line(text, markdown):
    try:
        first = parse_issue(text, markdown=markdown, fallback=datetime(2026, 8, 22).date())
    except IssueFormatError as exc:
        assert "\n" not in str(exc)
        return
    again = parse_issue(text, markdown=markdown, fallback=datetime(2026, 8, 22).date())
    assert (again.date, again.title, [(i.title, i.url, i.links) for i in again.items]) == \
        (first.date, first.title, [(i.title, i.url, i.links) for i in first.items])


LISTING_PIECES = st.sampled_from([
    "<html><body>", "</body></html>", "<div class='item'>", "</div>", "<a href='/p/1'>", "<a href='javascript:x'>",
    "<a href='http://[::1'>", "</a>", "标题", "<span class='time'>", "</span>", "3分钟前", "2022-10-14", "昨天 08:00",
    "{\"data\": {\"list\": [", "{\"url\": \"/p/2\", \"title\": \"t\", \"date\": \"10月14日\"}", "]}}", ",", "null",
])
listing_bodies = st.one_of(st.binary(max_size=200), st.lists(LISTING_PIECES, max_size=20).map(lambda p: "".join(p).encode()))
LISTING_RULES = [ListingRules.from_options({"item": ".item", "link": "a", "date": ".time"}),
                 ListingRules.from_options({"format": "json", "item": "data.list", "link": "url", "title": "title",
                                            "date": "date"})]


@SLOW_FUZZ
@given(listing_bodies, st.sampled_from(LISTING_RULES), st.sampled_from([None, "text/html", "application/json"]))
def test_listing_pages_read_or_fail_in_one_line(body, rules, content_type):
    try:
        first = read_listing(body, "http://list.test/channel", content_type, rules, SHANGHAI, NOW)
    except DiscoveryError as exc:
        assert "\n" not in str(exc)
        return
    assert read_listing(body, "http://list.test/channel", content_type, rules, SHANGHAI, NOW) == first


PAGE_PIECES = st.sampled_from([
    "<html>", "<head><meta charset='gbk'>", "<title>端侧芯片</title>", "</head>", "<body>", "<article>", "<h1>标题</h1>",
    "<p>一家公司发布了新的推理芯片，能效提高一倍。</p>", "<div class='date'>2022年10月14日 晚8:00</div>", "作者：张三",
    "<script>var ct = '1665709920';</script>", "<meta name='author' content='招聘'>", "</article>", "</body></html>",
    "\xef\xbb\xbf", "<a href='https://arxiv.org/abs/2210.01234'>论文</a>", "<![CDATA[", "<!--", "&#0;", "<svg>",
])
pages = st.one_of(st.binary(max_size=300), st.lists(PAGE_PIECES, max_size=20).map(lambda p: "".join(p).encode("utf-8")))


@SLOW_FUZZ
@given(pages, st.sampled_from([None, "https://news.test/a/1.html", "http://[::1"]))
def test_extraction_gives_an_article_or_none_never_an_exception(body, url):
    first = extract_article(body, url, now=NOW)
    again = extract_article(body, url, now=NOW)
    assert (first is None) == (again is None)
    if first is not None:
        assert (first.title, first.text, first.published) == (again.title, again.text, again.published)
