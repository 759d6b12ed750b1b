"""Articles stored in batches: one transaction, and so one new full-text index segment, for
many articles instead of one each.

A commit per article cost the crawl process a sync of the write-ahead log and a small FTS5
segment each time, merged again later. :class:`BatchWriter` keeps what it is given in
memory and writes it all in one ``BEGIN IMMEDIATE`` transaction when the batch is full,
when its oldest entry has waited ``interval`` seconds, or when asked (:meth:`flush`,
:meth:`close`). Each article still marks the frontier rows that led to it stored in the
transaction that stores it (:func:`pipelines.archive.articles.put_article`), so a
``kill -9`` between two flushes loses only articles whose URLs are still pending in the
frontier: the next crawl fetches them again. Two copies of one article in one batch are
stored once: each entry is written after the ones before it, in the same transaction, and
sees them.

The writer knows nothing of Scrapy: the store stage (:class:`pipelines.store.StorePipeline`)
drives it from the reactor, and any other process that stores articles can do the same
(add, then flush when :meth:`due`, then close).
"""
from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from pipelines.archive import frontier
from pipelines.archive.articles import ArticleRecord, put_article
from pipelines.archive.db import immediate

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Stored:
    """What became of one article of a batch."""

    record: ArticleRecord
    article_id: int | None  # None: its canonical URL was stored already (or it failed)
    updated: bool = False  # a stored article fetched again on request: its row was updated
    error: str | None = None  # the article alone could not be stored (its frontier rows unchanged)
    context: Any = None  # what the caller gave with it


@dataclass(slots=True)
class _Entry:
    record: ArticleRecord | None  # None: a frontier step only
    done: tuple[str, ...] = ()
    context: Any = None
    step: Callable[[sqlite_utils.Database], Any] | None = None  # a frontier change, in the batch's transaction


@dataclass
class BatchWriter:
    """Stores articles (and frontier marks) in batches of at most ``size`` entries, each
    batch written once its first entry has waited ``interval`` seconds (when the owner
    calls :meth:`flush_if_due` or adds more). ``size`` 1 stores each article at once."""

    db: sqlite_utils.Database
    size: int
    interval: float
    clock: Callable[[], float] = time.monotonic
    batches: int = 0  # batches written so far
    _pending: list[_Entry] = field(default_factory=list)
    _since: float = 0.0

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, record: ArticleRecord, done: tuple[str, ...] = (), context: Any = None) -> list[Stored]:
        """Queue an article (``done``: the frontier rows that led to it, marked stored with
        it); returns what a flush it caused stored, else nothing."""
        self._queue(_Entry(record, done, context))
        return self.flush() if len(self._pending) >= self.size else self.flush_if_due()

    def mark(self, canonical_url: str, state: str, reason: str | None = None) -> None:
        """Queue a frontier row's new state, written with the next batch. (It starts no
        batch itself: only its owner's calls write, and see what was stored.)"""
        self._queue(_Entry(None, step=functools.partial(frontier.mark, canonical_url=canonical_url, state=state,
                                                        reason=reason)))

    def fail(self, canonical_url: str, reason: str, max_attempts: int) -> None:
        """Queue a failed attempt at a URL (:func:`pipelines.archive.frontier.record_failure`),
        written with the next batch, after the marks queued before it."""
        self._queue(_Entry(None, step=functools.partial(frontier.record_failure, canonical_url=canonical_url,
                                                        reason=reason, max_attempts=max_attempts)))

    def _queue(self, entry: _Entry) -> None:
        if not self._pending:
            self._since = self.clock()
        self._pending.append(entry)

    def due(self) -> bool:
        """Something waits, and has waited ``interval`` seconds."""
        return bool(self._pending) and self.clock() - self._since >= self.interval

    def flush_if_due(self) -> list[Stored]:
        return self.flush() if self.due() else []

    def flush(self) -> list[Stored]:
        """Write everything queued in one transaction. An article that fails alone (bad
        data) is rolled back to before it and reported; a failure of the transaction (the
        disk is full) raises, and nothing of the batch is stored: its URLs stay as the
        frontier had them, to be fetched again."""
        entries, self._pending = self._pending, []
        if not entries:
            return []
        results: list[Stored] = []
        with immediate(self.db):
            for entry in entries:
                if entry.record is None:
                    entry.step(self.db)
                else:
                    results.append(self._put(entry))
        self.batches += 1
        return results

    def _put(self, entry: _Entry) -> Stored:
        self.db.execute("SAVEPOINT article")
        try:
            article_id, updated = put_article(self.db, entry.record, entry.done)
        except sqlite3.IntegrityError as exc:
            self.db.execute("ROLLBACK TO article")
            self.db.execute("RELEASE article")
            logger.error("not stored, %s: %s", entry.record.url, exc)
            return Stored(entry.record, None, error=str(exc), context=entry.context)
        self.db.execute("RELEASE article")
        return Stored(entry.record, article_id, updated, context=entry.context)

    def close(self) -> list[Stored]:
        """Write what is queued; the writer can be used again after."""
        return self.flush()
