"""Cluster mode's shared ground: its settings, the Redis keys, the connection and the
messages workers send to the one archive writer (:mod:`pipelines.ingest`).

Every key starts with the archive's cluster name (``[cluster] name``), so that several
archives can share one Redis. Per run (the run id the ingest process publishes):

- ``<name>:<run>:<spider>:requests`` / ``:dupefilter``: scrapy-redis's queue and duplicate
  filter, one per spider, so that a page seen in one run is not filtered in the next;
- ``<name>:<run>:<spider>:discovery``: the feeds and listing pages one worker has taken this
  run (they are fetched every run, but by one worker);
- ``<name>:results`` and ``<name>:processing``: what workers found, and what the ingest
  process has taken but not yet committed (a reliable queue: a crash leaves it there);
- ``<name>:workers`` (worker id -> its queue key), ``<name>:worker:<id>`` (its heartbeat,
  which expires) and ``<name>:inflight:<id>`` (the requests it has taken and not finished).

Messages are pickled: every process of a cluster runs this same code and trusts its Redis,
as scrapy-redis does with its pickled requests.
"""
from __future__ import annotations

import os
import pickle
import socket
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


@dataclass(slots=True, frozen=True)
class ClusterSettings:
    # Empty: single-machine crawls; otherwise every crawl uses the shared queue there.
    redis_url: str
    # The key prefix of this archive's keys in Redis (one name per archive).
    name: str
    # A worker ends when the shared queue has been empty, and no other worker busy, this long.
    idle_seconds: float
    # A worker silent this long is dead: its requests in flight go back to the queue, and a
    # run lock (or a host's request lease) not renewed for this long is free again.
    lease_seconds: float
    # Results the ingest process stores per batch before it acknowledges them.
    batch: int


class RedisGone(Exception):
    """Redis could not be reached, even after retrying; the message is one line."""


# Each command is retried for about this long (backing off up to a second between tries)
# before Redis is taken for gone: long enough to ride out a restart that reloads its AOF.
RECONNECT_TRIES = 10


def connect_redis(url: str) -> redis.Redis:
    """A client that retries through a Redis restart; :class:`RedisGone` when unreachable."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=10,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), RECONNECT_TRIES),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError])
        client.ping()
    except ValueError as exc:
        raise RedisGone(f"{url}: not a Redis URL: {exc}") from None
    except redis.RedisError as exc:
        raise RedisGone(f"Redis at {url} unreachable: {exc}") from None
    return client


def worker_id() -> str:
    """This process's name among the workers: host and pid (one spider per process)."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(slots=True, frozen=True)
class Keys:
    name: str

    @property
    def lock(self) -> str:
        return f"{self.name}:lock"

    @property
    def run(self) -> str:
        return f"{self.name}:run"

    @property
    def stored(self) -> str:
        return f"{self.name}:stored"

    @property
    def state(self) -> str:
        return f"{self.name}:state"

    @property
    def due(self) -> str:
        return f"{self.name}:due"

    @property
    def validators(self) -> str:
        return f"{self.name}:validators"

    @property
    def last_success(self) -> str:
        return f"{self.name}:last_success"

    @property
    def results(self) -> str:
        return f"{self.name}:results"

    @property
    def processing(self) -> str:
        return f"{self.name}:processing"

    @property
    def workers(self) -> str:
        return f"{self.name}:workers"

    @property
    def stats(self) -> str:
        return f"{self.name}:stats"

    @property
    def lease_counter(self) -> str:
        return f"{self.name}:leases"

    def worker(self, worker: str) -> str:
        return f"{self.name}:worker:{worker}"

    def inflight(self, worker: str) -> str:
        return f"{self.name}:inflight:{worker}"

    def host(self, host: str) -> str:
        return f"{self.name}:host:{host}"

    def spider(self, run_id: int, spider: str, what: str) -> str:
        return f"{self.name}:{run_id}:{spider}:{what}"

    def published(self) -> list[str]:
        """The keys the ingest process writes at the start of a run and drops at its end."""
        return [self.run, self.stored, self.state, self.due, self.validators, self.last_success, self.stats]


def encode(message: dict[str, Any]) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> dict[str, Any]:
    return pickle.loads(data)  # noqa: S301 (written by this code on the cluster's own Redis)
