"""The ``aibrief`` command, run as its console script."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click
import pytest
from conftest import SHARED, last_run, rows, run_cli

from crawler.cli import cli
from pipelines.editorial.importer import parse_issue
from schedules.due import parse_due

SEED = SHARED / "seeds" / "000_23f69d89ce459f38.txt"
PAGES_FEED = '[[sources]]\nid = "pages"\nurl = "http://feeds.fixture.test/pages.xml"\n'
DATES_FEED = '[[sources]]\nid = "dates"\nurl = "http://feeds.fixture.test/chinese-dates.xml"\n'


def all_commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("name, command", list(all_commands(cli)), ids=[n for n, _ in all_commands(cli)])
def test_every_command_is_documented_with_an_example(name, command):
    assert command.help and "Example" in command.help, f"aibrief {name} needs a docstring ending in an example"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The database the demo leaves behind, and what the demo printed."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_cli("demo", "--db", str(path))
    assert result.returncode == 0, result.stderr
    return path, result


def test_demo_prints_an_issue_of_sample_site_articles(demo_db):
    path, result = demo_db
    issue = parse_issue(result.stdout, markdown=True)
    assert issue.date == datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert len(issue.items) >= 5
    for item in issue.items:
        assert urlsplit(item.url).hostname.endswith(".demo.test")
        assert item.summary
    assert "原文:\nhttp://" in result.stdout
    assert "論文地址:\nhttps://arxiv.org/abs/2210.03142" in result.stdout
    assert "Traceback" not in result.stderr


def test_demo_again_stores_nothing_twice(demo_db, tmp_path):
    path, first = demo_db
    copy = tmp_path / "demo.db"
    shutil.copy(path, copy)
    before = rows(copy, "SELECT count(*) FROM articles")
    result = run_cli("demo", "--db", str(copy))
    assert result.returncode == 0
    assert rows(copy, "SELECT count(*) FROM articles") == before
    assert rows(copy, "SELECT count(*), count(DISTINCT canonical_url) FROM articles")[0][0] == before[0][0]
    assert last_run(copy)["counts"].get("stored", 0) == 0
    assert result.stdout == first.stdout  # the same issue, rebuilt from the same articles


def test_export_gives_the_same_bytes_every_time(demo_db, tmp_path):
    path, _ = demo_db
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    outputs = []
    for n in range(2):
        target = tmp_path / f"issue{n}.md"
        result = run_cli("--db", str(path), "export", day, "-o", str(target))
        assert result.returncode == 0, result.stderr
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert run_cli("--db", str(path), "export", day).stdout.encode() == outputs[0]
    data = json.loads(run_cli("--db", str(path), "export", day, "--format", "json").stdout)
    assert data["status"] == "draft" and len(data["items"]) >= 5


def test_crawl_records_the_run_and_prints_one_line(site, db_path, config_file):
    result = run_cli("--config", str(config_file(PAGES_FEED)), "--db", str(db_path), "crawl", site=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "run 1 ok: 1 sources, 4 pages, 3 stored, 0 known, 3 skipped, 0 failed\n"
    assert rows(db_path, "SELECT command, status FROM crawl_runs") == [("aibrief crawl", "ok")]


def test_crawl_of_an_unknown_source_is_a_usage_error(db_path, config_file):
    result = run_cli("--config", str(config_file(PAGES_FEED)), "--db", str(db_path), "crawl", "nope")
    assert result.returncode == 2
    assert result.stderr == "aibrief: error: unknown source 'nope' (configured: pages)\n"


def test_run_builds_the_due_issue_once(site, db_path, config_file):
    """A daily rule's issue covers a day: the feed's 2022 articles give today's none, and
    the run says so instead of building an empty issue; a weekly rule's first issue takes
    them, once."""
    config = config_file(DATES_FEED)
    text = config.read_text()
    config.write_text(text + '\n[issue]\ndue = "daily 00:00"\n')
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    daily = run_cli("--config", str(config), "--db", str(db_path), "run", site=site)
    assert daily.returncode == 0, daily.stderr
    assert daily.stdout.strip().endswith(f"no candidates for the issue of {today} "
                                         f"(since {today - timedelta(days=1)}): no issue built")
    assert rows(db_path, "SELECT count(*) FROM issues") == [(0,)]
    config.write_text(text + '\n[issue]\ndue = "fri 00:00"\n')
    friday = parse_due("fri 00:00").last_due(datetime.now(ZoneInfo("Asia/Shanghai"))).date()
    first = run_cli("--config", str(config), "--db", str(db_path), "run", site=site)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(f"issue {friday} built (3 items)")
    second = run_cli("--config", str(config), "--db", str(db_path), "run", site=site)
    assert second.stdout.strip().endswith(f"issue {friday} exists")
    assert rows(db_path, "SELECT count(*) FROM issues") == [(1,)]


def test_a_second_run_exits_at_once_while_the_lock_is_held(site, db_path, config_file):
    from schedules.lock import run_lock

    config = config_file(DATES_FEED)
    with run_lock(db_path, "aibrief run"):
        result = run_cli("--config", str(config), "--db", str(db_path), "run", site=site)
    assert result.returncode == 3
    assert result.stderr.startswith("aibrief: error: another run holds the lock: aibrief run (pid ")
    assert rows(db_path, "SELECT count(*) FROM crawl_runs") == [(0,)]
    assert site.fetched() == []


def test_a_lock_left_by_a_killed_run_is_taken_over(site, db_path, config_file):
    from pipelines.archive.db import connect, iso

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    database = connect(db_path)
    soon = iso(datetime.now(timezone.utc) + timedelta(minutes=4))
    import socket
    database.execute("INSERT INTO leases VALUES ('run', 'aibrief run:x', ?, ?, ?, ?)",
                     [dead.pid, socket.gethostname(), iso(datetime.now(timezone.utc)), soon])
    database.close()
    result = run_cli("--config", str(config_file(DATES_FEED)), "--db", str(db_path), "crawl", site=site)
    assert result.returncode == 0, result.stderr
    assert rows(db_path, "SELECT count(*) FROM leases") == [(0,)]  # released after the run


def test_exported_markdown_carries_no_live_html_or_script_links(site, db_path, config_file, tmp_path):
    config = str(config_file(PAGES_FEED))
    run_cli("--config", config, "--db", str(db_path), "crawl", site=site)
    assert run_cli("--config", config, "--db", str(db_path), "issue", "build", "--date", "2022-10-14").returncode == 0
    # The page is off-topic (not relevant by the taxonomy, so no longer in the built issue):
    # an editor adds it by hand, and its text must still come out inert.
    added = run_cli("--config", config, "--db", str(db_path), "issue", "add", "2022-10-14",
                    "http://pages.fixture.test/a/script.html")
    assert added.returncode == 0, added.stderr
    markdown = run_cli("--config", config, "--db", str(db_path), "export", "2022-10-14").stdout
    assert "安全测试" in markdown and "alert(1)" in markdown  # the words are there, as text
    editor = run_cli("--config", config, "--db", str(db_path), "export", "2022-10-14", "--layout", "editor").stdout
    assert "安全测试" in editor and "<script" not in editor.lower() and "<img" not in editor.lower()
    assert not re.search(r"(?<!\\)\]\(javascript:", editor)
    assert "<script" not in markdown.lower() and "<img" not in markdown.lower()
    # Link syntax from the text is escaped (\]), so nothing renders as a javascript: link.
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown) and "\\](javascript:alert(1))" in markdown
    assert "javascript:alert(2)" not in markdown  # the page's own javascript: anchor is not cited


def test_issue_commands(site, db_path, config_file):
    config = str(config_file(DATES_FEED))
    base = ("--config", config, "--db", str(db_path))
    run_cli(*base, "crawl", site=site)
    built = run_cli(*base, "issue", "build", "--date", "2022-10-14", "--max", "2")
    assert built.returncode == 0 and built.stdout.startswith("draft AI 簡報 20221014 期: 2 items")
    assert run_cli(*base, "issue", "list").stdout.startswith("2022-10-14  draft")
    shown = run_cli(*base, "issue", "show", "20221014").stdout
    # Ranked by relevance and freshness and grouped by section (AI 芯片 before 端侧与嵌入式 AI),
    # no longer newest first (issue 6).
    assert "1. 端侧语音芯片量产\n   http://pages.fixture.test/a/undated-2.html" in shown
    assert "2. 边缘视觉模组发布\n   http://pages.fixture.test/a/undated-1.html" in shown
    assert run_cli(*base, "issue", "publish", "2022-10-14").stdout.startswith("published AI 簡報 20221014 期")
    rebuilt = run_cli(*base, "issue", "build", "--date", "2022-10-14")
    assert rebuilt.returncode == 1
    assert rebuilt.stderr == "aibrief: error: the issue of 2022-10-14 is published; it is not changed\n"
    missing = run_cli(*base, "export", "2022-10-15")
    assert missing.returncode == 1 and missing.stderr.startswith("aibrief: error: no issue for 2022-10-15")
    bad = run_cli(*base, "issue", "show", "2022-13-01")
    assert bad.returncode == 2 and "is not a date such as 2022-10-14" in bad.stderr


def test_search_command(site, db_path, config_file):
    config = str(config_file(DATES_FEED))
    run_cli("--config", config, "--db", str(db_path), "crawl", site=site)
    found = run_cli("--db", str(db_path), "search", "语音芯片")
    assert found.returncode == 0
    assert "端侧语音芯片量产" in found.stdout and "undated-2.html" in found.stdout
    assert "no matches" in run_cli("--db", str(db_path), "search", "不存在的词语组合").stderr


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seeds is not here")
def test_import_the_seed_then_export_it(db_path, tmp_path):
    result = run_cli("--db", str(db_path), "import", str(SEED))
    assert result.returncode == 0 and result.stdout == "imported AI 簡報 20221014 期: 9 items, published\n"
    markdown = run_cli("--db", str(db_path), "export", "2022-10-14").stdout
    seed = SEED.read_text("utf-8")
    titles = [line for line in seed.splitlines() if line[:2] in {f"{n}." for n in range(1, 10)}]
    assert len(titles) == 9 and all(title in markdown for title in titles)
    assert markdown.count("\n原文:\n") == 9
    exported = tmp_path / "issue.md"
    exported.write_text(markdown, encoding="utf-8")
    again = run_cli("--db", str(db_path), "import", str(exported))
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_import_of_something_else_is_one_line(db_path, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("购物清单\n牛奶\n", encoding="utf-8")
    result = run_cli("--db", str(db_path), "import", str(junk))
    assert result.returncode == 1
    assert result.stderr == (f"aibrief: error: {junk}: no issue title such as 'AI 簡報 20221014 期' found: no 导读 "
                             "line names the issue, the file name holds no date, and no --date was given\n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    assert run_cli("--db", str(db_path), "import", str(binary)).stderr == f"aibrief: error: {binary}: not UTF-8 text\n"


def test_a_database_path_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("--db", str(blocker / "aibrief.db"), "issue", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("aibrief: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_extract_command_on_a_saved_page_and_a_url(site, tmp_path):
    saved = "tests/adapters/wechat/article.html"
    result = run_cli("extract", saved, "--url", "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["site"] == "wechat" and data["author"] == "机器之心"
    assert data["published"] == "2022-10-14T07:50:00+00:00" and data["published_from"] == "adapter"
    assert {"role": "paper", "url": "https://arxiv.org/abs/2210.01234", "label": "论文地址："} in data["links"]
    markdown = run_cli("extract", saved, "--url", "https://mp.weixin.qq.com/s/x", "--format", "md").stdout
    assert "論文地址:\nhttps://arxiv.org/abs/2210.01234" in markdown
    fetched = run_cli("extract", "http://36kr.demo.test/p/1931939259730311", site=site)
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout)["site"] == "kr36"
    expired = run_cli("extract", "tests/adapters/wechat/expired.html", "--url", "https://mp.weixin.qq.com/s/x")
    assert expired.returncode == 1 and expired.stderr == "aibrief: error: not an article: wechat: expired\n"
    missing = run_cli("extract", "http://pages.fixture.test/a/gone.html", site=site)
    assert missing.returncode == 1 and missing.stderr.endswith("HTTP 404\n")
    assert run_cli("extract", "no-such-file.html").returncode == 2


def test_sources_show_health_and_run_names_the_sources_when_all_failed(site, db_path, config_file):
    """Source health: a feed that is an HTML page, or empty, is a failure; aibrief run exits
    non-zero naming the sources when every source failed."""
    config = config_file('[[sources]]\nid = "html"\nurl = "http://feeds.fixture.test/html-instead.xml"\n'
                         '[[sources]]\nid = "empty"\nurl = "http://feeds.fixture.test/empty.xml"\n')
    base = ("--config", str(config), "--db", str(db_path))
    for _ in range(2):
        result = run_cli(*base, "run", site=site)
    assert result.returncode == 1
    assert "run 2 failed" in result.stdout and "failed sources: empty, html" in result.stdout
    table = run_cli(*base, "sources").stdout.splitlines()
    assert table[0].split()[:3] == ["source", "state", "last"]
    rows_by_id = {line.split()[0]: line for line in table[1:]}
    assert rows_by_id["html"].split()[1:4] == ["on", "never", "2"]
    assert "not a readable feed" in rows_by_id["html"] or "no entries" in rows_by_id["html"]
    listed = run_cli(*base, "runs").stdout.splitlines()
    assert len(listed) == 2 and "run 2 failed" in listed[0] and "[aibrief run]" in listed[0]


def test_progress_line_when_asked(site, db_path, config_file):
    from conftest import scrapy_crawl

    config = config_file('[[sources]]\nid = "dates"\nurl = "http://feeds.fixture.test/chinese-dates.xml"\n')
    result = scrapy_crawl("feed", "-s", "AIBRIEF_PROGRESS=1", config=config, db=db_path, site=site)
    # (text mode turns the line's carriage returns into newlines)
    assert "\ncrawl: 3 pages, 3 stored, 0 skipped, 0 failed | dates 3" in result.stderr
