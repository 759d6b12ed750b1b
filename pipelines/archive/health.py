"""Source health: when each source last worked, how many times in a row it has failed,
how many items it had last time, and the last error, from each crawl's counts."""
from __future__ import annotations

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


def source_table(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT id, kind, enabled, last_success, consecutive_failures, items_last, last_error"
                         " FROM sources ORDER BY consecutive_failures DESC, id"))
