"""The extraction pool: the same articles as inline extraction, and no page lost when a
worker process is killed."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, env_for, last_run, rows, scrapy_crawl

from pipelines.analysis.dedupe import BANDS
from pipelines.analysis.pool import WORKER_NICENESS, proc_stat
from pipelines.archive import db as storage

DEMO_CONFIG = ROOT / "crawler" / "demo" / "demo.toml"
COLUMNS = ("canonical_url, url, first_url, source_id, title, author, authors, published, published_from,"
           " language, text, summary, images, site, relevance, topics, content_hash, minhash, title_words")
# The stories, as sets of articles: ids follow the order results come back in, which differs.
STORIES = ("SELECT group_concat(canonical_url, ' ') FROM (SELECT canonical_url, coalesce(cluster_id, id) AS story"
           " FROM articles ORDER BY canonical_url) GROUP BY story ORDER BY 1")


def test_the_pool_stores_exactly_what_inline_extraction_stores(site, tmp_path):
    inline, pooled = tmp_path / "inline.db", tmp_path / "pooled.db"
    for db, workers in ((inline, 0), (pooled, 2)):
        result = scrapy_crawl("feed", "-s", f"AIBRIEF_EXTRACT_WORKERS={workers}", config=DEMO_CONFIG, db=db,
                              site=site)
        assert result.returncode == 0, result.stderr[-1500:]
        assert last_run(db)["counts"]["extract_workers"] == workers
    query = f"SELECT {COLUMNS} FROM articles ORDER BY canonical_url"
    links = "SELECT a.canonical_url, l.url, l.role FROM article_links l JOIN articles a ON a.id = l.article_id ORDER BY 1, 2"
    assert len(rows(inline, query)) == 13
    assert rows(pooled, query) == rows(inline, query)
    assert rows(pooled, links) == rows(inline, links)
    assert rows(pooled, STORIES) == rows(inline, STORIES)  # (copies crawled with the pool: test_editorial_cli)


def descendants(pid: int) -> list[int]:
    from crawler.bench import _tree

    return _tree(pid)[1:]


def stored_so_far(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) FROM articles")[0][0]
    except sqlite3.OperationalError:  # not created, or not migrated yet
        return 0


def pool_crawl(config_file, site, db_path, pages: int, *settings: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    """A feed crawl of ``pages`` generated articles with two extraction workers, started."""
    config = config_file(f'[[sources]]\nid = "gen"\nurl = "http://gen.fixture.test/_gen/feed/{pages}"\n')
    env = env_for(site, AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db_path))
    args = [sys.executable, "-m", "scrapy", "crawl", "feed"]
    for setting in ("AIBRIEF_EXTRACT_WORKERS=2", "LOG_LEVEL=WARNING", *settings):
        args += ["-s", setting]
    return subprocess.Popen(args, cwd=ROOT, env=env, stderr=stderr, text=True)


def workers_of(crawl: subprocess.Popen) -> list[int]:
    """The extraction workers: the fork server's children, grandchildren of the crawl."""
    return [pid for child in descendants(crawl.pid) for pid in descendants(child)]


def test_a_killed_worker_loses_no_page(site, db_path, config_file):
    crawl = pool_crawl(config_file, site, db_path, 200)
    killed = 0
    deadline = time.monotonic() + 60
    try:
        while killed < 2 and time.monotonic() < deadline and crawl.poll() is None:
            workers = workers_of(crawl)
            if workers and stored_so_far(db_path) >= 20 * (killed + 1):
                os.kill(workers[0], signal.SIGKILL)
                killed += 1
            time.sleep(0.05)
        _, stderr = crawl.communicate(timeout=180)
    finally:
        if crawl.poll() is None:  # never leave a crawl running into the next test
            crawl.kill()
            crawl.wait()
    assert killed == 2, "the crawl ended before the workers could be killed"
    assert crawl.returncode == 0
    assert rows(db_path, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(200, 200)]
    counts = last_run(db_path)["counts"]
    assert counts["extract_pool_restarts"] >= 2 and "failed" not in counts and "dropped/extract_error" not in counts
    assert "extraction pool restarted: its extraction worker died" in stderr


def test_a_hung_worker_is_replaced_and_loses_no_page(site, db_path, config_file):
    """A worker that stops answering (SIGSTOP: alive, never finishing) is killed after the
    extraction timeout and replaced, its pages extracted again; or, if it held no page, killed
    when the crawl ends instead of keeping the crawl from ending."""
    crawl = pool_crawl(config_file, site, db_path, 120, "AIBRIEF_EXTRACT_TIMEOUT=3")
    stopped = None
    deadline = time.monotonic() + 60
    try:
        while stopped is None and time.monotonic() < deadline and crawl.poll() is None:
            workers = workers_of(crawl)
            if workers and stored_so_far(db_path) >= 20:
                stopped = workers[0]
                os.kill(stopped, signal.SIGSTOP)
            time.sleep(0.05)
        _, stderr = crawl.communicate(timeout=180)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    assert stopped is not None, "the crawl ended before a worker could be stopped"
    assert crawl.returncode == 0
    assert rows(db_path, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(120, 120)]
    counts = last_run(db_path)["counts"]
    assert "failed" not in counts and "dropped/extract_error" not in counts
    # Stopped holding a page: that page times out and the pool is replaced. Stopped between
    # pages: the other worker does the rest, and the stopped one is killed when the crawl ends.
    if "extraction pool restarted" in stderr:
        assert "extraction pool restarted: extraction took over 3 s" in stderr
        assert counts["extract_pool_restarts"] >= 1
    else:
        assert f"extraction worker {stopped} did not exit: killed" in stderr
    assert not Path(f"/proc/{stopped}").exists() or "zombie" in Path(f"/proc/{stopped}/status").read_text()


