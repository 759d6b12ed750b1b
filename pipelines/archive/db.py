"""The SQLite archive: connection discipline and the schema, under numbered migrations.

One file, WAL so readers never block the crawl's writer, a busy timeout so a second
writer waits instead of failing, and ``BEGIN IMMEDIATE`` (:func:`immediate`) for every
step that reads and then writes. sqlite-utils' own ``atomic()`` opens a deferred
transaction, which can fail half-way with "database is locked" when another writer got in
between the read and the write; inside :func:`immediate` its methods nest as savepoints.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from pipelines.analysis.urls import canonical_url
from pipelines.archive import clock, clusters

logger = logging.getLogger(__name__)

# Long enough to sit out another process's write transaction (one article, one issue
# build); short enough that a wedged writer surfaces as an error within a minute.
BUSY_TIMEOUT_MS = 30_000


class StorageError(Exception):
    """The database cannot be opened or written; the message is one line."""


def utcnow() -> datetime:
    return clock.now()


def iso(moment: datetime | None) -> str | None:
    """Aware datetime -> UTC ISO 8601 text as stored (second precision)."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def connect(path: str | os.PathLike, *, migrate: bool = True, max_size_mb: float | None = None) -> sqlite_utils.Database:
    """Open the archive, creating it and bringing its schema up to date.

    ``max_size_mb`` caps the file (a quota): writes beyond it fail as on a full disk.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power cut can
        # lose the last transactions, never corrupt the file (sqlite.org/pragma.html).
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        if migrate:
            apply_migrations(db)
        if max_size_mb:
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {int(max_size_mb * 2**20 // page_size)}")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: cannot open the database: {exc}") from None
    except OSError as exc:
        raise StorageError(f"{path}: {exc.strerror or exc}") from None
    return db


@contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock before its first read."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.commit()


# --- schema -------------------------------------------------------------------------------

def _script(db: sqlite_utils.Database, script: str) -> None:
    """Run SQL statements one by one inside the caller's transaction. (``executescript``
    commits first, so a migration killed halfway would stay half applied, its version
    unrecorded, and fail on the next start.)"""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {statement.strip()[:80]}")


def _v1(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            url TEXT,
            enabled INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            canonical_url TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL,            -- final URL as fetched
            first_url TEXT,               -- the URL asked for, when a redirect led elsewhere
            source_id TEXT,               -- NULL for pages fetched by URL outside any source
            title TEXT,
            author TEXT,
            published TEXT NOT NULL,      -- UTC ISO 8601
            published_from TEXT NOT NULL, -- adapter | page | feed | fetched
            language TEXT,
            text TEXT NOT NULL,
            summary TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        );
        CREATE INDEX articles_published ON articles (published);
        CREATE INDEX articles_source ON articles (source_id);
        CREATE TABLE article_links (
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('paper', 'article', 'code', 'other')),
            label TEXT,
            PRIMARY KEY (article_id, url)
        );
        CREATE TABLE issues (
            id INTEGER PRIMARY KEY,
            date TEXT NOT NULL UNIQUE,    -- the issue day in the configured time zone
            title TEXT NOT NULL,
            headline TEXT NOT NULL,
            section TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            published_at TEXT
        );
        CREATE TABLE issue_items (
            issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            links TEXT NOT NULL DEFAULT '[]', -- JSON [{"role", "url"}] as they stand in the issue
            PRIMARY KEY (issue_id, position)
        );
        CREATE INDEX issue_items_canonical ON issue_items (canonical_url);
        CREATE INDEX issue_items_article ON issue_items (article_id);
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            command TEXT NOT NULL,
            sources TEXT NOT NULL DEFAULT '[]',
            counts TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
            error TEXT
        );
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        """
    )
    # Trigram FTS: the default tokenizer does not segment Chinese, so a search for a
    # Chinese word found almost nothing. Trigrams match any substring of three or more
    # characters; pipelines.archive.search falls back to LIKE for one- and two-character terms.
    _script(db, """
        CREATE VIRTUAL TABLE articles_fts USING FTS5 (title, text, content=articles, tokenize='trigram');
        CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
        END;
        CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        """)


