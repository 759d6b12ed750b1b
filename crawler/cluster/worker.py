"""The cluster worker extension: a worker's archive, heartbeat, staying alive and counts.

- It gives every component of the crawl the worker's archive
  (:class:`~crawler.cluster.archive.RemoteArchive`) in place of the SQLite one.
- Its heartbeat (``<name>:worker:<id>``, expiring after ``cluster.lease_seconds``) says it
  is alive and whether it is busy; a worker whose heartbeat has expired is dead, and its
  requests in flight go back to the queue.
- A worker whose queue runs dry does not close while another worker is busy (it may yet
  find pages) or a dead one's requests come back; it closes once the queue has been empty
  and no worker busy for ``cluster.idle_seconds``. Scrapy would close it at once, and a
  worker whose first requests were taken by another would never work at all.
- At the end its ``aibrief/...`` counts go to the run (``<name>:stats``).

Redis gone for good (every command retried through a restart first): one error line,
``aibrief/cluster/redis_gone``, and the crawl closes; nothing it reported is lost.
"""
from __future__ import annotations

import json
import logging
import time

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor
from twisted.internet.task import LoopingCall

from crawler.cluster.archive import RemoteArchive
from pipelines.cluster import Keys, connect_redis, worker_id
from pipelines.ingest import reap
from pipelines.store import crawl_config

logger = logging.getLogger(__name__)

# Seconds between two looks at the shared queue while a worker waits for work. Scrapy looks
# again only every five seconds (its engine's heartbeat): a worker whose first requests were
# taken by another would find the queue emptied by then.
IDLE_POLL_SECONDS = 0.25


class ClusterWorker:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        config = crawl_config(crawler)
        self.settings = config.cluster
        self.url = crawler.settings.get("AIBRIEF_REDIS_URL")
        self.run_id = crawler.settings.getint("AIBRIEF_CLUSTER_RUN")
        self.keys = Keys(self.settings.name)
        self.worker = worker_id()
        self.client = connect_redis(self.url)
        self.gone = False
        self.archive = RemoteArchive(self.client, self.keys, self.worker, self.lost)
        # Archive.for_crawler hands this archive to every stage and spider of the crawl.
        crawler._aibrief_archive = self.archive
        self.quiet_since: float | None = None
        self.beat = LoopingCall(self.heartbeat)
        # More to renew with each heartbeat (the hosts held): callables given the pipeline.
        self.beats: list = []
        self.queue_key = ""

    @classmethod
    def for_crawler(cls, crawler) -> ClusterWorker:
        worker = getattr(crawler, "_aibrief_cluster_worker", None)
        if worker is None:
            worker = crawler._aibrief_cluster_worker = cls(crawler)
        return worker

    @classmethod
    def from_crawler(cls, crawler):
        worker = cls.for_crawler(crawler)
        crawler.signals.connect(worker.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(worker.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker.spider_closed, signal=signals.spider_closed)
        return worker

    def spider_opened(self, spider) -> None:
        self.queue_key = self.keys.spider(self.run_id, spider.name, "requests")
        self.heartbeat()
        self.beat.start(max(self.settings.lease_seconds / 3, 0.2), now=False)
        logger.info("cluster worker %s on run %d (%s)", self.worker, self.run_id, self.queue_key)

    def busy(self) -> bool:
        engine = self.crawler.engine
        slot = getattr(engine.scraper, "slot", None)
        return bool(engine.downloader.active) or (slot is not None and not slot.is_idle())

    def heartbeat(self) -> None:
        if self.gone:
            return
        state = "busy" if self.busy() else "idle"

        def beat() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(self.keys.worker(self.worker), state, px=int(self.settings.lease_seconds * 1000))
            # Again each time: a worker taken for dead while Redis restarted joins back.
            pipe.hset(self.keys.workers, self.worker, self.queue_key)
            for renew in self.beats:
                renew(pipe)
            pipe.execute()
        self._call(beat)

    def spider_idle(self, spider) -> None:
        if self.gone:
            return
        try:
            work = self._work_may_come()
        except redis.RedisError as exc:
            self.lost(exc)
            return
        now = time.monotonic()
        self.quiet_since = None if work else self.quiet_since or now
        if work or now - self.quiet_since < self.settings.idle_seconds:
            reactor.callLater(IDLE_POLL_SECONDS, self.look_again)
            raise DontCloseSpider

    def look_again(self) -> None:
        """Have the engine ask the scheduler for a request now (the engine's own slot: Scrapy
        has no public call for it)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and not self.gone:
            slot.nextcall.schedule()

    def _work_may_come(self) -> bool:
        if reap(self.client, self.keys):
            self.crawler.stats.inc_value("aibrief/cluster/requeued")
            return True
        if self.client.zcard(self.queue_key):
            return True
        others = [w for w in self.client.hkeys(self.keys.workers) if w.decode() != self.worker]
        if not others:
            return False
        beats = self.client.mget([self.keys.worker(w.decode()) for w in others])
        return any(beat == b"busy" for beat in beats)

    def spider_closed(self, spider, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        if self.gone:
            return
        stats = self.crawler.stats.get_stats()
        counts = {key: value for key, value in stats.items()
                  if key.startswith("aibrief/") and isinstance(value, (int, float, str))}
        counts["requests"] = int(stats.get("downloader/request_count", 0))
        counts["responses"] = int(stats.get("downloader/response_count", 0))
        counts["retries"] = int(stats.get("retry/count", 0))

        def leave() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(self.keys.stats, f"{self.worker}:{spider.name}", json.dumps(counts))
            # Whatever is still recorded in flight ended without an outcome to report (a host
            # whose robots.txt could not be read, say): it waits for the next run.
            pipe.delete(self.keys.inflight(self.worker), self.keys.worker(self.worker))
            pipe.hdel(self.keys.workers, self.worker)
            pipe.execute()
        self._call(leave)

    def lost(self, exc: Exception) -> None:
        """Redis is gone for good: say so once and close the crawl."""
        if self.gone:
            return
        self.gone = self.archive.gone = True
        self.crawler.stats.inc_value("aibrief/cluster/redis_gone")
        logger.error("Redis at %s unreachable (%s): stopping this worker", self.url, str(exc).splitlines()[0])
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="redis_gone"))

    def _call(self, action) -> None:
        try:
            action()
        except redis.RedisError as exc:
            self.lost(exc)


class DiscoveryDoneMiddleware:
    """Ends the in-flight record of a feed's or listing's request once everything its
    response led to has been handed on (a page's record ends with its outcome instead)."""

    def __init__(self, crawler) -> None:
        self.worker = ClusterWorker.for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        yield from result
        self._done(response)

    async def process_spider_output_async(self, response, result):
        async for output in result:
            yield output
        self._done(response)

    def _done(self, response) -> None:
        lease = response.meta.get("cluster_lease")
        if lease is not None and "frontier_key" not in response.meta and not self.worker.gone:
            self.worker.archive.done(lease)
