"""What the spiders of the non-feed source kinds share: choosing their sources, the
window of a crawl, source health, and articles that come whole from a discovery answer.

Each kind's spider reads its discovery documents with the pure functions of
:mod:`crawler.discovery` and stays thin. A document that yields nothing is a failure of
its source (``source/<id>/failed`` and the error line the source table shows), never a
quiet "no news".
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import scrapy

from crawler.config import Source
from crawler.items import PageItem
from crawler.middlewares import AddressRefusedRequest
from crawler.spiders import AibriefSpider, describe_failure
from pipelines.analysis.urls import canonical_url
from pipelines.archive import clock, fetch_state
from pipelines.archive.db import parse_iso

logger = logging.getLogger(__name__)

# A later crawl looks back to the source's last success, less this much: sitemaps and
# listings often date their entries by the day alone (midnight), and announcements lag.
WINDOW_SLACK = timedelta(days=1)


class DiscoverySpider(AibriefSpider):
    kind: str = ""  # the source kind this spider crawls

    def __init__(self, source: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.requested = [s.strip() for s in (source or "").split(",") if s.strip()]

    def selected_sources(self) -> list[Source]:
        config = self.config
        if not self.requested:
            return [s for s in config.active_sources() if s.kind == self.kind]
        chosen = []
        for source_id in self.requested:
            source = config.source(source_id)
            if source is None:
                known = ", ".join(s.id for s in config.sources)
                self.fail_arguments(f"unknown source {source_id!r} (known: {known})")
            if source.kind != self.kind:
                self.fail_arguments(f"source {source_id!r} is a {source.kind} source, not a {self.kind} one")
            if not source.feed_url(config.crawl.rsshub):
                needs = "crawl.wechat_bridge or crawl.rsshub" if self.kind == "wechat" else "crawl.rsshub"
                self.fail_arguments(f"source {source_id!r} needs {needs} set in the configuration")
            chosen.append(source)
        return chosen

    async def start(self):
        sources = self.selected_sources()
        self.source_ids = [s.id for s in sources]
        if not sources:
            logger.warning("no enabled %s sources to crawl", self.kind)
        for request in self.resumed_requests(self.source_ids):
            yield request
        for source in sources:
            for request in self.discovery_requests(source):
                yield request

    def discovery_requests(self, source: Source):
        """The first requests for one source's discovery documents."""
        raise NotImplementedError

    def discovery_request(self, source: Source, url: str, callback, headers: dict[str, str] | None = None,
                          **meta: Any) -> scrapy.Request:
        # dont_filter: a discovery document is fetched every run, and a listing's next page
        # may repeat a URL of another source.
        return scrapy.Request(url, callback=callback, errback=self.discovery_failed, dont_filter=True,
                              headers=headers or {}, meta={"source_id": source.id, **meta})

    def conditional_request(self, source: Source, url: str, callback, **meta: Any) -> scrapy.Request:
        """A discovery request carrying the validators of the document's last answer: an
        unchanged document answers 304 (RFC 9110, 13.1), see :meth:`unchanged`."""
        headers = self.validators(url)
        return self.discovery_request(source, url, callback, headers=headers, handle_httpstatus_list=[304], **meta)

    def unchanged(self, response, source: Source) -> bool:
        """A 304: counted, the source healthy, nothing to read."""
        if response.status != 304:
            return False
        self.count(f"{self.kind}/not_modified")
        self.source_ok(source.id, 0)
        return True

    def remember_validators(self, response) -> None:
        """Keep the document's ETag and Last-Modified for the next run's conditional request."""
        if self.remote:
            self.archive.remember_validators(response.url, response.headers.get("ETag"),
                                             response.headers.get("Last-Modified"))
        else:
            fetch_state.remember(self.archive.db, response.url, response.headers.get("ETag"),
                                 response.headers.get("Last-Modified"))

    def validators(self, url: str) -> dict[str, str]:
        """The conditional-request headers from the document's last answer."""
        if self.remote:
            return self.archive.conditional_headers(url)
        return fetch_state.conditional_headers(self.archive.db, url)

    def source_of(self, response_or_request) -> Source:
        return self.config.source(response_or_request.meta["source_id"])

    def tz(self, source: Source) -> ZoneInfo:
        return ZoneInfo(source.timezone) if source.timezone else self.config.tz

    def window_start(self, source: Source, days: int) -> datetime:
        """Entries older than this are not followed: the source's last success (less the
        slack), but never more than ``days`` back."""
        floor = clock.now() - timedelta(days=days)
        if self.remote:
            last = self.archive.last_success(source.id)
        else:
            row = self.archive.db.execute("SELECT last_success FROM sources WHERE id = ?", [source.id]).fetchone()
            last = parse_iso(row[0]) if row and row[0] else None
        return max(floor, last - WINDOW_SLACK) if last else floor

    def direct_item(self, url: str, source_id: str, article, hints: dict[str, Any]) -> PageItem | None:
        """An item whose article the discovery answer gave whole (arXiv API, GitHub
        Trending): recorded in the frontier like a page, then handed to the pipelines
        with no page to fetch (the extract stage passes it through)."""
        items = self.direct_items([(url, source_id, article, hints)])
        return items[0] if items else None

    def direct_items(self, found: list[tuple[str, str, Any, dict[str, Any]]]) -> list[PageItem]:
        """:meth:`direct_item` for each (URL, source, article, hints) of one answer, recorded
        in the frontier in one transaction."""
        keys = [canonical_url(url) for url, *_ in found]
        fetch = self.fetch_now([(key, url, source_id, hints) for key, (url, source_id, _, hints) in zip(keys, found)])
        items = [PageItem(url=url, final_url=url, source_id=source_id, body=b"", content_type=None,
                          fetched_at=clock.now(), hints=hints, frontier_key=key, article=article)
                 for key, (url, source_id, article, hints), wanted in zip(keys, found, fetch) if wanted]
        self.tally("direct", len(items))
        return items

    def tally(self, key: str, n: int) -> None:
        """Count ``n`` of something, leaving the run's counts free of zeros."""
        if n:
            self.count(key, n)

    def discovery_failed(self, failure) -> None:
        request = failure.request
        if failure.check(AddressRefusedRequest):  # refused on purpose: counted, no failure of the run
            self.count("skipped/private_address")
            logger.warning("source %s not fetched: %s: %s", request.meta["source_id"], request.url, failure.value)
            return
        self.source_failed(request.meta["source_id"], request.url, describe_failure(failure))

    def source_ok(self, source_id: str, entries: int) -> None:
        self.count(f"{self.kind}/ok")
        self.count(f"source/{source_id}/ok")
        self.count(f"source/{source_id}/entries", entries)

    def source_failed(self, source_id: str, url: str, reason: str) -> None:
        self.count(f"{self.kind}/failed")
        self.count(f"source/{source_id}/failed")
        self.crawler.stats.set_value(f"aibrief/source/{source_id}/error", f"{url}: {reason}")
        logger.warning("source %s failed: %s: %s", source_id, url, reason)
