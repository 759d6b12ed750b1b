"""What the desk's tests share: a week of fixture articles, and the desk served by a real
uvicorn server on a free loopback port.

The week is the editorial fixture week (``fixtures/editorial/week.json``: 45 stories and
15 copies), stored through the archive's own ``store_article`` as a crawl stores them, plus
one story whose title and summary are hostile HTML."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import uvicorn
from conftest import write_config

from crawler.config import default_editorial, load_config
from crawler.desk.app import create_app
from pipelines.analysis.classify import classify
from pipelines.analysis.dedupe import fingerprint
from pipelines.analysis.summary import ranked_summary
from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.archive.db import connect
from pipelines.editorial.issues import build_configured_issue
from schedules.settings import Config

WEEK = json.loads((Path(__file__).parent / "fixtures" / "editorial" / "week.json").read_text("utf-8"))["articles"]
DAY = date(2022, 10, 14)  # a Friday: the shipped due rule's day
HOSTILE_TITLE = '端侧AI芯片<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">'
HOSTILE_SUMMARY = '</textarea><script>window.pwned=3</script><b onmouseover="window.pwned=4">摘要</b>'
HOSTILE_URL = "https://hostile.fixture.test/a/1.html"


def record(article: dict, editorial=None, **fields) -> ArticleRecord:
    editorial = editorial or default_editorial()
    scored = classify(article["title"], article["text"], editorial)
    values = dict(relevance=scored.score, topics=scored.topics, fingerprint=fingerprint(article["title"], article["text"]),
                  canonical_url=canonical_url(article["url"]), url=article["url"], source_id=article["source"] or None,
                  text=article["text"], summary=ranked_summary(article["text"], 150, article["title"]),
                  published=datetime.fromisoformat(article["published"]), published_from="page",
                  fetched_at=datetime(2022, 10, 15, tzinfo=timezone.utc), title=article["title"],
                  language="zh" if any("\u4e00" <= ch <= "\u9fff" for ch in article["title"]) else "en")
    values.update(fields)
    return ArticleRecord(**values)


def fill_week(db_path: Path) -> None:
    """Store the fixture week and the hostile story in the archive at ``db_path``."""
    editorial = default_editorial()
    db = connect(db_path)
    try:
        db.execute("INSERT INTO sources (id, kind, name, url, enabled, updated_at) VALUES"
                   " ('qbitai-site', 'feed', '量子位', NULL, 1, ''), ('wechat-jiqizhixin', 'feed', '机器之心', NULL, 1, '')")
        db.conn.commit()
        for article in sorted(WEEK, key=lambda a: a["published"]):
            store_article(db, record(article, editorial))
        chip = next(a for a in WEEK if "芯片" in a["title"])
        hostile = {**chip, "url": HOSTILE_URL, "title": HOSTILE_TITLE, "text": chip["text"] + "\n" + chip["text"],
                   "published": "2022-10-13T23:00:00+08:00", "source": ""}
        store_article(db, record(hostile, editorial, summary=HOSTILE_SUMMARY, fingerprint=None))
    finally:
        db.close()


def make_desk(tmp_path: Path, sources: str = "") -> tuple[Path, Config]:
    """An archive holding the week, its configuration (``sources`` added), and the
    draft of :data:`DAY` built as ``aibrief issue build`` builds it."""
    db_path = tmp_path / "desk.db"
    fill_week(db_path)
    config = load_config(write_config(tmp_path / "aibrief.toml", sources), db_path)
    db = connect(db_path)
    try:
        build_configured_issue(db, config, DAY)
    finally:
        db.close()
    return db_path, config


@contextmanager
def serving(config: Config, token: str = "") -> Iterator[str]:
    """The desk over ``config`` under uvicorn in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(config, token=token), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="desk-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
