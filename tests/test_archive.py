"""The SQLite archive and what reads it: schema, storing, issues, search, export, import."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import SHARED

from crawler.config import default_editorial
from pipelines.analysis.links import Link
from pipelines.archive import db as storage
from pipelines.archive import frontier
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.archive.search import search
from pipelines.editorial.editor import drop_item
from pipelines.editorial.export import md_escape, render_json, render_markdown, write_whole
from pipelines.editorial.importer import IssueFormatError, md_unescape, parse_issue
from pipelines.editorial.issues import (
    EmptyPeriod,
    IssueError,
    build_issue,
    get_issue,
    headline_for,
    period_start,
    publish_issue,
    store_published,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = SHARED / "seeds" / "000_23f69d89ce459f38.txt"


@pytest.fixture
def db(db_path):
    database = storage.connect(db_path)
    yield database
    database.close()


def record(n: int, published: str, **fields) -> ArticleRecord:
    values = dict(canonical_url=f"https://news.test/a/{n}", url=f"http://news.test/a/{n}?utm_source=rss",
                  source_id="s", title=f"第{n}篇：端侧芯片新闻", text=f"第{n}篇正文。边缘推理芯片出货量增长。",
                  summary=f"第{n}篇摘要。", published=datetime.fromisoformat(published),
                  published_from="page", fetched_at=datetime(2022, 10, 20, tzinfo=timezone.utc))
    values.update(fields)
    return ArticleRecord(**values)


def build(db, day: date, max_items: int = 9):
    return build_issue(db, day, title=f"AI 簡報 {day:%Y%m%d} 期", section="嵌入式 AI", max_items=max_items,
                       tz=SHANGHAI, editorial=default_editorial())


def test_schema_is_migrated_once_in_wal_mode(db_path):
    first = storage.connect(db_path)
    assert storage.schema_version(first) == len(storage.MIGRATIONS)
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.close()
    again = storage.connect(db_path)  # opening again migrates nothing and loses nothing
    assert storage.schema_version(again) == len(storage.MIGRATIONS)
    again.close()


def test_the_crawls_connection_checkpoints_its_log_less_often(db_path):
    """The crawl's writer lets the write-ahead log grow to 8,000 pages between checkpoints
    (each one syncs the disk while the reactor waits); other connections keep SQLite's 1,000."""
    from pipelines.store import CRAWL_WAL_LIMIT, CRAWL_WAL_PAGES, Archive

    crawl = Archive(db_path, max_attempts=5).db
    assert crawl.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == CRAWL_WAL_PAGES == 8000
    assert crawl.execute("PRAGMA journal_size_limit").fetchone()[0] == CRAWL_WAL_LIMIT
    other = storage.connect(db_path)
    assert other.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    other.close()
    crawl.close()


def test_a_newer_schema_is_refused(db_path):
    database = storage.connect(db_path)
    database.execute("PRAGMA user_version = 99")
    database.close()
    with pytest.raises(storage.StorageError, match="newer than this aibrief knows"):
        storage.connect(db_path)


def test_a_migration_killed_halfway_leaves_nothing_applied(db_path, monkeypatch):
    """Each migration is one transaction with its version: a failure inside it rolls the
    whole step back, and the next start applies it again from the beginning."""
    def broken(database):
        storage._script(database, "CREATE TABLE half_done (x INTEGER);\nCREATE TABLE never (y INTEGER);")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(storage, "MIGRATIONS", [*storage.MIGRATIONS, broken])
    with pytest.raises(storage.StorageError, match="disk I/O error"):
        storage.connect(db_path)
    monkeypatch.undo()
    database = storage.connect(db_path)
    assert storage.schema_version(database) == len(storage.MIGRATIONS)
    assert database.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone() == (0,)
    database.close()