def _v2(db: sqlite_utils.Database) -> None:
    """Extraction keeps the names in a byline, the images and which site adapter read the page."""
    _script(
        db,
        """
        ALTER TABLE articles ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';  -- JSON list of names
        ALTER TABLE articles ADD COLUMN images TEXT NOT NULL DEFAULT '[]';   -- JSON list of URLs
        ALTER TABLE articles ADD COLUMN site TEXT;                           -- the adapter, if any
        """
    )


def _v3(db: sqlite_utils.Database) -> None:
    """The frontier (every discovered article URL and its state), conditional-GET state per
    feed, and source health."""
    _script(
        db,
        """
        CREATE TABLE frontier (
            canonical_url TEXT PRIMARY KEY,
            url TEXT NOT NULL,                -- as discovered: what is fetched
            source_id TEXT,
            state TEXT NOT NULL CHECK (state IN ('pending', 'fetched', 'stored', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt TEXT,                -- failed: not before then; NULL: given up
            hints TEXT NOT NULL DEFAULT '{}', -- JSON: what the feed said (title, published, author)
            discovered_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX frontier_todo ON frontier (state, next_attempt);
        CREATE INDEX frontier_source ON frontier (source_id, state);
        INSERT INTO frontier (canonical_url, url, source_id, state, attempts, discovered_at, updated_at)
            SELECT canonical_url, url, source_id, 'stored', 1, fetched_at, fetched_at FROM articles;
        CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,             -- a feed or listing URL
            etag TEXT,
            last_modified TEXT,
            checked_at TEXT NOT NULL
        );
        ALTER TABLE sources ADD COLUMN last_attempt TEXT;
        ALTER TABLE sources ADD COLUMN last_success TEXT;
        ALTER TABLE sources ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN items_last INTEGER;
        ALTER TABLE sources ADD COLUMN last_error TEXT;
        """
    )


def _v4(db: sqlite_utils.Database) -> None:
    """Editorial: each article's relevance, topics and story cluster (with the MinHash band
    keys that find a new article's cluster in a few look-ups), re-fetches an editor asked
    for, and what an issue item says about its section, topics, source, image and the
    story's other copies. Articles stored before stay unclassified (NULL) until an issue
    build or ``aibrief reclassify`` reaches them."""
    _script(
        db,
        """
        ALTER TABLE articles ADD COLUMN relevance REAL;      -- classifier score; NULL: not classified yet
        ALTER TABLE articles ADD COLUMN topics TEXT;         -- JSON list of topic names, best first
        ALTER TABLE articles ADD COLUMN content_hash TEXT;   -- of the text in one script (pipelines.analysis.dedupe)
        ALTER TABLE articles ADD COLUMN cluster_id INTEGER;  -- the story: id of its cluster's first article
        CREATE INDEX articles_cluster ON articles (cluster_id);
        CREATE INDEX articles_content_hash ON articles (content_hash);
        CREATE TABLE minhash_bands (
            band_key INTEGER NOT NULL,                       -- one LSH band of the text's MinHash
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            PRIMARY KEY (band_key, article_id)
        ) WITHOUT ROWID;
        CREATE TABLE refetch_requests (
            canonical_url TEXT PRIMARY KEY,                  -- a stored article to fetch and update again
            requested_at TEXT NOT NULL
        );
        ALTER TABLE issue_items ADD COLUMN section TEXT;
        ALTER TABLE issue_items ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE issue_items ADD COLUMN source TEXT;      -- the source's name as the item shows it
        ALTER TABLE issue_items ADD COLUMN image TEXT;       -- the article's lead image
        ALTER TABLE issue_items ADD COLUMN alternates TEXT NOT NULL DEFAULT '[]';  -- JSON [{"url", "source", "title"}]
        ALTER TABLE issue_items ADD COLUMN rank INTEGER;     -- 1 = the top story; the headline names the first two
        """
    )


def _v5(db: sqlite_utils.Database) -> None:
    """Each article's MinHash signature, which settles most dedupe candidates without
    re-reading their text; and the full-text index refreshed only when the title or text
    changes (the trigger sqlite-utils made re-indexed the whole text on any update, such as
    setting an article's cluster right after storing it). Each article is its own
    transaction, so the index gains a segment with each; merging them 16 at a time rather
    than 4 costs a third less per stored article (5.2 ms against 3.3 ms on the shared
    corpus's pages, 4,900 characters on average)."""
    _script(
        db,
        """
        ALTER TABLE articles ADD COLUMN minhash BLOB;        -- pipelines.analysis.dedupe signature; NULL: none yet
        DROP TRIGGER IF EXISTS articles_au;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 16);
        """
    )


