"""The ``feed`` spider: RSS and Atom feeds (direct, or through an RSSHub bridge route).

    scrapy crawl feed                    # every enabled feed source
    scrapy crawl feed -a source=36kr     # one source (or several: a,b)

Each entry's link becomes a page request; the entry's title, date and author travel with
it as hints. A feed that yields no entries (an HTML error page, an empty or broken body)
is a failure of its source, never a quiet "no news".
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import feedparser
import scrapy

from crawler.spiders import AibriefSpider, describe_failure
from pipelines import fetch_state
from pipelines.dates import parse_date
from pipelines.encoding import feed_document

logger = logging.getLogger(__name__)


class FeedSpider(AibriefSpider):
    name = "feed"

    def __init__(self, source: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.requested = [s.strip() for s in (source or "").split(",") if s.strip()]

    def selected_sources(self):
        config = self.config
        if not self.requested:
            return [s for s in config.active_sources() if s.kind == "feed"]
        chosen = []
        for source_id in self.requested:
            source = config.source(source_id)
            if source is None:
                known = ", ".join(s.id for s in config.sources)
                self.fail_arguments(f"unknown source {source_id!r} (known: {known})")
            if source.kind != "feed":
                self.fail_arguments(f"source {source_id!r} is a {source.kind} source, not a feed")
            if not source.feed_url(config.crawl.rsshub):
                self.fail_arguments(f"source {source_id!r} needs crawl.rsshub set in the configuration")
            chosen.append(source)
        return chosen

    async def start(self):
        sources = self.selected_sources()
        self.source_ids = [s.id for s in sources]
        if not sources:
            logger.warning("no enabled feed sources to crawl")
        for request in self.resumed_requests(self.source_ids):
            yield request
        for source in sources:
            url = source.feed_url(self.config.crawl.rsshub)
            # Feeds are always fetched again, but conditionally: an unchanged feed is a 304.
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.feed_failed, dont_filter=True,
                                 headers=fetch_state.conditional_headers(self.archive.db, url),
                                 meta={"source_id": source.id, "handle_httpstatus_list": [304]})

    def parse_feed(self, response):
        source = self.config.source(response.meta["source_id"])
        if response.status == 304:
            self.count("feed/not_modified")
            self.source_ok(source.id, 0)
            return
        fetch_state.remember(self.archive.db, response.url, response.headers.get("ETag"),
                             response.headers.get("Last-Modified"))
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        parsed = feedparser.parse(feed_document(response.body, content_type),
                                  response_headers={"content-type": content_type, "content-location": response.url})
        entries = parsed.entries[: source.max_entries] if source.max_entries else parsed.entries
        if not entries:
            reason = "no entries"
            if parsed.get("bozo"):
                reason = f"not a readable feed ({_first_line(parsed.get('bozo_exception'))})"
            self.source_failed(source.id, response.url, reason)
            return
        self.count("feed/ok")
        self.source_ok(source.id, len(entries))
        if parsed.get("bozo"):
            self.count("feed/recovered")
            logger.info("source %s: feed %s is malformed, %d entries recovered: %s", source.id,
                        response.url, len(entries), _first_line(parsed.get("bozo_exception")))
        tz = ZoneInfo(source.timezone) if source.timezone else self.config.tz
        for entry in entries:
            link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
            if not link:
                self.count("skipped/no_link")
                continue
            raw_date = entry.get("published") or entry.get("updated") or entry.get("created")
            hints = {"title": " ".join((entry.get("title") or "").split()) or None,
                     "published": parse_date(raw_date, tz) if raw_date else None,
                     "author": entry.get("author") or None}
            request = self.page_request(link, source.id, hints, base=response.url)
            if request is not None:
                yield request

    def feed_failed(self, failure) -> None:
        self.source_failed(failure.request.meta["source_id"], failure.request.url, describe_failure(failure))

    def source_ok(self, source_id: str, entries: int) -> None:
        self.count(f"source/{source_id}/ok")
        self.count(f"source/{source_id}/entries", entries)

    def source_failed(self, source_id: str, url: str, reason: str) -> None:
        self.count("feed/failed")
        self.count(f"source/{source_id}/failed")
        self.crawler.stats.set_value(f"aibrief/source/{source_id}/error", f"{url}: {reason}")
        logger.warning("source %s failed: %s: %s", source_id, url, reason)


def _first_line(value) -> str:
    lines = str(value or "").strip().splitlines()
    return lines[0] if lines else "unknown error"
