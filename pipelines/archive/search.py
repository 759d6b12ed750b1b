"""Full-text search over the archive.

The FTS5 index uses the trigram tokenizer, which matches any substring of three or more
characters, Chinese included; a term of one or two characters (most Chinese words are
two: 芯片, 量化) has no trigram, so it is matched with LIKE over the candidates instead.
Every term must match (AND).

Trigrams of the title and the whole text were kept over trigrams of the title, summary and
the opening of the text (a third of the index, but articles whose term stands further in
are missed) and over jieba's words under FTS5's unicode61 tokenizer (a quarter of the size
and words found apart, but nine times the indexing time, and jieba in the crawl process):
``aibrief bench --search`` measures them on the labelled queries of
tests/fixtures/search/queries.tsv, and tests/test_search_quality.py pins the recall.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

SNIPPET_CHARS = 60


@dataclass(slots=True)
class Hit:
    id: int
    title: str | None
    url: str
    published: str
    snippet: str


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(db: sqlite_utils.Database, query: str, limit: int = 20) -> list[Hit]:
    terms = [t for t in query.split() if t]
    if not terms:
        return []
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    where: list[str] = []
    params: list = []
    if long_terms:
        sql = ("SELECT a.id, a.title, a.url, a.published, a.text FROM articles_fts"
               " JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?")
        params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms))
        order = "ORDER BY articles_fts.rank"
    else:
        sql = "SELECT a.id, a.title, a.url, a.published, a.text FROM articles a WHERE 1"
        order = "ORDER BY a.published DESC"
    for term in short_terms:
        where.append("(a.title LIKE ? ESCAPE '\\' OR a.text LIKE ? ESCAPE '\\')")
        params += [_like(term), _like(term)]
    sql += "".join(f" AND {clause}" for clause in where) + f" {order} LIMIT ?"
    params.append(limit)
    return [Hit(id=row[0], title=row[1], url=row[2], published=row[3], snippet=_snippet(row[4], terms))
            for row in db.execute(sql, params)]


def _snippet(text: str, terms: list[str]) -> str:
    lowered = text.lower()
    at = min((i for i in (lowered.find(t.lower()) for t in terms) if i >= 0), default=0)
    start = max(0, at - SNIPPET_CHARS // 2)
    piece = " ".join(text[start:start + SNIPPET_CHARS].split())
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")
