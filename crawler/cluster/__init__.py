"""Cluster mode, the Scrapy side: crawl processes on any number of hosts share one request
queue, duplicate filter and per-host pace through Redis, and send what they find to the
one archive writer (:mod:`pipelines.ingest`) instead of the SQLite file.

A crawl process is a cluster worker when it is started with ``-s AIBRIEF_CLUSTER_RUN=<id>``
(``aibrief worker``, ``aibrief crawl --redis`` and the scheduler's cluster crawls do so);
:func:`apply_cluster_settings` then swaps in the parts below. The spiders stay as they
are: they ask their archive (here :class:`~crawler.cluster.archive.RemoteArchive`) before
fetching and report every outcome to it.

- :mod:`~crawler.cluster.scheduler`: scrapy-redis's scheduler, with each request taken
  recorded as in flight until its outcome is reported;
- :mod:`~crawler.cluster.worker`: the extension that keeps a worker alive while others may
  still add work, its heartbeat, and its counts at the end;
- :mod:`~crawler.cluster.politeness`: one request at a time per host across all workers;
- :mod:`~crawler.cluster.results`: the item pipeline that sends each article to the writer.
"""
from __future__ import annotations

from pipelines.cluster import Keys

# The settings a cluster worker runs with, over the project's (crawler.settings).
SCHEDULER = "crawler.cluster.scheduler.ClusterScheduler"
DUPEFILTER = "scrapy_redis.dupefilter.RFPDupeFilter"
WORKER = "crawler.cluster.worker.ClusterWorker"
HOST_LEASE = "crawler.cluster.politeness.HostLeaseMiddleware"
DISCOVERY_ACK = "crawler.cluster.worker.DiscoveryDoneMiddleware"
RESULTS = "crawler.cluster.results.ResultPipeline"


def apply_cluster_settings(settings, config) -> None:
    """Make this crawl process a worker of the cluster run named in ``AIBRIEF_CLUSTER_RUN``."""
    run_id = settings.getint("AIBRIEF_CLUSTER_RUN")
    keys = Keys(config.cluster.name)
    url = settings.get("AIBRIEF_REDIS_URL") or config.cluster.redis_url
    settings.set("AIBRIEF_REDIS_URL", url, priority="spider")
    settings.set("SCHEDULER", SCHEDULER, priority="spider")
    settings.set("DUPEFILTER_CLASS", DUPEFILTER, priority="spider")
    # The queue outlives each worker: the run's keys are the ingest process's to drop.
    settings.set("SCHEDULER_PERSIST", True, priority="spider")
    settings.set("SCHEDULER_QUEUE_KEY", keys.spider(run_id, "%(spider)s", "requests"), priority="spider")
    settings.set("SCHEDULER_DUPEFILTER_KEY", keys.spider(run_id, "%(spider)s", "dupefilter"), priority="spider")
    settings.set("REDIS_URL", url, priority="spider")
    pipelines = {**settings.getdict("ITEM_PIPELINES"), "pipelines.store.StorePipeline": None, RESULTS: 300}
    settings.set("ITEM_PIPELINES", pipelines, priority="spider")
    # The run record is the ingest process's: this process reports its counts to it.
    extensions = {**settings.getdict("EXTENSIONS"), "crawler.runrecord.RunRecorder": None, WORKER: 400}
    settings.set("EXTENSIONS", extensions, priority="spider")
    # Next to the downloader: the host is held only while a request really goes out.
    middlewares = {**settings.getdict("DOWNLOADER_MIDDLEWARES"), HOST_LEASE: 940}
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")
    settings.set("SPIDER_MIDDLEWARES", {**settings.getdict("SPIDER_MIDDLEWARES"), DISCOVERY_ACK: 10},
                 priority="spider")
