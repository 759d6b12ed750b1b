"""The analyse stage: each page's article, summary, relevance and fingerprint, from
:func:`pipelines.analysis.page.analyse_page`, run in extraction worker processes
(``AIBRIEF_EXTRACT_WORKERS``, by default one per core) or, with 0 workers, in the reactor
thread. Pages that hold no article are dropped and counted; a page that breaks extraction
is counted, recorded in the frontier as failed, and the crawl goes on.
"""
from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from pipelines.analysis.pool import ExtractionPool, InlineAnalysis, extract_workers
from pipelines.store import Archive, crawl_config

logger = logging.getLogger(__name__)


class AnalysePipeline:
    def __init__(self, crawler) -> None:
        self.stats = crawler.stats
        self.config = crawl_config(crawler)
        self.archive = Archive.for_crawler(crawler)
        workers = extract_workers(crawler.settings)
        self.runner = ExtractionPool(workers, self.config.analysis, crawler.settings.getfloat("AIBRIEF_EXTRACT_TIMEOUT")) \
            if workers > 0 else InlineAnalysis(self.config.analysis)
        self.stats.set_value("aibrief/extract_workers", workers)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        try:
            # An article read whole from a discovery answer (arXiv API, GitHub Trending)
            # skips extraction and takes the rest of the analysis.
            result = await self.runner.run(item.body, item.final_url, item.content_type,
                                           self.config.source_timezone(item.source_id), item.fetched_at,
                                           item.hints.get("title"), item.article)
        except Exception as exc:  # noqa: BLE001 (one odd page must not end the crawl: count it, name it)
            logger.warning("extraction failed on %s: %s: %s", item.final_url, type(exc).__name__, exc)
            self.stats.inc_value("aibrief/dropped/extract_error")
            self.archive.fail(item.frontier_key, f"extraction failed: {type(exc).__name__}: {exc}")
            raise DropItem(f"extraction failed: {item.final_url}", log_level="DEBUG") from None
        article = result.extraction.article
        if article is None:
            reason = result.extraction.reason
            self.stats.inc_value("aibrief/dropped/not_article")
            self.stats.inc_value(f"aibrief/not_article/{reason}")
            self.archive.settle(item.frontier_key, "skipped", f"not an article: {reason}")
            raise DropItem(f"not an article ({reason}): {item.final_url}", log_level="INFO")
        if article.site and item.article is None:
            self.stats.inc_value(f"aibrief/adapter/{article.site}")
        if result.summary_failed:
            self.stats.inc_value("aibrief/summary_failed")
        self.stats.inc_value("aibrief/relevant" if result.classification.relevant else "aibrief/not_relevant")
        if not result.fingerprint.band_keys:
            self.stats.inc_value("aibrief/dedupe/exact_only")
        item.article, item.summary = article, result.summary
        item.classification, item.fingerprint = result.classification, result.fingerprint
        item.body = b""  # the bytes are done with: let them go before storing
        return item

    def close_spider(self) -> None:
        self.stats.set_value("aibrief/extract_pool_restarts", self.runner.restarts)
        self.runner.close()
