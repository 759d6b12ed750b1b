"""The editor's decisions about draft items, kept as labels for the relevance scorer: a
dropped item was not wanted; an added, moved or edited one was
(:mod:`pipelines.editorial.training` learns from them). Each keeps what the item showed and
when it was decided."""
from __future__ import annotations

from datetime import date

import sqlite_utils

from pipelines.analysis.urls import canonical_url
from pipelines.archive.db import iso, utcnow

LABEL_ACTIONS = {"drop": 0, "move": 1, "add": 1, "edit": 1}


def record_label(db: sqlite_utils.Database, action: str, issue_date: date, *, url: str, title: str,
                 text: str, article_id: int | None) -> None:
    """Keep an editor's decision about an item (inside the caller's transaction)."""
    db.execute("INSERT INTO editor_labels (article_id, canonical_url, title, text, label, action, issue_date,"
               " decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [article_id, _key(url), title, text or "", LABEL_ACTIONS[action], action, issue_date.isoformat(),
                iso(utcnow())])


def labels(db: sqlite_utils.Database) -> list[dict]:
    """Every recorded decision, oldest first."""
    return list(db.query("SELECT * FROM editor_labels ORDER BY decided_at, id"))


def _key(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url
