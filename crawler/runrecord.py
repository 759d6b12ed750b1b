"""Records each crawl process's counts in its crawl run row.

Counts are the crawl's ``aibrief/...`` stats, without the prefix, written through the
crawl's one archive connection. Under the ``aibrief``
command the run row exists already (``AIBRIEF_RUN_ID``) and the command closes it; a
``scrapy crawl`` run by hand opens and closes a row of its own.
"""
from __future__ import annotations

import logging
import sqlite3

from scrapy import signals

from pipelines.archive import runs
from pipelines.archive.articles import sync_sources
from pipelines.archive.health import update_health
from pipelines.store import Archive, crawl_config

logger = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = crawler.settings.getint("AIBRIEF_RUN_ID") or None
        self.owns_run = self.run_id is None
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider) -> None:
        config = crawl_config(self.crawler)
        self.db = Archive.for_crawler(self.crawler).db
        sync_sources(self.db, config.source_rows())
        if self.owns_run:
            self.run_id = runs.start_run(self.db, f"scrapy crawl {spider.name}", [])
        logger.info("crawl run %d recording into %s", self.run_id, config.database)

    def spider_closed(self, spider, reason: str) -> None:
        if self.db is None or self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        counts = {key.removeprefix("aibrief/"): int(value) for key, value in stats.items()
                  if key.startswith("aibrief/") and isinstance(value, (int, float))}
        counts["requests"] = int(stats.get("downloader/request_count", 0))
        counts["responses"] = int(stats.get("downloader/response_count", 0))
        counts["retries"] = int(stats.get("retry/count", 0))
        counts["elapsed_ms"] = int(1000 * (stats.get("elapsed_time_seconds") or 0))
        sources = list(getattr(spider, "source_ids", []))
        try:
            runs.add_counts(self.db, self.run_id, counts)
            update_health(self.db, sources, stats)
            if self.owns_run:
                status = runs.run_status(counts, sources, clean_exit=reason == "finished")
                runs.finish_run(self.db, self.run_id, status, None if reason == "finished" else reason,
                                sources=sources)
        except sqlite3.OperationalError as exc:
            # The disk filled up: the crawl stopped for it; the run stays as it was last written.
            logger.error("could not record crawl run %d: %s", self.run_id, exc)
        finally:
            # The last user of the crawl's archive connection (pipelines close before this signal).
            self.db.close()
