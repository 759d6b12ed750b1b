"""Benchmark of the editor's desk: rendering the candidates page, and answering an edit.

    aibrief bench --desk

A temporary archive gets ``stories`` relevant articles of one week, each a story of its
own (stored through :func:`pipelines.archive.articles.store_article`, with topics drawn
from the shipped taxonomy), and the draft of the week's issue is built. Then it measures

* ``candidates_ms``: the candidates page, from opening the connection to the rendered
  HTML, inside the server (the request handler's own work), and ``candidates_http_ms`` the
  same page fetched from the desk under uvicorn on loopback;
* ``edit_ms`` and ``move_ms``: a summary edit and a move of one item, each through the
  change handler (the CSRF check aside: connection, library call with the version check,
  redirect), and the same over HTTP as a browser posts them (``*_http_ms``).

Each figure is the median and the 95th percentile of its rounds. The targets: the page in
under 300 ms, an edit in under 50 ms.
"""
from __future__ import annotations

import random
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import uvicorn

from crawler.bench_editorial import WORDS, random_text
from crawler.config import load_config
from crawler.desk.app import create_app
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.archive.db import connect
from pipelines.editorial.issues import build_configured_issue, get_issue

DAY = date(2022, 10, 14)  # a Friday, the shipped due rule's day


def bench_desk(stories: int = 500, rounds: int = 20) -> dict:
    rng = random.Random(22)
    with tempfile.TemporaryDirectory(prefix="aibrief-bench-desk-") as folder:
        db_path = Path(folder) / "desk.db"
        config = load_config(None, db_path)
        _populate(db_path, stories, rng, [topic.name for topic in config.editorial.topics])
        db = connect(db_path)
        try:
            build_configured_issue(db, config, DAY)
        finally:
            db.close()
        app = create_app(config)
        desk = app.state.desk
        page = {"date": DAY.isoformat()}
        result: dict = {"stories": stories, "rounds": rounds}
        result["candidates_ms"] = _timed(lambda n: _ok(desk._page("/candidates", page, "")), rounds)
        shown = re.search(r'class="shown">(\d+)<', desk._page("/candidates", page, "").body.decode())
        result["candidates_shown"] = int(shown[1])
        version = _version(db_path)

        def change(path: str, fields: Callable[[int], dict]) -> Callable[[int], None]:
            def once(n: int) -> None:
                nonlocal version
                _ok(desk._post(path, {"date": DAY.isoformat(), "version": str(version), **fields(n)},
                               f"/draft?date={DAY}"))
                version += 1
            return once

        result["edit_ms"] = _timed(change("/draft/edit", lambda n: {"n": "2", "summary": f"第{n}次改写的摘要。"}), rounds)
        result["move_ms"] = _timed(change("/draft/move", lambda n: {"n": "3", "to": "4"}), rounds)
        result.update(_over_http(app, rounds, _version(db_path)))
    return result


def _populate(db_path: Path, stories: int, rng: random.Random, topics: list[str]) -> None:
    """``stories`` relevant articles over the week before :data:`DAY`, each its own story."""
    end = datetime(2022, 10, 14, 8, 0, tzinfo=timezone.utc)
    db = connect(db_path)
    try:
        for n in range(1, stories + 1):
            text = random_text(rng, 6)
            title = f"第{n}条：{''.join(rng.choice(WORDS) for _ in range(6))}"
            published = end - timedelta(seconds=rng.random() * 7 * 86400)
            store_article(db, ArticleRecord(
                canonical_url=f"https://bench.test/a/{n}", url=f"https://bench.test/a/{n}", source_id=None,
                text=text, summary=text[:120], published=published, published_from="page", fetched_at=end,
                title=title, language="zh", relevance=round(rng.uniform(5, 60), 2),
                topics=rng.sample(topics, rng.randint(1, 3))))
    finally:
        db.close()


def _over_http(app, rounds: int, version: int) -> dict:
    """The same page and changes through uvicorn on a loopback port, as a browser sends them."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    figures: dict = {}
    try:
        with httpx.Client(base_url=url, trust_env=False) as client:
            page = f"/candidates?date={DAY}"
            figures["candidates_http_ms"] = _timed(lambda n: client.get(page).raise_for_status(), rounds)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)[1]

            def change(path: str, fields: dict) -> Callable[[int], None]:
                def once(n: int) -> None:
                    nonlocal version
                    answer = client.post(path, data={"csrf": csrf, "date": DAY.isoformat(), "version": str(version),
                                                     "back": f"/draft?date={DAY}", **fields})
                    if answer.status_code != 303:
                        raise RuntimeError(f"{path}: status {answer.status_code}")
                    version += 1
                return once

            figures["edit_http_ms"] = _timed(change("/draft/edit", {"n": "2", "summary": "经由 HTTP 改写的摘要。"}), rounds)
            figures["move_http_ms"] = _timed(change("/draft/move", {"n": "3", "to": "4"}), rounds)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    return figures


def _timed(work: Callable[[int], object], rounds: int) -> dict:
    work(-1)  # warm: templates compiled, pages of the database cached
    times = []
    for n in range(rounds):
        start = time.perf_counter()
        work(n)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median": statistics.median(times), "p95": times[min(len(times) - 1, int(0.95 * len(times)))]}


def _ok(response):
    if response.status_code not in (200, 303):
        raise RuntimeError(f"the desk answered {response.status_code}: {response.body[:300]!r}")
    return response


def _version(db_path: Path) -> int:
    db = connect(db_path)
    try:
        return get_issue(db, DAY).version
    finally:
        db.close()
