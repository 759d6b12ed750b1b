"""The sources a 2026 daily draws on, crawled for real: ``aibrief sources check`` over their
fixture sites, Hacker News through its JSON API, and a fixture day across the new sources
built into an issue whose items, citations and source shares are checked in the database.

The fixture documents (tests/sites/<source>.fixture.test) keep the real sites' https
links, as the discovery tests read them. For a crawl, :func:`day_sites` serves each of
them, and the day's article pages (tests/fixtures/sites/day/<real host>/), on
``<real host>.day.test`` over plain http: reserved names that never resolve, reached
only through the loopback sample server.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, TEST_SITES, MockSite, last_run, rows, run_cli, write_config
from redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)

from crawler.config import load_config

NOW = "2022-10-14T04:00:00+00:00"  # 12:00 in Shanghai on the fixture day
DAY_PAGES = ROOT / "tests" / "fixtures" / "sites" / "day"
SHIPPED = load_config(None)
NEW_SOURCES = ["the-decoder", "techcrunch-ai", "tnw", "cnbc-tech", "openai-news", "google-blog-ai",
               "google-developers", "anthropic-news", "leiphone", "netease-tech", "hackernews"]
# The day's crawl: the international sources and the Chinese ones an issue's 中文圈 draws on.
DAY_SOURCES = ["the-decoder", "techcrunch-ai", "hackernews", "anthropic-news", "google-blog-ai", "tnw",
               "36kr-ai", "qbitai-site", "leiphone"]
_HTTPS_HOST = re.compile(r"https://([A-Za-z0-9.-]+)")


def on_day_host(url: str) -> str:
    """``https://the-decoder.com/x`` as the day serves it: ``http://the-decoder.com.day.test/x``."""
    return _HTTPS_HOST.sub(lambda m: f"http://{m[1].lower()}.day.test", url)


def day_sites(root: Path, source_ids: list[str]) -> str:
    """Lay out the day's sites under ``root``; the ``[[sources]]`` TOML that reaches them."""
    toml = []
    for source_id in source_ids:
        source = SHIPPED.source(source_id)
        host = urlsplit(source.url).hostname
        target = root / f"{host}.day.test"
        for path in (TEST_SITES / f"{source_id}.fixture.test").rglob("*"):
            if path.is_file():
                out = target / path.relative_to(TEST_SITES / f"{source_id}.fixture.test")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(on_day_host(path.read_text("utf-8")), encoding="utf-8")
        options = ", ".join(f"{key} = {json.dumps(value)}" for key, value in source.options.items())
        toml.append(f'[[sources]]\nid = "{source_id}"\nname = "{source.name}"\nkind = "{source.kind}"\n'
                    f'url = "{on_day_host(source.url)}"\noptions = {{ {options} }}\n')
    for site in DAY_PAGES.iterdir():
        shutil.copytree(site, root / f"{site.name}.day.test", dirs_exist_ok=True)
    return "\n".join(toml)


@pytest.fixture
def day(tmp_path):
    """(server, config) of the fixture day's sites, in a sample server of their own."""
    root = tmp_path / "sites"
    sources = day_sites(root, sorted(set(DAY_SOURCES) | set(NEW_SOURCES)))
    config = write_config(tmp_path / "aibrief.toml", sources + '\n[issue]\nmax_items = 12\n')
    log = tmp_path / "requests.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(root), "--log", str(log)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = process.stdout.readline()
    assert line.startswith("port "), line
    yield MockSite(int(line.split()[1]), log), config
    process.terminate()
    process.wait(timeout=10)


def crawl(spider: str, *args: str, config: Path, db: Path, site: MockSite) -> subprocess.CompletedProcess:
    from conftest import env_for
    return subprocess.run([sys.executable, "-m", "scrapy", "crawl", spider, *args, "-s", "LOG_LEVEL=INFO",
                           "-s", "AIBRIEF_EXTRACT_WORKERS=0"], capture_output=True, text=True, timeout=180, cwd=ROOT,
                          env=env_for(site, AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db), AIBRIEF_NOW=NOW))


def test_the_new_sources_are_shipped_enabled_with_their_kinds():
    kinds = {s.id: s.kind for s in SHIPPED.active_sources()}
    assert {source_id: kinds.get(source_id) for source_id in NEW_SOURCES} == {
        "the-decoder": "feed", "techcrunch-ai": "feed", "tnw": "feed", "cnbc-tech": "feed", "openai-news": "feed",
        "google-blog-ai": "feed", "google-developers": "feed", "anthropic-news": "sitemap", "leiphone": "feed",
        "netease-tech": "listing", "hackernews": "hackernews"}
    news = next(g for g in SHIPPED.schedule.crawl if g.name == "news")
    rest = next(g for g in SHIPPED.schedule.crawl if g.name == "all")
    assert news.every < rest.every
    assert {"the-decoder", "techcrunch-ai", "hackernews", "leiphone", "36kr-newsflashes"} <= set(news.sources)
    assert "anthropic-news" in {s.id for s in SHIPPED.group_sources(rest)}
    assert {s.id for s in SHIPPED.sources if s.option("primary")} >= {"openai-news", "google-blog-ai",
                                                                     "google-developers", "anthropic-news"}


