"""Cluster runs: the archive writer (``aibrief ingest``), the workers (``aibrief worker``),
and both at once on the archive host (``aibrief crawl --redis``).

A worker is a loop over the crawl's spiders, each a ``scrapy crawl`` subprocess as in a
single-machine crawl (:mod:`schedules.runner`) with ``AIBRIEF_CLUSTER_RUN`` set, so that it
takes its requests from the shared queue (:mod:`crawler.cluster`). Between spiders the
loop keeps its own heartbeat in Redis, so that the writer does not take the run for over.
"""
from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections import defaultdict

import redis

from pipelines.archive import runs
from pipelines.archive.articles import sync_sources
from pipelines.archive.db import connect
from pipelines.cluster import Keys, RedisGone, connect_redis, worker_id
from pipelines.ingest import Ingest
from schedules import runner
from schedules.lock import ClusterLock, Lease
from schedules.runner import SPIDERS, child_environment, scrapy_argv, select_sources, wait
from schedules.settings import Config

logger = logging.getLogger(__name__)

# How long a worker waits for the writer to publish a run before giving up.
RUN_WAIT_SECONDS = 60.0
class NoClusterRun(Exception):
    """No cluster run was published in time; the message is one line."""


def redis_url(config: Config, override: str | None) -> str:
    url = override or config.cluster.redis_url
    if not url:
        raise RedisGone("no Redis named: give --redis URL or set cluster.redis_url in the configuration")
    return url


def run_worker(config: Config, url: str, source_ids: list[str] | None = None, *, log_level: str = "WARNING",
               env: dict[str, str] | None = None, wait_seconds: float = RUN_WAIT_SECONDS,
               settings: dict[str, object] | None = None) -> list[str]:
    """Work on the cluster run the writer published; the problems, one line each.
    ``settings``: more Scrapy settings for its crawl processes."""
    client = connect_redis(url)
    keys = Keys(config.cluster.name)
    me = f"runner-{worker_id()}"
    lease_ms = int(config.cluster.lease_seconds * 1000)
    deadline = time.monotonic() + wait_seconds
    try:
        while (run_id := client.hget(keys.run, "id")) is None:
            if time.monotonic() > deadline:
                raise NoClusterRun(f"no cluster run published at {url} (name {config.cluster.name!r}) within "
                                   f"{wait_seconds:.0f} s: start `aibrief ingest` on the archive host")
            time.sleep(0.2)
        heartbeat = Heartbeat(client, keys, me, lease_ms)
        heartbeat.renew()
        by_spider: dict[str, list[str]] = defaultdict(list)
        for source in select_sources(config, source_ids):
            by_spider[SPIDERS[source.kind]].append(source.id)
        errors = []
        for spider, ids in by_spider.items():
            argv = scrapy_argv(spider, {"source": ",".join(ids)},
                               {"AIBRIEF_CLUSTER_RUN": int(run_id), "AIBRIEF_REDIS_URL": url, "LOG_LEVEL": log_level,
                                **(settings or {})})
            process = subprocess.Popen(argv, env=child_environment(config, env))
            code = wait(process, heartbeat, poll=config.cluster.lease_seconds / 3)
            if code != 0:
                errors.append(f"scrapy crawl {spider} exited with status {code}")
        client.delete(keys.worker(me))
        client.hdel(keys.workers, me)
    except redis.RedisError as exc:
        raise RedisGone(f"Redis at {url} unreachable: {str(exc).splitlines()[0]}") from None
    return errors


class Heartbeat:
    """A worker loop's heartbeat, renewed while its crawl processes run; registered with no
    queue of its own: alive between its spiders, never busy."""

    def __init__(self, client: redis.Redis, keys: Keys, me: str, lease_ms: int) -> None:
        self.client, self.keys, self.me, self.lease_ms = client, keys, me, lease_ms

    def renew(self) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.keys.worker(self.me), "runner", px=self.lease_ms)
        pipe.hset(self.keys.workers, self.me, "")
        pipe.execute()


def run_ingest(config: Config, url: str, *, command: str = "aibrief ingest", lease: Lease | None = None,
               on_start=lambda run_id: None) -> runs.Run:
    """Store a cluster run's results until its workers are done; the finished run record."""
    client = connect_redis(url)
    keys = Keys(config.cluster.name)
    lock = ClusterLock(client, keys, command, config.cluster.lease_seconds).acquire()
    db = connect(config.database)
    run_id = None
    try:
        sources = [s.id for s in select_sources(config, None)]
        sync_sources(db, config.source_rows())
        ingest = Ingest(db, client, config.cluster, config.crawl.max_attempts)
        run_id = ingest.start(command, sources)
        on_start(run_id)
        ingest.loop(lock, lease.renew if lease is not None else lambda: None)
        return ingest.finish(run_id, sources)
    except (redis.RedisError, RedisGone) as exc:
        line = f"Redis at {url} unreachable: {str(exc).splitlines()[0]}"
        if run_id is not None:
            runs.finish_run(db, run_id, "failed", line)
        raise RedisGone(line) from None
    finally:
        db.close()
        try:
            lock.release()
        except redis.RedisError:
            pass  # gone: the lease expires by itself


def cluster_crawl(config: Config, url: str, source_ids: list[str] | None = None, *, command: str = "aibrief crawl",
                  lease: Lease | None = None, log_level: str = "WARNING",
                  env: dict[str, str] | None = None) -> tuple[runs.Run, list[str]]:
    """The writer here and one worker beside it; other hosts may join with ``aibrief worker``."""
    problems: list[str] = []

    def work() -> None:
        try:
            problems.extend(run_worker(config, url, source_ids, log_level=log_level, env=env))
        except (RedisGone, NoClusterRun) as exc:
            problems.append(str(exc))

    worker = threading.Thread(target=work, name="cluster-worker")
    run = run_ingest(config, url, command=command, lease=lease, on_start=lambda run_id: worker.start())
    worker.join()
    return run, problems


def crawl(config: Config, source_ids: list[str] | None = None, *, command: str = "aibrief crawl",
          lease: Lease | None = None, log_level: str = "WARNING", env: dict[str, str] | None = None) -> runs.Run:
    """A crawl run as the configuration has it: a cluster run when ``cluster.redis_url`` is
    set (problems of the local worker logged), else on this machine (:func:`schedules.runner.crawl`)."""
    if not config.cluster.redis_url:
        return runner.crawl(config, source_ids, command=command, lease=lease, log_level=log_level, env=env)
    run, problems = cluster_crawl(config, config.cluster.redis_url, source_ids, command=command, lease=lease,
                                  log_level=log_level, env=env)
    for problem in problems:
        logger.error("cluster worker: %s", problem)
    return run
