"""The crawl frontier, kept in the archive: every article URL ever discovered, and its state.

Scrapy's JOBDIR does not survive ``kill -9`` (a probe resumed 117 of 200 articles and never
fetched the rest); the database does. A URL is ``pending`` when discovered, ``fetched``
when its page came in, ``stored`` in the very transaction that stores its article,
``skipped`` when it is no article (with the reason), ``failed`` when fetching failed, with
the attempts counted and the next attempt pushed back, until it is given up. A crawl that
was killed anywhere resumes from the pending, fetched and due-again rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from pipelines.archive.db import immediate, iso, parse_iso, utcnow

# Back-off after the n-th failed attempt: an hour, doubling, at most a day; a site that is
# down for a weekend is tried again on Monday, a dead link a handful of times in a week.
FIRST_RETRY = timedelta(hours=1)
LONGEST_RETRY = timedelta(days=1)


@dataclass(slots=True)
class Entry:
    canonical_url: str
    url: str
    source_id: str | None
    state: str
    attempts: int
    next_attempt: str | None
    hints: dict[str, Any]


def _dump_hints(hints: dict[str, Any]) -> str:
    return json.dumps({k: (iso(v) if isinstance(v, datetime) else v) for k, v in hints.items() if v is not None},
                      ensure_ascii=False, sort_keys=True)


def load_hints(text: str | None) -> dict[str, Any]:
    hints = json.loads(text or "{}")
    if hints.get("published"):
        hints["published"] = parse_iso(hints["published"])
    return hints


def get(db: sqlite_utils.Database, canonical_url: str) -> Entry | None:
    row = db.execute("SELECT canonical_url, url, source_id, state, attempts, next_attempt, hints"
                     " FROM frontier WHERE canonical_url = ?", [canonical_url]).fetchone()
    if row is None:
        return None
    return Entry(*row[:6], hints=load_hints(row[6]))


def discover_many(db: sqlite_utils.Database, found: list[tuple[str, str, str | None, dict[str, Any]]],
                  max_attempts: int) -> list[tuple[bool, str]]:
    """Record each discovered (canonical URL, URL, source, hints) of a feed, a listing, a
    sitemap, a URL list or an arXiv answer, in one transaction (a commit per URL was a good
    part of a crawl's time per page); returns (fetch it now?, why not / state) for each."""
    now = utcnow()
    answers = []
    with immediate(db):
        for canonical_url, url, source_id, hints in found:
            answers.append(_discover(db, canonical_url, url, source_id, hints, max_attempts, now))
    return answers


def _discover(db: sqlite_utils.Database, canonical_url: str, url: str, source_id: str | None,
              hints: dict[str, Any], max_attempts: int, now: datetime) -> tuple[bool, str]:
    entry = get(db, canonical_url)
    if entry is None:
        db.execute("INSERT INTO frontier (canonical_url, url, source_id, state, hints, discovered_at, updated_at)"
                   " VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                   [canonical_url, url, source_id, _dump_hints(hints), iso(now), iso(now)])
        return True, "new"
    if entry.state in ("stored", "skipped"):
        return False, "known"
    if entry.state == "failed":
        if entry.attempts >= max_attempts or entry.next_attempt is None:
            return False, "given_up"
        if parse_iso(entry.next_attempt) > now:
            return False, "backoff"
    if hints and not entry.hints:
        db.execute("UPDATE frontier SET hints = ? WHERE canonical_url = ?", [_dump_hints(hints), canonical_url])
    return True, entry.state


def due(db: sqlite_utils.Database, source_ids: list[str] | None, max_attempts: int,
        limit: int = 10_000) -> list[Entry]:
    """URLs left over by earlier crawls that should be fetched now: pending, fetched but not
    stored (the crawl died in between), failed and due again."""
    now = iso(utcnow())
    sql = ("SELECT canonical_url, url, source_id, state, attempts, next_attempt, hints FROM frontier"
           " WHERE (state IN ('pending', 'fetched') OR (state = 'failed' AND attempts < ? AND next_attempt <= ?))")
    params: list[Any] = [max_attempts, now]
    if source_ids is not None:
        sql += f" AND source_id IN ({','.join('?' * len(source_ids))})"
        params += source_ids
    sql += " ORDER BY discovered_at LIMIT ?"
    params.append(limit)
    return [Entry(*row[:6], hints=load_hints(row[6])) for row in db.execute(sql, params)]


def mark(db: sqlite_utils.Database, canonical_url: str, state: str, reason: str | None = None) -> None:
    """Set a URL's state; inside a caller's transaction when there is one."""
    db.execute("UPDATE frontier SET state = ?, last_error = ?, next_attempt = NULL, updated_at = ?"
               " WHERE canonical_url = ?", [state, reason, iso(utcnow()), canonical_url])


def mark_failed(db: sqlite_utils.Database, canonical_url: str, reason: str, max_attempts: int) -> int:
    """Count a failed attempt and set the next one; returns the attempts so far."""
    with immediate(db):
        return record_failure(db, canonical_url, reason, max_attempts)


def record_failure(db: sqlite_utils.Database, canonical_url: str, reason: str, max_attempts: int) -> int:
    """:func:`mark_failed` inside the caller's transaction."""
    now = utcnow()
    row = db.execute("SELECT attempts FROM frontier WHERE canonical_url = ?", [canonical_url]).fetchone()
    attempts = (row[0] if row else 0) + 1
    wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
    next_attempt = iso(now + wait) if attempts < max_attempts else None
    db.execute("UPDATE frontier SET state = 'failed', attempts = ?, last_error = ?, next_attempt = ?,"
               " updated_at = ? WHERE canonical_url = ?",
               [attempts, reason[:500], next_attempt, iso(now), canonical_url])
    return attempts


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.execute("SELECT state, count(*) FROM frontier GROUP BY state").fetchall())