def test_an_archive_of_schema_4_is_migrated_and_searched_as_before(db_path):
    """Version 5 narrows the full-text trigger to title and text: an archive made before
    keeps its index, and a changed text is found by its new words only."""
    import sqlite_utils

    old = sqlite_utils.Database(sqlite3.connect(db_path, isolation_level=None))
    for migration in storage.MIGRATIONS[:4]:
        with storage.immediate(old):
            migration(old)
    old.execute("PRAGMA user_version = 4")
    old.execute("INSERT INTO articles (canonical_url, url, title, published, published_from, text, summary,"
                " fetched_at) VALUES ('https://news.test/a/1', 'https://news.test/a/1', '地平线与大众成立合资企业',"
                " '2022-10-13T01:00:00+00:00', 'page', '大众汽车集团宣布与地平线成立合资企业。', '', "
                " '2022-10-13T01:00:00+00:00')")
    old.close()
    database = storage.connect(db_path)
    assert storage.schema_version(database) == len(storage.MIGRATIONS)
    assert [h.id for h in search(database, "合资企业")] == [1]
    database.execute("UPDATE articles SET cluster_id = 1, relevance = 0.5 WHERE id = 1")
    assert [h.id for h in search(database, "合资企业")] == [1]
    database.execute("UPDATE articles SET text = '黑芝麻智能发布新一代自动驾驶芯片。' WHERE id = 1")
    assert [h.id for h in search(database, "黑芝麻智能")] == [1]
    assert search(database, "汽车集团") == []
    assert database.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')").rowcount == 1
    database.close()


def test_an_article_is_stored_once(db):
    assert store_article(db, record(1, "2022-10-13T08:00:00+08:00",
                                    links=[Link("https://arxiv.org/abs/2210.03142", "paper")])) is not None
    assert store_article(db, record(1, "2022-10-13T08:00:00+08:00")) is None
    assert db.execute("SELECT count(*) FROM articles").fetchone() == (1,)
    assert db.execute("SELECT published FROM articles").fetchone() == ("2022-10-13T00:00:00+00:00",)


def test_a_feeds_urls_are_recorded_in_one_go_each_with_its_answer(db):
    """frontier.discover_many: new, stored, given up and backing-off URLs each get the answer
    a URL discovered on its own gets; a URL twice in one feed is recorded once, and a
    pending URL takes the hints it lacked."""
    urls = [f"https://news.test/a/{n}" for n in range(5)]
    frontier.discover_many(db, [(u, u, "s", {}) for u in urls[:4]], max_attempts=3)
    frontier.mark(db, urls[0], "stored")
    for _ in range(3):
        frontier.mark_failed(db, urls[1], "HTTP 500", max_attempts=3)  # given up
    frontier.mark_failed(db, urls[2], "timed out", max_attempts=3)  # due again in an hour
    db.commit()
    answers = frontier.discover_many(db, [(u, u, "s", {"title": "標題"}) for u in [*urls, urls[4]]], max_attempts=3)
    assert answers == [(False, "known"), (False, "given_up"), (False, "backoff"), (True, "pending"),
                       (True, "new"), (True, "pending")]
    assert db.execute("SELECT count(*) FROM frontier").fetchone() == (5,)
    assert frontier.get(db, urls[3]).hints == {"title": "標題"}


def test_build_takes_newest_articles_up_to_the_issue_day(db):
    for n, when in enumerate(["2022-10-11T09:00:00+08:00", "2022-10-13T09:00:00+08:00",
                              "2022-10-14T23:30:00+08:00", "2022-10-15T00:30:00+08:00"], start=1):
        store_article(db, record(n, when))
    issue = build(db, date(2022, 10, 14), max_items=2)
    assert [item.title for item in issue.items] == ["第3篇：端侧芯片新闻", "第2篇：端侧芯片新闻"]
    assert [item.position for item in issue.items] == [1, 2]
    assert issue.items[0].url == "http://news.test/a/3"  # tracking parameters gone
    assert issue.status == "draft" and issue.title == "AI 簡報 20221014 期"
    assert issue.headline == "【AI簡報20221014】第3篇：端侧芯片新闻、第2篇：端侧芯片新闻"


def test_rebuilding_a_draft_replaces_it_and_a_published_issue_never_changes(db):
    store_article(db, record(1, "2022-10-13T09:00:00+08:00", links=[Link("https://arxiv.org/pdf/2210.03142.pdf", "paper"),
                                                                   Link("https://github.com/a/b", "code"),
                                                                   Link("https://other.test/", "other")]))
    first = build(db, date(2022, 10, 14))
    assert first.items[0].links == [{"role": "paper", "url": "https://arxiv.org/pdf/2210.03142.pdf"},
                                    {"role": "code", "url": "https://github.com/a/b"}]
    store_article(db, record(2, "2022-10-14T09:00:00+08:00"))
    second = build(db, date(2022, 10, 14))
    assert second.id == first.id and len(second.items) == 2
    publish_issue(db, date(2022, 10, 14))
    store_article(db, record(3, "2022-10-14T10:00:00+08:00"))
    with pytest.raises(IssueError, match="is published; it is not changed"):
        build(db, date(2022, 10, 14))
    assert len(get_issue(db, date(2022, 10, 14)).items) == 2
    # The next issue leaves out what went out in the published one.
    nxt = build(db, date(2022, 10, 21))
    assert [item.title for item in nxt.items] == ["第3篇：端侧芯片新闻"]


