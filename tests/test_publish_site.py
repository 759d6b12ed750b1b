"""The static archive (``aibrief site``): index, issue and month pages, the exports beside
each issue, an Atom feed feedparser reads back whole; a rebuild writes only what changed,
the index and the feed last; the pages read in Chromium with every link resolving."""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from conftest import run_cli
from publishing_servers import store_issue

from pipelines.archive.db import connect
from pipelines.editorial.publishing.site import SiteOptions, build_site

DAYS = [dt.date(2026, 7, 31), dt.date(2026, 8, 7), dt.date(2026, 8, 14)]
OPTIONS = SiteOptions(title="AI 簡報", site_url="https://brief.example.org/", layout="reference", moments_chars=120,
                      script="fetched")


@pytest.fixture
def archive(db_path):
    for n, day in enumerate(DAYS):
        store_issue(db_path, day, status="published", headline=f"【AI簡報{day:%Y%m%d}】第 {n + 1} 期")
    store_issue(db_path, dt.date(2026, 8, 21))  # a draft: not in the archive
    return db_path


def build(db_path: Path, folder: Path):
    db = connect(db_path)
    try:
        return build_site(db, folder, OPTIONS)
    finally:
        db.close()


def test_the_archive_holds_every_published_issue_and_a_feed_that_reads_back(archive, tmp_path):
    site = tmp_path / "site"
    result = run_cli("--db", str(archive), "site", "-o", str(site))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{site}: 23 files written, 0 unchanged\n"
    index = (site / "index.html").read_text("utf-8")
    linked = re.findall(r'href="(issues/[0-9-]+\.html)"', index)
    assert linked == [f"issues/{day}.html" for day in reversed(DAYS)]  # newest first, no draft
    assert 'href="months/2026-08.html"' in index and 'href="months/2026-07.html"' in index
    august = (site / "months" / "2026-08.html").read_text("utf-8")
    assert re.findall(r'href="\.\./(issues/[0-9-]+\.html)"', august) == ["issues/2026-08-14.html", "issues/2026-08-07.html"]
    page = (site / "issues" / "2026-08-07.html").read_text("utf-8")
    for suffix in (".md", ".editor.md", ".daily.md", ".json", ".wechat.html"):
        assert f'href="2026-08-07{suffix}"' in page and (site / "issues" / f"2026-08-07{suffix}").is_file()
    assert "<script" not in page and 'rel="prev"' in page and 'rel="next"' in page
    assert (site / "issues" / "2026-08-07.md").read_text("utf-8") == run_cli(
        "--db", str(archive), "export", "2026-08-07").stdout
    assert not (site / "issues" / "2026-08-21.html").exists()

    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == [f"AI 簡報 {day:%Y%m%d} 期" for day in reversed(DAYS)]
    assert [e.link for e in feed.entries] == [f"issues/{day}.html" for day in reversed(DAYS)]  # no site_url given
    for entry, day in zip(feed.entries, reversed(DAYS), strict=True):
        content = entry.content[0].value
        assert "地平线发布征程 6 芯片 &lt;b&gt;旗舰&lt;/b&gt;" in content and "Keyword spotting in 20 KB of RAM." in content
        assert 'href="https://github.com/example/tinyml"' in content and entry.summary == f"【AI簡報{day:%Y%m%d}】第 {DAYS.index(day) + 1} 期"

    again = run_cli("--db", str(archive), "site", "-o", str(site))
    assert again.stdout == f"{site}: 0 files written, 23 unchanged\n"


def test_a_rebuild_writes_only_what_changed_index_and_feed_last(archive, tmp_path):
    site = tmp_path / "site"
    build(archive, site)
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    newest = dt.date(2026, 9, 4)
    store_issue(archive, newest, status="published")
    report = build(archive, site)
    assert report.written == [
        "issues/2026-09-04.md", "issues/2026-09-04.editor.md", "issues/2026-09-04.daily.md", "issues/2026-09-04.json",
        "issues/2026-09-04.wechat.html", "issues/2026-09-04.html",
        "issues/2026-08-14.html",  # its pager now links to the newer issue
        "months/2026-09.html", "index.html", "feed.xml"]
    untouched = [p for p in before if p.relative_to(site).as_posix() not in report.written]
    assert untouched and all(p.stat().st_mtime_ns == before[p] for p in untouched)
    assert not [p for p in site.rglob("*.tmp")]  # every file was renamed into place
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries[0].link == "https://brief.example.org/issues/2026-09-04.html"
    assert len(feed.entries) == 4


def test_an_unwritable_folder_is_one_line(archive, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("--db", str(archive), "site", "-o", str(blocker / "site"))
    assert result.returncode == 1
    assert result.stderr.startswith("aibrief: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.fixture
def served(tmp_path, archive):
    site = tmp_path / "site"
    build(archive, site)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_the_pages_read_in_chromium_and_every_link_resolves(served, page, tmp_path):
    """Every same-site link of the index, a month page and an issue page answers 200; no
    page logs a console error; a screenshot of an issue page is kept to look at."""
    seen: set[str] = set()
    for start in ("index.html", "months/2026-08.html", "issues/2026-08-07.html"):
        response = page.goto(served + start)
        assert response.status == 200
        links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert links
        for link in [link for link in links if link.startswith(served)]:
            if link not in seen:
                seen.add(link)
                assert page.request.get(link).status == 200, link
    assert len(seen) >= 12
    page.goto(served + "issues/2026-08-07.html")
    assert page.eval_on_selector("h1.title", "e => getComputedStyle(e).fontSize") == "25.6px"
    assert page.evaluate("document.scripts.length") == 0
    assert page.errors == []
    shots = Path(os.environ.get("AIBRIEF_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "site-issue-2026-08-07.png"), full_page=True)
    assert (shots / "site-issue-2026-08-07.png").stat().st_size > 10_000
