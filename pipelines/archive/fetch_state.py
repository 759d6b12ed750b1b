"""Conditional GET for feeds and listing pages: the validators each answered with last time.

Feeds are fetched every run; sending back ``If-None-Match`` and ``If-Modified-Since`` lets
an unchanged feed answer 304 with no body (RFC 9110, 13.1), which the crawl counts as
"not modified", never as a failure.
"""
from __future__ import annotations

import sqlite_utils

from pipelines.archive.db import immediate, iso, utcnow


def conditional_headers(db: sqlite_utils.Database, url: str) -> dict[str, str]:
    row = db.execute("SELECT etag, last_modified FROM fetch_state WHERE url = ?", [url]).fetchone()
    headers: dict[str, str] = {}
    if row and row[0]:
        headers["If-None-Match"] = row[0]
    if row and row[1]:
        headers["If-Modified-Since"] = row[1]
    return headers


def remember(db: sqlite_utils.Database, url: str, etag: bytes | None, last_modified: bytes | None) -> None:
    values = [v.decode("latin-1") if v else None for v in (etag, last_modified)]
    with immediate(db):
        db.execute("INSERT INTO fetch_state (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,"
                   " last_modified = excluded.last_modified, checked_at = excluded.checked_at",
                   [url, *values, iso(utcnow())])