def test_workers_step_back_in_priority_and_end_when_the_crawl_is_killed(site, db_path, config_file):
    """Workers run nicer than the crawl (which must never wait behind them for a core); after
    a kill -9 of the crawl, its fork server and workers do not linger."""
    crawl = pool_crawl(config_file, site, db_path, 200, stderr=subprocess.DEVNULL)
    left: list[int] = []
    niceness: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crawl.poll() is None and not left:
            workers = workers_of(crawl)
            if len(workers) == 2 and stored_so_far(db_path) >= 5:  # (workers that have extracted)
                niceness = {pid: os.getpriority(os.PRIO_PROCESS, pid) for pid in workers}
                niceness[crawl.pid] = os.getpriority(os.PRIO_PROCESS, crawl.pid)
                left = descendants(crawl.pid)  # the fork server, the resource tracker, the workers
            time.sleep(0.05)
    finally:
        crawl.kill()
        crawl.wait()
    assert len(left) >= 3, "the crawl ended before its workers could be seen"
    crawl_niceness = niceness.pop(crawl.pid)
    assert set(niceness.values()) == {min(19, crawl_niceness + WORKER_NICENESS)}
    assert crawl_niceness == 19 or min(niceness.values()) > crawl_niceness
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(running(pid) for pid in left):
        time.sleep(0.2)
    assert not [pid for pid in left if running(pid)]


def test_an_analysing_process_keeps_numpy_to_its_own_thread():
    """Once prepared for pages, a process runs NumPy's BLAS in its own thread: helper threads
    would spin between the summaries' matrix products, on the cores the other worker needs."""
    probe = ("from threadpoolctl import threadpool_info\n"
             "from crawler.config import load_config\n"
             "from pipelines.analysis.page import prepare\n"
             "blas = lambda: sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'})\n"
             "before = blas()\n"
             "prepare(load_config().analysis)\n"
             "print(before, blas())\n")
    assert probe_output(probe, OPENBLAS_NUM_THREADS="2") == ["[2]", "[1]"]


def test_a_started_worker_keeps_what_it_loaded_out_of_the_collectors_walks():
    probe = ("import gc\n"
             "from crawler.config import load_config\n"
             "from pipelines.analysis.pool import init_worker\n"
             "before = gc.get_freeze_count()\n"
             "init_worker(load_config().analysis)\n"
             "print(before, gc.get_freeze_count() > 10_000)\n")
    assert probe_output(probe) == ["0", "True"]


