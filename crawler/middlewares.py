"""Politeness Scrapy does not give by default (RFC 9309, RFC 9110 Retry-After).

- :class:`PoliteRobotsTxtMiddleware`: a robots.txt that answers 5xx or cannot be fetched
  (timeout, refused) closes its host for this run; Scrapy treats both as "allow all".
  A 4xx robots.txt still means "no rules" (RFC 9309, 2.3.1.3). The ``Crawl-delay`` it
  names is kept.
- :class:`HostPacingMiddleware`: a 429 or 503 ``Retry-After`` pauses its host, while
  other hosts go on; Scrapy ignores it, as it ignores ``Crawl-delay``. Both are kept in
  :class:`HostPacing` and held to by the downloader (:mod:`crawler.downloader`), which
  knows when a request really goes out.
- :class:`QuickMetaRefreshMiddleware`: Scrapy's meta refresh handling, without decoding
  every page to text to find out that it has none.

And safety: :class:`AddressPolicyMiddleware` refuses every request (first fetches, each
redirect hop, robots.txt, feeds, sitemaps) whose URL names a refused address or carries
credentials, and, with :class:`crawler.resolver.PolicyResolver`, whose host resolves to one
(:mod:`crawler.addresses`). A refusal is an :class:`AddressRefusedRequest`, which the
spiders count as ``skipped/private_address``, never a failure of the run.
"""
from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from time import monotonic

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, ConnectionLost, ConnectionRefusedError, DNSLookupError
from twisted.web._newclient import ResponseNeverReceived

from crawler.addresses import policy_for
from crawler.resolver import refusal_for, use_policy
from pipelines.archive import clock
from pipelines.store import crawl_config

logger = logging.getLogger(__name__)

# A Retry-After longer than this is not waited for in this run: the host is given up for
# now and its pages stay due for the next run (a crawl must not sit for hours).
LONGEST_RETRY_AFTER = 600.0
# Likewise a Crawl-delay; a site asking for a minute between pages is crawled at that pace.
LONGEST_CRAWL_DELAY = 60.0


class _Unavailable:
    """The robots.txt of a host could not be read this run: nothing there is fetched.
    ``unreachable``: not even a connection (refused, no such host), so the pages there
    count a failed attempt; otherwise (5xx, timeout) they wait, untouched, for the next run."""

    def __init__(self, reason: str, unreachable: bool = False) -> None:
        self.reason = reason
        self.unreachable = unreachable


class HostUnreachable(Exception):
    """The host could not even be connected to (its robots.txt fetch said so)."""


