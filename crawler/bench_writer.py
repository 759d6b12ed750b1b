"""Benchmark of the writer: ``aibrief bench --writer``.

A temporary archive holds ``n_articles`` articles with distinct texts; a loopback Chat
Completions server (:mod:`crawler.chatserver`) answers each request after ``latency``
seconds. The writer, with the shipped settings but this server and ``concurrency``, runs
twice over every article:

* ``first_s``: one request per article, ``concurrency`` in flight;
* ``second_s`` and ``second_requests``: the same articles again, every answer found in the
  archive, so no request at all.

The targets: 200 articles at 50 ms latency and concurrency 4 in under 5 s; the second run
in under 1 s with zero requests.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from crawler.chatserver import serve_chat
from crawler.config import load_config
from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.archive.db import connect
from pipelines.editorial.writer.write import write_articles


def bench_writer(n_articles: int = 200, latency: float = 0.05, concurrency: int = 4) -> dict:
    config = load_config(None)
    with tempfile.TemporaryDirectory(prefix="aibrief-bench-writer-") as folder, serve_chat(latency) as chat:
        db = connect(Path(folder) / "bench.db")
        try:
            ids = _articles(db, n_articles)
            settings = dataclasses.replace(config.writer, enabled=True, base_url=chat.base_url,
                                           concurrency=concurrency, api_key="")
            started = time.perf_counter()
            first = write_articles(db, ids, settings, tz=config.tz, command="aibrief bench --writer")
            first_s = time.perf_counter() - started
            sent = len(chat.received)
            started = time.perf_counter()
            second = write_articles(db, ids, settings, tz=config.tz, command="aibrief bench --writer")
            second_s = time.perf_counter() - started
        finally:
            db.close()
        return {"articles": n_articles, "latency_s": latency, "concurrency": concurrency,
                "first_s": first_s, "first_requests": first.requests, "first_written": first.written,
                "first_failures": first.failures, "most_in_flight": chat.most_in_flight,
                "second_s": second_s, "second_requests": len(chat.received) - sent,
                "second_cache_hits": second.cache_hits}


def _articles(db, n: int) -> list[int]:
    now = datetime.now(timezone.utc)
    ids = []
    for i in range(n):
        url = f"https://bench.example/a/{i}"
        ids.append(store_article(db, ArticleRecord(
            canonical_url=canonical_url(url), url=url, source_id=None,
            text=f"第{i}篇。芯片公司发布新的端侧模型，面向手机和汽车上的推理。" * 20, summary="",
            published=now, published_from="page", fetched_at=now, title=f"端侧模型 {i}", language="zh")))
    return ids
