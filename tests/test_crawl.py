"""Real ``scrapy crawl`` subprocesses against the loopback sample sites, checked in the database."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import DEMO_SITES, ROOT, last_run, rows, run_cli, scrapy_crawl

DEMO_CONFIG = ROOT / "crawler" / "demo" / "demo.toml"
DEMO_ARTICLES = 13  # every article page the demo feeds link to, less the one robots.txt forbids


def test_scrapy_list_names_the_spiders():
    out = subprocess.run([sys.executable, "-m", "scrapy", "list"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    assert out.stdout.split() == ["arxiv", "feed", "github", "hackernews", "listing", "sitemap", "urls", "wechat"]


def test_feed_crawl_stores_every_article_once_with_its_metadata(site, db_path):
    result = scrapy_crawl("feed", config=DEMO_CONFIG, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert rows(db_path, "SELECT count(*) FROM articles") == [(DEMO_ARTICLES,)]

    (wechat,) = rows(db_path, "SELECT title, author, published, published_from, url FROM articles"
                              " WHERE url LIKE '%Xq3vK8mZr2TfLp9aWd-4Nb'")
    assert wechat[0] == "4比特也能跑得准：新研究让视觉Transformer在手机NPU上提速3倍"
    assert wechat[1] == "机器之心"  # the account, read by the WeChat adapter
    assert wechat[2:4] == ("2022-10-14T01:12:00+00:00", "adapter")  # var ct = 1665709920
    # The GBK page with no charset anywhere comes out as Chinese, not mojibake.
    (gbk,) = rows(db_path, "SELECT title, author, text FROM articles WHERE url LIKE '%20221014A00Q4500.html'")
    assert gbk[0] == "北辰汽车与智核半导体成立自动驾驶合资公司 首款计算平台计划2024年量产"
    assert gbk[1] == "王晓明"
    assert "\ufffd" not in gbk[2] and "合资协议" in gbk[2]
    links = dict(rows(db_path, "SELECT url, role FROM article_links"))
    assert links["https://arxiv.org/abs/2210.03142"] == "paper"
    assert links["http://research.demo.test/2022/10/int8-actors-for-faster-rl.html"] == "article"
    assert links["https://github.com/example-org/tiny-npu-runtime"] == "code"

    assert rows(db_path, "SELECT count(*) FROM articles WHERE text LIKE '%�%'") == [(0,)]
    sites = dict(rows(db_path, "SELECT site, count(*) FROM articles GROUP BY site"))
    assert sites == {"wechat": 5, "kr36": 2, "arxiv": 2, "googleblog": 2, "zaker": 1, None: 1}
    run = last_run(db_path)
    assert run["status"] == "ok"
    assert run["counts"]["stored"] == DEMO_ARTICLES
    assert run["counts"]["adapter/wechat"] == 5
    assert run["counts"]["skipped/robots"] == 1  # the page robots.txt disallows
    assert run["counts"]["feed/ok"] == 6
    assert sorted(run["sources"]) == sorted(s for s in (
        "demo-wechat-jiqizhixin", "demo-wechat-qbitai", "demo-36kr", "demo-arxiv-cs-ar",
        "demo-research-blog", "demo-news"))
    assert not any("/private/" in path for path in site.fetched("36kr.demo.test"))


def test_second_crawl_fetches_and_stores_nothing_it_has(site, db_path):
    scrapy_crawl("feed", config=DEMO_CONFIG, db=db_path, site=site)
    site.clear()
    result = scrapy_crawl("feed", config=DEMO_CONFIG, db=db_path, site=site)
    assert result.returncode == 0
    assert rows(db_path, "SELECT count(*) FROM articles") == [(DEMO_ARTICLES,)]
    fetched = site.fetched()
    # Only the six feeds were fetched again; no article page.
    assert len(fetched) == 6, fetched
    # Every article, and the page robots.txt forbids, is settled in the frontier.
    assert last_run(db_path)["counts"]["skipped/known"] == DEMO_ARTICLES + 1


def test_one_source_by_argument(site, db_path):
    result = scrapy_crawl("feed", "-a", "source=demo-36kr", config=DEMO_CONFIG, db=db_path, site=site)
    assert result.returncode == 0
    assert rows(db_path, "SELECT DISTINCT source_id FROM articles") == [("demo-36kr",)]
    assert rows(db_path, "SELECT count(*) FROM articles") == [(2,)]
    assert set(site.fetched()) == {"36kr.demo.test/feed", "36kr.demo.test/p/1931939259730306",
                                   "36kr.demo.test/p/1931939259730311"}


FIXTURE_FEEDS = """
[[sources]]
id = "recovered"
url = "http://feeds.fixture.test/recovered.xml"

