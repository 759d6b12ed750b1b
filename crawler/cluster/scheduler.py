"""scrapy-redis's scheduler, with nothing lost when a worker dies.

scrapy-redis takes a request off the shared queue before it is fetched: a worker killed
then loses it. Here a request is moved, in one Redis script, from the queue to the
worker's record of requests in flight (``<name>:inflight:<worker>``) under a lease number,
which travels in ``request.meta["cluster_lease"]``. It leaves that record when its outcome
is reported (:class:`crawler.cluster.archive.RemoteArchive`), when it is put back in the
queue as a retry or a redirect, or when the worker dies: then any worker or the ingest
process re-queues it (:func:`pipelines.ingest.reap`).

A worker takes no more than ``CONCURRENT_REQUESTS`` requests at a time, counting those
still being extracted and stored: Scrapy would otherwise take from the queue as fast as it
downloads, and fetching being far quicker than extraction, the first worker to start would
hold nearly the whole queue in its backlog while the others sat idle.

Feeds and listing pages bypass the duplicate filter (they are fetched every run) but are
taken by one worker per run: the first to enqueue one notes it in the run's
``discovery`` set; a retry of one is always queued.
"""
from __future__ import annotations

import logging

import redis
from scrapy_redis.scheduler import Scheduler

from crawler.cluster.worker import ClusterWorker

logger = logging.getLogger(__name__)

# Moves the head of the queue into the worker's in-flight record under a new lease number.
TAKE = """
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if #head == 0 then return false end
redis.call('ZREM', KEYS[1], head[1])
local lease = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], lease, head[1])
return {lease, head[1]}
"""


class ClusterScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.worker = ClusterWorker.for_crawler(crawler)
        # The worker's client, which rides out a Redis restart (pipelines.cluster.connect_redis).
        scheduler.server = scheduler.worker.client
        scheduler.most_taken = crawler.settings.getint("CONCURRENT_REQUESTS")
        return scheduler

    def open(self, spider):
        super().open(spider)
        self.queue.server = self.df.server = self.server
        self.discovery_key = self.worker.keys.spider(self.worker.run_id, spider.name, "discovery")

    def enqueue_request(self, request) -> bool:
        if self.worker.gone:
            return False
        lease = request.meta.pop("cluster_lease", None)  # a retry or redirect of a request in flight
        try:
            if not self._wanted(request):
                if lease is not None:
                    self.worker.archive.done(lease)
                return False
            data = self.queue._encode_request(request)
            pipe = self.server.pipeline(transaction=True)
            pipe.zadd(self.queue.key, {data: -request.priority})
            if lease is not None:
                pipe.hdel(self.worker.archive.inflight, lease)
            pipe.execute()
        except redis.RedisError as exc:
            self.worker.lost(exc)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def _wanted(self, request) -> bool:
        if not request.dont_filter:
            if self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            return True
        if "frontier_key" in request.meta or "retry_times" in request.meta or "source_id" not in request.meta:
            return True
        # A feed or listing page: once per run, whichever worker comes first.
        seen = f"{request.meta['source_id']} {request.url}"
        if self.server.sadd(self.discovery_key, seen):
            return True
        self.stats.inc_value("aibrief/cluster/discovery_taken")
        return False

    def taken(self) -> int:
        """Requests this worker has taken and not finished: downloading, or being scraped
        (the engine asks again as each one finishes)."""
        engine = self.crawler.engine
        return len(engine.downloader.active) + len(engine.scraper.slot.active)

    def next_request(self):
        if self.worker.gone or self.taken() >= self.most_taken:
            return None
        try:
            taken = self.server.eval(TAKE, 3, self.queue.key, self.worker.archive.inflight,
                                     self.worker.keys.lease_counter)
        except redis.RedisError as exc:
            self.worker.lost(exc)
            return None
        if not taken:
            return None
        lease, data = taken[0].decode() if isinstance(taken[0], bytes) else str(taken[0]), taken[1]
        request = self.queue._decode_request(data)
        request.meta["cluster_lease"] = lease
        key = request.meta.get("frontier_key")
        if key:
            self.worker.archive.leases[key] = lease
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.worker.gone:
            return False
        try:
            return len(self) > 0
        except redis.RedisError as exc:
            self.worker.lost(exc)
            return False