def probe_output(probe: str, **env: str) -> list[str]:
    """The words a fresh Python process running ``probe`` prints, under the demo's configuration."""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env, "AIBRIEF_CONFIG": str(DEMO_CONFIG)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def running(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has ended; only its parent has not collected it yet


def test_many_hosts_keep_one_request_at_a_time_each(site, db_path, config_file):
    """Scenario 27, at a tenth of its size (``aibrief bench --load`` runs 5,000 URLs over 50
    hosts): per-host limits hold, and throughput and errors are in the run's record."""
    config = config_file('[[sources]]\nid = "load"\nurl = "http://load.fixture.test/_gen/feed/500?hosts=50"\n')
    result = scrapy_crawl("feed", "-s", "CONCURRENT_REQUESTS=32", config=config, db=db_path, site=site, timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    assert rows(db_path, "SELECT count(*) FROM articles") == [(500,)]
    from crawler.bench import most_at_once

    assert most_at_once(site.log) == 1  # at most one request in progress per host, at any time
    requests = site.requests()
    assert len({r["host"] for r in requests}) == 51  # 50 article hosts and the feed's
    # Every host goes through one proxy, the local server: its connections are reused, not
    # one opened for nearly every request (Scrapy keeps one idle connection per proxy).
    assert len(requests) > 550 and len({r["peer"] for r in requests}) <= 40
    counts = last_run(db_path)["counts"]
    assert counts["stored"] == 500 and counts["elapsed_ms"] > 0 and "failed" not in counts


def test_the_benchmark_measures_every_run_over_the_same_pages(tmp_path):
    """``aibrief bench`` end to end on a small site: figures only, no timing asserted."""
    from conftest import run_cli

    out = tmp_path / "bench.json"
    result = run_cli("bench", "--pages", "30", "--workers", "2", "--bundled", "--repeat", "2", "--json", str(out),
                     timeout=600)
    assert result.returncode == 0, result.stderr[-1500:]
    figures = json.loads(out.read_text())
    cores = len(os.sched_getaffinity(0))
    assert figures["cores"] == cores and figures["pages"] == 30
    assert result.stdout.startswith("30 pages from the bundled sample pages, ")
    assert "median of 2 runs" in result.stdout.splitlines()[0]
    # Round after round of every run, so that the machine's drift falls on all of them alike.
    progress = [line for line in result.stderr.splitlines() if "(round " in line]
    kinds = ["bare trafilatura over 30 pages ("] + ([f"in {cores} processes"] if cores > 1 else []) + ["inline crawl", "pool crawl"]
    assert len(progress) == 2 * len(kinds), progress
    for line, kind, round_ in zip(progress, kinds * 2, [1] * len(kinds) + [2] * len(kinds)):
        assert kind in line and line.endswith(f"(round {round_} of 2) ..."), (line, kind)
    for run in ("bare", "inline", "pool") + (("bare_parallel",) if cores > 1 else ()):
        assert figures[run]["pages_per_s"] > 0 and figures[run]["cpu_ms_per_page"] > 0 and figures[run]["peak_rss_mb"] > 0
    assert figures["bare"]["pages"] == 30 and figures.get("bare_parallel", figures["bare"])["pages"] == 30
    for run in ("inline", "pool"):
        assert (figures[run]["pages"], figures[run]["failed"]) == (30, 0), figures[run]
        assert len(figures[run]["runs"]) == 2
        assert figures[run]["crawl_cpu_ms_per_page"] > 0 and figures[run]["store_ms_per_page"] > 0
    # Inline, the crawl process does everything; with the pool, the workers extract.
    assert figures["inline"]["workers_cpu_ms_per_page"] < figures["inline"]["crawl_cpu_ms_per_page"]
    assert figures["pool"]["workers_cpu_ms_per_page"] > 0
    assert figures["pool"]["workers"] == 2 and figures["inline"]["workers"] == 0
    # Each ratio is the median of the rounds' own ratios (from pages/s rounded to 0.01).
    for key, other, scale in (("pool_over_inline", "inline", 1), ("pool_over_ceiling", "bare", cores)):
        paired = [pool / (scale * them) for pool, them in zip(figures["pool"]["runs"], figures[other]["runs"])]
        assert figures[key] == pytest.approx(statistics.median(paired), rel=0.01), (key, paired)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"pool/inline {figures['pool_over_inline']:.2f}; pool/(cores x bare)"), last


def test_the_benchmark_takes_the_shared_corpus_beside_the_checkout(tmp_path):
    from crawler.bench import corpus_name, default_corpus

    checkout = tmp_path / "aibrief"
    checkout.mkdir()
    assert default_corpus(checkout) is None
    assert corpus_name(default_corpus(checkout)) == "the bundled sample pages"
    (tmp_path / "shared" / "corpus").mkdir(parents=True)
    assert default_corpus(checkout) == tmp_path / "shared" / "corpus"


def test_repeated_runs_report_the_median_of_each_figure():
    from crawler.bench import median

    runs = [{"pages": 30, "pages_per_s": v, "cpu_ms_per_page": c, "errors": e}
            for v, c, e in ((10.0, 90.0, "a"), (30.0, 70.0, "b"), (20.0, 80.0, "c"))]
    merged = median(runs)
    assert (merged["pages_per_s"], merged["cpu_ms_per_page"], merged["pages"]) == (20.0, 80.0, 30)
    assert merged["errors"] == "a" and merged["runs"] == [10.0, 30.0, 20.0]


def test_the_rehash_benchmark_migrates_an_archive_of_the_size_asked(tmp_path):
    """``aibrief bench --rehash`` on a small archive: figures only, no timing asserted."""
    from conftest import run_cli

    out = tmp_path / "rehash.json"
    result = run_cli("bench", "--rehash", "--pages", "60", "--bundled", "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    figures = json.loads(out.read_text())
    assert figures["articles"] == 60 and figures["ms_per_article"] > 0  # seconds are rounded to 0.1
    assert figures["schema_version"] == len(storage.MIGRATIONS)
    assert 0 < figures["band_rows"] <= 60 * BANDS
    assert result.stdout.startswith("corpus: the bundled sample pages\n")


def test_the_search_benchmark_compares_every_index_on_the_labelled_queries(tmp_path):
    """``aibrief bench --search`` on the fixture week: each candidate's recall and cost."""
    from conftest import run_cli

    out = tmp_path / "search.json"
    result = run_cli("bench", "--search", "--bundled", "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    figures = json.loads(out.read_text())
    assert figures["queries"] == 15 and figures["corpus"] == "the bundled sample pages"
    assert set(figures["candidates"]) == {"trigram", "trigram-lead-1000", "trigram-lead-3000", "jieba"}
    for candidate in figures["candidates"].values():
        assert 0 < candidate["recall"] <= 1
        assert candidate["index_ms_per_article"] > 0 and candidate["index_kb_per_article"] > 0
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == list(figures["candidates"])
