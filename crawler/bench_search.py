"""Which full-text index serves search best: ``aibrief bench --search``.

The fixture week's articles and, when it is beside the checkout, the shared corpus's pages
are indexed in turn by each candidate, and the labelled queries of
``tests/fixtures/search/queries.tsv`` are run against each: recall is the share of a
query's expected articles among its first :data:`LIMIT` results, averaged over the queries
(Chinese and English apart); queries naming an article that is not there are left out.
Cost is the CPU time to build the index over every article (the median of
:data:`BUILDS` builds) and the index's size in the database (SQLite's ``dbstat``).

Candidates:

- ``trigram``: the archive's own index, trigrams of the title and the whole text;
- ``trigram-lead-N``: trigrams of the title, the summary and the first N characters of the
  text;
- ``jieba``: title and text normalised (Simplified, NFKC, lower case), cut into words by
  jieba (its search mode, which adds the shorter words inside long ones) and indexed by
  FTS5's unicode61 tokenizer; a query's terms are normalised and cut the same way, and all
  their words must match.

Every candidate keeps the fallback for terms of one or two characters (LIKE over title and
text), as :func:`pipelines.archive.search.search` does.
"""
from __future__ import annotations

import gzip
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from crawler.bench import corpus_name
from pipelines.analysis.extract import extract
from pipelines.analysis.summary import ranked_summary
from pipelines.analysis.text import CJK, normalize, tokenizer
from pipelines.archive.db import connect, immediate
from pipelines.archive.search import search

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "fixtures" / "search" / "queries.tsv"
WEEK = ROOT / "tests" / "fixtures" / "editorial" / "week.json"
LIMIT = 20  # the results a search shows (pipelines.archive.search.search's default)
LEAD_CHARS = (1000, 3000)
BUILDS = 3


@dataclass(slots=True, frozen=True)
class Doc:
    key: str
    title: str
    text: str
    summary: str


def labelled_queries(path: Path = QUERIES) -> list[tuple[str, frozenset[str]]]:
    """(query, keys of the articles it should find) for each line of the labelled set."""
    queries = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, expected = line.split("\t")
            queries.append((query, frozenset(expected.split())))
    return queries


def documents(corpus: Path | None) -> list[Doc]:
    """The fixture week's articles, and each corpus page's extracted article."""
    docs = [Doc(f"week:{a['id']}", a["title"], a["text"], ranked_summary(a["text"], 300, a["title"]))
            for a in json.loads(WEEK.read_text("utf-8"))["articles"]]
    for page in sorted(corpus.rglob("*.html.gz")) if corpus is not None else ():
        found = extract(gzip.decompress(page.read_bytes()), None, content_type=None, tz=ZoneInfo("UTC"),
                        now=datetime.now(timezone.utc)).article
        if found is not None and found.text:
            key = f"corpus:{page.parent.name}/{page.name.removesuffix('.html.gz')}"
            docs.append(Doc(key, found.title or "", found.text, ranked_summary(found.text, 300, found.title)))
    return docs


def load_archive(db: sqlite_utils.Database, docs: list[Doc]) -> None:
    """The articles, without any full-text index (each candidate builds its own)."""
    with immediate(db):
        for name in ("articles_ai", "articles_ad", "articles_au"):
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DROP TABLE IF EXISTS articles_fts")
        stamp = datetime(2022, 10, 14, tzinfo=timezone.utc).isoformat()
        db.conn.executemany(
            "INSERT INTO articles (id, canonical_url, url, title, published, published_from, text, summary, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, 'page', ?, ?, ?)",
            [(n, doc.key, doc.key, doc.title, stamp, doc.text, doc.summary, stamp) for n, doc in enumerate(docs, 1)])


def _words(text: str) -> str:
    return " ".join(w for w in tokenizer().cut_for_search(normalize(text), HMM=False) if w.strip())


class Candidate:
    """One way of indexing: ``rows`` gives the indexed (title, text) of an article."""

    def __init__(self, name: str, tokenize: str, rows) -> None:
        self.name, self.tokenize, self.rows = name, tokenize, rows

    def build(self, db: sqlite_utils.Database, docs: list[Doc]) -> float:
        """Make the index (as ``articles_fts``, which search reads); its CPU seconds."""
        started = time.process_time()
        with immediate(db):
            db.execute("DROP TABLE IF EXISTS articles_fts")
            db.execute(f"CREATE VIRTUAL TABLE articles_fts USING fts5 (title, text, content='', tokenize='{self.tokenize}')")
            db.conn.executemany("INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
                                [(n, *self.rows(doc)) for n, doc in enumerate(docs, 1)])
        return time.process_time() - started

    def search(self, db: sqlite_utils.Database, query: str) -> list[int]:
        return [hit.id for hit in search(db, query, limit=LIMIT)]


