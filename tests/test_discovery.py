"""Discovery: every shipped source read from a fixture of its own (the real page's
structure, text of our own), and the parsers' behaviour on broken documents."""
from __future__ import annotations

import gzip
import json
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from conftest import TEST_SITES

from crawler.config import ConfigError, load_config
from crawler.discovery import DiscoveryError
from crawler.discovery.arxiv import query_url, read_answer
from crawler.discovery.check import FetchError, check_source
from crawler.discovery.feeds import read_feed
from crawler.discovery.github import read_trending, readme_excerpt, repo_article, trending_url
from crawler.discovery.listings import ListingRules, read_listing
from crawler.discovery.sitemaps import MAX_SITEMAP_BYTES, read_sitemap, select_entries
from crawler.sampleserver import SampleSites, _content_type

# The moment the fixtures were "fetched": 12:00 in Shanghai on the reference issue's day.
NOW = datetime(2022, 10, 14, 4, 0, tzinfo=timezone.utc)
EXPECTED = Path(__file__).parent / "discovery" / "default-sources.json"


class FixtureFetcher:
    """Serves every URL of one source from its fixture site, whatever the host (the
    fixture keeps the real site's paths), as the sample server would."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.sites = SampleSites([TEST_SITES])
        self.fetched: list[str] = []

    def pace(self, host: str, seconds: float) -> None:
        pass

    def get(self, url: str, max_size: int = 0) -> tuple[bytes, str, str | None]:
        self.fetched.append(url)
        parts = urlsplit(url)
        found = self.sites.find(self.host, parts.path or "/", parts.query)
        if found is None:
            raise FetchError("HTTP 404")
        body = found.read_bytes()
        content_type = _content_type(found, parts.path, body)
        sidecar = found.with_name(found.name + ".headers")
        if sidecar.is_file():
            for line in sidecar.read_text("utf-8").splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-type":
                    content_type = value.strip()
        return body, url, content_type


def default_sources_config():
    """The shipped configuration with an RSSHub instance set, so that every WeChat source is on."""
    from crawler.config import default_config_text

    text = default_config_text().replace('rsshub = ""', 'rsshub = "https://rsshub.fixture.test"', 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aibrief.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path, Path(folder) / "unused.db")


SHIPPED = default_sources_config()


@pytest.mark.parametrize("source_id", [s.id for s in SHIPPED.sources])
def test_shipped_source_yields_the_right_links_and_hints_from_its_fixture(source_id):
    """Each source of the default config, read from a fixture shaped like its real page:
    the links, titles and dates it must yield (tests/discovery/default-sources.json)."""
    source = SHIPPED.source(source_id)
    fetcher = FixtureFetcher(f"{source_id}.fixture.test")
    result = check_source(SHIPPED, source, fetcher, NOW)
    assert result.error is None, result.error
    # Dates compare as instants: a feed's date may come back in the zone it was written in
    # or in UTC (feedparser's reading).
    got = [{"url": f.url, "title": f.title, "published": f.published} for f in result.found]
    expected = [dict(e, published=datetime.fromisoformat(e["published"]) if e["published"] else None)
                for e in json.loads(EXPECTED.read_text("utf-8"))[source_id]]
    assert got == expected
    # The request went where the real source is.
    assert urlsplit(fetcher.fetched[0]).hostname == urlsplit(source.feed_url(SHIPPED.crawl.rsshub)).hostname


def test_the_shipped_config_has_25_real_sources_of_every_kind_each_with_a_fixture():
    kinds = {s.kind for s in SHIPPED.sources}
    assert kinds == {"feed", "sitemap", "listing", "arxiv", "github-trending", "wechat", "hackernews"}
    assert len(SHIPPED.sources) >= 25
    assert set(json.loads(EXPECTED.read_text("utf-8"))) == {s.id for s in SHIPPED.sources}
    for source in SHIPPED.sources:
        assert (TEST_SITES / f"{source.id}.fixture.test").is_dir(), source.id
        assert not urlsplit(source.feed_url(SHIPPED.crawl.rsshub)).hostname.endswith(".test") or source.kind == "wechat"


def test_wechat_sources_stay_off_until_a_bridge_is_set(tmp_path):
    config = load_config(None)
    assert not {"wechat-jiqizhixin", "wechat-qbitai", "wechat-aiera"} & {s.id for s in config.active_sources()}
    assert "wechat-paperweekly" in {s.id for s in config.active_sources()}  # a bridge's feed URL of its own
    path = tmp_path / "bridge.toml"
    path.write_text('[crawl]\nwechat_bridge = "https://wewe.example.org/feeds/{id}.atom"\n'
                    '[[sources]]\nid = "w"\nname = "机器之心"\nkind = "wechat"\noptions = { id = "MP_WXS_3073282833" }\n')
    assert load_config(path).source("w").url == "https://wewe.example.org/feeds/MP_WXS_3073282833.atom"
    path.write_text('[crawl]\nrsshub = "https://rsshub.example.org/"\n'
                    '[[sources]]\nid = "w"\nkind = "wechat"\noptions = { id = "51e92aad" }\n')
    assert load_config(path).source("w").url == "https://rsshub.example.org/wechat/wechat2rss/51e92aad"


# --- sitemaps -------------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
URLSET = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
          b"<url><loc>https://a.test/1</loc><lastmod>2022-10-14</lastmod></url>"
          b"<url><loc>https://a.test/2</loc><lastmod>2022-10-01T08:00:00+08:00</lastmod></url>"
          b"<url><loc>https://a.test/undated</loc></url><url><loc>file:///etc/passwd</loc></url></urlset>")


def test_a_sitemap_lists_its_pages_and_the_window_keeps_the_recent_and_undated():
    sitemap = read_sitemap(URLSET, "https://a.test/sitemap.xml", "application/xml", SHANGHAI, NOW)
    assert (sitemap.kind, sitemap.rejected, sitemap.news) == ("urlset", 1, False)
    # A date-only lastmod is midnight in the source's zone.
    assert sitemap.entries[0].lastmod.isoformat() == "2022-10-14T00:00:00+08:00"
    kept, older, unmatched = select_entries(sitemap.entries, NOW.replace(day=12), None, 10)
    assert [e.url for e in kept] == ["https://a.test/1", "https://a.test/undated"] and (older, unmatched) == (1, 0)
    kept, _, unmatched = select_entries(sitemap.entries, None, re.compile(r"/\d$"), 1)
    assert [e.url for e in kept] == ["https://a.test/1"] and unmatched == 1


@pytest.mark.parametrize("body, url, content_type, reason", [
    (b"", "https://a.test/s.xml", "application/xml", "empty body"),
    (b"<urlset><url><loc>x</url>", "https://a.test/s.xml", "application/xml", "not well-formed XML ("),
    (b"<html><body>Service unavailable</body></html>", "https://a.test/s.xml", "text/html", "not a sitemap (root element <html>)"),
    (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "https://a.test/s.xml", None, "sitemap lists no URLs"),
    (b"<sitemapindex/>", "https://a.test/s.xml", None, "sitemap index lists no sitemaps"),
    (URLSET, "https://a.test/s.xml.gz", "application/x-gzip",
     "named .gz and served as application/x-gzip, but the body is plain XML, not gzip"),
    (URLSET, "https://a.test/s.xml.gz", None, "named .gz and served as a file, but the body is plain XML, not gzip"),
    (gzip.compress(URLSET)[:-12], "https://a.test/s.xml.gz", "application/x-gzip", "truncated gzip data"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff", "https://a.test/s.xml.gz", None, "broken gzip data ("),
    (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><urlset>&b;</urlset>',
     "https://a.test/s.xml", None, "declares XML entities: refused (entity expansion)"),
    (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset>&x;</urlset>',
     "https://a.test/s.xml", None, "declares XML entities: refused"),
    (b"User-agent: *\nDisallow: /admin\n", "https://a.test/robots.txt", "text/plain",
     "robots.txt names no sitemap (no 'Sitemap:' line)"),
])
def test_a_broken_sitemap_is_an_error_in_one_line(body, url, content_type, reason):
    with pytest.raises(DiscoveryError) as error:
        read_sitemap(body, url, content_type, SHANGHAI, NOW)
    assert str(error.value).startswith(reason) and "\n" not in str(error.value)


def test_gzipped_sitemaps_inflate_and_a_transport_decoded_one_is_read():
    packed = read_sitemap(gzip.compress(URLSET), "https://a.test/s.xml.gz", "application/x-gzip", SHANGHAI, NOW)
    # Scrapy undid a Content-Encoding: gzip and dropped the header: XML under an XML type.
    decoded = read_sitemap(URLSET, "https://a.test/s.xml.gz", "application/xml", SHANGHAI, NOW)
    assert [e.url for e in packed.entries] == [e.url for e in decoded.entries] == [
        "https://a.test/1", "https://a.test/2", "https://a.test/undated"]


def test_a_gzip_bomb_is_refused_at_the_sitemap_size_limit():
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 10) + b"</urlset>")
    assert len(bomb) < MAX_SITEMAP_BYTES // 100
    with pytest.raises(DiscoveryError, match="inflates past 50 MB"):
        read_sitemap(bomb, "https://a.test/s.xml.gz", None, SHANGHAI, NOW)


def test_robots_txt_names_the_sitemaps_and_only_http_ones():
    robots = b"User-agent: *\nDisallow:\nSITEMAP: https://a.test/index.xml\nsitemap:ftp://a.test/x.xml\n"
    sitemap = read_sitemap(robots, "https://a.test/robots.txt", "text/plain", SHANGHAI, NOW)
    assert (sitemap.kind, [e.url for e in sitemap.entries], sitemap.rejected) == ("robots", ["https://a.test/index.xml"], 1)


# --- listings --------------------------------------------------------------------------------

PAGE = """<html><body><ul>
<li class="item"><h3><a href="/p/1">第一条</a></h3><time datetime="2022-10-14T09:00:00+08:00">今天</time></li>
<li class="item"><a href="ftp://x.test/2">第二条</a><span class="d">2小时前</span></li>
<li class="item"><a href="/p/3" title="第三条的标题"><img src="x.png"></a></li>
</ul><a rel="next" href="?page=2">下一页</a></body></html>""".encode()


def test_listing_rules_read_links_titles_dates_and_the_next_page():
    rules = ListingRules.from_options({"item": "li.item", "link": "a", "date": "time, .d", "next_page": "a[rel=next]"})
    listing = read_listing(PAGE, "https://a.test/list/", "text/html", rules, SHANGHAI, NOW)
    assert [(f.url, f.title) for f in listing.found] == [("https://a.test/p/1", "第一条"), ("https://a.test/p/3", "第三条的标题")]
    assert listing.found[0].published.isoformat() == "2022-10-14T09:00:00+08:00"  # <time datetime>
    assert (listing.entries, listing.filtered, listing.next_page) == (3, 1, "https://a.test/list/?page=2")
    xpath = ListingRules.from_options({"item": "//li[@class='item']", "link": "./h3/a", "title": "./h3/a/text()"})
    assert [f.url for f in read_listing(PAGE, "https://a.test/", None, xpath, SHANGHAI, NOW).found] == ["https://a.test/p/1"]


@pytest.mark.parametrize("options, reason", [
    ({"item": "div.gone"}, "selector 'div.gone' matched nothing"),
    ({"item": "li.item", "url_pattern": "/story/"}, "none of the 3 links matches url_pattern '/story/'"),
    ({"link": "span.d"}, "1 entries matched, but none holds an http(s) link"),
    ({"format": "json", "item": "data.list", "link": "url"}, "not JSON ("),
    ({"format": "json", "script": r"window\.DATA = (\{.*\})", "item": "data", "link": "url"},
     "script pattern 'window\\\\.DATA = (\\\\{.*\\\\})' matched nothing"),
])
def test_a_listing_whose_rules_find_nothing_is_an_error_in_one_line(options, reason):
    with pytest.raises(DiscoveryError) as error:
        read_listing(PAGE, "https://a.test/", "text/html", ListingRules.from_options(options), SHANGHAI, NOW)
    assert str(error.value) == reason or str(error.value).startswith(reason)


def test_json_listings_take_paths_templates_and_timestamps():
    body = json.dumps({"data": {"list": [{"id": 7, "t": "快讯", "ts": 1665712800000}, {"t": "无链接"}]}}).encode()
    rules = ListingRules.from_options({"format": "json", "item": "data.list", "link": "https://a.test/n/{id}",
                                       "title": "t", "date": "ts"})
    listing = read_listing(body, "https://a.test/api", "application/json", rules, SHANGHAI, NOW)
    assert [(f.url, f.title, f.published.isoformat()) for f in listing.found] == [
        ("https://a.test/n/7", "快讯", "2022-10-14T02:00:00+00:00")]
    assert listing.filtered == 1
    with pytest.raises(DiscoveryError, match="item path 'data.missing' leads to no list"):
        missing = ListingRules.from_options({"format": "json", "item": "data.missing", "link": "url"})
        read_listing(body, "https://a.test/api", None, missing, SHANGHAI, NOW)


# --- configuration of the kinds ----------------------------------------------------------------

@pytest.mark.parametrize("source, key, problem", [
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { item = "li[" }', "options.item",
     "'li[' is not a valid CSS selector"),
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { link = "//a[" }', "options.link",
     "'//a[' is not a valid XPath selector"),
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { title = "h3" }', "options.link", "missing"),
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { format = "json", link = "url" }', "options.item", "missing"),
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { link = "a", max_pages = 99 }', "options.max_pages", "at most 20"),
    ('kind = "listing"\nurl = "https://a.test/"\noptions = { link = "a", url_pattern = "(" }', "options.url_pattern",
     "not a regular expression"),
    ('kind = "listing"\nroute = "/x"\noptions = { link = "a" }', "route", "a listing source takes a url, not a route"),
    ('kind = "sitemap"', "url", "missing"),
    ('kind = "sitemap"\nurl = "https://a.test/s.xml"\noptions = { days = 0 }', "options.days", "must be positive"),
    ('kind = "sitemap"\nurl = "https://a.test/s.xml"\noptions = { selector = "a" }', "options.selector", "unknown key"),
    ('kind = "arxiv"', "options.categories", "missing"),
    ('kind = "arxiv"\noptions = { categories = ["cs AI"] }', "options.categories", "is not an arXiv category"),
    ('kind = "github-trending"\noptions = { since = "hourly" }', "options.since", "'hourly' is not one of daily, weekly"),
    ('kind = "wechat"\nurl = "https://a.test/f"\noptions = { id = "x" }', "url", "give one of url, route or options.id"),
    ('kind = "wechat"', "url", "give exactly one of url or route (or options.id for the WeChat bridge)"),
])
def test_bad_source_options_are_one_line_naming_the_key(tmp_path, source, key, problem):
    path = tmp_path / "bad.toml"
    path.write_text(f'[[sources]]\nid = "s"\n{source}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: sources[s].{key}: ") and problem in str(error.value)
    assert "\n" not in str(error.value)


def test_a_bridge_template_must_name_the_account(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[crawl]\nwechat_bridge = "https://bridge.test/feed.xml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"crawl.wechat_bridge: .* names no account"):
        load_config(path)


# --- feeds, WeChat bridges, arXiv, GitHub ------------------------------------------------------

def test_a_bridge_entry_is_followed_to_its_wechat_address_wherever_it_gives_it():
    feed = """<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>副本链接</title><link>https://bridge.test/copy/1</link>
