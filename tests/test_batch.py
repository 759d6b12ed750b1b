"""The batched writer (pipelines.archive.batch): many articles in one transaction, each
still stored once and with its frontier rows, and a crawl that stores through it."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest
from conftest import rows, scrapy_crawl

from pipelines.analysis.dedupe import fingerprint
from pipelines.archive import db as storage
from pipelines.archive import frontier
from pipelines.archive.articles import ArticleRecord
from pipelines.archive.batch import BatchWriter

STORY = ("地平线发布新一代车载芯片征程六，算力达到五百六十TOPS，面向高阶智能驾驶。"
         "公司表示，该芯片采用全新架构，能效比上一代提升三倍，明年量产上车。" * 4)


@pytest.fixture
def db(db_path):
    database = storage.connect(db_path)
    yield database
    database.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(n: int, *, canonical: str | None = None, text: str | None = None, title: str | None = None,
           **fields) -> ArticleRecord:
    text = text if text is not None else f"第{n}篇正文。边缘推理芯片出货量增长。"
    values = dict(canonical_url=canonical or f"https://news.test/a/{n}", url=f"https://news.test/a/{n}",
                  source_id="s", title=title or f"第{n}篇", text=text, summary="摘要",
                  published=datetime(2022, 10, 13, tzinfo=timezone.utc), published_from="page",
                  fetched_at=datetime(2022, 10, 20, tzinfo=timezone.utc),
                  fingerprint=fingerprint(title or f"第{n}篇", text))
    values.update(fields)
    return ArticleRecord(**values)


def discover(db, *keys: str) -> None:
    frontier.discover_many(db, [(k, k, "s", {}) for k in keys], max_attempts=3)


def test_nothing_is_written_until_the_batch_is_full_then_all_in_one_go(db):
    keys = [f"https://news.test/a/{n}" for n in range(3)]
    discover(db, *keys)
    writer = BatchWriter(db, size=3, interval=60.0, clock=Clock())
    assert writer.add(record(0), (keys[0],)) == []
    assert writer.add(record(1), (keys[1],)) == []
    assert rows_of(db, "SELECT count(*) FROM articles") == [(0,)]
    assert {state for _, (state, *_rest) in states(db).items()} == {"pending"}
    stored = writer.add(record(2), (keys[2],))
    assert [s.article_id is not None for s in stored] == [True, True, True]
    assert rows_of(db, "SELECT count(*) FROM articles") == [(3,)]
    assert {state for _, (state, *_rest) in states(db).items()} == {"stored"}
    assert writer.batches == 1 and len(writer) == 0


def test_a_batch_is_written_once_its_first_entry_has_waited_the_interval(db):
    clock = Clock()
    writer = BatchWriter(db, size=100, interval=1.0, clock=clock)
    writer.add(record(0))
    clock.now = 0.6
    assert writer.flush_if_due() == [] and not writer.due()
    clock.now = 1.0
    assert writer.due()
    assert [s.record.canonical_url for s in writer.flush_if_due()] == ["https://news.test/a/0"]
    assert rows_of(db, "SELECT count(*) FROM articles") == [(1,)]


def test_two_copies_of_one_article_in_one_batch_are_stored_once(db):
    """Two URLs that lead to one canonical URL, in one batch: one article, both URLs done."""
    discover(db, "https://news.test/a/1?from=feed", "https://news.test/a/1?from=list")
    writer = BatchWriter(db, size=10, interval=60.0, clock=Clock())
    writer.add(record(1, url="https://news.test/a/1?from=feed"), ("https://news.test/a/1?from=feed",))
    writer.add(record(1, url="https://news.test/a/1?from=list"), ("https://news.test/a/1?from=list",))
    first, second = writer.close()
    assert first.article_id is not None and second.article_id is None
    assert rows_of(db, "SELECT count(*) FROM articles") == [(1,)]
    assert {state for state, *_ in states(db).values()} == {"stored"}


def test_a_near_copy_in_the_same_batch_joins_the_first_ones_story(db):
    writer = BatchWriter(db, size=10, interval=60.0, clock=Clock())
    writer.add(record(1, text=STORY, title="地平线发布征程六芯片"))
    writer.add(record(2, text=STORY + "（来源：某媒体）", title="地平线征程六芯片发布"))
    first, second = writer.close()
    assert rows_of(db, "SELECT id, cluster_id FROM articles ORDER BY id") == [
        (first.article_id, first.article_id), (second.article_id, first.article_id)]


def test_a_bad_article_is_reported_and_the_rest_of_its_batch_is_stored(db):
    discover(db, "https://news.test/a/1", "https://news.test/a/2")
    writer = BatchWriter(db, size=10, interval=60.0, clock=Clock())
    writer.add(record(1, published_from=None), ("https://news.test/a/1",))  # NOT NULL in the schema
    writer.add(record(2), ("https://news.test/a/2",))
    bad, good = writer.close()
    assert bad.article_id is None and "NOT NULL" in bad.error
    assert good.article_id is not None and good.error is None
    assert rows_of(db, "SELECT canonical_url FROM articles") == [("https://news.test/a/2",)]
    # The bad one's URL was not marked done: a later crawl fetches it again.
    assert states(db)["https://news.test/a/1"][0] == "pending"


def test_a_failed_batch_stores_nothing_and_leaves_its_urls_due(db_path):
    """A transaction that fails as a whole (the size cap reached) rolls every article of the
    batch back, frontier marks included, so that the URLs are fetched again."""
    db = storage.connect(db_path, max_size_mb=0.3)
    keys = [f"https://news.test/a/{n}" for n in range(40)]
    discover(db, *keys)
    writer = BatchWriter(db, size=40, interval=60.0, clock=Clock())
    for n, key in enumerate(keys[:-1]):
        writer.add(record(n, text=STORY * 8 + str(n)), (key,))
    with pytest.raises(sqlite3.OperationalError, match="full"):
        writer.add(record(39, text=STORY * 8), (keys[-1],))
    assert rows_of(db, "SELECT count(*) FROM articles") == [(0,)]
    assert {state for state, *_ in states(db).values()} == {"pending"}
    assert frontier.due(db, None, max_attempts=3)
    db.close()


def test_frontier_marks_wait_for_the_next_batch(db):
    discover(db, "https://news.test/skip")
    writer = BatchWriter(db, size=5, interval=60.0, clock=Clock())
    writer.mark("https://news.test/skip", "skipped", "not an article: listing")
    assert states(db)["https://news.test/skip"][0] == "pending"
    writer.flush()
    assert states(db)["https://news.test/skip"] == ("skipped", "not an article: listing")


def test_a_failure_after_the_fetched_mark_stays_a_failure_with_its_back_off(db_path):
    """A page fetched (its mark queued), then failing extraction: the failure is written after
    the mark, so the URL is failed and waits its back-off, not "fetched" and due at once."""
    from pipelines.store import Archive

    archive = Archive(db_path, max_attempts=3, batch=10, flush_every=60.0)
    discover(archive.db, "https://news.test/broken")
    archive.settle("https://news.test/broken", "fetched")
    archive.fail("https://news.test/broken", "extraction failed: worker died, twice")
    archive.writer.flush()
    entry = frontier.get(archive.db, "https://news.test/broken")
    assert (entry.state, entry.attempts) == ("failed", 1) and entry.next_attempt is not None
    assert frontier.due(archive.db, None, max_attempts=3) == []
    archive.db.close()


def test_a_crawl_in_small_batches_stores_every_article_once(site, db_path, config_file):
    """The store stage with batches of three: every article of a 20-article feed stored
    once, its URL marked stored, the batches counted."""
    config = config_file('[[sources]]\nid = "gen"\nurl = "http://gen.fixture.test/_gen/feed/20"\n',
                         store_batch=3, store_flush=0.5)
    result = scrapy_crawl("feed", config=config, db=db_path, site=site)
    assert result.returncode == 0, result.stderr[-1500:]
    assert rows(db_path, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(20, 20)]
    assert rows(db_path, "SELECT count(*) FROM frontier WHERE state != 'stored'") == [(0,)]
    (counts,), = rows(db_path, "SELECT counts FROM crawl_runs")
    counts = json.loads(counts)
    assert counts["stored"] == 20, json.dumps(counts)
    # At most three entries a batch (an article, or a page's "fetched" mark).
    assert counts["store/batches"] >= 20 // 3


def rows_of(db, sql: str) -> list[tuple]:
    return [tuple(row) for row in db.execute(sql).fetchall()]


def states(db) -> dict[str, tuple[str, str | None]]:
    return {url: (state, error) for url, state, error in db.execute(
        "SELECT canonical_url, state, last_error FROM frontier").fetchall()}
