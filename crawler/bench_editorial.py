"""Benchmark of the editorial path at archive scale: building an issue, and one article's dedupe.

    from crawler.bench_editorial import bench_editorial
    bench_editorial(100_000)

A temporary archive is filled with ``n_articles`` articles spread over two years (six in
ten relevant, topics drawn from the shipped taxonomy, each with its own story cluster and
MinHash band keys), written in bulk: their band keys are random 64-bit integers, which is
what distinct texts give. Then it measures

* ``build_issue_s``: :func:`pipelines.editorial.issues.build_issue` of the issue day after the
  newest article (the median of three builds);
* ``dedupe_ms``: fingerprinting one new article's text and putting it in its cluster in
  the store's transaction (:func:`pipelines.analysis.dedupe.fingerprint` and
  :func:`pipelines.analysis.dedupe.assign_cluster`), median and 95th percentile over articles of
  real-length text, half of them copies (syndicated, Traditional) of stored ones.

The targets of issue 6: an issue over 100,000 articles in at most 2 s, one article's
dedupe in at most 20 ms.
"""
from __future__ import annotations

import json
import random
import statistics
import struct
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.config import default_editorial
from pipelines.analysis.dedupe import BANDS, fingerprint
from pipelines.analysis.text import convert
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.archive.clusters import assign_cluster
from pipelines.archive.db import connect, immediate
from pipelines.editorial.issues import build_issue

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEDUPE_SAMPLES = 60
WORDS = ("芯片 算力 端侧 推理 模型 量化 剪枝 自动驾驶 激光雷达 开源 框架 边缘 计算 机器人 传感器 功耗 发布 研究 团队 "
          "公司 融资 量产 工艺 纳米 性能 提升 手机 汽车 用户 数据 系统 平台 方案 开发者 生态 市场 产品 技术").split()


def random_text(rng: random.Random, sentences: int) -> str:
    return "。".join("".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))) for _ in range(sentences)) + "。"


def _populate(db, n: int, rng: random.Random, end: datetime, topics: list[str]) -> None:
    span = timedelta(days=730).total_seconds()
    batch: list[tuple] = []
    bands: list[tuple[int, int]] = []

    def flush() -> None:
        db.conn.executemany(
            "INSERT INTO articles (id, canonical_url, url, source_id, title, published, published_from, language,"
            " text, summary, fetched_at, relevance, topics, content_hash, cluster_id)"
            " VALUES (?, ?, ?, 'bench', ?, ?, 'page', 'zh', ?, ?, ?, ?, ?, ?, ?)", batch)
        db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band_key, article_id) VALUES (?, ?)", bands)
        batch.clear()
        bands.clear()

    for article_id in range(1, n + 1):
        published = end - timedelta(seconds=rng.random() * span)
        relevant = rng.random() < 0.6
        chosen = rng.sample(topics, rng.randint(1, 3)) if relevant else []
        text = random_text(rng, 3)
        stamp = published.astimezone(timezone.utc).replace(microsecond=0).isoformat()
        batch.append((article_id, f"https://bench.test/a/{article_id}", f"https://bench.test/a/{article_id}",
                      f"第{article_id}篇：{''.join(rng.choice(WORDS) for _ in range(5))}", stamp, text, text[:120],
                      stamp, round(rng.uniform(4, 60), 2) if relevant else round(rng.uniform(0, 3.9), 2),
                      json.dumps(chosen, ensure_ascii=False), f"{rng.getrandbits(160):040x}", article_id))
        bands += [(struct.unpack("<q", rng.getrandbits(64).to_bytes(8, "little"))[0], article_id)
                  for _ in range(BANDS)]
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()


def bench_editorial(n_articles: int) -> dict:
    """Measure issue building and one article's dedupe over an archive of ``n_articles``."""
    rng = random.Random(20221014)
    settings = default_editorial()
    day = date(2022, 10, 14)
    end = datetime(2022, 10, 14, 20, 0, tzinfo=SHANGHAI)
    with tempfile.TemporaryDirectory(prefix="aibrief-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        db = connect(path)
        started = time.perf_counter()
        with immediate(db):
            _populate(db, n_articles, rng, end, [t.name for t in settings.topics])
        populate_s = time.perf_counter() - started

        builds: list[float] = []
        items = 0
        for _ in range(3):
            started = time.perf_counter()
            issue = build_issue(db, day, title=f"AI 簡報 {day:%Y%m%d} 期", section="嵌入式 AI", max_items=9,
                                tz=SHANGHAI, editorial=settings)
            builds.append(time.perf_counter() - started)
            items = len(issue.items)

        # Articles of real length through the store path, then timed dedupe of new ones.
        originals: list[tuple[str, str]] = []
        for n in range(DEDUPE_SAMPLES // 2):
            title = f"基准新闻{n}：{''.join(rng.choice(WORDS) for _ in range(4))}"
            text = random_text(rng, 12)
            originals.append((title, text))
            store_article(db, ArticleRecord(
                canonical_url=f"https://orig.bench.test/{n}", url=f"https://orig.bench.test/{n}", source_id=None,
                text=text, summary="", published=end, published_from="page", fetched_at=end, title=title))
        samples: list[float] = []
        joined = 0
        for n in range(DEDUPE_SAMPLES):
            if n % 2:
                title, text = originals[n // 2]
                title, text = (convert(title, "traditional"), convert(text, "traditional")) if n % 4 == 1 else \
                    (title, "本文转载自基准公众号。\n" + text)
            else:
                title, text = f"另一条新闻{n}：{''.join(rng.choice(WORDS) for _ in range(4))}", random_text(rng, 12)
            with immediate(db):
                article_id = db.execute(
                    "INSERT INTO articles (canonical_url, url, title, published, published_from, text, summary,"
                    " fetched_at) VALUES (?, ?, ?, ?, 'page', ?, '', ?)",
                    [f"https://new.bench.test/{n}", f"https://new.bench.test/{n}", title,
                     end.astimezone(timezone.utc).isoformat(), text, end.isoformat()]).lastrowid
                started = time.perf_counter()
                match = assign_cluster(db, article_id, fingerprint(title, text), title, text)
                samples.append((time.perf_counter() - started) * 1000)
            joined += match is not None
        size_mb = path.stat().st_size / 2**20
        db.close()
    samples.sort()
    return {
        "n_articles": n_articles,
        "populate_s": round(populate_s, 2),
        "build_issue_s": round(statistics.median(builds), 3),
        "build_issue_max_s": round(max(builds), 3),
        "issue_items": items,
        "dedupe_ms": round(statistics.median(samples), 2),
        "dedupe_p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "dedupe_copies_found": f"{joined}/{DEDUPE_SAMPLES // 2}",
        "db_mb": round(size_mb, 1),
    }


if __name__ == "__main__":
    print(json.dumps(bench_editorial(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), indent=2))