class JiebaCandidate(Candidate):
    def search(self, db: sqlite_utils.Database, query: str) -> list[int]:
        """As :func:`pipelines.archive.search.search`, each long term's words ANDed."""
        terms = query.split()
        long_terms = [t for t in terms if len(t) >= 3]
        short_terms = [t for t in terms if len(t) < 3]
        words = [w for t in long_terms for w in _words(t).split()]
        if words:
            sql = "SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?"
            params: list = [" AND ".join('"' + w.replace('"', '""') + '"' for w in words)]
            order = "ORDER BY articles_fts.rank"
        else:
            sql, params, order = "SELECT a.id FROM articles a WHERE 1", [], "ORDER BY a.published DESC"
        for term in short_terms:
            sql += " AND (a.title LIKE ? OR a.text LIKE ?)"
            params += [f"%{term}%", f"%{term}%"]
        return [row[0] for row in db.execute(f"{sql} {order} LIMIT ?", [*params, LIMIT])]


def candidates() -> list[Candidate]:
    found = [Candidate("trigram", "trigram", lambda d: (d.title, d.text))]
    found += [Candidate(f"trigram-lead-{n}", "trigram", lambda d, n=n: (d.title, f"{d.summary}\n{d.text[:n]}"))
              for n in LEAD_CHARS]
    found.append(JiebaCandidate("jieba", "unicode61", lambda d: (_words(d.title), _words(d.text))))
    return found


def recall(found: list[int], expected: frozenset[str], keys: dict[int, str]) -> float:
    return len({keys[i] for i in found} & expected) / len(expected)


def bench_search(corpus: Path | None, echo=print) -> dict:
    docs = documents(corpus)
    keys = {n: doc.key for n, doc in enumerate(docs, 1)}
    present = set(keys.values())
    queries = [(q, expected) for q, expected in labelled_queries() if expected <= present]
    tokenizer()
    result: dict = {"corpus": corpus_name(corpus), "articles": len(docs), "queries": len(queries),
                    "chars": sum(len(d.text) for d in docs), "candidates": {}}
    with tempfile.TemporaryDirectory(prefix="aibrief-search-") as tmp:
        db = connect(Path(tmp) / "search.db")
        load_archive(db, docs)
        for candidate in candidates():
            echo(f"{candidate.name}: indexing {len(docs)} articles {BUILDS} times ...")
            seconds = statistics.median(candidate.build(db, docs) for _ in range(BUILDS))
            size = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'").fetchone()[0]
            scores = {q: recall(candidate.search(db, q), expected, keys) for q, expected in queries}
            chinese = [s for q, s in scores.items() if CJK.search(q)]
            other = [s for q, s in scores.items() if not CJK.search(q)]
            result["candidates"][candidate.name] = {
                "recall": statistics.mean(scores.values()), "recall_zh": statistics.mean(chinese) if chinese else None,
                "recall_en": statistics.mean(other) if other else None,
                "index_ms_per_article": 1000 * seconds / len(docs), "index_kb_per_article": size / 1024 / len(docs),
                "missed": {q: s for q, s in scores.items() if s < 1}}
        db.close()
    return result


def report(result: dict) -> list[str]:
    lines = [f"{result['articles']} articles ({result['chars'] // result['articles']} characters on average) from the "
             f"fixture week and {result['corpus']}, {result['queries']} labelled queries, recall in the first {LIMIT}",
             f"{'index':18} {'recall':>7} {'zh':>6} {'en':>6} {'ms/article':>11} {'KB/article':>11}"]
    for name, c in result["candidates"].items():
        zh = f"{c['recall_zh']:.3f}" if c["recall_zh"] is not None else "-"
        en = f"{c['recall_en']:.3f}" if c["recall_en"] is not None else "-"
        lines.append(f"{name:18} {c['recall']:7.3f} {zh:>6} {en:>6} {c['index_ms_per_article']:11.2f} "
                     f"{c['index_kb_per_article']:11.1f}")
    return lines
