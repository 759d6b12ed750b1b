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


def summarize_or_lead(summarizer: Summarizer, title: str | None, text: str, limit: int,
                      url: str | None = None) -> tuple[str, bool]:
    """The summary, or the lead when the summarizer fails on this page (a summarizer that
    fails on one page must not lose the article); and whether it failed."""
    try:
        return summarizer.summarize(title, text, limit), False
    except Exception as exc:
        logger.warning("summary failed on %s: %s: %s; using the lead", url, type(exc).__name__, exc)
        return summarizer_for("lead").summarize(title, text, limit), True


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
        item.summary, failed = summarize_or_lead(self.summarizer, article.title, article.text, self.summary_chars,
                                                 item.final_url)
        if failed:
            self.stats.inc_value("aibrief/summary_failed")
        return item
