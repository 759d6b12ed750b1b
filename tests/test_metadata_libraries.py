"""What we rely on in the libraries under the metadata, as a table: an upgrade that changes
any of it fails here, loudly, before it changes stored dates or keys."""
from __future__ import annotations

import codecs
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import feedparser
import pytest
from htmldate import find_date
from w3lib.encoding import read_bom
from w3lib.url import canonicalize_url

from crawler.discovery.feeds import parse_feed


def _feedparser_utc(text: str) -> str | None:
    parsed = feedparser.parse(f"<rss version='2.0'><channel><item><link>http://a.test/1</link><pubDate>{text}"
                              "</pubDate></item></channel></rss>").entries[0].get("published_parsed")
    return time.strftime("%Y-%m-%dT%H:%M:%S", parsed) if parsed else None


@pytest.mark.parametrize("text, expected", [
    ("Tue, 07 Mar 2017 09:10:00 PT", "2017-03-07T17:10:00"),     # zone names it knows
    ("Tue, 07 Mar 2017 09:10:00 MEST", "2017-03-07T07:10:00"),
    ("Tue, 07 Mar 2017 09:10:00 -01:01", "2017-03-07T10:11:00"),
    ("Tue Mar  7 09:10:00 2017", "2017-03-07T09:10:00"),          # asctime, read as UTC
    ("2017-03-07T09:10:00+08:00", "2017-03-07T01:10:00"),
])
def test_feedparser_reads_these_dates(text, expected):
    assert _feedparser_utc(text) == expected


def test_feedparser_misreads_chinese_dates_so_we_read_them():
    """Its reading of 2022年10月14日 is not October 14th (it has been the current month):
    dates.feed_date refuses it for text with Chinese in it."""
    got = _feedparser_utc("2022年10月14日 08:30")
    assert got is None or got[:10] != "2022-10-14"


@pytest.mark.parametrize("url, expected", [
    ("http://[::1]:8080/a/../b/./c", "http://[::1]:8080/b/c"),
    ("https://a.test/%7euser/%c3%a9", "https://a.test/~user/%C3%A9"),
    ("https://a.test/caf%e9", "https://a.test/caf%E9"),
    ("https://a.test/x?b=2&a=1", "https://a.test/x?a=1&b=2"),
    ("https://a.test/x#frag", "https://a.test/x"),
    ("http://中文.test/", "http://xn--fiq228c.test/"),
])
def test_w3lib_canonicalize_url(url, expected):
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize("mark, codec", [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                         (codecs.BOM_UTF8, "utf-8"), (b"", None)])
def test_w3lib_read_bom(mark, codec):
    assert read_bom(mark + b"<html>")[0] == codec


def test_htmldate_turns_a_chinese_date_into_january_first_so_it_never_reads_chinese_pages():
    html = "<html><body><h1>标题</h1><p>发布时间：2022年10月14日</p></body></html>"
    assert find_date(html, extensive_search=True) in (None, "2022-01-01")


def test_htmldate_reads_a_url_date_without_extensive_search():
    html = "<html><body><h1>Title</h1><p>Words.</p></body></html>"
    assert find_date(html, extensive_search=False, original_date=True,
                     url="https://a.test/2022/03/03/title.html") == "2022-03-03"


def test_a_feed_served_without_a_content_type_is_not_flagged():
    """Handed an empty Content-Type, feedparser flagged this valid feed as malformed."""
    body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title><item>"
            "<title>芯片</title><link>/a/1.html</link><pubDate>Tue, 07 Mar 2017 09:10:00 PT</pubDate></item>"
            "</channel></rss>").encode()
    for content_type in (None, ""):
        reading = parse_feed(body, "http://feeds.test/f.xml", content_type, ZoneInfo("Asia/Shanghai"),
                             datetime(2023, 1, 1, tzinfo=timezone.utc))
        assert reading.malformed is None
        assert [(f.url, f.published) for f in reading.found] == \
            [("http://feeds.test/a/1.html", datetime(2017, 3, 7, 17, 10, tzinfo=timezone.utc))]
