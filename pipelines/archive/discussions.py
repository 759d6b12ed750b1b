"""Discussions of articles (a Hacker News story's thread): where, how many points and
comments, kept by the canonical URL of the article discussed.

A story is seen again on every crawl while it stays on the front page: its points and
comments are updated, never added twice. The article, stored before or after, carries the
discussion as a link of role ``discussion`` (the schema's trigger covers articles stored
after; :func:`record_discussions` the ones stored before).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from pipelines.archive.db import immediate, iso, utcnow


@dataclass(slots=True)
class Discussion:
    canonical_url: str  # of the article discussed
    url: str  # the discussion's page
    label: str
    points: int = 0
    comments: int = 0


def record_discussions(db: sqlite_utils.Database, found: list[Discussion]) -> None:
    """Keep each discussion (its latest points and comments), and link it from its article
    when that is stored already; one transaction."""
    if not found:
        return
    now = iso(utcnow())
    with immediate(db):
        for d in found:
            db.execute("INSERT INTO discussions (canonical_url, url, label, points, comments, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (canonical_url, url) DO UPDATE SET"
                       " points = excluded.points, comments = excluded.comments, updated_at = excluded.updated_at",
                       [d.canonical_url, d.url, d.label, d.points, d.comments, now])
            db.execute("INSERT OR IGNORE INTO article_links (article_id, url, role, label)"
                       " SELECT id, ?, 'discussion', ? FROM articles WHERE canonical_url = ?",
                       [d.url, d.label, d.canonical_url])


def points_by_url(db: sqlite_utils.Database, canonical_urls: list[str]) -> dict[str, int]:
    """The most points any discussion gave each of these articles (absent: none)."""
    found: dict[str, int] = {}
    for start in range(0, len(canonical_urls), 500):
        chunk = canonical_urls[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for url, points in db.execute(f"SELECT canonical_url, max(points) FROM discussions"
                                      f" WHERE canonical_url IN ({marks}) GROUP BY canonical_url", chunk):
            found[url] = points
    return found
