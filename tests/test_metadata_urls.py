"""Canonical URLs as RFC 3986 and w3lib read them, with our policy on top; and the
migration that brings stored keys to the new form without storing a page twice."""
from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from pipelines.analysis.urls import canonical_url, strip_tracking
from pipelines.archive import db as storage


@pytest.mark.parametrize("url, expected", [
    ("http://[::1]:8080/news/7.html", "https://[::1]:8080/news/7.html"),
    ("http://[2001:DB8::a]/p/1/", "https://[2001:db8::a]/p/1"),
    ("https://[fe80::1]:443/x", "https://[fe80::1]/x"),
    ("https://blog.test/%7eann/post", "https://blog.test/~ann/post"),
    ("https://blog.test/a/b/../c/./d.html", "https://blog.test/a/c/d.html"),
    ("https://blog.test/tag/%e8%8a%af%e7%89%87", "https://blog.test/tag/%E8%8A%AF%E7%89%87"),
    ("https://blog.test/tag/芯片", "https://blog.test/tag/%E8%8A%AF%E7%89%87"),
    ("https://blog.test/p?id=9&s_cid=nl", "https://blog.test/p?id=9"),
    ("https://blog.test/p?clickid=zz&id=9", "https://blog.test/p?id=9"),
    ("https://blog.test/p?id=9&fb_ref=Default", "https://blog.test/p?id=9"),
    ("https://blog.test/p?aftr_source=mail&id=9", "https://blog.test/p?id=9"),
    ("https://blog.test/p?id=9&mtm_campaign=spring&pk_kwd=x", "https://blog.test/p?id=9"),
    ("http://中文.test/文章/1", "https://xn--fiq228c.test/%E6%96%87%E7%AB%A0/1"),
])
def test_canonical_form(url, expected):
    assert canonical_url(url) == expected


def test_latin1_escapes_stay_distinct_from_utf8_ones():
    """Two different byte strings in a path are two pages: neither turns into U+FFFD."""
    latin1, utf8 = canonical_url("https://shop.test/caf%E9"), canonical_url("https://shop.test/caf%C3%A9")
    assert latin1 != utf8
    assert "%EF%BF%BD" not in latin1 and latin1.endswith("caf%E9")
    assert canonical_url("https://shop.test/?q=caf%e9") != canonical_url("https://shop.test/?q=caf%c3%a9")


def test_escape_case_and_unreserved_escapes_are_one_page():
    assert canonical_url("https://a.test/%c3%a9?q=%c3%a9") == canonical_url("https://a.test/%C3%A9?q=%C3%A9")
    assert canonical_url("https://a.test/%7Eme") == canonical_url("https://a.test/~me")


def test_values_keep_their_bytes_and_order_does_not_matter():
    assert canonical_url("https://a.test/s?q=a%2Fb&p=2") == "https://a.test/s?p=2&q=a%2Fb"
    assert canonical_url("https://a.test/s?p=2&q=a%2Fb") == canonical_url("https://a.test/s?q=a%2Fb&p=2")


@pytest.mark.parametrize("url", ["http://[::1", "http://a.test:99999/", "http://", "https:///path", "mailto:a@b.test",
                                 "http://[zz::1]/"])
def test_broken_urls_are_a_value_error(url):
    with pytest.raises(ValueError):
        canonical_url(url)


def test_strip_tracking_uses_the_same_names():
    assert strip_tracking("https://a.test/p?id=1&s_cid=x&aftr_source=y") == "https://a.test/p?id=1"


def _archive_at_schema_6(path):
    old = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    for migration in storage.MIGRATIONS[:6]:
        with storage.immediate(old):
            migration(old)
    old.execute("PRAGMA user_version = 6")
    return old


def _article(db, key: str, fetched_at: str, title: str) -> int:
    return db.execute(
        "INSERT INTO articles (canonical_url, url, title, published, published_from, text, summary, fetched_at)"
        " VALUES (?, ?, ?, '2022-10-13T01:00:00+00:00', 'page', ?, '', ?)",
        [key, key, title, f"{title}。正文。", fetched_at]).lastrowid


def test_migration_recomputes_keys_and_merges_rows_that_now_collide(db_path):
    """Stored under keys of the old form, one page twice (a tracking name the old rule kept,
    and the page's plain key); after the migration one row, the older, with its issue item
    and its story; the frontier and refetch requests keyed the same way; nothing else lost."""
    old = _archive_at_schema_6(db_path)
    first = _article(old, "https://news.test/a/1?s_cid=letter", "2022-10-13T02:00:00+00:00", "较早的一篇")
    second = _article(old, "https://news.test/a/1", "2022-10-14T02:00:00+00:00", "较晚的一篇")
    other = _article(old, "https://news.test/%7Eed/2", "2022-10-14T03:00:00+00:00", "另一篇")
    old.execute("UPDATE articles SET cluster_id = ? WHERE id IN (?, ?)", [first, first, second])
    old.execute("UPDATE articles SET cluster_id = ? WHERE id = ?", [second, other])  # joined the later copy's story
    old.execute("INSERT INTO issues (id, date, title, headline, section, status, created_at, updated_at)"
                " VALUES (1, '2022-10-14', 't', 'h', 's', 'draft', 'x', 'x')")
    old.execute("INSERT INTO issue_items (issue_id, position, article_id, url, canonical_url, title, summary)"
                " VALUES (1, 1, ?, 'https://news.test/a/1', 'https://news.test/a/1', 't', 's')", [second])
    for key, state, when in [("https://news.test/a/1?s_cid=letter", "stored", "2022-10-13"),
                             ("https://news.test/a/1", "pending", "2022-10-12"),
                             ("https://news.test/%7Eed/2", "stored", "2022-10-14")]:
        old.execute("INSERT INTO frontier (canonical_url, url, state, discovered_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)", [key, key, state, when, when])
    old.execute("INSERT INTO refetch_requests VALUES ('https://news.test/a/1?s_cid=letter', '2022-10-15')")
    old.close()

    database = storage.connect(db_path)
    assert storage.schema_version(database) == len(storage.MIGRATIONS)
    articles = database.execute("SELECT id, canonical_url, title, cluster_id FROM articles ORDER BY id").fetchall()
    assert articles == [(first, "https://news.test/a/1", "较早的一篇", first),
                        (other, "https://news.test/~ed/2", "另一篇", first)]
    assert database.execute("SELECT article_id, canonical_url FROM issue_items").fetchall() == \
        [(first, "https://news.test/a/1")]
    assert database.execute("SELECT canonical_url, state FROM frontier ORDER BY 1").fetchall() == \
        [("https://news.test/a/1", "stored"), ("https://news.test/~ed/2", "stored")]
    assert database.execute("SELECT canonical_url FROM refetch_requests").fetchall() == [("https://news.test/a/1",)]
    assert database.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')").rowcount == 1
    # Every stored key is its own canonical form: the next crawl looks up what it computes.
    for table in ("articles", "frontier", "refetch_requests", "issue_items"):
        for (key,) in database.execute(f"SELECT canonical_url FROM {table}"):
            assert canonical_url(key) == key