<guid isPermaLink="false">https://mp.weixin.qq.com/s/AbCdEf123</guid></item>
<item><title>正文里的原文</title><link>https://bridge.test/copy/2</link>
<description><![CDATA[<p>…</p><a href="https://mp.weixin.qq.com/s?__biz=MzA3&amp;mid=1&amp;idx=1&amp;sn=ab">阅读原文</a>]]></description></item>
<item><title>没有原文</title><link>https://bridge.test/copy/3</link></item>
</channel></rss>""".encode()
    found = read_feed(feed, "https://bridge.test/feed", "application/rss+xml", SHANGHAI, NOW, wechat=True)
    assert [f.url for f in found] == ["https://mp.weixin.qq.com/s/AbCdEf123",
                                      "https://mp.weixin.qq.com/s?__biz=MzA3&mid=1&idx=1&sn=ab",
                                      "https://bridge.test/copy/3"]
    plain = read_feed(feed, "https://bridge.test/feed", "application/rss+xml", SHANGHAI, NOW)
    assert plain[0].url == "https://bridge.test/copy/1"


def test_arxiv_queries_and_answers():
    assert query_url("https://export.arxiv.org/api/query", ["cs.AR"], None, 5000) == (
        "https://export.arxiv.org/api/query?search_query=cat%3Acs.AR&sortBy=submittedDate&sortOrder=descending"
        "&start=0&max_results=2000")
    answer = (TEST_SITES / "arxiv-api.fixture.test" / "hardware" / "query").read_bytes()
    doubled = answer.replace(b"</feed>", answer[answer.index(b"<entry>"):answer.index(b"</entry>") + 8] + b"</feed>")
    assert [p.arxiv_id for p in read_answer(doubled)] == ["2210.08001", "2210.08002"]  # one paper, one entry
    error = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format</id>'
             b"<summary>incorrect id format for 1234</summary></entry></feed>")
    with pytest.raises(DiscoveryError, match="arXiv API error: incorrect id format for 1234"):
        read_answer(error)
    with pytest.raises(DiscoveryError, match="not well-formed XML"):
        read_answer(b"<html>Rate exceeded")


def test_github_trending_page_repository_and_readme():
    assert trending_url("https://github.com/trending", "daily", "C++") == "https://github.com/trending/c%2B%2B"
    assert trending_url("https://github.com/trending/", "weekly") == "https://github.com/trending?since=weekly"
    page = (TEST_SITES / "github-trending.fixture.test" / "trending").read_bytes()
    repos = read_trending(page, "https://github.com/trending")
    first = repos[0]
    assert (first.full_name, first.url, first.language, first.stars, first.stars_gained) == (
        "tinyedge/npu-runtime", "https://github.com/tinyedge/npu-runtime", "C", 4210, 1024)
    assert (repos[2].description, repos[2].language) == (None, None)
    readme = readme_excerpt((TEST_SITES / "github.fixture.test" / "visionkit" / "edge-detect").read_bytes(), limit=120)
    assert readme.startswith("edge-detect\nReal-time object detection for ARM boards.") and "pip install" not in readme
    article = repo_article(first.url, first.hints("daily"), None)
    assert [(link.url, link.role) for link in article.links] == [("https://github.com/tinyedge/npu-runtime", "code")]
    assert article.text.splitlines()[1] == "Language: C. Stars: 4,210. 1,024 stars today"
    with pytest.raises(DiscoveryError, match="no repositories"):
        read_trending(b"<html><body>Whoa there!</body></html>", "https://github.com/trending")
    assert read_trending(b'<html><body><div class="blankslate">It looks like we don\xe2\x80\x99t have any trending'
                         b" repositories.</div></body></html>", "https://github.com/trending") == []
