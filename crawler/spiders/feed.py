"""The ``feed`` spider: RSS and Atom feeds (direct, or through an RSSHub bridge route).

    scrapy crawl feed                    # every enabled feed source
    scrapy crawl feed -a source=36kr     # one source (or several: a,b)

Each entry's link becomes a page request; the entry's title, date and author travel with
it as hints. A feed that yields no link to follow (an HTML error page, an empty or broken
body) is a failure of its source, never a quiet "no news".
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import DiscoveryError, Found
from crawler.discovery.feeds import parse_feed
from crawler.spiders.discovering import DiscoverySpider
from pipelines.archive import clock

logger = logging.getLogger(__name__)


class FeedSpider(DiscoverySpider):
    name = "feed"
    kind = "feed"
    wechat_links = False  # prefer the mp.weixin.qq.com address an entry gives (the wechat spider)

    def discovery_requests(self, source: Source):
        # Feeds are always fetched again, but conditionally: an unchanged feed is a 304.
        yield self.conditional_request(source, source.feed_url(self.config.crawl.rsshub), self.parse_feed)

    def parse_feed(self, response):
        source = self.source_of(response)
        if self.unchanged(response, source):
            return
        self.remember_validators(response)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            feed = parse_feed(response.body, response.url, content_type, self.tz(source), clock.now(),
                              wechat=self.wechat_links)
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        if feed.malformed:
            self.count(f"{self.kind}/recovered")
            logger.info("source %s: feed %s is malformed, %d entries recovered: %s", source.id,
                        response.url, len(feed.found), feed.malformed)
        self.tally("skipped/no_link", feed.unlinked)
        if feed.refused:
            self.count("skipped/bad_url", len(feed.refused))
            logger.info("not fetched, not http(s) URLs: %s (source %s)",
                        ", ".join(map(repr, feed.refused)), source.id)
        found = feed.found[: source.max_entries] if source.max_entries else feed.found
        self.source_ok(source.id, len(found))
        for entry in found:
            self.entry_found(source, entry)
        yield from self.page_requests([(entry.url, source.id, entry.hints()) for entry in found], base=response.url)

    def entry_found(self, source: Source, entry: Found) -> None:
        """Look at an entry before it is followed (the wechat spider counts those that lead off WeChat)."""
