"""URLs an editor asked to add to a draft before the archive held them.

Such a URL waits here while it is fetched (the ``urls`` crawl that ``aibrief refetch``
runs, under the run lock; while another run holds the lock it keeps waiting). Once its
article is stored, :func:`settle_pending` adds it to its draft through
:func:`pipelines.editorial.editor.add_item`, as ``aibrief issue add`` would, and notes
where it went; one that the fetch did not store, or that the draft refuses (its story is
in the draft already, the issue was published meanwhile), is kept as failed with the
reason. Nothing is asked twice: a URL waits once per draft.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import sqlite_utils

from pipelines.analysis.settings import EditorialSettings
from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import stored_canonical_urls
from pipelines.archive.db import immediate, iso, utcnow
from pipelines.editorial.editor import add_item
from pipelines.editorial.issues import IssueError


@dataclass(slots=True)
class PendingUrl:
    id: int
    issue_date: date
    url: str
    canonical_url: str
    state: str  # waiting | added | failed
    note: str | None
    requested_at: str


def queue_url(db: sqlite_utils.Database, day: date, url: str) -> PendingUrl:
    """Keep ``url`` waiting for the draft of ``day``; the same URL asked again (after it
    failed) waits again rather than twice. IssueError for no http(s) URL."""
    try:
        key = canonical_url(url)
    except ValueError as exc:
        raise IssueError(str(exc)) from None
    with immediate(db):
        db.execute("INSERT INTO desk_pending (issue_date, url, canonical_url, state, requested_at)"
                   " VALUES (?, ?, ?, 'waiting', ?) ON CONFLICT (issue_date, canonical_url) DO UPDATE"
                   " SET state = 'waiting', note = NULL, url = excluded.url, requested_at = excluded.requested_at,"
                   " settled_at = NULL WHERE state = 'failed'", [day.isoformat(), url.strip(), key, iso(utcnow())])
    return _pending(db, "issue_date = ? AND canonical_url = ?", [day.isoformat(), key])[0]


def pending_urls(db: sqlite_utils.Database, day: date) -> list[PendingUrl]:
    """The URLs asked for the draft of ``day``, oldest first."""
    return _pending(db, "issue_date = ?", [day.isoformat()])


def waiting_urls(db: sqlite_utils.Database) -> list[str]:
    """Every URL still waiting to be fetched, for any draft."""
    return [row[0] for row in db.execute("SELECT DISTINCT url FROM desk_pending WHERE state = 'waiting' ORDER BY id")]


def note_waiting(db: sqlite_utils.Database, note: str) -> None:
    """Say why the waiting URLs still wait (the run lock is held, say)."""
    with immediate(db):
        db.execute("UPDATE desk_pending SET note = ? WHERE state = 'waiting'", [note])


def settle_pending(db: sqlite_utils.Database, settings: EditorialSettings, *,
                   fetched: Collection[str] = ()) -> int:
    """Add each waiting URL whose article is stored now to its draft; the ones in
    ``fetched`` (a fetch of them just ended) that are still not stored fail. Returns how
    many settled."""
    settled = 0
    waiting = _pending(db, "state = 'waiting'", [])
    stored = stored_canonical_urls(db, [pending.canonical_url for pending in waiting])
    for pending in waiting:
        if pending.canonical_url not in stored and pending.url not in fetched:
            continue
        if pending.canonical_url not in stored:
            state, note = "failed", "not fetched: the page gave no article (see aibrief runs)"
        else:
            try:
                _, position = add_item(db, pending.issue_date, pending.url, settings)
                state, note = "added", f"added as item {position}"
            except IssueError as exc:
                state, note = "failed", str(exc)
        with immediate(db):
            db.execute("UPDATE desk_pending SET state = ?, note = ?, settled_at = ? WHERE id = ?",
                       [state, note, iso(utcnow()), pending.id])
        settled += 1
    return settled


def _pending(db: sqlite_utils.Database, where: str, params: list) -> list[PendingUrl]:
    return [PendingUrl(id=row[0], issue_date=date.fromisoformat(row[1]), url=row[2], canonical_url=row[3],
                       state=row[4], note=row[5], requested_at=row[6])
            for row in db.execute(f"SELECT id, issue_date, url, canonical_url, state, note, requested_at FROM desk_pending"
                                  f" WHERE {where} ORDER BY id", params)]