[[sources]]
id = "html-instead"
url = "http://feeds.fixture.test/html-instead.xml"

[[sources]]
id = "empty"
url = "http://feeds.fixture.test/empty.xml"

[[sources]]
id = "schemes"
url = "http://feeds.fixture.test/schemes.xml"

[[sources]]
id = "gone"
url = "http://feeds.fixture.test/no-such-feed.xml"
"""


def test_malformed_feeds_are_recovered_or_counted_as_source_failures(site, db_path, config_file):
    """A feed that yields nothing is a failure of its source, never a quiet 'no news';
    a broken one gives up the entries it has."""
    result = scrapy_crawl("feed", config=config_file(FIXTURE_FEEDS), db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    counts = last_run(db_path)["counts"]
    assert counts["source/recovered/entries"] >= 2
    assert counts["feed/recovered"] >= 1
    for source in ("html-instead", "empty", "gone"):
        assert counts[f"source/{source}/failed"] == 1, source
        assert f"source {source} failed" in result.stderr
    assert "source/recovered/failed" not in counts
    # Only http(s) links are fetched: file:, ftp:, data: and javascript: are refused.
    assert counts["skipped/bad_url"] == 4
    assert not any(r["path"].startswith("/etc") for r in site.requests())
    stored = {url for (url,) in rows(db_path, "SELECT url FROM articles")}
    assert stored == {"http://pages.fixture.test/a/undated-1.html", "http://pages.fixture.test/a/undated-2.html"}
    # No date on the page nor in these feeds: the crawl time stands in, and says so.
    assert rows(db_path, "SELECT DISTINCT published_from FROM articles") == [("fetched",)]
    assert last_run(db_path)["status"] == "partial"


def test_feed_dates_fill_in_for_undated_pages(site, db_path, config_file):
    """Chinese and naive feed dates: the right instant, read in the source's zone."""
    config = config_file('[[sources]]\nid = "dates"\nurl = "http://feeds.fixture.test/chinese-dates.xml"\n')
    assert scrapy_crawl("feed", config=config, db=db_path, site=site).returncode == 0
    got = dict(rows(db_path, "SELECT url, published || ' ' || published_from FROM articles"))
    assert got == {
        "http://pages.fixture.test/a/undated-1.html": "2022-10-14T00:00:00+00:00 feed",
        "http://pages.fixture.test/a/undated-2.html": "2022-10-13T12:30:00+00:00 feed",
        "http://pages.fixture.test/a/undated-3.html": "2018-09-18T06:38:10+00:00 feed",
    }


def test_odd_pages(site, db_path, config_file):
    """A lying charset, a PDF, a redirect, an empty app shell and a 404 among the pages."""
    config = config_file('[[sources]]\nid = "pages"\nurl = "http://feeds.fixture.test/pages.xml"\n')
    result = scrapy_crawl("feed", config=config, db=db_path, site=site)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    stored = {row[0]: row[1:] for row in rows(db_path, "SELECT url, first_url, canonical_url, text FROM articles")}
    lying = stored["http://pages.fixture.test/a/lying-charset.html"]
    assert "国产加速卡" in lying[2] and "\ufffd" not in lying[2]
    moved = stored["http://pages.fixture.test/a/new-address.html"]
    assert moved[0] == "http://pages.fixture.test/a/old-address.html?utm_source=rss&utm_medium=feed"
    assert moved[1] == "https://pages.fixture.test/a/new-address.html"
    assert "http://pages.fixture.test/a/script.html" in stored
    assert len(stored) == 3
    counts = last_run(db_path)["counts"]
    assert counts["skipped/not_html"] == 1  # the PDF
    assert counts["dropped/not_article"] == 1  # the app shell
    assert counts["skipped/gone"] == 1  # the 404: gone for good, not retried
    assert "fetch failed: http://pages.fixture.test/a/gone.html: HTTP 404" in result.stderr
    states = dict(rows(db_path, "SELECT url, state || ' ' || coalesce(last_error, '') FROM frontier"))
    assert states["http://pages.fixture.test/a/gone.html"] == "skipped HTTP 404"
    assert states["http://pages.fixture.test/a/notes.pdf"] == "skipped not a page (application/pdf)"
    assert states["http://pages.fixture.test/a/app-shell.html"] == "skipped not an article: no article text"


