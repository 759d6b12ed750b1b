"""What a cluster worker's spiders and stages ask of the archive, answered through Redis.

The ingest process published, at the start of the run, the stored canonical URLs and the
frontier's verdicts; a worker consults them before fetching what it discovers, and sends
every outcome to the writer as a message (:mod:`pipelines.ingest`). An outcome that ends a
page's request (stored, skipped, failed) is sent in one transaction with the end of that
request's record in flight: a worker killed before it is sent loses nothing (the request
goes back to the queue), and one killed after it leaves nothing to do twice.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import redis

from pipelines.archive.db import parse_iso
from pipelines.archive.discussions import Discussion
from pipelines.archive.frontier import Entry
from pipelines.cluster import Keys, decode, encode

logger = logging.getLogger(__name__)

# Page URLs checked per pipelined round trip when a feed or listing is read.
CHECK_CHUNK = 500


class RemoteArchive:
    """The archive of a cluster worker (in place of :class:`pipelines.store.Archive`)."""

    remote = True

    def __init__(self, client: redis.Redis, keys: Keys, worker: str, on_lost) -> None:
        self.client = client
        self.keys = keys
        self.inflight = keys.inflight(worker)
        # Frontier key -> the lease of the request fetching it (set by the scheduler).
        self.leases: dict[str, str] = {}
        self.on_lost = on_lost
        self.gone = False  # Redis is gone for good: nothing more is asked or sent

    # -- before a fetch ---------------------------------------------------------------------

    def has_article(self, canonical_url: str) -> bool:
        return self._call(lambda: bool(self.client.sismember(self.keys.stored, canonical_url)), False)

    def discover_many(self, found: list[tuple[str, str, str | None, dict[str, Any]]],
                      max_attempts: int) -> list[tuple[bool, str]]:
        """As :func:`pipelines.archive.frontier.discover_many`, from the published verdicts;
        the pages to fetch are sent to the writer, which records them as pending."""
        def check() -> list[tuple[bool, str]]:
            answers: list[tuple[bool, str]] = []
            for start in range(0, len(found), CHECK_CHUNK):
                chunk = found[start:start + CHECK_CHUNK]
                pipe = self.client.pipeline(transaction=False)
                for canonical_url, *_ in chunk:
                    pipe.sismember(self.keys.stored, canonical_url)
                    pipe.hget(self.keys.state, canonical_url)
                replies = pipe.execute()
                for stored, verdict in zip(replies[::2], replies[1::2]):
                    if stored:
                        answers.append((False, "known"))
                    elif verdict is not None:
                        answers.append((False, verdict.decode()))
                    else:
                        answers.append((True, "new"))
            wanted = [entry for entry, (fetch, _) in zip(found, answers) if fetch]
            if wanted:
                self.client.lpush(self.keys.results, encode({"kind": "discover", "found": wanted}))
            return answers
        return self._call(check, [(False, "redis_gone")] * len(found))

    def due(self, source_ids: list[str] | None) -> list[Entry]:
        """The pages earlier runs left pending or due again, as published at the run's start."""
        def read() -> list[Entry]:
            entries = []
            for canonical_url, raw in self.client.hgetall(self.keys.due).items():
                entry = decode(raw)
                if source_ids is None or entry["source_id"] in source_ids:
                    entries.append(Entry(canonical_url.decode(), entry["url"], entry["source_id"], "pending", 0, None,
                                         entry["hints"]))
            return entries
        return self._call(read, [])

    def conditional_headers(self, url: str) -> dict[str, str]:
        def read() -> dict[str, str]:
            raw = self.client.hget(self.keys.validators, url)
            etag, modified = json.loads(raw) if raw else (None, None)
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
            return headers
        return self._call(read, {})

    def last_success(self, source_id: str) -> datetime | None:
        raw = self._call(lambda: self.client.hget(self.keys.last_success, source_id), None)
        return parse_iso(raw.decode()) if raw else None

    # -- outcomes ---------------------------------------------------------------------------

    def settle(self, key: str | None, state: str, reason: str | None = None) -> None:
        """A page's final state (stored, skipped); "fetched" is no news to the writer."""
        if key and state != "fetched":
            self.send({"kind": "settle", "key": key, "state": state, "reason": reason}, key)

    def fail(self, key: str | None, reason: str) -> None:
        if key:
            self.send({"kind": "fail", "key": key, "reason": reason}, key)

    def record_discussions(self, found: list[Discussion]) -> None:
        """Threads that discuss a page (Hacker News): the writer keeps them and links them."""
        if found:
            self.send({"kind": "discussions", "found": found})

    def remember_validators(self, url: str, etag: bytes | None, last_modified: bytes | None) -> None:
        self.send({"kind": "validators", "url": url, "etag": etag, "last_modified": last_modified})

    def send(self, message: dict[str, Any], key: str | None = None) -> None:
        """Queue a message for the writer; with ``key``, the request fetching that page is done."""
        lease = self.leases.pop(key, None) if key else None

        def push() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.lpush(self.keys.results, encode(message))
            if lease is not None:
                pipe.hdel(self.inflight, lease)
            pipe.execute()
        self._call(push, None)

    def done(self, lease: str) -> None:
        """A request whose outcome is the requests it led to (a feed, a listing page)."""
        self._call(lambda: self.client.hdel(self.inflight, lease), None)

    def _call(self, action, fallback):
        if self.gone:
            return fallback
        try:
            return action()
        except redis.RedisError as exc:
            self.on_lost(exc)
            return fallback
