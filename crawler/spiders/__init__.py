"""Spiders discover article pages and hand them, as bytes, to the pipelines.

Every spider applies the configuration's crawl settings (user agent with contact URL,
delay, timeout, retries), fetches article pages the same way (:meth:`AibriefSpider.page_request`),
skips pages whose article is stored already, and counts every outcome in ``aibrief/...``
stats that the crawl run records.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest, UsageError
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from crawler import __version__
from crawler.config import ConfigError, config_for_crawler, load_config
from crawler.items import PageItem
from pipelines.canonical import canonical_url
from pipelines.links import clean_url
from pipelines.store import Archive

logger = logging.getLogger(__name__)

# Content types that can hold an article; anything else (PDF, images, archives) is
# counted and skipped before extraction.
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def user_agent(contact: str) -> str:
    return f"aibrief/{__version__} (+{contact})"


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
        settings.set("USER_AGENT", user_agent(config.crawl.contact), priority="spider")
        settings.set("DOWNLOAD_DELAY", config.crawl.delay, priority="spider")
        settings.set("DOWNLOAD_TIMEOUT", config.crawl.timeout, priority="spider")
        settings.set("RETRY_TIMES", config.crawl.retries, priority="spider")

    @property
    def config(self):
        return config_for_crawler(self.crawler)

    @property
    def archive(self) -> Archive:
        return Archive.for_crawler(self.crawler)

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"aibrief/{key}", n)

    def fail_arguments(self, message: str) -> None:
        """Bad spider arguments: one line, and the crawl closes at once."""
        logger.error("%s", message)
        self.count("bad_arguments")
        raise scrapy.exceptions.CloseSpider("bad_arguments")

    def page_request(self, url: str, source_id: str | None, hints: dict[str, Any] | None = None,
                     base: str | None = None) -> scrapy.Request | None:
        """The request for one article page, or None when it must not or need not be fetched."""
        absolute = clean_url(url, base)
        if absolute is None:
            self.count("skipped/bad_url")
            logger.info("not fetched, not an http(s) URL: %r (source %s)", url, source_id)
            return None
        if self.archive.has_article(canonical_url(absolute)):
            self.count("skipped/known")
            return None
        return scrapy.Request(absolute, callback=self.parse_page, errback=self.page_failed,
                              meta={"source_id": source_id, "hints": hints or {}})

    def parse_page(self, response):
        source_id = response.meta.get("source_id")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        mime = (content_type or "").split(";")[0].strip().lower()
        if (mime and not mime.startswith(PAGE_TYPES)) or response.body[:5] == b"%PDF-":
            self.count("skipped/not_html")
            logger.info("not a page, skipped: %s (%s)", response.url, mime or "PDF")
            return
        self.count("pages")
        first = (response.meta.get("redirect_urls") or [response.request.url])[0]
        yield PageItem(url=first, final_url=response.url, source_id=source_id, body=response.body,
                       content_type=content_type, fetched_at=datetime.now(timezone.utc),
                       hints=response.meta.get("hints") or {})

    def page_failed(self, failure) -> None:
        request = failure.request
        source_id = request.meta.get("source_id")
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Refused on purpose (robots.txt, the size limit): counted, not a failure.
            self.count("skipped/ignored")
            logger.info("not fetched: %s: %s", request.url, failure.value)
            return
        self.count("failed")
        if source_id:
            self.count(f"source/{source_id}/page_failed")
        logger.warning("fetch failed: %s: %s", request.url, describe_failure(failure))


def describe_failure(failure) -> str:
    """One line for a download failure: the HTTP status, or the network error's name."""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(DNSLookupError):
        return "host not found"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "timed out"
    message = str(failure.value).strip().splitlines()
    return f"{failure.type.__name__}: {message[0] if message else ''}".rstrip(": ")
