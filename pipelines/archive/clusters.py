"""Story clusters in the archive: a new article joins the cluster of its most similar
stored copy (:mod:`pipelines.analysis.dedupe` says what "the same story" is).

Candidates come from the exact content hash and from the MinHash band keys kept in
``minhash_bands``; each is checked by its signature estimate and, only near the threshold,
against its stored text.
"""
from __future__ import annotations

import sqlite_utils

from pipelines.analysis.dedupe import (
    BANDS,
    ESTIMATE_MARGIN,
    MAX_CANDIDATES,
    MIN_SHINGLES,
    SAME_STORY_JACCARD,
    Fingerprint,
    Match,
    estimated_jaccard,
    fingerprint,
    jaccard,
    same_title_story,
    text_shingles,
    title_words,
)


def find_matches(db: sqlite_utils.Database, fp: Fingerprint, title: str | None, text: str | None,
                 exclude_id: int | None = None) -> list[Match]:
    """Stored articles that are the same story as ``text`` (whose fingerprint is ``fp``),
    most similar first."""
    mine: frozenset[str] | None = None  # the text's shingles, made when first needed
    candidates: dict[int, int] = {}
    for (article_id,) in db.execute("SELECT id FROM articles WHERE content_hash = ? LIMIT ?",
                                    [fp.content_hash, MAX_CANDIDATES]):
        candidates[article_id] = BANDS + 1
    if fp.band_keys:
        marks = ",".join("?" * len(fp.band_keys))
        for article_id, hits in db.execute(
                f"SELECT article_id, count(*) AS n FROM minhash_bands WHERE band_key IN ({marks})"
                " GROUP BY article_id ORDER BY n DESC LIMIT ?", [*fp.band_keys, MAX_CANDIDATES]):
            candidates.setdefault(article_id, hits)
    candidates.pop(exclude_id, None)
    if not candidates:
        return []
    chosen = sorted(candidates, key=lambda a: -candidates[a])[:MAX_CANDIDATES]
    matches: list[Match] = []
    marks = ",".join("?" * len(chosen))
    for article_id, cluster_id, other_title, other_words, content_hash, signature in db.execute(
            f"SELECT id, cluster_id, title, title_words, content_hash, minhash FROM articles WHERE id IN ({marks})",
            chosen):
        theirs = title_words(other_title) if other_words is None else frozenset(other_words.split())
        if not same_title_story(fp.title_words, theirs, bool(title), bool(other_title)):
            continue
        if content_hash == fp.content_hash:
            similarity = 1.0
        else:
            if fp.shingle_count < MIN_SHINGLES:
                continue
            similarity = estimated_jaccard(fp.signature, signature)
            if similarity is None or abs(similarity - SAME_STORY_JACCARD) < ESTIMATE_MARGIN:
                (other_text,) = db.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
                mine = text_shingles(text) if mine is None else mine
                similarity = jaccard(mine, text_shingles(other_text))
            if similarity < SAME_STORY_JACCARD:
                continue
        matches.append(Match(article_id, cluster_id or article_id, round(similarity, 3)))
    matches.sort(key=lambda m: (-m.similarity, m.article_id))
    return matches


def assign_cluster(db: sqlite_utils.Database, article_id: int, fp: Fingerprint, title: str | None,
                   text: str | None) -> Match | None:
    """Put a just-stored article (``title``, ``text``: the fingerprint's) in its story's
    cluster (or a new one of its own) and index its band keys; inside the caller's
    transaction. Returns the match it joined, if any."""
    matches = find_matches(db, fp, title, text, exclude_id=article_id)
    best = matches[0] if matches else None
    db.execute("UPDATE articles SET content_hash = ?, minhash = ?, title_words = ?, cluster_id = ? WHERE id = ?",
               [fp.content_hash, fp.signature or None, _stored_words(fp), best.cluster_id if best else article_id,
                article_id])
    db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band_key, article_id) VALUES (?, ?)",
                   [(key, article_id) for key in fp.band_keys])
    return best


def reindex(db: sqlite_utils.Database, article_id: int, old_keys: tuple[int, ...], new: Fingerprint) -> None:
    """An article's text changed (a refetch): its band keys (``old_keys`` before, see
    :func:`indexed_band_keys`), hash and title words follow; its cluster stays, so that
    what an issue says about the story does not move."""
    db.conn.executemany("DELETE FROM minhash_bands WHERE band_key = ? AND article_id = ?",
                   [(key, article_id) for key in old_keys])
    db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band_key, article_id) VALUES (?, ?)",
                   [(key, article_id) for key in new.band_keys])
    db.execute("UPDATE articles SET content_hash = ?, minhash = ?, title_words = ? WHERE id = ?",
               [new.content_hash, new.signature or None, _stored_words(new), article_id])


def _stored_words(fp: Fingerprint) -> str:
    """The title words as the ``title_words`` column keeps them (no word holds a space)."""
    return " ".join(sorted(fp.title_words))


def unindex(db: sqlite_utils.Database, article_id: int, old_keys: tuple[int, ...]) -> None:
    """An article's text changed and its new fingerprint is not known yet: its old band
    keys and hash go; it keeps its cluster until it is fingerprinted again."""
    db.conn.executemany("DELETE FROM minhash_bands WHERE band_key = ? AND article_id = ?",
                        [(key, article_id) for key in old_keys])
    db.execute("UPDATE articles SET content_hash = NULL, minhash = NULL, title_words = NULL WHERE id = ?",
               [article_id])


REHASH_CHUNK = 500  # articles read, fingerprinted and written back at a time


def rehash(db: sqlite_utils.Database) -> int:
    """Make every fingerprinted article's MinHash signature and band keys again from its
    stored text, with the MinHash of :mod:`pipelines.analysis.dedupe` as it is now, inside
    the caller's transaction (a change of the shingle hash orphans every stored key). Hash,
    title words and clusters stay. Returns the articles re-indexed."""
    db.execute("DELETE FROM minhash_bands")
    done, last = 0, 0
    while rows := db.execute("SELECT id, text FROM articles WHERE content_hash IS NOT NULL AND id > ?"
                             " ORDER BY id LIMIT ?", [last, REHASH_CHUNK]).fetchall():
        signatures, bands = [], []
        for article_id, text in rows:
            fp = fingerprint(None, text or "")
            signatures.append((fp.signature or None, article_id))
            bands += [(key, article_id) for key in fp.band_keys]
        db.conn.executemany("UPDATE articles SET minhash = ? WHERE id = ?", signatures)
        db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band_key, article_id) VALUES (?, ?)", bands)
        done += len(rows)
        last = rows[-1][0]
    return done
