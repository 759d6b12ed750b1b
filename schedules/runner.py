"""Crawls as ``scrapy crawl`` subprocesses, recorded as one crawl run.

Twisted's reactor starts once per process (a second crawl in one process fails with
ReactorNotRestartable), so every crawl, from the command line or the scheduler, is a
child process running the same spiders and settings as ``scrapy crawl`` from the checkout.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import defaultdict

from pipelines.archive import runs
from pipelines.archive.articles import sync_sources
from pipelines.archive.db import connect
from schedules.lock import Lease
from schedules.settings import Config

logger = logging.getLogger(__name__)

# The spider that crawls each source kind.
SPIDERS = {"feed": "feed", "sitemap": "sitemap", "listing": "listing", "arxiv": "arxiv",
           "github-trending": "github", "wechat": "wechat", "hackernews": "hackernews"}
POLL_SECONDS = 5


class UnknownSource(Exception):
    """A source named on the command line is not in the configuration (one line)."""


def select_sources(config: Config, source_ids: list[str] | None) -> list:
    if not source_ids:
        return config.active_sources()
    chosen = []
    for source_id in source_ids:
        source = config.source(source_id)
        if source is None:
            known = ", ".join(s.id for s in config.sources) or "none"
            raise UnknownSource(f"unknown source {source_id!r} (configured: {known})")
        if not source.feed_url(config.crawl.rsshub):
            bridge = "crawl.wechat_bridge or crawl.rsshub" if source.kind == "wechat" else "crawl.rsshub"
            raise UnknownSource(f"source {source_id!r} needs {bridge} set in the configuration")
        chosen.append(source)
    return chosen


def child_environment(config: Config, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    env["AIBRIEF_DB"] = str(config.database)
    if config.path is not None:
        env["AIBRIEF_CONFIG"] = str(config.path)
    else:
        env.pop("AIBRIEF_CONFIG", None)
    env.update(extra or {})
    return env


def crawl(config: Config, source_ids: list[str] | None = None, *, command: str = "aibrief crawl",
          lease: Lease | None = None, log_level: str = "WARNING",
          env: dict[str, str] | None = None) -> runs.Run:
    """Crawl the chosen (default: all active) sources; returns the finished run record."""
    sources = select_sources(config, source_ids)
    db = connect(config.database)
    try:
        sync_sources(db, config.source_rows())
        run_id = runs.start_run(db, command, [s.id for s in sources])
        by_spider: dict[str, list[str]] = defaultdict(list)
        for source in sources:
            by_spider[SPIDERS[source.kind]].append(source.id)
        clean = True
        errors: list[str] = []
        for spider, ids in by_spider.items():
            argv = scrapy_argv(spider, {"source": ",".join(ids)}, {"AIBRIEF_RUN_ID": run_id, "LOG_LEVEL": log_level})
            logger.info("running %s", " ".join(argv[2:]))
            code = wait(subprocess.Popen(argv, env=child_environment(config, env)), lease)
            if code != 0:
                clean = False
                errors.append(f"scrapy crawl {spider} exited with status {code}")
        counts = runs.get_run(db, run_id).counts
        if counts.get("disk_full"):
            errors.append("the archive is full (disk or max_size_mb): the crawl stopped")
        status = runs.run_status(counts, [s.id for s in sources], clean_exit=clean)
        return runs.finish_run(db, run_id, status, "; ".join(errors) or None)
    finally:
        db.close()


def crawl_urls(config: Config, urls: list[str], *, lease: Lease | None = None, log_level: str = "WARNING") -> int:
    """Fetch these pages now with the ``urls`` spider (unrecorded as a run); its exit status."""
    argv = scrapy_argv("urls", {"urls": ",".join(urls)}, {"LOG_LEVEL": log_level})
    return wait(subprocess.Popen(argv, env=child_environment(config)), lease)


def scrapy_argv(spider: str, arguments: dict[str, str], settings: dict[str, object]) -> list[str]:
    """The command line of ``scrapy crawl SPIDER -a K=V ... -s K=V ...`` in this Python."""
    argv = [sys.executable, "-m", "scrapy", "crawl", spider]
    for key, value in arguments.items():
        argv += ["-a", f"{key}={value}"]
    for key, value in settings.items():
        argv += ["-s", f"{key}={value}"]
    return argv


def wait(process: subprocess.Popen, lease: Lease | None, poll: float = POLL_SECONDS) -> int:
    """Wait for a crawl process, renewing the run lease (anything with ``renew()``) meanwhile."""
    try:
        while True:
            try:
                return process.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                if lease is not None:
                    lease.renew()
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): stop the crawl too, let Scrapy close cleanly.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
