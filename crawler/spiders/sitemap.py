"""The ``sitemap`` spider: sites read through their sitemaps.

    scrapy crawl sitemap                        # every enabled sitemap source
    scrapy crawl sitemap -a source=ithome-news  # one source (or several: a,b)

A source's URL is a sitemap, a sitemap index, a gzipped sitemap, a Google News sitemap,
or the site's robots.txt (its ``Sitemap:`` lines). Only entries in the crawl's window
are followed: newer than the source's last success, never more than ``days`` back
(default 2); a Google News entry's title and publication date travel as hints.
"""
from __future__ import annotations

import logging
import re

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.sitemaps import (
    DEFAULT_DAYS,
    DEFAULT_MAX_ENTRIES,
    MAX_SITEMAP_BYTES,
    read_sitemap,
    select_entries,
)
from crawler.spiders.discovering import DiscoverySpider
from pipelines.archive import clock

logger = logging.getLogger(__name__)

DEFAULT_MAX_SITEMAPS = 20  # sitemaps read from one index or robots.txt, newest first
# robots.txt -> index -> index -> sitemap is as deep as real sites go.
MAX_DEPTH = 3


class SitemapSpider(DiscoverySpider):
    name = "sitemap"
    kind = "sitemap"

    def discovery_requests(self, source: Source):
        # The source's own document is always read whole: an index whose children change
        # while it stays the same would answer 304 and hide every new page.
        yield self.sitemap_request(source, source.url, depth=0)

    def sitemap_request(self, source: Source, url: str, depth: int):
        headers = self.validators(url) if depth else {}
        return self.discovery_request(source, url, self.parse_sitemap, headers=headers, depth=depth,
                                      download_maxsize=MAX_SITEMAP_BYTES, handle_httpstatus_list=[304])

    def parse_sitemap(self, response):
        source = self.source_of(response)
        depth = response.meta["depth"]
        if self.unchanged(response, source):
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            sitemap = read_sitemap(response.body, response.url, content_type, self.tz(source), clock.now())
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        if depth:
            self.remember_validators(response)
        if sitemap.rejected:
            self.tally("skipped/bad_url", sitemap.rejected)
        since = self.window_start(source, source.option("days", DEFAULT_DAYS))
        if sitemap.lists_sitemaps:
            yield from self.follow_sitemaps(source, response.url, sitemap, since, depth)
            return
        pattern = re.compile(source.option("url_pattern")) if source.option("url_pattern") else None
        pages, older, unmatched = select_entries(sitemap.entries, since, pattern,
                                                 source.max_entries or DEFAULT_MAX_ENTRIES)
        self.tally("sitemap/older", older)
        self.tally("sitemap/unmatched", unmatched)
        if unmatched and not pages and not older:
            self.source_failed(source.id, response.url, f"none of the {unmatched} URLs matches url_pattern "
                                                        f"{source.option('url_pattern')!r}")
            return
        self.count("sitemap/news" if sitemap.news else "sitemap/plain")
        self.source_ok(source.id, len(pages))
        yield from self.page_requests([(entry.url, source.id, entry.found().hints()) for entry in pages],
                                      base=response.url)

    def follow_sitemaps(self, source: Source, url: str, sitemap, since, depth: int):
        if depth >= MAX_DEPTH:
            self.source_failed(source.id, url, f"sitemap indexes nested more than {MAX_DEPTH} deep")
            return
        pattern = re.compile(source.option("sitemap_pattern")) if source.option("sitemap_pattern") else None
        # An index dates its sitemaps by their last change: older ones hold nothing new.
        # Undated ones are taken last first: generators number them oldest first (WordPress
        # core's wp-sitemap-posts-post-N.xml: the newest posts are in the highest N).
        children, older, unmatched = select_entries(sitemap.entries[::-1],
                                                    since if sitemap.kind == "index" else None,
                                                    pattern, source.option("max_sitemaps", DEFAULT_MAX_SITEMAPS))
        self.tally("sitemap/sitemaps_older", older)
        if unmatched and not children and not older:
            self.source_failed(source.id, url, f"none of the {unmatched} sitemaps matches sitemap_pattern "
                                               f"{source.option('sitemap_pattern')!r}")
            return
        self.source_ok(source.id, 0)
        for child in children:
            yield self.sitemap_request(source, child.url, depth + 1)
