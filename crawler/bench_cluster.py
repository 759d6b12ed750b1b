"""``aibrief bench --cluster N``: the cluster mode's throughput, against the single-process
pool crawl of the same site, and what it asks of Redis.

On this machine: one ``redis-server`` (AOF on, as in production) on a free loopback port in
a temporary folder, one archive writer (``aibrief ingest``) and N workers (``aibrief
worker``), each with its own extraction pool, over a site of realistic pages
(:func:`crawler.bench.build_site`) listed in one feed. Throughput is pages stored over the
time from the workers' start to the last page stored; the single-process crawl of the
same feed is timed the same way. Redis's ``INFO commandstats`` before and after gives the
commands per page (a pipeline or a MULTI sends several in one round trip, so the round
trips are at most that), and its peak memory what a run holds there.

``--kills K`` SIGKILLs a random worker K times during the run and starts another: the
stored set must still be every page, once.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from crawler.bench import ROOT, BenchError, build_site, crawl, sample_pages

AIBRIEF = Path(sys.executable).with_name("aibrief")
FEED_HOST = "feed.bench.test"


class RedisProcess:
    """A ``redis-server`` on a free loopback port, its files (AOF on) in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port)

    def start(self, wait: float = 20.0) -> RedisProcess:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise BenchError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while True:
            try:
                self.client().ping()
                return self
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise BenchError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: Redis syncs its AOF first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_feed(urls: list[str], site: Path) -> str:
    """An RSS feed of every bench page; its URL."""
    items = "".join(f"<item><title>bench {n}</title><link>{url}</link></item>" for n, url in enumerate(urls))
    feed = site / FEED_HOST / "feed.xml"
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>bench</title>'
                    f"<link>http://{FEED_HOST}/</link><description>bench</description>{items}</channel></rss>\n",
                    encoding="utf-8")
    return f"http://{FEED_HOST}/feed.xml"


def _stored(db: Path) -> int:
    try:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _commands(client: redis.Redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()}


def cluster_run(workers: int, extract_workers: int, proxy: str, feed_url: str, pages: int, work: Path,
                kills: int = 0, echo=print) -> dict:
    """One cluster run of the bench feed: ``workers`` workers, one writer, a fresh Redis and archive."""
    folder = work / f"cluster-{workers}"
    folder.mkdir()
    server = RedisProcess(folder).start()
    db = folder / "bench.db"
    config = folder / "bench.toml"
    config.write_text(f'[crawl]\ndelay = 0.0\nretries = 0\ntimeout = 60.0\n[cluster]\nname = "bench"\n'
                      f'idle_seconds = 2.0\nlease_seconds = 3.0\n[[sources]]\nid = "bench"\nurl = "{feed_url}"\n',
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBRIEF_")}
    env.update(AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db), http_proxy=proxy, HTTP_PROXY=proxy,
               no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")

    def start(*command: str) -> subprocess.Popen:
        return subprocess.Popen([str(AIBRIEF), *command, "--redis", server.url], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        ingest = start("ingest")
        while not server.client().exists("bench:run"):
            if ingest.poll() is not None:
                raise BenchError(f"aibrief ingest stopped: {ingest.stderr.read().decode()[-300:]}")
            time.sleep(0.05)
        before = _commands(server.client())
        started = time.perf_counter()
        running = [start("worker", "--extract-workers", str(extract_workers)) for _ in range(workers)]
        rng = random.Random(25)
        kill_at = sorted(rng.sample(range(pages // 10, pages * 9 // 10), kills)) if kills else []
        stored = 0
        while stored < pages and ingest.poll() is None:
            stored = _stored(db)
            if kill_at and stored >= kill_at[0]:
                kill_at.pop(0)
                victim = running.pop(rng.randrange(len(running)))
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()
                echo(f"  killed a worker at {stored} stored; starting another")
                running.append(start("worker", "--extract-workers", str(extract_workers)))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        after = _commands(server.client())
        peak = server.client().info("memory")["used_memory_peak"]
        for process in [*running, ingest]:
            if process.wait(timeout=300) != 0:
                raise BenchError(f"a cluster process failed: {process.stderr.read().decode().strip()[-300:]}")
        conn = sqlite3.connect(db)
        try:
            total, distinct = conn.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
        finally:
            conn.close()
    finally:
        server.stop()
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    calls = {name: n for name, n in sorted(calls.items(), key=lambda kv: -kv[1]) if n > 0}
    return {"workers": workers, "pages": total, "distinct": distinct, "seconds": seconds,
            "pages_per_s": total / seconds, "redis_commands_per_page": sum(calls.values()) / max(total, 1),
            "redis_commands": calls, "redis_peak_memory_mb": peak / 2**20, "kills": kills}


def run(counts: tuple[int, ...], pages: int, extract_workers: int, corpus: Path | None, kills: int = 0,
        echo=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="aibrief-cluster-bench-") as tmp:
        work = Path(tmp)
        urls = build_site(sample_pages(corpus), pages, work / "site")
        feed_url = write_feed(urls, work / "site")
        server = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(work / "site")],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            proxy = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}"
            echo(f"single-process pool crawl of {pages} pages ({extract_workers} extraction workers) ...")
            started = time.perf_counter()
            single = crawl(None, proxy, extract_workers, work, sources=f'[[sources]]\nid = "bench"\nurl = "{feed_url}"\n')
            single["wall_pages_per_s"] = single["pages"] / (time.perf_counter() - started)
            result: dict = {"pages": pages, "cores": len(os.sched_getaffinity(0)), "single": single}
            for n in counts:
                echo(f"cluster run of {pages} pages: {n} workers ({extract_workers} extraction workers each), "
                     f"one writer, one Redis{f', {kills} kills' if kills else ''} ...")
                result[f"cluster_{n}"] = cluster_run(n, extract_workers, proxy, feed_url, pages, work, kills, echo)
        finally:
            server.terminate()
            server.wait()
    return result


def report(result: dict) -> list[str]:
    single = result["single"]
    lines = [f"{result['pages']} pages, {result['cores']} cores",
             f"single process, pool: {single['wall_pages_per_s']:.1f} pages/s (start to exit; "
             f"{single['pages_per_s']:.1f} spider open to close)"]
    for key, r in result.items():
        if key.startswith("cluster_"):
            top = ", ".join(f"{name} {n / max(r['pages'], 1):.1f}" for name, n in list(r["redis_commands"].items())[:6])
            lines.append(f"cluster, {r['workers']} workers: {r['pages_per_s']:.1f} pages/s "
                         f"({r['pages_per_s'] / single['wall_pages_per_s']:.2f} x single), {r['pages']} stored "
                         f"({r['distinct']} distinct), {r['redis_commands_per_page']:.1f} Redis commands a page "
                         f"({top}), Redis peak {r['redis_peak_memory_mb']:.1f} MB")
    return lines
