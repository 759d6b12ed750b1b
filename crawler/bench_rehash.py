"""How long the band-key migration (``_v15_bands_rehash``) takes on a large archive:
``aibrief bench --rehash``.

A temporary archive at the schema before that migration is filled with ``n_articles``
fingerprinted articles whose texts are the corpus's articles (``../shared/corpus`` beside
the checkout, or the bundled sample pages), each one's paragraphs turned round by a
different amount and numbered so that no two are the same text; their stored signatures and
band keys are random, as keys of the old hash are to the new one. The archive is written in
bulk without its full-text index (the migration does not touch it). Then the migration runs
as ``aibrief`` would run it on opening the archive, and its wall and CPU time are measured.
"""
from __future__ import annotations

import os
import random
import struct
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.bench import sample_pages
from pipelines.analysis.dedupe import BANDS, NUM_PERM
from pipelines.analysis.extract import extract
from pipelines.archive import db as storage
from pipelines.archive.db import apply_migrations, connect, immediate, schema_version

MIGRATION = "_v15_bands_rehash"
WRITE_EVERY = 5000


def corpus_texts(corpus: Path | None) -> list[str]:
    """The article texts of the corpus's pages."""
    texts = []
    for body in sample_pages(corpus):
        found = extract(body, None, content_type=None, tz=ZoneInfo("UTC"), now=datetime.now(timezone.utc)).article
        if found is not None and found.text:
            texts.append(found.text)
    return texts


def bench_rehash(n_articles: int = 100_000, corpus: Path | None = None, echo=print) -> dict:
    version = next(n for n, step in enumerate(storage.MIGRATIONS) if step.__name__ == MIGRATION)
    texts = corpus_texts(corpus)
    rng = random.Random(13)
    with tempfile.TemporaryDirectory(prefix="aibrief-rehash-") as tmp:
        path = Path(tmp) / "archive.db"
        db = connect(path, migrate=False)
        with immediate(db):
            for migration in storage.MIGRATIONS[:version]:
                migration(db)
            db.execute(f"PRAGMA user_version = {version}")
        echo(f"writing {n_articles} articles ...")
        _populate(db, n_articles, texts, rng)
        chars = db.execute("SELECT avg(length(text)) FROM articles").fetchone()[0]
        db.close()
        size_mb = os.path.getsize(path) / 2**20
        echo(f"migrating {n_articles} articles ({chars:.0f} characters on average, {size_mb:.0f} MB) ...")
        db = connect(path, migrate=False)
        wall, cpu = time.perf_counter(), time.process_time()
        apply_migrations(db)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        bands = db.execute("SELECT count(*) FROM minhash_bands").fetchone()[0]
        migrated = schema_version(db)
        db.close()
    return {"articles": n_articles, "texts": len(texts), "avg_chars": round(chars), "db_mb": round(size_mb),
            "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "ms_per_article": 1000 * wall / n_articles,
            "band_rows": bands, "schema_version": migrated}


def _populate(db, n: int, texts: list[str], rng: random.Random) -> None:
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'"
                          " AND sql LIKE '%articles_fts%'").fetchall()
    rows: list[tuple] = []
    bands: list[tuple[int, int]] = []
    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc).isoformat()

    def write() -> None:
        db.conn.executemany(
            "INSERT INTO articles (id, canonical_url, url, source_id, title, published, published_from, text,"
            " summary, fetched_at, content_hash, minhash, cluster_id) VALUES (?, ?, ?, 'bench', ?, ?, 'page', ?, '',"
            " ?, ?, ?, ?)", rows)
        db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band_key, article_id) VALUES (?, ?)", bands)
        rows.clear()
        bands.clear()

    with immediate(db):
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        for article_id in range(1, n + 1):
            paragraphs = texts[article_id % len(texts)].splitlines()
            turn = (article_id // len(texts)) % max(len(paragraphs), 1)
            text = "\n".join(paragraphs[turn:] + paragraphs[:turn]) + f"\n{article_id}"
            url = f"https://bench.test/a/{article_id}"
            rows.append((article_id, url, url, f"第{article_id}篇", stamp, text, stamp, f"{rng.getrandbits(160):040x}",
                         rng.getrandbits(32 * NUM_PERM).to_bytes(4 * NUM_PERM, "little"), article_id))
            bands += [(struct.unpack("<q", rng.getrandbits(64).to_bytes(8, "little"))[0], article_id)
                      for _ in range(BANDS)]
            if len(rows) >= WRITE_EVERY:
                write()
        write()
        for _, sql in triggers:
            db.execute(sql)