def _v6(db: sqlite_utils.Database) -> None:
    """Each article's title words as dedupe compares them, kept from when it was stored.
    Made again from the title for each candidate, they loaded jieba's dictionary into the
    crawl process (a few tenths of a second with the reactor stopped, and its memory) and
    segmented without the taxonomy's terms that the extraction workers segment with.
    Articles stored before keep NULL: their words are made from the title as before."""
    _script(
        db,
        """
        ALTER TABLE articles ADD COLUMN title_words TEXT;    -- pipelines.analysis.dedupe.title_words, space-separated
        """
    )


def _v7(db: sqlite_utils.Database) -> None:
    """What the daily 早报 layout shows and an imported archive states: per item its priority
    mark, every source it cites (the daily layout may name several) and a repository's
    stars; per issue its insights, its short version for WeChat Moments and the links it
    lists outside any item (an import's 其他 / 干货 lists)."""
    _script(
        db,
        """
        ALTER TABLE issue_items ADD COLUMN priority TEXT;    -- top | normal | low: the daily layout's mark
        ALTER TABLE issue_items ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';  -- JSON [{"name", "url"}]
        ALTER TABLE issue_items ADD COLUMN stars INTEGER;    -- a repository's stars (GitHub trending)
        ALTER TABLE issues ADD COLUMN insights TEXT NOT NULL DEFAULT '[]';      -- JSON list of short analyses
        ALTER TABLE issues ADD COLUMN moments TEXT NOT NULL DEFAULT '';         -- the short version for Moments
        ALTER TABLE issues ADD COLUMN links TEXT NOT NULL DEFAULT '[]';         -- JSON [{"role", "url", "label", "section"}]
        """
    )


def _v8(db: sqlite_utils.Database) -> None:
    """Canonical URLs on w3lib's canonical form (escapes, dot segments, IPv6) with more
    tracking names dropped: every stored key is computed again, so that the next crawl
    finds the articles it already has. Articles whose keys now collide are one article:
    the one fetched first stays, with its id, text, issue items and story; the others'
    issue items point to it and their story members join its story. Frontier rows and
    refetch requests that collide keep the row furthest along (stored before fetched
    before pending), then the first discovered."""
    recanonicalize(db)


def _recomputed(key: str) -> str:
    try:
        return canonical_url(key)
    except ValueError:
        return key  # not an http(s) URL: left as stored, never lost


def recanonicalize(db: sqlite_utils.Database) -> dict[str, int]:
    """Bring every stored canonical URL to :func:`canonical_url`'s current form, merging
    rows that now name one page (see :func:`_v8`). Returns counts of what changed. Runs in
    the caller's transaction."""
    counts = {"articles": 0, "merged": 0, "frontier": 0, "refetch": 0, "issue_items": 0}
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for article_id, key, fetched_at in db.execute(
            "SELECT id, canonical_url, fetched_at FROM articles ORDER BY fetched_at, id").fetchall():
        groups.setdefault(_recomputed(key), []).append((article_id, key, fetched_at))
    for new, rows in groups.items():
        keeper = rows[0][0]
        for duplicate, _, _ in rows[1:]:
            db.execute("UPDATE issue_items SET article_id = ? WHERE article_id = ?", [keeper, duplicate])
            db.execute("UPDATE articles SET cluster_id = (SELECT coalesce(cluster_id, id) FROM articles WHERE id = ?)"
                       " WHERE cluster_id = ? AND id != ?", [keeper, duplicate, duplicate])
            db.execute("DELETE FROM articles WHERE id = ?", [duplicate])
            counts["merged"] += 1
        if rows[0][1] != new:
            db.execute("UPDATE articles SET canonical_url = ? WHERE id = ?", [new, keeper])
            counts["articles"] += 1
    rank = "CASE state WHEN 'stored' THEN 0 WHEN 'fetched' THEN 1 WHEN 'pending' THEN 2 WHEN 'failed' THEN 3 ELSE 4 END"
    counts["frontier"] = _rekey(db, "frontier", f"{rank}, discovered_at")
    counts["refetch"] = _rekey(db, "refetch_requests", "requested_at")
    for (key,) in db.execute("SELECT DISTINCT canonical_url FROM issue_items").fetchall():
        new = _recomputed(key)
        if new != key:
            counts["issue_items"] += db.execute("UPDATE issue_items SET canonical_url = ? WHERE canonical_url = ?",
                                                [new, key]).rowcount
    return counts


