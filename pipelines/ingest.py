"""The one archive writer of a cluster run: what the workers found, stored in the SQLite file.

Workers on any host fetch and extract; each outcome (pages discovered, an article, a page
skipped or failed, a feed's validators) arrives here as a message on the Redis list
``<name>:results`` (:mod:`pipelines.cluster`). This process owns the archive, the frontier
and the run record:

- at the start of a run it publishes what workers consult before a fetch: the canonical
  URLs stored, the frontier's verdicts (known, backing off, given up), the pages due again,
  the feeds' validators for conditional GET and each source's last success;
- it takes results in batches with ``LMOVE`` to ``<name>:processing``, stores them, and
  only after the SQLite commit drops them from there: killed at any point, the next ingest
  process finds the batch still there and stores it again, and storing is idempotent
  (an article already stored is counted as known, not stored twice);
- the run ends when the workers are gone and nothing is left to store; their counts are
  added to the run record with this process's own.

:func:`store_messages` is the one place messages become rows.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis
import sqlite_utils

from pipelines.archive import fetch_state, frontier, runs
from pipelines.archive.articles import pending_refetches
from pipelines.archive.batch import BatchWriter, Stored
from pipelines.archive.db import iso, utcnow
from pipelines.archive.discussions import record_discussions
from pipelines.archive.health import update_health
from pipelines.cluster import ClusterSettings, Keys, RedisGone, decode, encode, worker_id

logger = logging.getLogger(__name__)

# Members per SADD/HSET when publishing: keeps each command well under Redis's limits.
PUBLISH_CHUNK = 5000
# Seconds one BLMOVE waits for a result before the loop looks at the workers again.
WAIT_SECONDS = 1.0

# Removes the workers whose heartbeat expired; their requests in flight go back to the
# front of their queue (score 0: scrapy-redis scores a request by minus its priority).
REAP = """
local workers = redis.call('HGETALL', KEYS[1])
local moved = 0
for i = 1, #workers, 2 do
  local worker, queue = workers[i], workers[i + 1]
  if redis.call('EXISTS', ARGV[1] .. ':worker:' .. worker) == 0 then
    local inflight = ARGV[1] .. ':inflight:' .. worker
    if queue ~= '' then
      for _, data in ipairs(redis.call('HVALS', inflight)) do
        redis.call('ZADD', queue, 0, data)
        moved = moved + 1
      end
    end
    redis.call('DEL', inflight)
    redis.call('HDEL', KEYS[1], worker)
  end
end
return moved
"""


# Moves up to ARGV[1] more results to the processing list, in one round trip.
TAKE_MORE = """
local taken = {}
for i = 1, tonumber(ARGV[1]) do
  local data = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not data then break end
  taken[i] = data