def test_publishing_needs_an_issue_with_items(db):
    with pytest.raises(IssueError, match="no issue for 2022-10-14"):
        publish_issue(db, date(2022, 10, 14))
    with pytest.raises(EmptyPeriod, match="no candidates for the issue of 2022-10-14 .*no issue built"):
        build(db, date(2022, 10, 14))  # a period with nothing builds no empty issue
    assert get_issue(db, date(2022, 10, 14)) is None
    store_article(db, record(1, "2022-10-13T09:00:00+08:00"))
    build(db, date(2022, 10, 14))
    drop_item(db, date(2022, 10, 14), 1)  # the editor took the one item out
    with pytest.raises(IssueError, match="has no items"):
        publish_issue(db, date(2022, 10, 14))


def test_an_issue_covers_the_days_since_the_last_one_or_one_day_for_a_daily_rule(db):
    for n, when in enumerate(["2022-10-05T09:00:00+08:00", "2022-10-10T09:00:00+08:00", "2022-10-13T09:00:00+08:00"]):
        store_article(db, record(n + 1, when, title=f"第{n + 1}篇：端侧芯片新闻{'甲乙丙'[n]}"))
    assert period_start(db, date(2022, 10, 7), SHANGHAI, daily=False) is None  # before the first issue: no bound
    first = build_issue(db, date(2022, 10, 7), title="AI 簡報 20221007 期", section="嵌入式 AI", max_items=9,
                        tz=SHANGHAI, editorial=default_editorial())
    assert [i.article_id for i in first.items] == [1]
    since = period_start(db, date(2022, 10, 14), SHANGHAI, daily=False)
    assert since == datetime(2022, 10, 8, tzinfo=SHANGHAI)
    weekly = build_issue(db, date(2022, 10, 14), title="AI 簡報 20221014 期", section="嵌入式 AI", max_items=9,
                         tz=SHANGHAI, editorial=default_editorial(), since=since)
    assert sorted(i.article_id for i in weekly.items) == [2, 3]
    daily_since = period_start(db, date(2022, 10, 11), SHANGHAI, daily=True)
    assert daily_since == datetime(2022, 10, 10, tzinfo=SHANGHAI)
    daily = build_issue(db, date(2022, 10, 11), title="AI 早报", section="", max_items=9, tz=SHANGHAI,
                        editorial=default_editorial(), since=daily_since)
    assert [i.article_id for i in daily.items] == [2]


def test_headline_shortens_long_titles_to_a_clause():
    assert headline_for(date(2022, 10, 14), ["2022中國AI芯片企業50強", "牽手地平線補齊短板,大眾汽車投資24億歐元發力智能駕駛"]) == \
        "【AI簡報20221014】2022中國AI芯片企業50強、大眾汽車投資24億歐元發力智能駕駛"


def test_search_finds_chinese_words_of_any_length_and_english(db):
    store_article(db, record(1, "2022-10-13T09:00:00+08:00", title="地平线与大众成立合资企业",
                             text="大众汽车集团宣布与地平线成立合资企业，发力智能驾驶。"))
    store_article(db, record(2, "2022-10-12T09:00:00+08:00", title="Quantization for fast RL",
                             text="ActorQ quantizes actors to int8 to speed up training."))
    assert [h.id for h in search(db, "合资企业")] == [1]
    assert [h.id for h in search(db, "地平线")] == [1]
    assert [h.id for h in search(db, "驾驶")] == [1]  # two characters: no trigram, LIKE instead
    assert [h.id for h in search(db, "大众 驾驶")] == [1]
    assert [h.id for h in search(db, "actorq")] == [2]
    assert search(db, "芯片 actorq") == []
    assert search(db, '"; DROP TABLE articles; --') == []
    assert "合资企业" in search(db, "合资企业")[0].snippet