def test_sources_check_lists_every_new_source_with_links_found(day, db_path):
    site, config = day
    result = run_cli("--config", str(config), "--db", str(db_path), "sources", "check", *NEW_SOURCES,
                     site=site, AIBRIEF_NOW=NOW)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == set(NEW_SOURCES)
    for source_id, line in lines.items():
        links = int(re.search(r"\s(\d+) links", line)[1])
        assert links >= 2 and "error" not in line, line
    assert " 3 links " in lines["hackernews"] and "1 of 6 stories below 100 points" in lines["hackernews"]
    assert "newest 2022-10-14 09:30" in lines["the-decoder"]  # 01:30 UTC, shown in Shanghai time


# What the fixture day's Hacker News front page gives: three articles (an Ask HN post as
# its own text, dated by the API's time), each linked to its thread, and two threads kept
# with their points and comments (the Ask HN post is its own thread).
HN_ARTICLES = {
    "http://www.anthropic.com.day.test/news/compact-model-on-device":
        ["A compact model that runs on-device", "hackernews", "page"],
    "http://blog.lowbit.dev.day.test/int4-language-model-raspberry-pi":
        ["Running an INT4 language model on a Raspberry Pi 4", "hackernews", "page"],
    "https://news.ycombinator.com/item?id=33100003":
        ["Ask HN: Which NPU boards do you use for on-device inference?", "hackernews", "adapter"],
}
HN_DISCUSSIONS = (
    [("http://blog.lowbit.dev.day.test/int4-language-model-raspberry-pi",
      "https://news.ycombinator.com/item?id=33100002", "Hacker News"),
     ("http://www.anthropic.com.day.test/news/compact-model-on-device",
      "https://news.ycombinator.com/item?id=33100001", "Hacker News"),
     ("https://news.ycombinator.com/item?id=33100003", "https://news.ycombinator.com/item?id=33100003",
      "Hacker News")],
    [("https://news.ycombinator.com/item?id=33100001", 412, 211),
     ("https://news.ycombinator.com/item?id=33100002", 230, 87)])


def hn_articles(db: Path) -> dict[str, list]:
    return {url: rest for url, *rest in rows(db, "SELECT url, title, source_id, published_from FROM articles")}


def hn_discussions(db: Path) -> tuple[list, list]:
    links = rows(db, "SELECT a.url, l.url, l.label FROM article_links l JOIN articles a ON a.id = l.article_id"
                     " WHERE l.role = 'discussion' ORDER BY a.url")
    return links, rows(db, "SELECT url, points, comments FROM discussions ORDER BY url")


