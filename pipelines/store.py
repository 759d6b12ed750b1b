"""Storing articles: one row per canonical URL, with its cited links, in one transaction.

The crawl process holds one writer connection (:class:`Archive`), shared by the stages
that read the archive (the canonical stage's "stored already?") and this one.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from pipelines.canonical import canonical_url
from pipelines import frontier
from pipelines.db import connect, immediate, iso, utcnow
from pipelines.links import Link

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ArticleRecord:
    """An article as the archive keeps it."""

    canonical_url: str
    url: str
    source_id: str | None
    text: str
    summary: str
    published: datetime
    published_from: str  # adapter | page | feed | fetched: where the date came from
    fetched_at: datetime
    first_url: str | None = None
    title: str | None = None
    author: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    links: list[Link] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    site: str | None = None
    # Editorial (pipelines.classify, pipelines.dedupe); computed here when not given.
    relevance: float | None = None
    topics: list[str] | None = None
    fingerprint: Any = None  # pipelines.dedupe.Fingerprint
    # Stored unclassified, to be classified and clustered later (pipelines.compose.classify_stored).
    defer_editorial: bool = False


def store_article(db: sqlite_utils.Database, record: ArticleRecord, done: tuple[str, ...] = ()) -> int | None:
    """Insert the article; None if its canonical URL is stored already (nothing changes),
    unless a re-fetch of it was asked for (``aibrief refetch``): then its row is updated
    in place (same id, same story cluster, the issues citing it unchanged).

    The article is classified and put in its story's cluster (:mod:`pipelines.dedupe`) in
    the same transaction. ``done``: frontier rows (URLs that led to this article) marked
    stored in the same transaction, so that a crash never leaves an article stored and
    its URL pending, or the other way round.
    """
    from pipelines import dedupe

    if not record.defer_editorial:
        _editorial_fields(record)
    with immediate(db):
        for key in done:
            frontier.mark(db, key, "stored")
        row = db.execute("SELECT id, text, minhash FROM articles WHERE canonical_url = ?",
                         [record.canonical_url]).fetchone()
        if row is not None:
            if not refetch_requested(db, record.canonical_url):
                return None
            _editorial_fields(record)  # an explicit re-fetch: classified now, whatever the crawl deferred
            _update_article(db, row[0], record, dedupe.indexed_band_keys(row[2], row[1]))
            return row[0]
        cursor = db.execute(
            "INSERT INTO articles (canonical_url, url, first_url, source_id, title, author, authors,"
            " published, published_from, language, text, summary, fetched_at, images, site, relevance, topics)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record.canonical_url, record.url, record.first_url, record.source_id, record.title,
             record.author, json.dumps(record.authors, ensure_ascii=False), iso(record.published),
             record.published_from, record.language, record.text, record.summary,
             iso(record.fetched_at), json.dumps(record.images), record.site, record.relevance,
             json.dumps(record.topics, ensure_ascii=False)])
        article_id = cursor.lastrowid
        if record.fingerprint is not None:
            dedupe.assign_cluster(db, article_id, record.fingerprint, record.title, record.text)
        _insert_links(db, article_id, record.links)
        now = iso(utcnow())
        db.execute("INSERT INTO frontier (canonical_url, url, source_id, state, attempts, discovered_at, updated_at)"
                   " VALUES (?, ?, ?, 'stored', 1, ?, ?) ON CONFLICT (canonical_url) DO UPDATE SET state = 'stored'",
                   [record.canonical_url, record.url, record.source_id, now, now])
        # An issue imported or built before this page was fetched cites it by URL.
        db.execute("UPDATE issue_items SET article_id = ? WHERE canonical_url = ? AND article_id IS NULL",
                   [article_id, record.canonical_url])
    return article_id


def _insert_links(db: sqlite_utils.Database, article_id: int, links: list[Link]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO article_links (article_id, url, role, label) VALUES (?, ?, ?, ?)",
                        [(article_id, link.url, link.role, link.label or None) for link in links])


def _editorial_fields(record: ArticleRecord) -> None:
    """Relevance, topics and fingerprint, where the pipeline stages did not give them."""
    from pipelines import dedupe
    from pipelines.classify import classify

    if record.relevance is None or record.topics is None:
        result = classify(record.title or "", record.text)
        record.relevance, record.topics = result.score, result.topics
    if record.fingerprint is None:
        record.fingerprint = dedupe.fingerprint(record.title, record.text)


def _update_article(db: sqlite_utils.Database, article_id: int, record: ArticleRecord,
                    old_band_keys: tuple[int, ...]) -> None:
    """A re-fetched article: its row says what the page says now. The publication date
    moves only when the page states one; the source it was filed under stays."""
    from pipelines import dedupe

    dated = record.published_from in ("adapter", "page")
    db.execute(
        "UPDATE articles SET url = ?, source_id = coalesce(source_id, ?), title = ?, author = ?, authors = ?,"
        " published = CASE WHEN ? THEN ? ELSE published END,"
        " published_from = CASE WHEN ? THEN ? ELSE published_from END,"
        " language = ?, text = ?, summary = ?, fetched_at = ?, images = ?, site = ?, relevance = ?, topics = ?"
        " WHERE id = ?",
        [record.url, record.source_id, record.title, record.author, json.dumps(record.authors, ensure_ascii=False),
         dated, iso(record.published), dated, record.published_from, record.language, record.text,
         record.summary, iso(record.fetched_at), json.dumps(record.images), record.site, record.relevance,
         json.dumps(record.topics, ensure_ascii=False), article_id])
    db.execute("DELETE FROM article_links WHERE article_id = ?", [article_id])
    _insert_links(db, article_id, record.links)
    dedupe.reindex(db, article_id, old_band_keys, record.fingerprint)
    db.execute("DELETE FROM refetch_requests WHERE canonical_url = ?", [record.canonical_url])


def refetch_requested(db: sqlite_utils.Database, canonical_url: str) -> bool:
    return db.execute("SELECT 1 FROM refetch_requests WHERE canonical_url = ?", [canonical_url]).fetchone() is not None


def request_refetch(db: sqlite_utils.Database, canonical_url: str, url: str) -> None:
    """Ask for a stored article to be fetched again and its row updated: the frontier
    holds the URL as pending (so the next crawl, or ``scrapy crawl urls``, fetches it)
    and the request lets the stored article through the canonical stage once."""
    now = iso(utcnow())
    with immediate(db):
        db.execute("INSERT INTO refetch_requests (canonical_url, requested_at) VALUES (?, ?)"
                   " ON CONFLICT (canonical_url) DO UPDATE SET requested_at = excluded.requested_at",
                   [canonical_url, now])
        db.execute("INSERT INTO frontier (canonical_url, url, source_id, state, attempts, discovered_at, updated_at)"
                   " VALUES (?, ?, NULL, 'pending', 0, ?, ?) ON CONFLICT (canonical_url) DO UPDATE SET"
                   " state = 'pending', attempts = 0, next_attempt = NULL, last_error = NULL, updated_at = ?",
                   [canonical_url, url, now, now, now])


def sync_sources(db: sqlite_utils.Database, config) -> None:
    """Make the sources table say what the configuration says (sources are never deleted:
    articles keep naming the source they came from)."""
    now = iso(utcnow())
    with immediate(db):
        for source in config.sources:
            db.execute(
                "INSERT INTO sources (id, kind, name, url, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
                " url = excluded.url, enabled = excluded.enabled, updated_at = excluded.updated_at",
                [source.id, source.kind, source.name, source.feed_url(config.crawl.rsshub) or source.route,
                 int(source.enabled), now])


def stored_canonical_urls(db: sqlite_utils.Database, urls: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(row[0] for row in db.execute(
            f"SELECT canonical_url FROM articles WHERE canonical_url IN ({marks})", chunk))
    return found


# The crawl commits one article at a time, and SQLite copies the write-ahead log back into
# the database (syncing both files) whenever the log reaches 1,000 pages: every dozen or so
# articles, with the reactor waiting on the disk meanwhile. In a loop storing 2,000 fixture
# articles (strace) that made 314 syncs, and storing took 3.4-3.9 ms of wall time an
# article against 2.5-2.8 ms of CPU. At 8,000 pages (32 MB) the same articles take 47
# syncs and 3.0-3.2 ms, and a page rewritten in between is copied back once. After a
# checkpoint the log file is cut back to CRAWL_WAL_LIMIT.
CRAWL_WAL_PAGES = 8000
CRAWL_WAL_LIMIT = 64 * 2**20


class Archive:
    """The crawl process's one connection to the archive."""

    def __init__(self, path: Path, max_attempts: int = 5, max_size_mb: float | None = None) -> None:
        self.db = connect(path, max_size_mb=max_size_mb)
        self.db.execute(f"PRAGMA wal_autocheckpoint = {CRAWL_WAL_PAGES}")
        self.db.execute(f"PRAGMA journal_size_limit = {CRAWL_WAL_LIMIT}")
        self.max_attempts = max_attempts

    @classmethod
    def for_crawler(cls, crawler) -> Archive:
        archive = getattr(crawler, "_aibrief_archive", None)
        if archive is None:
            from crawler.config import config_for_crawler

            config = config_for_crawler(crawler)
            archive = cls(config.database, config.crawl.max_attempts, config.max_size_mb)
            crawler._aibrief_archive = archive
        return archive

    def has_article(self, canonical_url: str) -> bool:
        """Stored, and no re-fetch of it asked for (``aibrief refetch``)."""
        return bool(stored_canonical_urls(self.db, [canonical_url])) and not refetch_requested(self.db, canonical_url)

    def settle(self, key: str | None, state: str, reason: str | None = None) -> None:
        """Put a frontier row in its final state (stored, skipped)."""
        if key:
            with immediate(self.db):
                frontier.mark(self.db, key, state, reason)

    def fail(self, key: str | None, reason: str) -> None:
        if key:
            frontier.mark_failed(self.db, key, reason, self.max_attempts)