def _rekey(db: sqlite_utils.Database, table: str, best_first: str) -> int:
    """New keys for a table keyed by canonical URL; of rows that collide, the first by
    ``best_first`` stays."""
    groups: dict[str, list[str]] = {}
    for (key,) in db.execute(f"SELECT canonical_url FROM {table} ORDER BY {best_first}").fetchall():
        groups.setdefault(_recomputed(key), []).append(key)
    changed = 0
    for new, keys in groups.items():
        for loser in keys[1:]:
            db.execute(f"DELETE FROM {table} WHERE canonical_url = ?", [loser])
        if keys[0] != new:
            db.execute(f"UPDATE {table} SET canonical_url = ? WHERE canonical_url = ?", [new, keys[0]])
            changed += 1
    return changed


def _v9(db: sqlite_utils.Database) -> None:
    """Sources as an editor weighs them: which are a vendor's or lab's own channel (its
    announcements are what the others report), and the discussions that link to an
    article (a Hacker News story: its thread, points and comments), kept apart from the
    article because the story may come before or after the page is stored, from a crawl
    of another source. An article gains its discussions as links of role ``discussion``
    when it is stored (the trigger) or when the discussion is found later
    (:func:`pipelines.archive.discussions.record_discussions`); ``article_links`` is
    made again to allow that role."""
    _script(
        db,
        """
        ALTER TABLE sources ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 0;  -- options.primary
        CREATE TABLE discussions (
            canonical_url TEXT NOT NULL,      -- the article discussed
            url TEXT NOT NULL,                -- the discussion's page
            label TEXT NOT NULL,              -- where it is ("Hacker News")
            points INTEGER NOT NULL DEFAULT 0,
            comments INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (canonical_url, url)
        );
        CREATE TABLE article_links_new (
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('paper', 'article', 'code', 'other', 'discussion')),
            label TEXT,
            PRIMARY KEY (article_id, url)
        );
        INSERT INTO article_links_new (article_id, url, role, label) SELECT article_id, url, role, label FROM article_links;
        DROP TABLE article_links;
        ALTER TABLE article_links_new RENAME TO article_links;
        CREATE TRIGGER articles_discussions AFTER INSERT ON articles BEGIN
          INSERT OR IGNORE INTO article_links (article_id, url, role, label)
            SELECT new.id, d.url, 'discussion', d.label FROM discussions d WHERE d.canonical_url = new.canonical_url;
        END;
        """
    )


def _v10(db: sqlite_utils.Database) -> None:
    """When the editor last changed a draft by hand (drop, move, add, edit): a rebuild then
    needs ``--force``, so that the editor's work is never replaced without a word."""
    _script(db, "ALTER TABLE issues ADD COLUMN edited_at TEXT;  -- NULL: as built\n")


def _v11(db: sqlite_utils.Database) -> None:
    """What the editor decided, as labels the relevance scorer learns from (a dropped item
    is one the editor did not want; an added, moved or edited one is wanted), and each
    trained scorer's record: when, on how much, and how it did on held-back weeks."""
    _script(
        db,
        """
        CREATE TABLE editor_labels (
            id INTEGER PRIMARY KEY,
            article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
            canonical_url TEXT NOT NULL,
            title TEXT NOT NULL,              -- as the item showed it
            text TEXT NOT NULL DEFAULT '',    -- the item's summary
            label INTEGER NOT NULL CHECK (label IN (0, 1)),  -- 1: wanted in the issue
            action TEXT NOT NULL CHECK (action IN ('drop', 'move', 'add', 'edit')),
            issue_date TEXT NOT NULL,         -- the issue it was decided in
            decided_at TEXT NOT NULL
        );
        CREATE INDEX editor_labels_url ON editor_labels (canonical_url, decided_at);
        CREATE TABLE relevance_models (
            id INTEGER PRIMARY KEY,
            trained_at TEXT NOT NULL,
            path TEXT NOT NULL,               -- the model file written
            items INTEGER NOT NULL,
            positives INTEGER NOT NULL,
            negatives INTEGER NOT NULL,
            negatives_from TEXT NOT NULL,     -- "archive", or the labelled set that stood in
            folds INTEGER NOT NULL,
            figures TEXT NOT NULL,            -- JSON {method: {precision, recall, f1}} over the folds
            used INTEGER NOT NULL,            -- 1: the combination beat the taxonomy; classification uses it
            train_seconds REAL NOT NULL
        );
        """
    )


