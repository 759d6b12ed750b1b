"""The canonical stage: each page gets its canonical URL (:mod:`pipelines.analysis.urls`),
and a page whose article is stored already goes no further."""
from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from pipelines.analysis.urls import canonical_url
from pipelines.store import Archive

logger = logging.getLogger(__name__)


class CanonicalPipeline:
    """Gives each page its canonical URL and drops pages whose article is stored already."""

    def __init__(self, crawler) -> None:
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        try:
            item.canonical_url = canonical_url(item.final_url)
        except ValueError:
            self.stats.inc_value("aibrief/dropped/bad_url")
            raise DropItem(f"not an http(s) URL: {item.final_url}", log_level="INFO")
        if self.archive.has_article(item.canonical_url):
            # A redirect or another address of an article we have: the asked-for URL is done.
            self.archive.settle(item.frontier_key, "stored")
            self.stats.inc_value("aibrief/dropped/known")
            raise DropItem(f"already stored: {item.canonical_url}", log_level="DEBUG")
        return item