def article_record(item) -> ArticleRecord:
    """The record for a page that went through the extract and enrich stages.

    The date is the page's own when it gives one, else the feed's, else the fetch time,
    and the record says which.
    """
    article = item.article
    if article.published is not None:
        published, origin = article.published, article.published_from or "page"
    elif item.hints.get("published") is not None:
        published, origin = item.hints["published"], "feed"
    else:
        published, origin = item.fetched_at, "fetched"
    return ArticleRecord(
        canonical_url=item.canonical_url,
        url=item.final_url,
        first_url=item.url if item.url != item.final_url else None,
        source_id=item.source_id,
        title=article.title or item.hints.get("title"),
        author=article.author or item.hints.get("author"),
        authors=article.authors or ([item.hints["author"]] if item.hints.get("author") else []),
        published=published,
        published_from=origin,
        language=article.language,
        text=article.text,
        summary=item.summary or "",
        fetched_at=item.fetched_at,
        links=article.links,
        images=article.images,
        site=article.site,
        relevance=item.classification.score if item.classification is not None else None,
        topics=item.classification.topics if item.classification is not None else None,
        fingerprint=item.fingerprint,
        defer_editorial=item.classification is None,
    )


class StorePipeline:
    """Writes each new article to the archive and counts what happened."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        try:
            return self._store(item)
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc):
                raise
            # Disk (or the configured size cap) full: stop the crawl cleanly; what is stored
            # stays, this page stays pending, and the run is marked failed.
            self.stats.inc_value("aibrief/disk_full")
            if not self.stopping:
                self.stopping = True
                logger.error("the archive is full (%s): stopping the crawl", exc)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))
            raise DropItem(f"not stored, archive full: {item.final_url}", log_level="DEBUG") from None

    def _store(self, item):
        declared = item.article.canonical_url
        if declared:
            # The page named its own address (WeChat's __biz/mid/idx/sn form, rel=canonical):
            # that is its identity, however the link to it was written.
            try:
                item.canonical_url = canonical_url(declared)
            except ValueError:
                pass
        record = article_record(item)
        done = tuple(k for k in (item.frontier_key,) if k)
        refetch = refetch_requested(self.archive.db, record.canonical_url)
        article_id = store_article(self.archive.db, record, done)
        if article_id is None:
            self.stats.inc_value("aibrief/dropped/known")
            raise DropItem(f"already stored: {record.canonical_url}", log_level="DEBUG")
        if refetch:
            self.stats.inc_value("aibrief/updated")
            logger.info("updated %s (%s), fetched again on request", record.url, record.title)
            return item
        self.stats.inc_value("aibrief/stored")
        if item.source_id:
            self.stats.inc_value(f"aibrief/source/{item.source_id}/stored")
        logger.info("stored %s (%s, date from %s)", record.url, record.title, record.published_from)
        return item
