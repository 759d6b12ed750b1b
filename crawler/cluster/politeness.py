"""One request at a time per host, and the host's pace, across every worker of a cluster.

Before a request goes to the downloader it takes its host's lease in Redis
(``<name>:host:<host>``, ``SET NX`` with an expiry); while another worker holds it the
request waits. When the answer is in, the lease is kept for the pause the host is owed
(the download delay, its robots.txt ``Crawl-delay``, a ``Retry-After``) and then expires,
so that no worker, this one included, starts the next request any sooner. A worker killed
while holding one frees it when it expires: after the download timeout and a margin.
"""
from __future__ import annotations

import asyncio
import logging
import uuid

import redis
from scrapy.utils.httpobj import urlparse_cached

from crawler.cluster.worker import ClusterWorker
from crawler.middlewares import LONGEST_RETRY_AFTER, HostPacing, retry_after

logger = logging.getLogger(__name__)

# Seconds a held lease outlives the download timeout before it frees itself.
LEASE_MARGIN = 5.0
# Shortest and longest wait before asking for a busy host again.
SHORTEST_WAIT = 0.02
LONGEST_WAIT = 1.0

# Keeps the lease for ARGV[2] ms more if this request still holds it, else leaves it.
HOLD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 0"
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class HostLeaseMiddleware:
    def __init__(self, crawler) -> None:
        self.worker = ClusterWorker.for_crawler(crawler)
        self.pacing = HostPacing.for_crawler(crawler)
        self.stats = crawler.stats
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.lease_ms = int((crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + LEASE_MARGIN) * 1000)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        key = self.worker.keys.host(host)
        token = uuid.uuid4().hex
        client = self.worker.client
        try:
            while not client.set(key, token, nx=True, px=self.lease_ms):
                self.stats.inc_value("aibrief/cluster/host_waits")
                left = client.pttl(key)
                await asyncio.sleep(min(max(left / 1000, SHORTEST_WAIT), LONGEST_WAIT))
        except redis.RedisError as exc:
            self.worker.lost(exc)
            return None
        request.meta["host_lease"] = token
        return None

    def process_response(self, request, response):
        pause = 0.0
        if response.status in (429, 503):
            seconds = retry_after(response.headers.get("Retry-After"))
            if seconds is not None and seconds <= LONGEST_RETRY_AFTER:
                pause = seconds
        self._release(request, pause)
        return response

    def process_exception(self, request, exception):
        self._release(request, 0.0)
        return None

    def _release(self, request, pause: float) -> None:
        token = request.meta.pop("host_lease", None)
        if token is None or self.worker.gone:
            return
        host = urlparse_cached(request).hostname or ""
        hold = max(self.delay, self.pacing.crawl_delay.get(host, 0.0), pause)
        try:
            if hold > 0:
                self.worker.client.eval(HOLD, 1, self.worker.keys.host(host), token, int(hold * 1000))
            else:
                self.worker.client.eval(RELEASE, 1, self.worker.keys.host(host), token)
        except redis.RedisError as exc:
            self.worker.lost(exc)
