"""Cluster mode on a real Redis: an archive writer (``aibrief ingest``) and crawl workers
(``aibrief worker``) as separate processes, real ``scrapy crawl`` children, the loopback
sample server, and the archive checked in SQLite."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from conftest import AIBRIEF, ROOT, env_for, last_run, rows, run_cli, write_config
from redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)

from crawler.bench import most_at_once
from pipelines.archive.articles import ArticleRecord
from pipelines.archive.db import connect
from pipelines.cluster import ClusterSettings, Keys, connect_redis, encode
from pipelines.ingest import Ingest

SLOW_PAGES = 8


def sources(pages: int) -> str:
    """``pages`` generated articles over 20 hosts, and 8 on a host answering each in 0.3 s."""
    return f"""
[cluster]
name = "t"
idle_seconds = 2.0
lease_seconds = 2.0
batch = 50

[[sources]]
id = "gen"
url = "http://cluster.gen.test/_gen/feed/{pages}?hosts=20"

[[sources]]
id = "slow"
url = "http://slow.cluster.test/feed.xml"
"""


def expected(pages: int) -> list[str]:
    return sorted([f"http://h{i % 20}.cluster.gen.test/_gen/article/{i}" for i in range(pages)]
                  + [f"http://slow.cluster.test/_fault/delay/0.3/_gen/article/{9000 + n}" for n in range(SLOW_PAGES)])


class Cluster:
    """The processes of one test's cluster run, each in a session of its own (killed whole)."""

    def __init__(self, tmp_path, site, server, pages: int) -> None:
        self.tmp = tmp_path
        self.pages = pages
        self.config = write_config(tmp_path / "aibrief.toml", sources(pages))
        self.db = tmp_path / "aibrief.db"
        self.env = env_for(site, AIBRIEF_CONFIG=str(self.config), AIBRIEF_DB=str(self.db))
        self.server = server
        self.logs: dict[int, Path] = {}

    def start(self, *command: str) -> subprocess.Popen:
        log = self.tmp / f"{command[0]}-{len(self.logs)}.log"
        with log.open("w") as out:
            process = subprocess.Popen([str(AIBRIEF), "-v", *command, "--redis", self.server.url], cwd=ROOT,
                                       env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.logs[process.pid] = log
        return process

    def output(self, process: subprocess.Popen) -> str:
        return self.logs[process.pid].read_text()

    def stored(self) -> int:
        try:
            return rows(self.db, "SELECT count(*) FROM articles")[0][0]
        except Exception:  # noqa: BLE001 (not created or not migrated yet)
            return 0

    def finish(self, processes: list[subprocess.Popen], timeout: float = 180) -> None:
        """Wait for every process to end well; one that hangs or fails shows every log."""
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                code = process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                for other in processes:
                    if other.poll() is None:
                        os.killpg(other.pid, signal.SIGKILL)
                code = "still running"
            assert code == 0, "\n\n".join(f"--- {log.name}:\n{log.read_text()[-4000:]}" for log in self.logs.values())

    def wait_for_stored(self, count: int, processes: list[subprocess.Popen], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.stored() < count and time.monotonic() < deadline and all(p.poll() is None for p in processes):
            time.sleep(0.02)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the command and every process under it (its scrapy crawl and extraction pool)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stored_urls(db) -> list[str]:
    return [url for (url,) in rows(db, "SELECT url FROM articles ORDER BY url")]


def test_two_workers_store_every_page_once_and_never_two_requests_at_once_to_a_host(site, tmp_path, redis_server):
    """300 pages over 20 hosts and 8 on a host taking 0.3 s a page, two workers: each page
    is fetched once and stored once, both workers took part, and no host (the slow one
    included) ever had two requests in progress at once, whichever worker sent them."""
    cluster = Cluster(tmp_path, site, redis_server, pages=300)
    ingest = cluster.start("ingest")
    workers = [cluster.start("worker"), cluster.start("worker")]
    cluster.finish([*workers, ingest])
    assert stored_urls(cluster.db) == expected(300)
    pages = Counter(r["path"] for r in site.requests() if "/_gen/article/" in r["path"])
    assert len(pages) == 308 and set(pages.values()) == {1}
    assert most_at_once(site.log) == 1
    sent = [cluster.output(w).count("to the archive writer") for w in workers]
    assert min(sent) > 0 and sum(sent) == 308, sent
    run = last_run(cluster.db)
    assert run["status"] == "ok" and run["counts"]["stored"] == 308
    assert rows(cluster.db, "SELECT state, count(*) FROM frontier GROUP BY state") == [("stored", 308)]
    # The run's keys are gone from Redis; only the lease counter stays.
    assert redis_server.client().keys("t:*") == [b"t:leases"]
    for process in [*workers, ingest]:
        assert "Traceback" not in cluster.output(process)


def test_a_worker_killed_at_random_points_loses_nothing(site, tmp_path, redis_server):
    """SIGKILL one of two workers (the command, its crawl and its extraction pool) twice at
    random numbers of articles stored, starting another each time: the requests it had
    taken go back to the queue when its heartbeat expires, and every page is stored once."""
    cluster = Cluster(tmp_path, site, redis_server, pages=150)
    ingest = cluster.start("ingest")
    steady = cluster.start("worker")
    rng = random.Random(25)
    for point in sorted(rng.sample(range(20, 120), 2)):
        victim = cluster.start("worker")
        cluster.wait_for_stored(point, [victim, steady])
        time.sleep(rng.uniform(0, 0.3))
        kill(victim)
        assert cluster.stored() < 158, "the kill should land mid-crawl"
    last = cluster.start("worker")
    cluster.finish([steady, last, ingest])
    assert stored_urls(cluster.db) == expected(150)
    assert rows(cluster.db, "SELECT count(*) FROM frontier WHERE state != 'stored'") == [(0,)]
    assert rows(cluster.db, "PRAGMA integrity_check") == [("ok",)]


def test_the_ingest_killed_at_random_points_loses_and_doubles_nothing(site, tmp_path, redis_server):
    """SIGKILL the archive writer twice mid-run and start it again: it takes the run over
    (the lock of a dead process on this host at once), stores the batch it had taken and
    not acknowledged, and no article is lost or stored twice."""
    cluster = Cluster(tmp_path, site, redis_server, pages=150)
    ingest = cluster.start("ingest")
    workers = [cluster.start("worker"), cluster.start("worker")]
    rng = random.Random(2025)
    for point in sorted(rng.sample(range(20, 120), 2)):
        cluster.wait_for_stored(point, [ingest])
        time.sleep(rng.uniform(0, 0.1))
        kill(ingest)
        assert rows(cluster.db, "PRAGMA integrity_check") == [("ok",)]
        ingest = cluster.start("ingest")
    cluster.finish([*workers, ingest])
    assert stored_urls(cluster.db) == expected(150)
    (run,) = rows(cluster.db, "SELECT status FROM crawl_runs")  # one run, taken over twice
    assert run == ("ok",)
    assert "taking it over" in cluster.output(ingest)


def test_a_batch_left_unacknowledged_is_stored_once_when_replayed(tmp_path, redis_server):
    """The reliable queue's other half: results moved to ``processing`` by a writer that died
    before acknowledging them are stored by the next one, and storing twice changes nothing."""
    settings = ClusterSettings(redis_url=redis_server.url, name="r", idle_seconds=1.0, lease_seconds=2.0, batch=10)
    keys = Keys("r")
    client = connect_redis(redis_server.url)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    record = ArticleRecord(canonical_url="http://a.test/1", url="http://a.test/1", source_id=None, text="正文。" * 50,
                           summary="", published=now, published_from="page", fetched_at=now, title="一")
    message = encode({"kind": "article", "record": record, "key": None})
    client.lpush(keys.processing, message, message)  # the same article, taken twice and never acknowledged
    db = connect(tmp_path / "a.db")
    ingest = Ingest(db, client, settings, max_attempts=3)
    assert ingest.store_batch() == 2
    assert ingest.counts == {"stored": 1, "dropped/known": 1, "ingest/replayed": 2, "ingest/batches": 1}
    assert client.llen(keys.processing) == 0 and client.sismember(keys.stored, "http://a.test/1")
    client.lpush(keys.results, message)
    assert ingest.store_batch() == 1 and ingest.counts["stored"] == 1 and ingest.counts["dropped/known"] == 2
    assert rows(tmp_path / "a.db", "SELECT url FROM articles") == [("http://a.test/1",)]


def test_a_redis_restart_mid_crawl_loses_nothing(site, tmp_path, redis_server):
    """Redis shut down and started again mid-run (its AOF on): workers and writer retry
    through it, and every page is stored once."""
    cluster = Cluster(tmp_path, site, redis_server, pages=150)
    ingest = cluster.start("ingest")
    workers = [cluster.start("worker"), cluster.start("worker")]
    cluster.wait_for_stored(60, [ingest])
    redis_server.stop()
    redis_server.start()
    cluster.finish([*workers, ingest])
    assert stored_urls(cluster.db) == expected(150)


def test_redis_gone_for_good_stops_everyone_with_one_line(site, tmp_path, redis_server):
    """Redis gone mid-run and not back: the worker and the writer each end with one error
    line and no traceback; the archive keeps what was stored, whole, and the run is failed."""
    cluster = Cluster(tmp_path, site, redis_server, pages=150)
    ingest = cluster.start("ingest")
    worker = cluster.start("worker")
    cluster.wait_for_stored(40, [ingest])
    redis_server.stop()
    for process in (worker, ingest):
        assert process.wait(timeout=120) == 1
        out = cluster.output(process)
        assert "Traceback" not in out, out[-3000:]
        errors = [line for line in out.splitlines() if line.startswith("aibrief: error:")]
        assert len(errors) == 1 and "Redis at" in errors[0] and "unreachable" in errors[0], out[-2000:]
    assert rows(cluster.db, "PRAGMA integrity_check") == [("ok",)]
    assert 40 <= cluster.stored() < 158
    assert last_run(cluster.db)["status"] == "failed"


def test_one_cluster_run_at_a_time(site, tmp_path, redis_server):
    """A second writer on the same cluster name exits at once, naming the holder."""
    cluster = Cluster(tmp_path, site, redis_server, pages=10)
    first = cluster.start("ingest")
    deadline = time.monotonic() + 30
    while not redis_server.client().exists("t:run") and time.monotonic() < deadline:
        time.sleep(0.05)
    second = run_cli("--db", str(tmp_path / "other.db"), "ingest", "--redis", redis_server.url, site=site,
                     AIBRIEF_CONFIG=str(cluster.config))
    kill(first)
    assert second.returncode == 3
    assert second.stderr.startswith("aibrief: error: another cluster run holds the lock: aibrief ingest (pid")
    assert len(second.stderr.strip().splitlines()) == 1


def test_a_bad_cluster_table_is_one_line(tmp_path):
    """A Redis URL that is not one, or a cluster name that cannot prefix keys: exit 2, one line."""
    for table, problem in (('redis_url = "http://x.test"', "cluster.redis_url: is not a redis:// URL"),
                           ('name = "a b"', "cluster.name: must be letters")):
        config = write_config(tmp_path / "bad.toml", f"[cluster]\n{table}\n")
        result = run_cli("--config", str(config), "--db", str(tmp_path / "a.db"), "crawl")
        assert result.returncode == 2
        assert problem in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_worker_with_no_redis_says_so_in_one_line(tmp_path):
    """No Redis listening at the URL given: one line, no traceback."""
    config = write_config(tmp_path / "aibrief.toml")
    result = run_cli("--config", str(config), "--db", str(tmp_path / "a.db"), "worker", "--redis",
                     "redis://127.0.0.1:9/0")
    assert result.returncode == 1
    assert result.stderr.startswith("aibrief: error: Redis at redis://127.0.0.1:9/0 unreachable")
    assert len(result.stderr.strip().splitlines()) == 1