def test_urls_spider_from_argument_and_file(site, db_path, tmp_path):
    url_file = tmp_path / "links.txt"
    url_file.write_text("# to read\nhttp://pages.fixture.test/a/undated-2.html\n\n", encoding="utf-8")
    result = scrapy_crawl("urls", "-a", "urls=http://pages.fixture.test/a/undated-1.html,"
                          "http://pages.fixture.test/a/undated-1.html#comments", "-a", f"file={url_file}",
                          config=DEMO_CONFIG, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(rows(db_path, "SELECT url, source_id FROM articles")) == [
        ("http://pages.fixture.test/a/undated-1.html", None),
        ("http://pages.fixture.test/a/undated-2.html", None)]


def test_urls_spider_fetches_what_a_stored_issue_cites(site, db_path, tmp_path):
    issue = tmp_path / "issue.txt"
    issue.write_text("嵌入式 AI\nAI 簡報 20221014 期\n1. 边缘视觉模组发布\n原文:\n"
                     "http://pages.fixture.test/a/undated-1.html\n文章鏈接:\nhttp://pages.fixture.test/a/undated-2.html\n"
                     "一段摘要。\n- END -\n", encoding="utf-8")
    assert run_cli("--db", str(db_path), "import", str(issue)).returncode == 0
    result = scrapy_crawl("urls", "-a", "issue=20221014", config=DEMO_CONFIG, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db_path, "SELECT count(*) FROM articles") == [(2,)]
    # The imported item now points at the article fetched for it.
    assert rows(db_path, "SELECT a.url FROM issue_items i JOIN articles a ON a.id = i.article_id") == [
        ("http://pages.fixture.test/a/undated-1.html",)]


@pytest.mark.parametrize("args, message", [
    (["feed", "-a", "source=nope"], "unknown source 'nope'"),
    (["urls"], "give -a urls=URL,URL, -a file=PATH or -a issue=YYYYMMDD"),
    (["urls", "-a", "issue=2022-13-45"], "is not a date such as 20221014"),
    (["urls", "-a", "issue=20200101"], "no stored issue for 2020-01-01"),
    (["nosuch"], "no spider is named 'nosuch' (scrapy list shows them)"),
    (["feed", "-s", "AIBRIEF_EXTRACT_WORKERS=two"],
     "AIBRIEF_EXTRACT_WORKERS must be 0 (inline) or a number of workers, not 'two'"),
    (["feed", "-s", "AIBRIEF_EXTRACT_WORKERS=-1"],
     "AIBRIEF_EXTRACT_WORKERS must be 0 (inline) or a number of workers, not '-1'"),
])
def test_bad_spider_arguments_exit_2_with_one_line(args, message, db_path):
    result = scrapy_crawl(*args, config=DEMO_CONFIG, db=db_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_under_scrapy_is_one_line(tmp_path, db_path):
    config = tmp_path / "bad.toml"
    config.write_text('[crawl]\ndelay = "soon"\n', encoding="utf-8")
    result = scrapy_crawl("feed", config=config, db=db_path)
    assert result.returncode == 2
    assert f"{config}: crawl.delay: must be a number, not 'soon'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sample_sites_are_whole():
    """Every article a demo feed links to has its page."""
    import feedparser

    for feed in ["rsshub.demo.test/wechat/mp/jiqizhixin", "rsshub.demo.test/wechat/mp/qbitai",
                 "36kr.demo.test/feed", "arxiv.demo.test/rss/cs.AR", "research.demo.test/feeds/posts/default",
                 "news.demo.test/rss.xml"]:
        parsed = feedparser.parse((DEMO_SITES / feed).read_bytes())
        assert parsed.entries, feed
        for entry in parsed.entries:
            path = entry.link.removeprefix("http://").replace("?", "@")
            assert (DEMO_SITES / path).is_file(), entry.link


def test_pages_that_are_no_articles_are_counted_with_their_reason(site, db_path, config_file):
    """Scenario 7: a captcha page, a soft 404 and a listing at article URLs store nothing,
    and the run says why."""
    config = config_file('[[sources]]\nid = "odd"\nurl = "http://feeds.fixture.test/not-articles.xml"\n')
    assert scrapy_crawl("feed", config=config, db=db_path, site=site).returncode == 0
    assert rows(db_path, "SELECT count(*) FROM articles") == [(0,)]
    counts = last_run(db_path)["counts"]
    assert counts["dropped/not_article"] == 3
    assert counts["not_article/captcha or verification page"] == 1
    assert counts["not_article/soft 404"] == 1
    assert counts["not_article/listing page"] == 1


def test_a_feed_in_another_encoding_than_it_declares(site, db_path, config_file):
    """Scenario 14: declared UTF-8, written in GBK: titles and Chinese dates still read."""
    config = config_file('[[sources]]\nid = "gbk"\nurl = "http://feeds.fixture.test/wrong-encoding.xml"\n')
    assert scrapy_crawl("feed", config=config, db=db_path, site=site).returncode == 0
    assert rows(db_path, "SELECT title, published, published_from FROM articles") == [
        ("端侧语音芯片量产", "2022-10-13T12:30:00+00:00", "feed")]
