"""Scrapy's downloader, holding every host to its concurrency limit and its pace.

Under the asyncio reactor, Scrapy 2.19 hands each request it takes from a host's queue to a
task that only counts it as in transfer once the task starts. Until then the slot still
looks free, so with no download delay set a host with several queued requests (all of them
released together when its robots.txt arrives, say) gets them all at once: six at a time
against a limit of one, in ``tests/test_reliability.py``. Counting the request at the
moment it is handed over keeps the limit; the download itself adds it again (a set, so no
double count) and removes it when done.

A host's ``Crawl-delay`` and a ``Retry-After`` pause (:class:`crawler.middlewares.HostPacing`)
are held to here, where a request really goes out, and not when it passes the middlewares:
a request that then waits in its host's queue (behind the download delay after the
robots.txt fetch, say) would otherwise go out late and the next one on time, closer to it
than the site asked.

Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN idle connections per connection-pool key (one,
here). Direct connections have a key per host, which is right. Through an HTTP proxy every
host shares the proxy's key: with many hosts fetched at once, nearly every request opened a
new connection to the proxy and closed it after the answer
(:class:`ProxyPoolHTTPDownloadHandler` keeps them).
"""
from __future__ import annotations

from scrapy.core.downloader import Downloader
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached

from crawler.middlewares import HostPacing


class SlotLimitDownloader(Downloader):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.pacing = HostPacing.for_crawler(crawler)

    def _process_queue(self, slot) -> None:
        # One request at a time per host (CONCURRENT_REQUESTS_PER_DOMAIN): what goes out next
        # is the head of the queue, and its host's pace decides when.
        if not slot.latercall and slot.queue and slot.free_transfer_slots() > 0:
            wait = self.pacing.wait(urlparse_cached(slot.queue[0][0]).hostname or "")
            if wait > 0:
                self.crawler.stats.inc_value("aibrief/paced")
                slot.latercall = call_later(wait, self._latercall, slot)
                return
        super()._process_queue(slot)

    def _wait_for_download(self, slot, request, queue_dfd):
        slot.transferring.add(request)
        self.pacing.started(urlparse_cached(request).hostname or "")
        return super()._wait_for_download(slot, request, queue_dfd)


class ProxyPoolHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler keeping as many idle connections per pool key as the crawl
    has requests in flight: a proxy's connections are reused, not opened for every request.
    How many requests go to one host at once is the downloader's to limit, not the pool's."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._pool.maxPersistentPerHost = max(self._pool.maxPersistentPerHost,
                                              crawler.settings.getint("CONCURRENT_REQUESTS"))
