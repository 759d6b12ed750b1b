"""The ``listing`` spider: channel, newsflash and blog-index pages read with link rules.

    scrapy crawl listing                        # every enabled listing source
    scrapy crawl listing -a source=36kr-newsflashes

Each source's ``options`` give its link rules (:mod:`crawler.discovery.listings`): where
the entries, their links, titles and dates are, a next-page link and how many pages to
read. Paging stops early at a page whose links are all known: what follows is older.
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.listings import ListingRules, read_listing
from crawler.spiders.discovering import DiscoverySpider
from pipelines.archive import clock

logger = logging.getLogger(__name__)


class ListingSpider(DiscoverySpider):
    name = "listing"
    kind = "listing"

    def discovery_requests(self, source: Source):
        # The first page conditionally: an unchanged listing answers 304.
        yield self.conditional_request(source, source.url, self.parse_listing, page=1)

    def parse_listing(self, response):
        source = self.source_of(response)
        page = response.meta["page"]
        if self.unchanged(response, source):
            return
        if page == 1:
            self.remember_validators(response)
        rules = ListingRules.from_options(source.options)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            listing = read_listing(response.body, response.url, content_type, rules, self.tz(source), clock.now())
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        found = listing.found[: source.max_entries] if source.max_entries else listing.found
        self.tally("listing/filtered", listing.filtered)
        self.source_ok(source.id, len(found))
        requests = self.page_requests([(entry.url, source.id, entry.hints()) for entry in found], base=response.url)
        new = len(requests)
        yield from requests
        if listing.next_page and page < rules.max_pages:
            if not new:
                self.count("listing/stopped_at_known")
                return
            self.count("listing/next_page")
            yield self.discovery_request(source, listing.next_page, self.parse_listing, page=page + 1)
