"""The store stage: each analysed page becomes an article in the archive
(:func:`pipelines.archive.articles.put_article`), in one transaction with its frontier row
and its story cluster; articles are written in batches (:class:`pipelines.archive.batch.BatchWriter`),
a batch when it is full, every ``crawl.store_flush`` seconds and when the crawl closes.

The crawl process holds one writer connection (:class:`Archive`), shared by the spiders
(the frontier), the stages that read the archive (the canonical stage's "stored already?")
and this one. Components find the crawl's configuration in the ``AIBRIEF_SETTINGS``
setting, which the spiders set from the configuration file before the settings freeze.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import ArticleRecord, refetch_requested, stored_canonical_urls
from pipelines.archive.batch import BatchWriter, Stored
from pipelines.archive.db import connect
from pipelines.archive.discussions import Discussion, record_discussions

logger = logging.getLogger(__name__)


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

    def __init__(self, path: Path, max_attempts: int, max_size_mb: float | None = None, *,
                 batch: int = 1, flush_every: float = 0.0) -> None:
        self.db = connect(path, max_size_mb=max_size_mb)
        self.db.execute(f"PRAGMA wal_autocheckpoint = {CRAWL_WAL_PAGES}")
        self.db.execute(f"PRAGMA journal_size_limit = {CRAWL_WAL_LIMIT}")
        self.max_attempts = max_attempts
        # Articles and final frontier states, written in batches (the store stage flushes it).
        self.writer = BatchWriter(self.db, batch, flush_every)

    @classmethod
    def for_crawler(cls, crawler) -> Archive:
        archive = getattr(crawler, "_aibrief_archive", None)
        if archive is None:
            config = crawl_config(crawler)
            archive = cls(config.database, config.crawl.max_attempts, config.max_size_mb,
                          batch=config.crawl.store_batch, flush_every=config.crawl.store_flush)
            crawler._aibrief_archive = archive
        return archive

    def has_article(self, canonical_url: str) -> bool:
        """Stored, and no re-fetch of it asked for (``aibrief refetch``)."""
        return bool(stored_canonical_urls(self.db, [canonical_url])) and not refetch_requested(self.db, canonical_url)

    def settle(self, key: str | None, state: str, reason: str | None = None) -> None:
        """Put a frontier row in a new state (fetched, stored, skipped) with the next batch
        of articles: lost in a kill before it, the row stays due and the URL is fetched
        again, as it would have been."""
        if key:
            self.writer.mark(key, state, reason)

    def record_discussions(self, found: list[Discussion]) -> None:
        """Threads that discuss a page (Hacker News), kept and linked at once."""
        record_discussions(self.db, found)

    def fail(self, key: str | None, reason: str) -> None:
        """Count a failed attempt at a URL, with the next batch: after its "fetched" mark,
        which is queued too."""
        if key:
            self.writer.fail(key, reason, self.max_attempts)


def crawl_config(crawler):
    """The configuration this crawl runs with (a :class:`schedules.settings.Config`), as the
    spider put it in the ``AIBRIEF_SETTINGS`` setting."""
    config = crawler.settings.get("AIBRIEF_SETTINGS")
    if config is None:
        raise RuntimeError("AIBRIEF_SETTINGS is not set: aibrief's pipelines run under aibrief's spiders")
    return config


def adopt_declared_address(item):
    """The page named its own address (WeChat's __biz/mid/idx/sn form, rel=canonical): that
    is its identity, however the link to it was written. (The store stage and a cluster
    worker's result stage both apply it before making the record.)"""
    declared = item.article.canonical_url
    if declared:
        try:
            item.canonical_url = canonical_url(declared)
        except ValueError:
            pass
    return item


def article_record(item) -> ArticleRecord:
    """The record for a page that went through the analyse stage.

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
        relevance=item.classification.score,
        topics=item.classification.topics,
        fingerprint=item.fingerprint,
    )


class StorePipeline:
    """Writes each new article to the archive, in batches, and counts what happened.

    A page goes on as soon as its article is queued; what became of it is counted and
    logged when its batch is written (stats ``aibrief/stored``, ``aibrief/updated``,
    ``aibrief/dropped/known``, ``aibrief/store/failed``, ``aibrief/store/batches``).
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)
        self.writer = self.archive.writer
        self.stopping = False
        self.ticker: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        # Every half interval: a batch waits at most about one and a half times it.
        self.ticker = task.LoopingCall(self._write, self.writer.flush_if_due)
        self.ticker.start(max(self.writer.interval / 2, 0.05), now=False)

    def close_spider(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        self._write(self.writer.close)

    def process_item(self, item):
        if self.stopping:
            raise DropItem(f"not stored, archive full: {item.final_url}", log_level="DEBUG")
        record = article_record(adopt_declared_address(item))
        done = tuple(k for k in (item.frontier_key,) if k)
        self._write(lambda: self.writer.add(record, done, item.source_id))
        return item

    def _write(self, step) -> None:
        """Run a step of the writer and count what its batch stored (and the CPU it took:
        ``aibrief/store/cpu_ms``, which ``aibrief bench`` reports)."""
        before, started = self.writer.batches, time.process_time()
        try:
            results = step()
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc):
                raise
            # Disk (or the configured size cap) full: stop the crawl cleanly; what is stored
            # stays, the batch's pages stay pending, and the run is marked failed.
            self.stats.inc_value("aibrief/disk_full")
            if not self.stopping:
                self.stopping = True
                logger.error("the archive is full (%s): stopping the crawl", exc)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))
            return
        if self.writer.batches > before:
            self.stats.inc_value("aibrief/store/batches")
            self.stats.inc_value("aibrief/store/cpu_ms", 1000 * (time.process_time() - started))
        for stored in results:
            self._count(stored)

    def _count(self, stored: Stored) -> None:
        record, source_id = stored.record, stored.context
        if stored.error is not None:
            self.stats.inc_value("aibrief/store/failed")
        elif stored.article_id is None:
            self.stats.inc_value("aibrief/dropped/known")
            logger.debug("already stored: %s", record.canonical_url)
        elif stored.updated:
            self.stats.inc_value("aibrief/updated")
            logger.info("updated %s (%s), fetched again on request", record.url, record.title)
        else:
            self.stats.inc_value("aibrief/stored")
            if source_id:
                self.stats.inc_value(f"aibrief/source/{source_id}/stored")
            logger.info("stored %s (%s, date from %s)", record.url, record.title, record.published_from)