# Failures that say the host is down, not that its robots.txt is: no connection at all.
UNREACHABLE = (ConnectionRefusedError, DNSLookupError, ConnectionLost, ConnectError, ResponseNeverReceived,
               CannotResolveHostError, DownloadConnectionRefusedError)


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.pacing = HostPacing.for_crawler(crawler)

    def process_request_2(self, rp, request) -> None:
        if isinstance(rp, _Unavailable):
            self._stats.inc_value("aibrief/robots/refused_requests")
            if rp.unreachable:
                raise HostUnreachable(f"host unreachable ({rp.reason})")
            raise IgnoreRequest(f"robots.txt unavailable ({rp.reason}): host not crawled this run")
        super().process_request_2(rp, request)

    async def robot_parser(self, request):
        """As Scrapy's, but a robots.txt that cannot be fetched is one line in the log, not
        a traceback, and closes its host (see :meth:`_robots_error`)."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robots)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # noqa: BLE001 (every failure closes the host, in one line)
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response, netloc: str, request) -> None:
        if response.status >= 500:
            self._close_host(netloc, f"HTTP {response.status}")
            return
        if 400 <= response.status < 500:
            response = response.replace(body=b"")  # no robots.txt: no rules
        await super()._parse_robots(response, netloc, request)
        parser = self._parsers.get(netloc)
        delay = _crawl_delay(parser, self._robotstxt_useragent or self._default_useragent)
        if delay:
            self.pacing.set_crawl_delay(urlparse_cached(request).hostname or netloc, delay)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            super()._robots_error(exc, netloc)
            return
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self._close_host(netloc, reason, unreachable=isinstance(exc, UNREACHABLE))

    def _close_host(self, netloc: str, reason: str, unreachable: bool = False) -> None:
        self._stats.inc_value("aibrief/robots/unavailable")
        logger.warning("robots.txt of %s unavailable (%s): not crawling it this run", netloc, reason)
        waiting = self._parsers[netloc]
        self._parsers[netloc] = _Unavailable(reason, unreachable)
        if hasattr(waiting, "callback"):
            waiting.callback(self._parsers[netloc])


class AddressRefusedRequest(IgnoreRequest):
    """A request the address policy refused; the message is one line naming why."""


class AddressPolicyMiddleware:
    """Refuses requests by URL (before robots.txt is asked for) and turns a name that
    resolved to a refused address into the same refusal (before any retry of it)."""

    def __init__(self, crawler) -> None:
        self.policy = policy_for(crawl_config(crawler).crawl)
        use_policy(self.policy)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        reason = self.policy.refuse_url(request.url)
        if reason:
            self.stats.inc_value("aibrief/address_refused")
            logger.warning("not fetched: %s: %s", request.url, reason)
            raise AddressRefusedRequest(reason)
        return None


class ResolvedAddressMiddleware:
    """Sits by the downloader (above the retry middleware's place) to see a resolver's
    refusal first: a name that resolves to a refused address is not asked again."""

    def __init__(self, crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_exception(self, request, exception):
        if not isinstance(exception, (DNSLookupError, CannotResolveHostError)):
            return None
        reason = refusal_for(urlparse_cached(request).hostname or "")
        if reason is None:
            return None
        self.stats.inc_value("aibrief/address_refused")
        logger.warning("not fetched: %s: %s", request.url, reason)
        raise AddressRefusedRequest(reason)


def _crawl_delay(parser, user_agent) -> float | None:
    protego = getattr(parser, "rp", None)
    if protego is None or not hasattr(protego, "crawl_delay"):
        return None
    agent = user_agent.decode() if isinstance(user_agent, bytes) else str(user_agent)
    delay = protego.crawl_delay(agent)
    return min(float(delay), LONGEST_CRAWL_DELAY) if delay else None


class HostPacing:
    """Per-host earliest start of the next request, shared by the middlewares of a crawl."""

    def __init__(self) -> None:
        self.crawl_delay: dict[str, float] = {}
        self.next_start: dict[str, float] = {}

    @classmethod
    def for_crawler(cls, crawler) -> HostPacing:
        pacing = getattr(crawler, "_aibrief_pacing", None)
        if pacing is None:
            pacing = crawler._aibrief_pacing = cls()
        return pacing

    def set_crawl_delay(self, host: str, delay: float) -> None:
        logger.info("%s asks for Crawl-delay: %s s", host, delay)
        self.crawl_delay[host] = delay

    def wait(self, host: str) -> float:
        """Seconds before the host may be sent its next request (0: now)."""
        return max(0.0, self.next_start.get(host, 0.0) - monotonic())

    def started(self, host: str) -> None:
        """A request to the host has just gone out: the next one waits its Crawl-delay."""
        delay = self.crawl_delay.get(host)
        if delay:
            self.next_start[host] = max(self.next_start.get(host, 0.0), monotonic() + delay)

    def pause(self, host: str, seconds: float) -> None:
        self.next_start[host] = max(self.next_start.get(host, 0.0), monotonic() + seconds)


class HostPacingMiddleware:
    RETRY_STATUSES = (429, 503)

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.pacing = HostPacing.for_crawler(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if response.status not in self.RETRY_STATUSES:
            return response
        seconds = retry_after(response.headers.get("Retry-After"))
        if seconds is None:
            return response  # the retry middleware's ordinary back-off applies
        host = urlparse_cached(request).hostname or ""
        if seconds > LONGEST_RETRY_AFTER:
            logger.warning("%s asks to wait %.0f s (Retry-After): leaving it for the next run", host, seconds)
            return response
        self.stats.inc_value("aibrief/retry_after")
        self.pacing.pause(host, seconds)
        logger.info("%s answered %d with Retry-After %.0f s: pausing that host", host, response.status, seconds)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"retry_after_{response.status}")
        return retry or response


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy looks for ``<meta http-equiv="refresh">`` in the first 4096 characters of a
    page, and to get them decodes the whole body (charset detection included) on every
    response: about 4 % of the crawl process's time per page (py-spy, ``aibrief bench``).
    A page whose first bytes cannot hold the word is passed on untouched; any other page
    (and any UTF-16 page, whose bytes spell it with NULs between) gets Scrapy's check."""

    # 4096 characters are at most 4 bytes each in UTF-8 and the legacy Chinese encodings.
    LOOK_AT = 4 * 4096

    def process_response(self, request, response):
        head = response.body[:self.LOOK_AT]
        if b"\x00" not in head and b"refresh" not in head.lower():
            return response
        return super().process_response(request, response)


def retry_after(value: bytes | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - clock.now()).total_seconds())