def test_markdown_escaping_round_trips_and_neutralises_html():
    for text in ["<script>alert(1)</script>", "[点我](javascript:alert(1))", "# 不是标题", "1. 不是列表",
                 "- 也不是", "a \\ b &lt; c & d", "普通的一句话。"]:
        escaped = md_escape(text)
        assert md_unescape(escaped) == text
        assert "<" not in escaped and "](" not in escaped.replace("\\](", "")


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seeds is not here")
def test_seed_issue_imports_and_exports_in_the_reference_layout(db):
    parsed = parse_issue(SEED.read_text("utf-8"))
    issue, changed = store_published(db, parsed.date, title=parsed.title, section=parsed.section,
                                     headline=parsed.headline, items=parsed.items)
    assert changed and issue.status == "published" and len(issue.items) == 9
    markdown = render_markdown(issue)
    seed_lines = SEED.read_text("utf-8").splitlines()
    for item in issue.items:
        assert f"{item.position}. {item.title}" in seed_lines
        assert f"{item.position}. {md_escape(item.title)}" in markdown
        assert f"原文:\n{item.url}\n" in markdown
    assert "文章鏈接:\nhttps://ai.googleblog.com/2022/09/quantization-for-fast-and.html\n" in markdown
    assert "論文地址:\nhttps://arxiv.org/pdf/2209.05442.pdf\n" in markdown
    assert "論文地址:\nhttps://arxiv.org/pdf/2210.03142.pdf\n" in markdown
    assert "- END -" not in markdown and "發布評論" not in markdown
    # Exporting and importing again gives the same items; importing again changes nothing.
    again = parse_issue(markdown, markdown=True)
    assert [(i.title, i.url, i.links, i.summary) for i in again.items] == \
        [(i.title, i.url, i.links, i.summary) for i in issue.items]
    _, changed = store_published(db, again.date, title=again.title, section=again.section,
                                 headline=again.headline, items=again.items)
    assert not changed
    data = json.loads(render_json(get_issue(db, date(2022, 10, 14))))
    assert list(data)[:4] == ["date", "title", "headline", "status"] and "items" in data
    assert data["items"][6]["links"] == [{"role": "paper", "url": "https://arxiv.org/pdf/2209.05442.pdf"}]
    # Issue 6 added section, topics, source and alternates; the original keys stay as they were.
    assert set(data["items"][0]) == {"position", "title", "url", "links", "summary", "section", "topics", "source",
                                     "alternates"}


def test_a_different_issue_over_a_published_one_is_refused(db):
    text = "嵌入式 AI\nAI 簡報 20221014 期\n1. 标题一\n原文:\nhttps://a.test/1\n摘要一。\n"
    parsed = parse_issue(text)
    store_published(db, parsed.date, title=parsed.title, section=parsed.section, headline=parsed.headline,
                    items=parsed.items)
    other = parse_issue(text.replace("标题一", "另一个标题"))
    with pytest.raises(IssueError, match="published already with other items"):
        store_published(db, other.date, title=other.title, section=other.section, headline=other.headline,
                        items=other.items)
    assert get_issue(db, date(2022, 10, 14)).items[0].title == "标题一"


@pytest.mark.parametrize("text, message", [
    ("随便写的一段话\n没有期号", "no issue title"),
    ("AI 簡報 20221399 期\n1. x\n原文:\nhttps://a.test/\n", "is not a date"),
    ("AI 簡報 20221014 期\n只有一行摘要\n", "text before the first item"),
    ("AI 簡報 20221014 期\n- END -\n", "no items found"),
    ("AI 簡報 20221014 期\n1. x\n原文:\n不是网址\n", "no URL follows"),
])
def test_unreadable_issue_text_is_one_line(text, message):
    with pytest.raises(IssueFormatError, match=message):
        parse_issue(text)


def test_files_appear_whole(tmp_path):
    target = tmp_path / "issue.md"
    write_whole(target, "old\n")

    with pytest.raises(UnicodeEncodeError):
        write_whole(target, "new text that cannot be encoded \udc80")  # the write fails half-way
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["issue.md"]  # no temporary file left behind
    write_whole(target, "new\n")
    assert target.read_text() == "new\n"