end
return taken
"""


def reap(client: redis.Redis, keys: Keys) -> int:
    """Re-queue the requests of workers that died; how many."""
    return int(client.eval(REAP, 1, keys.workers, keys.name))


def store_messages(db: sqlite_utils.Database, messages: list[dict[str, Any]], max_attempts: int) -> Counter[str]:
    """Apply a batch of worker messages to the archive; the outcomes, counted in the run.

    The discoveries, feed validators and discussion threads go first (a page's discovery
    always arrived before its outcome, so every row a mark needs is there, and a thread
    found before its article is linked to it when the article is stored); then the
    articles, marks and failures, in their order, in one transaction
    (:class:`pipelines.archive.batch.BatchWriter`), so that the batch costs one commit and
    one full-text segment. Idempotent for articles (a
    replayed article is ``dropped/known``); a replayed failure counts one attempt more,
    which only brings a retry forward by one step.
    """
    counts: Counter[str] = Counter()
    writer = BatchWriter(db, size=len(messages) + 1, interval=float("inf"))
    for message in messages:
        kind = message["kind"]
        if kind == "discover":
            frontier.discover_many(db, message["found"], max_attempts)
            counts["ingest/discovered"] += 1
        elif kind == "validators":
            fetch_state.remember(db, message["url"], message.get("etag"), message.get("last_modified"))
            counts["ingest/validators"] += 1
        elif kind == "discussions":
            record_discussions(db, message["found"])  # before the articles: the trigger links them
            counts["ingest/discussions"] += 1
        elif kind not in ("article", "settle", "fail"):
            raise ValueError(f"unknown message kind {kind!r}")
    for message in messages:
        kind = message["kind"]
        if kind == "article":
            writer.add(message["record"], (message["key"],) if message.get("key") else ())
        elif kind == "settle":
            writer.mark(message["key"], message["state"], message.get("reason"))
            counts["ingest/settled"] += 1
        elif kind == "fail":
            writer.fail(message["key"], message["reason"], max_attempts)
            counts["ingest/failed"] += 1
    for stored in writer.flush():
        counts[outcome(stored)] += 1
    return counts


def outcome(stored: Stored) -> str:
    """How a run counts what became of an article."""
    if stored.error is not None:
        return "store/failed"
    if stored.article_id is None:
        return "dropped/known"
    return "updated" if stored.updated else "stored"


def publish_state(db: sqlite_utils.Database, client: redis.Redis, keys: Keys, run_id: int, max_attempts: int) -> None:
    """What workers consult before a fetch, as of the start of the run; each key replaced whole."""
    refetch = pending_refetches(db)
    stored = [url for (url,) in db.execute("SELECT canonical_url FROM articles") if url not in refetch]
    now = iso(utcnow())
    verdicts: dict[str, str] = {}
    for url, state, attempts, next_attempt in db.execute(
            "SELECT canonical_url, state, attempts, next_attempt FROM frontier WHERE state IN ('stored', 'skipped', 'failed')"):
        if url in refetch:
            continue
        if state != "failed":
            verdicts[url] = "known"
        elif attempts >= max_attempts or next_attempt is None:
            verdicts[url] = "given_up"
        elif next_attempt > now:
            verdicts[url] = "backoff"
    due = {entry.canonical_url: encode({"url": entry.url, "source_id": entry.source_id, "hints": entry.hints})
           for entry in frontier.due(db, None, max_attempts)}
    validators = {url: json.dumps([etag, modified]) for url, etag, modified
                  in db.execute("SELECT url, etag, last_modified FROM fetch_state")}
    successes = {source: when for source, when in db.execute("SELECT id, last_success FROM sources") if when}
    _replace_set(client, keys.stored, stored)
    for key, mapping in ((keys.state, verdicts), (keys.due, due), (keys.validators, validators),
                         (keys.last_success, successes)):
        _replace_hash(client, key, mapping)
    client.delete(keys.stats)
    client.hset(keys.run, mapping={"id": run_id, "started": now})
    logger.info("cluster run %d: published %d stored URLs, %d frontier verdicts, %d pages due", run_id,
                len(stored), len(verdicts), len(due))


def _replace_set(client: redis.Redis, key: str, members: list[str]) -> None:
    staging = f"{key}:staging"
    client.delete(staging)
    for start in range(0, len(members), PUBLISH_CHUNK):
        client.sadd(staging, *members[start:start + PUBLISH_CHUNK])
    if members:
        client.rename(staging, key)
    else:
        client.delete(key)


def _replace_hash(client: redis.Redis, key: str, mapping: dict[str, str]) -> None:
    staging = f"{key}:staging"
    client.delete(staging)
    items = list(mapping.items())
    for start in range(0, len(items), PUBLISH_CHUNK):
        client.hset(staging, mapping=dict(items[start:start + PUBLISH_CHUNK]))
    if items:
        client.rename(staging, key)
    else:
        client.delete(key)


class Ingest:
    """The archive writer's loop for one cluster run (see the module's description)."""

    def __init__(self, db: sqlite_utils.Database, client: redis.Redis, settings: ClusterSettings,
                 max_attempts: int) -> None:
        self.db = db
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.name)
        self.max_attempts = max_attempts
        self.counts: Counter[str] = Counter()
        self.me = f"ingest-{worker_id()}"

    def start(self, command: str, sources: list[str]) -> int:
        """Adopt the run a killed ingest process left in Redis, or start and publish a new one."""
        left = self.client.hget(self.keys.run, "id")
        if left is not None:
            row = self.db.execute("SELECT status FROM crawl_runs WHERE id = ?", [int(left)]).fetchone()
            if row is not None and row[0] == "running":
                logger.warning("cluster run %d was left by an ingest process that stopped: taking it over", int(left))
                return int(left)
        run_id = runs.start_run(self.db, command, sources)
        publish_state(self.db, self.client, self.keys, run_id, self.max_attempts)
        return run_id

    def store_batch(self) -> int:
        """Store one batch (what an earlier process left in ``processing`` first); acknowledged
        after the commits. How many messages."""
        # Each LMOVE put its result at the head of the list: read backwards, in arrival order.
        batch = self.client.lrange(self.keys.processing, 0, -1)[::-1]
        if batch:
            self.counts["ingest/replayed"] += len(batch)
        else:
            first = self.client.blmove(self.keys.results, self.keys.processing, WAIT_SECONDS, "RIGHT", "LEFT")
            if first is None:
                return 0
            more = self.client.eval(TAKE_MORE, 2, self.keys.results, self.keys.processing, self.settings.batch - 1)
            batch = [first, *more]  # in arrival order
        messages = [decode(data) for data in batch]
        self.counts.update(store_messages(self.db, messages, self.max_attempts))
        # Later fetches of these pages are skipped.
        stored = [m["record"].canonical_url for m in messages if m["kind"] == "article"]
        pipe = self.client.pipeline(transaction=True)
        if stored:
            pipe.sadd(self.keys.stored, *stored)
        pipe.delete(self.keys.processing)
        pipe.execute()
        self.counts["ingest/batches"] += 1
        return len(batch)

    def workers_gone(self) -> bool:
        """No worker alive (dead ones reaped, their requests put back in the queue)."""
        reap(self.client, self.keys)
        return self.client.hlen(self.keys.workers) == 0

    def loop(self, lock, lease_renewal: Callable[[], None] = lambda: None) -> None:
        """Store until the run is over (renewing ``lock``, the cluster run lock, and the
        ``lease_renewal`` of the local one meanwhile): some worker came, all are gone, nothing is left to store,
        and it stayed so for ``idle_seconds``."""
        seen_worker = False
        quiet_since: float | None = None
        last_renewal = 0.0
        while True:
            now = time.monotonic()
            if now - last_renewal > self.settings.lease_seconds / 3:
                if not lock.renew():
                    raise RedisGone("the cluster run lock was taken by another run while this one was silent")
                lease_renewal()
                last_renewal = now
            if self.store_batch():
                quiet_since = None
                continue
            gone = self.workers_gone()
            # A worker that ended left its counts: one taking over a run may come after all did.
            seen_worker = seen_worker or not gone or bool(self.client.hlen(self.keys.stats))
            if not seen_worker or not gone or self.client.llen(self.keys.results):
                quiet_since = None
                continue
            quiet_since = quiet_since or now
            if now - quiet_since >= self.settings.idle_seconds:
                return

    def worker_stats(self) -> dict[str, Any]:
        """Every worker's ``aibrief/...`` stats summed (texts, such as a source's last error, kept)."""
        merged: dict[str, Any] = {}
        for raw in self.client.hvals(self.keys.stats):
            for key, value in json.loads(raw).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    merged[key] = merged.get(key, 0) + value
                else:
                    merged[key] = value
        return merged

    def finish(self, run_id: int, sources: list[str], error: str | None = None) -> runs.Run:
        """Record the run's counts and status, and drop the run's keys from Redis."""
        stats = self.worker_stats()
        counts = {key.removeprefix("aibrief/"): int(value) for key, value in stats.items()
                  if key.startswith("aibrief/") and isinstance(value, (int, float))}
        for key in ("requests", "responses", "retries"):
            counts[key] = int(stats.get(key, 0))
        counts.update(self.counts)
        runs.add_counts(self.db, run_id, counts)
        update_health(self.db, sources, stats)
        status = runs.run_status(runs.get_run(self.db, run_id).counts, sources, clean_exit=error is None)
        run = runs.finish_run(self.db, run_id, status, error, sources=sources)
        self.drop_run_keys(run_id)
        return run

    def drop_run_keys(self, run_id: int) -> None:
        stale = list(self.client.scan_iter(match=f"{self.keys.name}:{run_id}:*", count=1000))
        self.client.delete(*self.keys.published(), *stale)
