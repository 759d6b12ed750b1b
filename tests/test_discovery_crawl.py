"""The discovery spiders in real ``scrapy crawl`` subprocesses against the fixture sites,
and ``aibrief sources check`` against the same server; results checked in the database."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT, env_for, last_run, rows, run_cli

# The fixtures' "now": 12:00 in Shanghai on the reference issue's day.
NOW = "2022-10-14T04:00:00+00:00"


def crawl(spider: str, *args: str, config, db, site, timeout: float = 120) -> subprocess.CompletedProcess:
    """``scrapy crawl`` as a user runs it, at the fixtures' moment, extraction inline."""
    return subprocess.run([sys.executable, "-m", "scrapy", "crawl", spider, *args, "-s", "LOG_LEVEL=INFO",
                           "-s", "AIBRIEF_EXTRACT_WORKERS=0"],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=env_for(site, AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db), AIBRIEF_NOW=NOW))


SITEMAP = """
[[sources]]
id = "news-sitemap"
kind = "sitemap"
url = "http://sitemap.fixture.test/robots.txt"
options = { days = 3 }
"""


def test_sitemap_spider_follows_robots_and_index_to_a_gzipped_news_sitemap(site, db_path, config_file):
    result = crawl("sitemap", config=config_file(SITEMAP), db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    stored = {row[0]: row[1:] for row in rows(db_path, "SELECT url, title, published, published_from FROM articles")}
    assert set(stored) == {"http://sitemap.fixture.test/news/npu-second-generation.html",
                           "http://sitemap.fixture.test/news/voice-chip.html"}
    # The pages give no date: the news sitemap's publication date stands in, and says so.
    assert stored["http://sitemap.fixture.test/news/voice-chip.html"][1:] == ("2022-10-13T12:00:00+00:00", "feed")
    counts = last_run(db_path)["counts"]
    assert counts["source/news-sitemap/entries"] == 2
    assert counts["sitemap/older"] == 1  # last month's story, outside the window
    assert counts["sitemap/sitemaps_older"] == 1  # the 2015 archive sitemap, not fetched
    assert counts["skipped/bad_url"] == 2  # ftp: in robots.txt and in the sitemap
    assert counts["sitemap/news"] == 1
    assert "source/news-sitemap/failed" not in counts
    fetched = site.fetched("sitemap.fixture.test")
    assert "sitemap.fixture.test/archive-2015.xml" not in fetched
    assert "sitemap.fixture.test/news/last-month.html" not in fetched


BROKEN = """
[[sources]]
id = "bad-xml"
kind = "sitemap"
url = "http://sitemap.fixture.test/broken.xml"

[[sources]]
id = "gz-over-plain"
kind = "sitemap"
url = "http://sitemap.fixture.test/plain.xml.gz"

[[sources]]
id = "html-instead"
kind = "sitemap"
url = "http://sitemap.fixture.test/error-page.xml"

[[sources]]
id = "entities"
kind = "sitemap"
url = "http://sitemap.fixture.test/entities.xml"

[[sources]]
id = "gone"
kind = "sitemap"
url = "http://sitemap.fixture.test/no-such-sitemap.xml"
"""


def test_malformed_sitemaps_are_counted_source_failures_in_one_line(site, db_path, config_file):
    """Bad XML, a .gz name over plain XML, an HTML page, declared entities, a 404: each a
    failure of its source with a clear one-line reason, never a quiet 'no news'."""
    result = crawl("sitemap", config=config_file(BROKEN), db=db_path, site=site)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    reasons = {
        "bad-xml": "http://sitemap.fixture.test/broken.xml: not well-formed XML (",
        "gz-over-plain": "http://sitemap.fixture.test/plain.xml.gz: named .gz and served as application/x-gzip, "
                         "but the body is plain XML, not gzip",
        "html-instead": "http://sitemap.fixture.test/error-page.xml: not a sitemap (root element <html>)",
        "entities": "http://sitemap.fixture.test/entities.xml: declares XML entities: refused (entity expansion)",
        "gone": "http://sitemap.fixture.test/no-such-sitemap.xml: HTTP 404",
    }
    run = last_run(db_path)
    for source, reason in reasons.items():
        assert run["counts"][f"source/{source}/failed"] == 1, source
        assert f"source {source} failed: {reason}" in result.stderr
    assert run["counts"]["sitemap/failed"] == 5
    assert run["status"] == "failed"  # every source failed
    errors = dict(rows(db_path, "SELECT id, last_error FROM sources"))
    assert errors["gz-over-plain"].startswith("http://sitemap.fixture.test/plain.xml.gz: named .gz")
    assert all("\n" not in error for error in errors.values())
    assert rows(db_path, "SELECT count(*) FROM articles") == [(0,)]


LISTINGS = """
[[sources]]
id = "channel"
kind = "listing"
url = "http://listing.fixture.test/tech/"
options = { item = "li.news-item", link = "a.title", date = ".date", next_page = "a.next", max_pages = 2, url_pattern = "/a/\\\\d+" }

[[sources]]
id = "flash-api"
kind = "listing"
url = "http://listing.fixture.test/api/list.json"
options = { format = "json", item = "data.items", link = "http://listing.fixture.test/flash/{id}", title = "name", date = "ctime" }

[[sources]]
id = "redesigned"
kind = "listing"
url = "http://listing.fixture.test/redesigned/"
options = { item = "//ul[@class='news-list']/li", link = "./a" }
"""


def test_listing_spider_reads_pages_with_their_rules_and_hints(site, db_path, config_file):
    config = config_file(LISTINGS)
    result = crawl("listing", config=config, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    stored = dict(rows(db_path, "SELECT url, published || ' ' || published_from FROM articles"))
    assert stored == {
        # Page 1, its dates read in the source's zone; the tracking parameter stays on the fetched URL.
        "http://listing.fixture.test/a/1001.html": "2022-10-14T01:10:00+00:00 feed",
        "http://listing.fixture.test/a/1002.html?from=channel": "2022-10-13T10:00:00+00:00 feed",
        # Page 2 (max_pages = 2: page 3 is not read); the video link fails url_pattern.
        "http://listing.fixture.test/a/1003.html": "2022-10-12T03:00:00+00:00 feed",
        # The JSON list: links from a template, a Unix time and a naive local time.
        "http://listing.fixture.test/flash/2001": "2022-10-14T02:00:00+00:00 feed",
        "http://listing.fixture.test/flash/2002": "2022-10-13T13:00:00+00:00 feed",
    }
    run = last_run(db_path)
    assert run["counts"]["source/channel/entries"] == 3
    assert run["counts"]["listing/filtered"] == 2  # javascript: and the video
    assert run["counts"]["source/redesigned/failed"] == 1
    assert ("source redesigned failed: http://listing.fixture.test/redesigned/: selector "
            "\"//ul[@class='news-list']/li\" matched nothing") in result.stderr
    assert "listing.fixture.test/tech/page/3" not in site.fetched()

    # Next run: page 1 holds nothing new, so page 2 is not asked for again.
    site.clear()
    again = crawl("listing", "-a", "source=channel", config=config, db=db_path, site=site)
    assert again.returncode == 0
    assert last_run(db_path)["counts"]["listing/stopped_at_known"] == 1
    assert site.fetched("listing.fixture.test") == ["listing.fixture.test/tech/"]


ARXIV = """
[[sources]]
id = "papers-hw"
kind = "arxiv"
url = "http://arxiv-api.fixture.test/hardware/query"
options = { categories = ["cs.AR", "cs.LG"], query = 'abs:"sparse"', max_entries = 50 }

[[sources]]
id = "papers-ml"
kind = "arxiv"
url = "http://arxiv-api.fixture.test/learning/query"
options = { categories = ["cs.LG"] }

[[sources]]
id = "papers-down"
kind = "arxiv"
url = "http://arxiv-api.fixture.test/overloaded/query"
options = { categories = ["eess.SP"] }
"""


def test_arxiv_spider_stores_papers_from_the_api_at_its_pace(site, db_path, config_file):
    """Papers straight from the API answer (no abstract page fetched), a cross-listed paper
    once, an empty answer a source failure, and three seconds between API requests."""
    result = crawl("arxiv", config=config_file(ARXIV), db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    papers = rows(db_path, "SELECT url, title, author, published, published_from, site, source_id FROM articles"
                           " ORDER BY url")
    assert [p[0] for p in papers] == ["https://arxiv.org/abs/2210.08001", "https://arxiv.org/abs/2210.08002",
                                      "https://arxiv.org/abs/2210.08003"]
    assert papers[0][1:6] == ("A Cross-Listed Accelerator for Sparse Transformers", "Lin Qiao, Mark Evans",
                              "2022-10-13T15:00:00+00:00", "adapter", "arxiv")
    links = rows(db_path, "SELECT l.url, l.role FROM article_links l JOIN articles a ON a.id = l.article_id"
                          " WHERE a.url = 'https://arxiv.org/abs/2210.08002' ORDER BY l.url")
    assert links == [("https://arxiv.org/abs/2210.08002", "paper"), ("https://arxiv.org/pdf/2210.08002", "paper")]
    counts = last_run(db_path)["counts"]
    assert counts["arxiv/cross_listed"] == 1
    assert counts["direct"] == 3
    assert counts["source/papers-down/failed"] == 1
    assert "source papers-down failed: http://arxiv-api.fixture.test/overloaded/query?" in result.stderr
    assert "the answer holds no papers" in result.stderr
    asked = [r for r in site.requests() if r["host"] == "arxiv-api.fixture.test" and r["path"] != "/robots.txt"]
    assert len(asked) == 3  # one request a source, no abstract page
    hardware = next(r for r in asked if r["path"] == "/hardware/query")
    assert hardware["query"].startswith("search_query=%28cat%3Acs.AR+OR+cat%3Acs.LG%29+AND+%28abs%3A%22sparse%22%29"
                                         "&sortBy=submittedDate&sortOrder=descending")
    assert hardware["query"].endswith("&max_results=50")
    times = sorted(site.times("arxiv-api.fixture.test"))
    assert all(later - earlier >= 2.9 for earlier, later in zip(times, times[1:])), times


GITHUB = """
[[sources]]
id = "trending"
kind = "github-trending"
url = "http://github.fixture.test/trending"
options = { since = "weekly", language = "C++" }
"""


def test_github_spider_makes_code_items_with_readme_excerpts(site, db_path, config_file):
    result = crawl("github", config=config_file(GITHUB), db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    repos = {row[0]: row[1:] for row in rows(db_path, "SELECT url, title, text, site, published_from FROM articles")}
    assert set(repos) == {"http://github.fixture.test/visionkit/edge-detect", "http://github.fixture.test/robokit/motion-planner"}
    title, text, site_name, published_from = repos["http://github.fixture.test/visionkit/edge-detect"]
    assert title == "visionkit/edge-detect: Real-time object detection for ARM boards, INT8 end to end"
    assert "Language: C++. Stars: 12,345. 2,468 stars this week" in text
    assert "Every stage runs in INT8" in text  # the README excerpt
    assert (site_name, published_from) == ("github", "fetched")
    assert rows(db_path, "SELECT DISTINCT role FROM article_links") == [("code",)]
    asked = [r for r in site.requests() if r["path"].startswith("/trending")]
    assert asked[0]["path"] == "/trending/c%2B%2B" or asked[0]["path"] == "/trending/c++"
    assert asked[0]["query"] == "since=weekly"


WECHAT = """
[[sources]]
id = "wechat-jiqizhixin"
name = "机器之心"
kind = "wechat"
options = { id = "MP_WXS_3073282833" }
"""


def test_wechat_spider_reads_a_bridge_feed_to_wechat_pages(site, db_path, config_file):
    config = config_file(WECHAT, wechat_bridge="http://wechat-bridge.fixture.test/feeds/{id}.atom")
    result = crawl("wechat", config=config, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db_path, "SELECT title, author, site FROM articles") == [
        ("4比特也能跑得准：新研究让视觉Transformer在手机NPU上提速3倍", "机器之心", "wechat")]
    assert last_run(db_path)["counts"]["source/wechat-jiqizhixin/entries"] == 1


def test_aibrief_crawl_runs_each_kind_with_its_spider(site, db_path, config_file):
    config = config_file(SITEMAP + GITHUB)
    result = run_cli("--config", str(config), "--db", str(db_path), "crawl", site=site, AIBRIEF_NOW=NOW,
                     AIBRIEF_EXTRACT_WORKERS="0")
    assert result.returncode == 0, result.stderr
    run = last_run(db_path)
    assert run["status"] == "ok"
    assert sorted(run["sources"]) == ["news-sitemap", "trending"]
    assert run["counts"]["stored"] == 4


CHECK = LISTINGS + """
[[sources]]
id = "bad-xml"
kind = "sitemap"
url = "http://sitemap.fixture.test/broken.xml"
"""


def test_sources_check_reports_links_dates_and_errors_and_stores_nothing(site, db_path, config_file):
    config = config_file(CHECK)
    result = run_cli("--config", str(config), "--db", str(db_path), "sources", "check", site=site, AIBRIEF_NOW=NOW)
    assert result.returncode == 1  # a source failed
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert " 2 links  newest 2022-10-14 09:10 " in lines["channel"]
    assert "next page http://listing.fixture.test/tech/page/2" in lines["channel"]
    assert " 2 links  newest 2022-10-14 10:00 " in lines["flash-api"]
    assert lines["redesigned"].endswith("error: http://listing.fixture.test/redesigned/: selector "
                                        "\"//ul[@class='news-list']/li\" matched nothing")
    assert "error: http://sitemap.fixture.test/broken.xml: not well-formed XML (" in lines["bad-xml"]
    assert "4 sources checked, 2 failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db_path.exists()  # nothing stored, not even an empty archive
    assert set(site.fetched("listing.fixture.test")) == {"listing.fixture.test/tech/", "listing.fixture.test/api/list.json",
                                                         "listing.fixture.test/redesigned/"}
    one = run_cli("--config", str(config), "sources", "check", "flash-api", site=site, AIBRIEF_NOW=NOW)
    assert one.returncode == 0 and len(one.stdout.splitlines()) == 1
    unknown = run_cli("--config", str(config), "sources", "check", "nope")
    assert unknown.returncode == 2 and "unknown source 'nope'" in unknown.stderr
