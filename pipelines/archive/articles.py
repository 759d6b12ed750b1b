"""Articles in the archive: one row per canonical URL, with its cited links, stored in one
transaction with its frontier rows and its story cluster; a re-fetch asked for updates the
row in place.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from pipelines.analysis.dedupe import Fingerprint, indexed_band_keys
from pipelines.analysis.links import Link
from pipelines.archive import clusters, frontier
from pipelines.archive.db import immediate, iso, utcnow


@dataclass(slots=True)
class ArticleRecord:
    """An article as the archive keeps it."""

    canonical_url: str
    url: str
    source_id: str | None
    text: str
    summary: str
    published: datetime
    published_from: str  # adapter | page | feed | fetched | issue (an imported issue's date): where the date came from
    fetched_at: datetime
    first_url: str | None = None
    title: str | None = None
    author: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    links: list[Link] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    site: str | None = None
    # The page's analysis (pipelines.analysis.page). An article stored without it is
    # classified and clustered when an issue build first reaches it
    # (pipelines.editorial.compose.classify_stored).
    relevance: float | None = None
    topics: list[str] | None = None
    fingerprint: Fingerprint | None = None


def store_article(db: sqlite_utils.Database, record: ArticleRecord, done: tuple[str, ...] = ()) -> int | None:
    """Insert the article in a transaction of its own; None if its canonical URL is stored
    already (nothing changes), unless a re-fetch of it was asked for (``aibrief refetch``):
    then its row is updated in place (same id, same story cluster, the issues citing it
    unchanged). See :func:`put_article`; :class:`pipelines.archive.batch.BatchWriter`
    stores many in one transaction."""
    with immediate(db):
        article_id, _ = put_article(db, record, done)
    return article_id


def put_article(db: sqlite_utils.Database, record: ArticleRecord, done: tuple[str, ...] = ()) -> tuple[int | None, bool]:
    """:func:`store_article` inside the caller's transaction: (the article's id or None when
    it was stored already, whether a stored row was updated on request).

    The article is put in its story's cluster (:mod:`pipelines.archive.clusters`) in the
    same transaction, when the record carries its fingerprint. ``done``: frontier rows (URLs that led to this article) marked
    stored in the same transaction, so that a crash never leaves an article stored and
    its URL pending, or the other way round.
    """
    for key in done:
        frontier.mark(db, key, "stored")
    row = db.execute("SELECT id, text, minhash FROM articles WHERE canonical_url = ?",
                     [record.canonical_url]).fetchone()
    if row is not None:
        if not refetch_requested(db, record.canonical_url):
            return None, False
        _update_article(db, row[0], record, indexed_band_keys(row[2], row[1]))
        return row[0], True
    return insert_article(db, record), False


def insert_article(db: sqlite_utils.Database, record: ArticleRecord) -> int:
    """Insert an article whose canonical URL is not stored yet, inside the caller's
    transaction: its row, its story cluster, its links, its frontier row (stored), and the
    issue items that cite its URL."""
    cursor = db.execute(
        "INSERT INTO articles (canonical_url, url, first_url, source_id, title, author, authors,"
        " published, published_from, language, text, summary, fetched_at, images, site, relevance, topics)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [record.canonical_url, record.url, record.first_url, record.source_id, record.title,
         record.author, json.dumps(record.authors, ensure_ascii=False), iso(record.published),
         record.published_from, record.language, record.text, record.summary,
         iso(record.fetched_at), json.dumps(record.images), record.site, record.relevance,
         json.dumps(record.topics, ensure_ascii=False)])
    article_id = cursor.lastrowid
    if record.fingerprint is not None:
        clusters.assign_cluster(db, article_id, record.fingerprint, record.title, record.text)
    _insert_links(db, article_id, record.links)
    now = iso(utcnow())
    db.execute("INSERT INTO frontier (canonical_url, url, source_id, state, attempts, discovered_at, updated_at)"
               " VALUES (?, ?, ?, 'stored', 1, ?, ?) ON CONFLICT (canonical_url) DO UPDATE SET state = 'stored'",
               [record.canonical_url, record.url, record.source_id, now, now])
    # An issue imported or built before this page was fetched cites it by URL.
    db.execute("UPDATE issue_items SET article_id = ? WHERE canonical_url = ? AND article_id IS NULL",
               [article_id, record.canonical_url])
    return article_id


def _insert_links(db: sqlite_utils.Database, article_id: int, links: list[Link]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO article_links (article_id, url, role, label) VALUES (?, ?, ?, ?)",
                        [(article_id, link.url, link.role, link.label or None) for link in links])


def _update_article(db: sqlite_utils.Database, article_id: int, record: ArticleRecord,
                    old_band_keys: tuple[int, ...]) -> None:
    """A re-fetched article: its row says what the page says now. The publication date
    moves only when the page states one; the source it was filed under stays."""
    dated = record.published_from in ("adapter", "page")
    db.execute(
        "UPDATE articles SET url = ?, source_id = coalesce(source_id, ?), title = ?, author = ?, authors = ?,"
        " published = CASE WHEN ? THEN ? ELSE published END,"
        " published_from = CASE WHEN ? THEN ? ELSE published_from END,"
        " language = ?, text = ?, summary = ?, fetched_at = ?, images = ?, site = ?, relevance = ?, topics = ?"
        " WHERE id = ?",
        [record.url, record.source_id, record.title, record.author, json.dumps(record.authors, ensure_ascii=False),
         dated, iso(record.published), dated, record.published_from, record.language, record.text,
         record.summary, iso(record.fetched_at), json.dumps(record.images), record.site, record.relevance,
         json.dumps(record.topics, ensure_ascii=False), article_id])
    db.execute("DELETE FROM article_links WHERE article_id = ?", [article_id])
    _insert_links(db, article_id, record.links)
    if record.fingerprint is not None:
        clusters.reindex(db, article_id, old_band_keys, record.fingerprint)
    else:  # classified and clustered anew when an issue build reaches it
        clusters.unindex(db, article_id, old_band_keys)
    db.execute("DELETE FROM refetch_requests WHERE canonical_url = ?", [record.canonical_url])


def refetch_requested(db: sqlite_utils.Database, canonical_url: str) -> bool:
    return db.execute("SELECT 1 FROM refetch_requests WHERE canonical_url = ?", [canonical_url]).fetchone() is not None


def request_refetch(db: sqlite_utils.Database, canonical_url: str, url: str) -> None:
    """Ask for a stored article to be fetched again and its row updated: the frontier
    holds the URL as pending (so the next crawl, or ``scrapy crawl urls``, fetches it)
    and the request lets the stored article through the canonical stage once."""
    now = iso(utcnow())
    with immediate(db):
        db.execute("INSERT INTO refetch_requests (canonical_url, requested_at) VALUES (?, ?)"
                   " ON CONFLICT (canonical_url) DO UPDATE SET requested_at = excluded.requested_at",
                   [canonical_url, now])
        db.execute("INSERT INTO frontier (canonical_url, url, source_id, state, attempts, discovered_at, updated_at)"
                   " VALUES (?, ?, NULL, 'pending', 0, ?, ?) ON CONFLICT (canonical_url) DO UPDATE SET"
                   " state = 'pending', attempts = 0, next_attempt = NULL, last_error = NULL, updated_at = ?",
                   [canonical_url, url, now, now, now])


@dataclass(slots=True, frozen=True)
class SourceRow:
    """A configured source as the ``sources`` table keeps it."""

    id: str
    kind: str
    name: str
    url: str | None
    enabled: bool
    primary: bool = False  # a vendor's or lab's own channel (options.primary)


def sync_sources(db: sqlite_utils.Database, sources: Iterable[SourceRow]) -> None:
    """Make the sources table say what the configuration says (sources are never deleted:
    articles keep naming the source they came from)."""
    now = iso(utcnow())
    with immediate(db):
        for source in sources:
            db.execute(
                "INSERT INTO sources (id, kind, name, url, enabled, is_primary, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
                " url = excluded.url, enabled = excluded.enabled, is_primary = excluded.is_primary,"
                " updated_at = excluded.updated_at",
                [source.id, source.kind, source.name, source.url, int(source.enabled), int(source.primary), now])


def stored_canonical_urls(db: sqlite_utils.Database, urls: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(row[0] for row in db.execute(
            f"SELECT canonical_url FROM articles WHERE canonical_url IN ({marks})", chunk))
    return found


def request_refetches(db: sqlite_utils.Database, wanted: dict[str, str]) -> set[str]:
    """:func:`request_refetch` for each stored article of ``wanted`` (canonical URL -> URL);
    returns the canonical URLs that were stored (the others are new to the archive)."""
    stored = stored_canonical_urls(db, list(wanted))
    for key in stored:
        request_refetch(db, key, wanted[key])
    return stored


def pending_refetches(db: sqlite_utils.Database) -> set[str]:
    """Canonical URLs whose re-fetch was asked for and has not happened."""
    return {row[0] for row in db.execute("SELECT canonical_url FROM refetch_requests")}
