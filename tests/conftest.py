"""Shared fixtures: the loopback sample-site server, a database path, configs, and runners
for the real command line and real ``scrapy crawl`` subprocesses. Nothing here reaches the
network: crawls go through the local server as their proxy, and the sites live on the
reserved ``.test`` domain."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_SITES = ROOT / "tests" / "sites"
DEMO_SITES = ROOT / "crawler" / "demo" / "sites"
SHARED = ROOT.parent / "shared"
AIBRIEF = Path(sys.executable).with_name("aibrief")


@dataclass
class MockSite:
    port: int
    log: Path

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        """Every request since the last clear, as it arrived (with ``t_end`` once answered)."""
        if not self.log.exists():
            return []
        records = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        ends = {r["id"]: r["t_end"] for r in records if "t_end" in r}
        return [{**r, "t_end": ends.get(r["id"])} for r in records if "method" in r]

    def times(self, host: str) -> list[float]:
        """When each request for a page of ``host`` arrived (robots.txt left out)."""
        return [r["t"] for r in self.requests() if r["host"] == host and r["path"] != "/robots.txt"]

    def fetched(self, host: str | None = None) -> list[str]:
        """``host/path`` of every request since the last clear, robots.txt left out."""
        return [f"{r['host']}{r['path']}" for r in self.requests()
                if r["path"] != "/robots.txt" and (host is None or r["host"] == host)]

    def clear(self) -> None:
        self.log.write_text("")


@pytest.fixture(scope="session")
def mock_site(tmp_path_factory):
    """The sample-site server in its own process on a free loopback port."""
    log = tmp_path_factory.mktemp("mock") / "requests.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.sampleserver", str(TEST_SITES), str(DEMO_SITES), "--log", str(log)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = process.stdout.readline()
    assert line.startswith("port "), f"sample server did not start: {line!r}"
    yield MockSite(int(line.split()[1]), log)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def site(mock_site):
    mock_site.clear()
    return mock_site


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "aibrief.db"


def write_config(path: Path, sources: str = "", **crawl) -> Path:
    """A config with no delay between requests and the given ``[[sources]]`` TOML."""
    settings = {"delay": 0.0, "timeout": 5.0, "retries": 1, **crawl}
    crawl_lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    path.write_text(f'timezone = "Asia/Shanghai"\n\n[crawl]\n{crawl_lines}\n\n'
                    f"{textwrap.dedent(sources)}\n", encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path):
    def make(sources: str = "", **crawl) -> Path:
        return write_config(tmp_path / "aibrief.toml", sources, **crawl)
    return make


def env_for(site: MockSite | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBRIEF_")}
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(key, None)
    if site is not None:
        env["http_proxy"] = env["HTTP_PROXY"] = site.proxy
        # Loopback ports are reached directly (a closed port must refuse, not be proxied).
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def run_cli(*args: str, site: MockSite | None = None, cwd: Path | None = None, timeout: float = 120,
            **env: str) -> subprocess.CompletedProcess:
    """The installed ``aibrief`` console script, as a user runs it."""
    return subprocess.run([str(AIBRIEF), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or ROOT, env=env_for(site, **env))


def scrapy_crawl(spider: str, *args: str, config: Path, db: Path, site: MockSite | None = None,
                 cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    """``scrapy crawl`` from the checkout, as a user runs it by hand."""
    return subprocess.run([sys.executable, "-m", "scrapy", "crawl", spider, *args, "-s", "LOG_LEVEL=INFO"],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env_for(site, AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db)))


def rows(db: Path, sql: str, params=()) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def last_run(db: Path) -> dict:
    (row,) = rows(db, "SELECT status, counts, sources FROM crawl_runs ORDER BY id DESC LIMIT 1")
    return {"status": row[0], "counts": json.loads(row[1]), "sources": json.loads(row[2])}


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for a module's browser tests, driven by Playwright
    (its own browser download is not used; ``.ci/run`` installs the package). Per module,
    not per session: Playwright's sync API keeps an event loop running in the main thread
    while it is open, and ``asyncio.run`` in any later test of the session (the writer's)
    then fails with "cannot be called from a running event loop"."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is not installed (.ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; console errors are collected in ``page.errors``."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.errors = []
    opened.on("console", lambda message: message.type == "error" and opened.errors.append(message.text))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()
