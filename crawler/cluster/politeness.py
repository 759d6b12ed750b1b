"""One request at a time per host, and the host's pace, across every worker of a cluster.

Before a request goes to the downloader it takes its host's lease in Redis
(``<name>:host:<host>``, ``SET NX`` with an expiry); while another worker holds it the
request waits, asking again every few hundredths of a second. Of this worker's requests
for one host only the first in line asks Redis; the others wait their turn here. When the answer is in, the lease is kept for the pause the host is owed
(the download delay, its robots.txt ``Crawl-delay``, a ``Retry-After``) and then expires,
so that no worker, this one included, starts the next request any sooner. A held lease
lasts ``cluster.lease_seconds`` and is renewed with the worker's heartbeat: a worker killed
while holding one frees its host when the lease expires, as its requests go back to the queue.
"""
from __future__ import annotations

import asyncio
import logging
import uuid

import redis
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler.cluster.worker import ClusterWorker
from crawler.middlewares import LONGEST_RETRY_AFTER, HostPacing, retry_after

logger = logging.getLogger(__name__)

# How often a busy host is asked for again: the longest a free host waits to be noticed,
# against about one Redis command per wait; a pause the host is owed is waited out whole.
POLL_SECONDS = 0.03
LONGEST_WAIT = 1.0

# Takes the lease: -1 when taken, else how long a pause the host is owed has to run (ms;
# 0 while a request holds it).
TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
local holder = redis.call('GET', KEYS[1])
if holder and string.sub(holder, 1, 6) == 'pause:' then return redis.call('PTTL', KEYS[1]) end
return 0
"""
# Extends this request's lease, if it still holds it.
RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
# Turns this request's lease into the host's pause, ARGV[2] ms long.
HOLD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], 'pause:' .. ARGV[1], 'PX', ARGV[2]) end return 0"
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class HostLeaseMiddleware:
    def __init__(self, crawler) -> None:
        self.worker = ClusterWorker.for_crawler(crawler)
        self.pacing = HostPacing.for_crawler(crawler)
        self.stats = crawler.stats
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.lease_ms = int(self.worker.settings.lease_seconds * 1000)
        self.turns: dict[str, asyncio.Lock] = {}
        self.held: dict[str, str] = {}  # host key -> the token of this worker's request there
        self.worker.beats.append(self.renew)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        key = self.worker.keys.host(host)
        token = uuid.uuid4().hex
        client = self.worker.client
        turn = self.turns.setdefault(host, asyncio.Lock())
        async with turn:  # held until the lease is taken: the local slot keeps the order after
            if self.worker.gone:
                raise IgnoreRequest("Redis gone: not fetched")
            try:
                while (pause := client.eval(TAKE, 1, key, token, self.lease_ms)) != -1:
                    self.stats.inc_value("aibrief/cluster/host_waits")
                    await asyncio.sleep(min(pause / 1000, LONGEST_WAIT) if pause > 0 else POLL_SECONDS)
            except redis.RedisError as exc:
                self.worker.lost(exc)
                raise IgnoreRequest("Redis gone: not fetched") from None
        request.meta["host_lease"] = token
        self.held[key] = token
        return None

    def renew(self, pipe) -> None:
        """With the worker's heartbeat: the hosts this worker is fetching from stay its own."""
        for key, token in self.held.items():
            pipe.eval(RENEW, 1, key, token, self.lease_ms)

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
        self.held.pop(self.worker.keys.host(host), None)
        hold = max(self.delay, self.pacing.crawl_delay.get(host, 0.0), pause)
        try:
            if hold > 0:
                self.worker.client.eval(HOLD, 1, self.worker.keys.host(host), token, int(hold * 1000))
            else:
                self.worker.client.eval(RELEASE, 1, self.worker.keys.host(host), token)
        except redis.RedisError as exc:
            self.worker.lost(exc)