def _v12(db: sqlite_utils.Database) -> None:
    """What the optional writer (an OpenAI-compatible model) wrote, and what its runs cost.
    An answer is kept under the hash of what was sent, the model and the prompt version, so
    that the same text is never sent again to the same model with the same prompt; beside
    it the article it was written for, the tokens it took and the reasons the check before
    use found (an answer with any is kept but not used). Failed requests keep nothing:
    the next run asks again."""
    _script(
        db,
        """
        CREATE TABLE writer_outputs (
            text_hash TEXT NOT NULL,          -- sha256 of what was sent (an article's title and text, an issue's items)
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('article', 'issue')),
            article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
            output TEXT NOT NULL,             -- JSON: the answer's fields
            flags TEXT NOT NULL DEFAULT '[]', -- JSON list of reasons not to use it
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            PRIMARY KEY (text_hash, model, prompt_version)
        );
        CREATE INDEX writer_outputs_article ON writer_outputs (article_id);
        CREATE TABLE writer_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            command TEXT NOT NULL,
            model TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cache_hits INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,   -- not asked: a budget was reached
            stopped TEXT                          -- why the run stopped asking, if it did
        );
        """
    )


def _v13_publish_deliveries(db: sqlite_utils.Database) -> None:
    """Each delivery of a published issue to an output of ``[[publish.outputs]]``: claimed
    before sending, then delivered or failed with the reason
    (:mod:`pipelines.archive.deliveries`)."""
    _script(
        db,
        """
        CREATE TABLE publish_deliveries (
            issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
            output TEXT NOT NULL,             -- the output's name in the configuration
            channel TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
            parts_sent INTEGER NOT NULL DEFAULT 0,  -- messages of a split delivery already sent
            attempts INTEGER NOT NULL DEFAULT 0,    -- requests made, retries included
            reason TEXT,                      -- why it failed
            updated_at TEXT NOT NULL,
            delivered_at TEXT,
            PRIMARY KEY (issue_id, output)
        );
        """
    )


def _v14_desk_versions(db: sqlite_utils.Database) -> None:
    """The editor's desk: each issue's version, bumped by every change to it (an edit, a
    rebuild, the writer, publishing), so that an edit made on a page showing an older
    version is refused rather than applied to items that moved; and the URLs an editor
    asked to add while they were not in the archive yet, until their fetch lands."""
    _script(
        db,
        """
        ALTER TABLE issues ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE desk_pending (
            id INTEGER PRIMARY KEY,
            issue_date TEXT NOT NULL,         -- the draft the URL goes into
            url TEXT NOT NULL,                -- as the editor gave it
            canonical_url TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('waiting', 'added', 'failed')),
            note TEXT,                        -- why it waits, where it went, or why it failed
            requested_at TEXT NOT NULL,
            settled_at TEXT,
            UNIQUE (issue_date, canonical_url)
        );
        """
    )


def _v15_bands_rehash(db: sqlite_utils.Database) -> None:
    """The MinHash hashes a shingle from its tokens' CRC-32s instead of its text's SHA-1
    (a page's fingerprint in half the time): every stored signature and band key is made
    again from the article's text (:func:`pipelines.archive.clusters.rehash`; ``aibrief
    bench --rehash`` times it on 100,000 articles). Clusters stay as they are."""
    clusters.rehash(db)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11,
                                                             _v12, _v13_publish_deliveries, _v14_desk_versions,
                                                             _v15_bands_rehash]


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def apply_migrations(db: sqlite_utils.Database) -> None:
    """Bring the schema to the newest version, one migration per transaction."""
    if schema_version(db) == len(MIGRATIONS):
        return  # the usual case, checked without taking the write lock
    while True:
        with immediate(db):
            version = schema_version(db)
            if version > len(MIGRATIONS):
                raise StorageError(
                    f"database schema version {version} is newer than this aibrief "
                    f"knows ({len(MIGRATIONS)}); upgrade aibrief")
            if version == len(MIGRATIONS):
                return
            logger.info("migrating database schema to version %d", version + 1)
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
