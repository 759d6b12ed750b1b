"""The ``arxiv`` spider: the newest papers of some arXiv categories, through the arXiv API.

    scrapy crawl arxiv                           # every enabled arxiv source
    scrapy crawl arxiv -a source=arxiv-edge-ai

One API request per source (``options.categories``, optional ``options.query``), at
most one request every three seconds to the API's host, as its terms ask. Each paper in
the window (submitted or updated in the last ``days``, default 7) becomes a paper
article straight from the answer; a paper already met under another category of this
crawl is counted as cross-listed and not stored twice.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.arxiv import (
    API_INTERVAL,
    DEFAULT_DAYS,
    DEFAULT_MAX_RESULTS,
    hints,
    in_window,
    paper_article,
    query_url,
    read_answer,
)
from crawler.middlewares import HostPacing
from crawler.spiders.discovering import DiscoverySpider
from pipelines.archive import clock

logger = logging.getLogger(__name__)


class ArxivSpider(DiscoverySpider):
    name = "arxiv"
    kind = "arxiv"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.papers: set[str] = set()  # ids met in this crawl, across its sources

    def discovery_requests(self, source: Source):
        host = urlsplit(source.url).hostname or ""
        # The API's pace, for this crawl's requests to its host (robots.txt included).
        HostPacing.for_crawler(self.crawler).set_crawl_delay(host, API_INTERVAL)
        url = query_url(source.url, source.option("categories"), source.option("query"),
                        source.max_entries or DEFAULT_MAX_RESULTS)
        yield self.discovery_request(source, url, self.parse_answer)

    def parse_answer(self, response):
        source = self.source_of(response)
        try:
            entries = read_answer(response.body)
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        self.source_ok(source.id, len(entries))
        since = clock.now() - timedelta(days=source.option("days", DEFAULT_DAYS))
        papers = []
        for entry in entries:
            if not in_window(entry, since):
                self.count("arxiv/older")
                continue
            if entry.arxiv_id in self.papers:
                self.count("arxiv/cross_listed")
                continue
            self.papers.add(entry.arxiv_id)
            papers.append((entry.abs_url, source.id, paper_article(entry), hints(entry)))
        yield from self.direct_items(papers)
