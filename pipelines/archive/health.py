"""Source health: when each source last worked, how many times in a row it has failed,
how many items it had last time, and the last error, from each crawl's counts; and how
many of its recent articles reached an issue, so that an editor sees which sources earn
their place."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from pipelines.archive.db import immediate, iso, utcnow


def update_health(db: sqlite_utils.Database, source_ids: list[str], stats: dict) -> None:
    now = iso(utcnow())
    with immediate(db):
        for source_id in source_ids:
            key = f"aibrief/source/{source_id}"
            if stats.get(f"{key}/failed"):
                db.execute("UPDATE sources SET last_attempt = ?, consecutive_failures = consecutive_failures + 1,"
                           " last_error = ? WHERE id = ?", [now, stats.get(f"{key}/error"), source_id])
            elif stats.get(f"{key}/ok"):
                db.execute("UPDATE sources SET last_attempt = ?, last_success = ?, consecutive_failures = 0,"
                           " items_last = ?, last_error = NULL WHERE id = ?",
                           [now, now, int(stats.get(f"{key}/entries", 0)), source_id])


# How far back `aibrief sources` looks for a source's share of items that reached an issue.
ISSUE_SHARE_DAYS = 30


def source_table(db: sqlite_utils.Database, now: datetime | None = None,
                 days: int = ISSUE_SHARE_DAYS) -> list[dict]:
    """Each source's health, and what it gave the issues: ``stored`` (articles of the last
    ``days`` days), ``in_issue`` (of those, the ones whose story an issue carried, as its
    cited item or as an alternate copy) and ``issue_share`` (their share; None when the
    source stored nothing)."""
    since = iso((now or utcnow()) - timedelta(days=days))
    rows = list(db.query(
        "SELECT s.id, s.kind, s.enabled, s.last_success, s.consecutive_failures, s.items_last, s.last_error,"
        " count(a.id) AS stored,"
        " count(a.id) FILTER (WHERE EXISTS (SELECT 1 FROM issue_items ii JOIN articles c ON c.id = ii.article_id"
        "   WHERE coalesce(c.cluster_id, c.id) = coalesce(a.cluster_id, a.id))) AS in_issue"
        " FROM sources s LEFT JOIN articles a ON a.source_id = s.id AND a.fetched_at >= ?"
        " GROUP BY s.id ORDER BY s.consecutive_failures DESC, s.id", [since]))
    for row in rows:
        row["issue_share"] = row["in_issue"] / row["stored"] if row["stored"] else None
    return rows
