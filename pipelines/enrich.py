"""Enrichment: what the archive adds to an extracted article before storing it (the summary).

The summary is made by the configured :class:`pipelines.summary.Summarizer`
(``editorial.summarizer``, default ``textrank``) at about ``issue.summary_chars``
characters. Texts are stored in the script they were fetched in; the output script is
applied when an issue is exported (:mod:`pipelines.script`).
"""
from __future__ import annotations

import logging

from pipelines.summary import Summarizer, summarizer_for

logger = logging.getLogger(__name__)


def summarize(summarizer: Summarizer, title: str | None, text: str, limit: int) -> str:
    return summarizer.summarize(title, text, limit)


def summarize_or_lead(name: str, title: str | None, text: str, limit: int, url: str | None = None) -> str:
    """The configured summary, or the lead when that summarizer fails on this page."""
    try:
        return summarize(summarizer_for(name), title, text, limit)
    except Exception as exc:  # a summarizer that fails on one page must not lose the article
        logger.warning("summary failed on %s: %s: %s; using the lead", url, type(exc).__name__, exc)
        return summarizer_for("lead").summarize(title, text, limit)


class EnrichPipeline:
    def __init__(self, crawler) -> None:
        from crawler.config import config_for_crawler

        config = config_for_crawler(crawler)
        self.summary_chars = config.issue.summary_chars
        self.summarizer = summarizer_for(config.editorial.summarizer)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if item.summary is not None:  # made in an extraction worker
            return item
        article = item.article
        try:
            item.summary = summarize(self.summarizer, article.title, article.text, self.summary_chars)
        except Exception as exc:  # a summarizer that fails on one page must not lose the article
            logger.warning("summary failed on %s: %s: %s; using the lead", item.final_url, type(exc).__name__, exc)
            self.stats.inc_value("aibrief/summary_failed")
            item.summary = summarizer_for("lead").summarize(article.title, article.text, self.summary_chars)
        return item
