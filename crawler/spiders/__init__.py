"""Spiders discover article pages and hand them, as bytes, to the pipelines.

Every spider applies the configuration's crawl settings (user agent with contact URL,
delay, timeout, retries), fetches article pages the same way (:meth:`AibriefSpider.page_request`),
skips pages whose article is stored already, and counts every outcome in ``aibrief/...``
stats that the crawl run records.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UsageError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.web._newclient import ResponseFailed
from twisted.web.http import PotentialDataLoss

from crawler import user_agent
from crawler.cluster import apply_cluster_settings
from crawler.config import ConfigError, load_config
from crawler.items import PageItem
from crawler.middlewares import AddressRefusedRequest, HostUnreachable
from pipelines.analysis.links import clean_url
from pipelines.analysis.urls import canonical_url
from pipelines.archive import clock, frontier
from pipelines.store import Archive, crawl_config

logger = logging.getLogger(__name__)

# Content types that can hold an article; anything else (PDF, images, archives) is
# counted and skipped before extraction.
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
# Statuses that say the page is gone for good: not retried.
GONE = (404, 410)


class AibriefSpider(scrapy.Spider):
    source_ids: list[str] = []
    finish_reason: str | None = None

    def closed(self, reason: str) -> None:
        self.finish_reason = reason

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        try:
            config = load_config(settings.get("AIBRIEF_CONFIG"), settings.get("AIBRIEF_DB"))
        except ConfigError as exc:
            raise UsageError(str(exc), print_help=False) from None
        # Above the project's defaults, below -s on the command line.
        settings.set("AIBRIEF_SETTINGS", config, priority="spider")
        settings.set("USER_AGENT", user_agent(config.crawl.contact), priority="spider")
        settings.set("DOWNLOAD_DELAY", config.crawl.delay, priority="spider")
        settings.set("DOWNLOAD_TIMEOUT", config.crawl.timeout, priority="spider")
        settings.set("RETRY_TIMES", config.crawl.retries, priority="spider")
        if settings.get("AIBRIEF_CLUSTER_RUN"):
            apply_cluster_settings(settings, config)

    @property
    def config(self):
        return crawl_config(self.crawler)

    @property
    def archive(self) -> Archive:
        """The archive; in a cluster worker, the one answered through Redis
        (:class:`crawler.cluster.archive.RemoteArchive`), which has no database to hand."""
        return Archive.for_crawler(self.crawler)

    @property
    def remote(self) -> bool:
        return getattr(self.archive, "remote", False)

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"aibrief/{key}", n)

    def fail_arguments(self, message: str) -> None:
        """Bad spider arguments: one line, and the crawl closes at once."""
        logger.error("%s", message)
        self.count("bad_arguments")
        raise scrapy.exceptions.CloseSpider("bad_arguments")

    def page_request(self, url: str, source_id: str | None, hints: dict[str, Any] | None = None,
                     base: str | None = None) -> scrapy.Request | None:
        """The request for one article page, or None when it must not or need not be fetched
        (stored or skipped before, failed and not yet due again, given up)."""
        requests = self.page_requests([(url, source_id, hints)], base)
        return requests[0] if requests else None

    def page_requests(self, found: Iterable[tuple[str, str | None, dict[str, Any] | None]],
                      base: str | None = None) -> list[scrapy.Request]:
        """:meth:`page_request` for each (URL, source, hints) of a feed, listing or URL list,
        recorded in the frontier in one transaction; only the pages to fetch have a request."""
        wanted = []
        for url, source_id, hints in found:
            absolute = clean_url(url, base)
            if absolute is None:
                self.count("skipped/bad_url")
                logger.info("not fetched, not an http(s) URL: %r (source %s)", url, source_id)
                continue
            wanted.append((canonical_url(absolute), absolute, source_id, hints or {}))
        return [self._request(absolute, key, source_id, hints)
                for (key, absolute, source_id, hints), fetch in zip(wanted, self.fetch_now(wanted)) if fetch]

    def fetch_now(self, found: list[tuple[str, str, str | None, dict[str, Any]]]) -> list[bool]:
        """Record each discovered (canonical URL, URL, source, hints) in the frontier, all in
        one transaction; whether each is to be fetched now (the others are counted by why not)."""
        if not found:
            return []
        if self.remote:
            answers = self.archive.discover_many(found, self.config.crawl.max_attempts)
        else:
            answers = frontier.discover_many(self.archive.db, found, self.config.crawl.max_attempts)
        for fetch, why in answers:
            if not fetch:
                self.count(f"skipped/{why}")
        return [fetch for fetch, _ in answers]

    def resumed_requests(self, source_ids: list[str] | None):
        """Pages earlier crawls discovered and did not finish: after a kill, or failed and
        due again."""
        entries = self.archive.due(source_ids) if self.remote else \
            frontier.due(self.archive.db, source_ids, self.config.crawl.max_attempts)
        for entry in entries:
            self.count("resumed")
            yield self._request(entry.url, entry.canonical_url, entry.source_id, entry.hints)

    def _request(self, url: str, key: str, source_id: str | None, hints: dict[str, Any]) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_page, errback=self.page_failed,
                              meta={"source_id": source_id, "hints": hints, "frontier_key": key})

    def parse_page(self, response):
        source_id = response.meta.get("source_id")
        key = response.meta.get("frontier_key")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        mime = (content_type or "").split(";")[0].strip().lower()
        if (mime and not mime.startswith(PAGE_TYPES)) or response.body[:5] == b"%PDF-":
            self.count("skipped/not_html")
            self._settle(key, "skipped", f"not a page ({mime or 'PDF'})")
            logger.info("not a page, skipped: %s (%s)", response.url, mime or "PDF")
            return
        self.count("pages")
        self._settle(key, "fetched")
        first = (response.meta.get("redirect_urls") or [response.request.url])[0]
        yield PageItem(url=first, final_url=response.url, source_id=source_id, body=response.body,
                       content_type=content_type, fetched_at=clock.now(),
                       hints=response.meta.get("hints") or {}, frontier_key=key)

    def page_failed(self, failure) -> None:
        request = failure.request
        source_id = request.meta.get("source_id")
        key = request.meta.get("frontier_key")
        reason = describe_failure(failure)
        if failure.check(DownloadCancelledError) or (failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in reason):
            self.count("skipped/too_large")
            self._settle(key, "skipped", "larger than the size limit")
            logger.warning("not fetched, larger than the size limit: %s", request.url)
            return
        if failure.check(AddressRefusedRequest):
            self.count("skipped/private_address")
            self._settle(key, "skipped", reason)
            return  # (the middleware logged the URL and the reason)
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Refused on purpose (robots.txt): counted, not a failure. A host whose
            # robots.txt could not be read stays pending for the next run.
            self.count("skipped/robots" if "robots" in reason.lower() else "skipped/redirects"
                       if "redirect" in reason.lower() else "skipped/ignored")
            if "unavailable" not in reason:
                self._settle(key, "skipped", reason)
            logger.info("not fetched: %s: %s", request.url, reason)
            return
        if failure.check(HttpError) and failure.value.response.status in GONE:
            self.count("skipped/gone")
            self._settle(key, "skipped", reason)
            logger.warning("fetch failed: %s: %s", request.url, reason)
            return
        self.count("failed")
        if source_id:
            self.count(f"source/{source_id}/page_failed")
        self.archive.fail(key, reason)  # with the next batch, or through Redis: counted against max_attempts
        logger.warning("fetch failed: %s: %s", request.url, reason)

    def _settle(self, key: str | None, state: str, reason: str | None = None) -> None:
        self.archive.settle(key, state, reason)  # local (batched) or through Redis alike


def describe_failure(failure) -> str:
    """One line for a download failure: the HTTP status, or the network error's name."""
    if failure.check(AddressRefusedRequest):
        return str(failure.value)
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(DNSLookupError, CannotResolveHostError):
        return "host not found"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timed out"
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection refused"
    if failure.check(HostUnreachable):
        return str(failure.value)
    if failure.check(ResponseDataLossError, ResponseFailed, PotentialDataLoss):
        return "connection lost mid-response (truncated body)"
    if failure.check(DownloadCancelledError):
        return "larger than the size limit"
    message = str(failure.value).strip().splitlines()
    return f"{failure.type.__name__}: {message[0] if message else ''}".rstrip(": ")