def test_hacker_news_stories_become_articles_with_their_discussion_and_points(day, db_path):
    site, config = day
    result = crawl("hackernews", config=config, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert hn_articles(db_path) == HN_ARTICLES
    (ask_text,) = rows(db_path, "SELECT text FROM articles WHERE url LIKE 'https://news.ycombinator.com/%'")[0]
    assert ask_text.startswith("We are choosing a board for on-device inference in a warehouse robot.\nWhich NPU")
    assert hn_discussions(db_path) == HN_DISCUSSIONS
    counts = last_run(db_path)["counts"]
    assert counts["hackernews/below_points"] == 1  # 45 points
    assert counts["hackernews/not_a_story"] == 2  # a job, a dead story
    assert counts["source/hackernews/entries"] == 3
    fetched = site.fetched()
    assert "keys.example.org.day.test/layouts" not in fetched and "keys.example.org/layouts" not in fetched
    # Next crawl: the same stories, nothing stored twice, the points as they stand.
    again = crawl("hackernews", config=config, db=db_path, site=site)
    assert again.returncode == 0
    assert rows(db_path, "SELECT count(*) FROM articles") == [(3,)]
    assert rows(db_path, "SELECT count(*) FROM article_links WHERE role = 'discussion'") == [(3,)]


def test_hacker_news_in_a_cluster_run_sends_its_threads_to_the_archive_writer(day, db_path, tmp_path, redis_server):
    """The same front page crawled by a cluster worker through a real Redis: the threads go
    to the writer with the articles, and the archive holds what a local crawl stores."""
    site, config = day
    clustered = tmp_path / "cluster.toml"
    clustered.write_text(config.read_text() + '\n[cluster]\nname = "hn"\nidle_seconds = 1.0\nlease_seconds = 2.0\n')
    result = run_cli("--config", str(clustered), "--db", str(db_path), "crawl", "hackernews",
                     "--redis", redis_server.url, site=site, AIBRIEF_NOW=NOW, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "not crawled" not in result.stderr
    assert hn_articles(db_path) == HN_ARTICLES
    assert hn_discussions(db_path) == HN_DISCUSSIONS
    assert last_run(db_path)["counts"]["ingest/discussions"] == 2


def test_a_story_found_on_hacker_news_after_its_page_was_stored_gains_its_discussion(day, db_path):
    site, config = day
    first = crawl("sitemap", "-a", "source=anthropic-news", config=config, db=db_path, site=site)
    assert first.returncode == 0, first.stderr[-2000:]
    page = "http://www.anthropic.com.day.test/news/compact-model-on-device"
    assert rows(db_path, "SELECT source_id FROM articles WHERE url = ?", [page]) == [("anthropic-news",)]
    second = crawl("hackernews", config=config, db=db_path, site=site)
    assert second.returncode == 0, second.stderr[-2000:]
    assert rows(db_path, "SELECT l.url FROM article_links l JOIN articles a ON a.id = l.article_id"
                         " WHERE a.url = ? AND l.role = 'discussion'", [page]) == [
        ("https://news.ycombinator.com/item?id=33100001",)]
    assert rows(db_path, "SELECT source_id FROM articles WHERE url = ?", [page]) == [("anthropic-news",)]


def test_a_fixture_day_across_the_new_sources_builds_an_issue_that_draws_on_them(day, db_path):
    """An issue built over a day's crawl of the new sources, written in the daily layout:
    国际动态 from The Decoder, TechCrunch and Hacker News, 中文圈 from 36kr, 量子位 and 雷锋网
    (the day's top items in 今日精选 whichever region); a story that Google announced and
    TNW reported is cited from Google's post."""
    site, config = day
    base = ("--config", str(config), "--db", str(db_path))
    result = run_cli(*base, "crawl", *DAY_SOURCES, site=site, AIBRIEF_NOW=NOW, AIBRIEF_EXTRACT_WORKERS="0",
                     timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert last_run(db_path)["status"] == "ok"
    built = run_cli(*base, "issue", "build", "--date", "2022-10-14", AIBRIEF_NOW=NOW)
    assert built.returncode == 0, built.stderr
    items = rows(db_path, "SELECT a.source_id, ii.url, ii.alternates FROM issue_items ii"
                          " JOIN articles a ON a.id = ii.article_id ORDER BY ii.position")
    drawn = {source_id for source_id, _, _ in items}
    assert {"the-decoder", "techcrunch-ai", "hackernews"} <= drawn  # international
    assert {"36kr-ai", "qbitai-site", "leiphone"} <= drawn  # 中文圈
    daily = run_cli(*base, "export", "2022-10-14", "--layout", "daily", AIBRIEF_NOW=NOW)
    assert daily.returncode == 0, daily.stderr
    section_of: dict[str, str] = {}
    section = None
    for line in daily.stdout.splitlines():
        if line.startswith("## "):
            section = line
        for url in re.findall(r"\]\((http[^)\s]+)\)", line):
            section_of.setdefault(url, section)
    by_source = {source_id: section_of.get(url) or "" for source_id, url, _ in items}
    assert any("国际动态" in section_of[url] for url in section_of) and any("中文圈" in s for s in section_of.values())
    for source_id in ("the-decoder", "techcrunch-ai", "hackernews"):
        assert "国际动态" in by_source[source_id] or "今日精选" in by_source[source_id], (source_id, by_source)
    for source_id in ("36kr-ai", "qbitai-site", "leiphone"):
        assert "中文圈" in by_source[source_id] or "今日精选" in by_source[source_id], (source_id, by_source)
    google = [(url, json.loads(alternates)) for _, url, alternates in items if "on-device-ai-more-android" in url
              or "google-wants-more-phones" in url]
    assert google == [("http://blog.google.day.test/technology/ai/on-device-ai-more-android-phones/",
                       [{"url": "http://thenextweb.com.day.test/news/google-wants-more-phones-to-run-ai-without-the-cloud",
                         "source": "The Next Web",
                         "title": "Google wants more phones to run its AI without the cloud"}])]
    # The sources table: the share of each source's articles whose story reached the issue.
    table = run_cli(*base, "sources", AIBRIEF_NOW=NOW).stdout.splitlines()
    assert "in issues (30d)" in table[0]
    by_id = {line.split()[0]: line for line in table[1:]}
    stories = {row[0] for row in rows(db_path, "SELECT coalesce(a.cluster_id, a.id) FROM issue_items ii"
                                                " JOIN articles a ON a.id = ii.article_id")}
    stored: dict[str, int] = {}
    in_issue: dict[str, int] = {}
    for source_id, story in rows(db_path, "SELECT source_id, coalesce(cluster_id, id) FROM articles"):
        stored[source_id] = stored.get(source_id, 0) + 1
        in_issue[source_id] = in_issue.get(source_id, 0) + (story in stories)
    assert in_issue["tnw"] >= 1  # its copy of Google's story counts, cited as an alternate
    for source_id in DAY_SOURCES:
        share = f"{in_issue.get(source_id, 0)}/{stored[source_id]} {in_issue.get(source_id, 0) / stored[source_id]:4.0%}"
        assert share in by_id[source_id], (source_id, share, by_id[source_id])
