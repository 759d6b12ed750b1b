"""Enrichment: what the archive adds to an extracted article before storing it (the summary)."""
from __future__ import annotations

from pipelines.summary import lead_summary


class EnrichPipeline:
    def __init__(self, crawler) -> None:
        from crawler.config import config_for_crawler

        self.summary_chars = config_for_crawler(crawler).issue.summary_chars

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        article = item.article
        item.summary = lead_summary(article.text, self.summary_chars, article.title)
        return item
