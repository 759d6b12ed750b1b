"""The throughput benchmark behind ``aibrief bench``: pages/s, CPU per page and peak memory.

In one invocation, over the same N pages served from loopback by a separate process:

- ``bare``: trafilatura alone over the page bytes in one process: the per-core ceiling;
- ``bare_parallel``: the same pages split over one such process per core, all at once:
  what this machine really gives bare trafilatura on every core (cores that share caches,
  memory bandwidth and a hypervisor give less than cores × bare);
- ``inline``: the whole crawl (fetch, canonical URL, extraction, every later stage, store)
  into a fresh database with extraction in the reactor thread;
- ``pool``: the same with the extraction pool.

Pages are made from realistic pages (a folder of real pages: ``../shared/corpus`` beside
the checkout when it is there, or the project's own sample and adapter fixtures), each made
unique, spread over eight hosts so that the one-request-per-host rule is not what is
measured. CPU time and memory are read from /proc for the crawl and every process under it
(workers included), sampled every 0.1 s, and the CPU is given per process kind: the crawl
process itself, and the extraction workers (with the fork server they come from);
throughput uses the crawl's own elapsed time (spider opened to closed). Each run is made
``repeat`` times and each figure is the median of its runs.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.analysis.pool import proc_stat

ROOT = Path(__file__).resolve().parent.parent
HOSTS = 8
SAMPLE_EVERY = 0.1
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    """A benchmark run that could not be measured; the message is one line."""


def default_corpus(root: Path = ROOT) -> Path | None:
    """The shared corpus of real pages beside the checkout (``../shared/corpus``), or None
    when there is none (then the bundled sample pages stand in)."""
    corpus = root.parent / "shared" / "corpus"
    return corpus if corpus.is_dir() else None


def corpus_name(corpus: Path | None) -> str:
    return str(corpus) if corpus is not None else "the bundled sample pages"


def sample_pages(corpus: Path | None) -> list[bytes]:
    """Article pages to build the bench site from."""
    if corpus is not None:
        files = sorted(corpus.rglob("*.html.gz")) + sorted(corpus.rglob("*.html"))
        pages = [gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes() for f in files]
    else:
        sites = ROOT / "crawler" / "demo" / "sites"
        files = [f for f in sorted(sites.rglob("*")) if f.is_file() and f.name not in ("robots.txt",)
                 and "/feed" not in f.as_posix() and "/rss" not in f.as_posix() and "/private/" not in f.as_posix()
                 and not f.read_bytes().lstrip().startswith(b"<?xml")]
        files += [f for f in sorted((ROOT / "tests" / "adapters").rglob("*.html"))
                  if '"not_article"' not in f.with_suffix(".json").read_text("utf-8")]
        pages = [f.read_bytes() for f in files]
    pages = [p for p in pages if b"</p>" in p]
    if not pages:
        raise SystemExit(f"no pages with paragraphs found in {corpus or 'the project fixtures'}")
    return pages


# A page's statement of its own address would make every copy of it one article.
_DECLARED_ADDRESS = re.compile(rb"<link[^>]+rel=[\"']canonical[\"'][^>]*>|msg_link\s*=\s*\"[^\"]*\"")


def build_site(pages: list[bytes], count: int, into: Path) -> list[str]:
    """Write ``count`` unique pages as sites under ``into``; return their URLs."""
    urls = []
    pages = [_DECLARED_ADDRESS.sub(b"", page) for page in pages]
    for i in range(count):
        base = pages[i % len(pages)]
        unique = base.replace(b"</p>", f" (bench {i})</p>".encode(), 1)
        host = f"b{i % HOSTS}.bench.test"
        path = into / host / "p" / f"{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(unique)
        urls.append(f"http://{host}/p/{i}.html")
    return urls


def _tree(pid: int) -> list[int]:
    """The process and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _usage(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, resident bytes) of one process, or None when it is gone."""
    fields = proc_stat(pid)
    if fields is None:
        return None
    try:
        with open(f"/proc/{pid}/statm") as statm:
            resident = int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, resident


def watch(process: subprocess.Popen) -> tuple[float, float, float]:
    """Wait for a process; return (CPU seconds of it and all under it, CPU seconds of the
    process itself, peak summed RSS in MB)."""
    cpu: dict[int, float] = {}
    peak = 0
    while process.poll() is None:
        total = 0
        for pid in _tree(process.pid):
            usage = _usage(pid)
            if usage:
                cpu[pid] = usage[0]
                total += usage[1]
        peak = max(peak, total)
        time.sleep(SAMPLE_EVERY)
    return sum(cpu.values()), cpu.get(process.pid, 0.0), peak / 2**20


def bare(pages_dir: Path, part: int = 0, parts: int = 1) -> dict:
    """trafilatura alone over every page under ``pages_dir`` (or every ``parts``-th from the
    ``part``-th), in this process."""
    # Imported here: every `aibrief` command imports this module, and trafilatura adds
    # 0.2 s to the start of each (python -X importtime); only the bare run needs it.
    import trafilatura

    files = sorted(pages_dir.rglob("*.html"))[part::parts]
    bodies = [f.read_bytes() for f in files]
    for body in bodies[:5]:  # warm up, as the eval script does
        trafilatura.bare_extraction(body, with_metadata=True)
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        trafilatura.bare_extraction(body, with_metadata=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"pages": len(bodies), "pages_per_s": len(bodies) / wall, "cpu_ms_per_page": 1000 * cpu / len(bodies),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "seconds": wall}


def crawl(urls_file: Path | None, proxy: str, workers: int, workdir: Path, sources: str = "") -> dict:
    """The whole crawl of the bench site (the URLs in ``urls_file``, or the feed sources
    given as TOML) into a fresh database."""
    db = workdir / f"bench-{workers}.db"
    for stale in workdir.glob(f"bench-{workers}.db*"):
        stale.unlink()
    config = workdir / "bench.toml"
    config.write_text(f'[crawl]\ndelay = 0.0\nretries = 0\ntimeout = 60.0\n{sources}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBRIEF_")}
    env.update(AIBRIEF_CONFIG=str(config), AIBRIEF_DB=str(db), http_proxy=proxy, HTTP_PROXY=proxy,
               no_proxy="", NO_PROXY="", SCRAPY_SETTINGS_MODULE="crawler.settings")
    started = time.perf_counter()
    spider = ["urls", "-a", f"file={urls_file}"] if urls_file else ["feed"]
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", *spider, "-s", "LOG_LEVEL=ERROR",
         "-s", f"AIBRIEF_EXTRACT_WORKERS={workers}", "-s", "AIBRIEF_PROGRESS=0",
         # Enough hosts in parallel for the fetch side never to be what is measured.
         "-s", "CONCURRENT_REQUESTS=32"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu, own_cpu, peak = watch(process)
    wall = time.perf_counter() - started
    errors = process.stderr.read().decode("utf-8", "replace").strip()
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        run_row = conn.execute("SELECT counts FROM crawl_runs ORDER BY id DESC").fetchone()
    except sqlite3.OperationalError:
        run_row = None
    finally:
        conn.close()
    if run_row is None:
        last = errors.splitlines()[-1] if errors else f"exit status {process.returncode}"
        raise BenchError(f"the {workers}-worker crawl recorded no run: {last}")
    counts = json.loads(run_row[0])
    elapsed = counts.get("elapsed_ms", wall * 1000) / 1000
    per_page = 1000 / max(stored, 1)
    return {"pages": stored, "pages_per_s": stored / elapsed, "cpu_ms_per_page": cpu * per_page,
            # Where the time goes: the crawl process (fetching, the stages' glue, storing,
            # handing pages to the workers) and the workers (extraction and analysis).
            "crawl_cpu_ms_per_page": own_cpu * per_page, "workers_cpu_ms_per_page": (cpu - own_cpu) * per_page,
            "store_ms_per_page": counts.get("store/cpu_ms", 0) / max(stored, 1),
            "peak_rss_mb": peak, "seconds": elapsed, "wall_seconds": wall, "workers": workers,
            "failed": counts.get("failed", 0) + counts.get("dropped/extract_error", 0),
            "not_articles": counts.get("dropped/not_article", 0),
            "errors": errors.splitlines()[-1] if errors else ""}


def median(results: list[dict]) -> dict:
    """One run's figures from several: each number the median of its values (the first
    run's for anything else), and each run's pages/s kept under ``runs``."""
    merged = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(r[key] for r in results)
    merged["runs"] = [round(r["pages_per_s"], 2) for r in results]
    return merged


def run(pages: int, workers: int, corpus: Path | None, runs: tuple[str, ...] = ("bare", "inline", "pool"),
        echo=print, repeat: int = 1) -> dict:
    """Every run of ``runs`` over the same ``pages`` pages, each ``repeat`` times (the figures
    are the medians)."""
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="aibrief-bench-") as tmp:
        work = Path(tmp)
        urls = build_site(sample_pages(corpus), pages, work / "site")
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
        server = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(work / "site")],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline().split()[1])
            result: dict = {"cores": cores, "pages": pages, "corpus": corpus_name(corpus), "repeat": repeat}
            proxy = f"http://127.0.0.1:{port}"
            kinds = {"bare": (f"bare trafilatura over {pages} pages", lambda: bare_processes(work / "site", 1)),
                     "bare_parallel": (f"bare trafilatura over {pages} pages in {cores} processes at once",
                                       lambda: bare_processes(work / "site", cores)),
                     "inline": (f"inline crawl of {pages} pages (0 extraction workers)",
                                lambda: crawl(urls_file, proxy, 0, work)),
                     "pool": (f"pool crawl of {pages} pages ({workers} extraction workers)",
                              lambda: crawl(urls_file, proxy, workers, work))}
            chosen = [name for name in kinds
                      if name in runs or (name == "bare_parallel" and "bare" in runs and cores > 1)]
            # Round after round of every run, not every repeat of one run then the next: the
            # speed of a shared machine drifts over minutes, and the ratios compare runs made
            # under the same drift.
            measured: dict[str, list[dict]] = {name: [] for name in chosen}
            for round_ in range(repeat):
                for name in chosen:
                    label, measure = kinds[name]
                    echo(f"{label}{f' (round {round_ + 1} of {repeat})' if repeat > 1 else ''} ...")
                    measured[name].append(measure())
            result.update({name: median(results) for name, results in measured.items()})
        finally:
            server.terminate()
            server.wait()
    # Each ratio is the median of its rounds' ratios: the runs of one round share the
    # machine's speed at the time, and the same round's pool and bare runs are what compare.
    for key, other, scale in (("pool_over_inline", "inline", 1), ("pool_over_ceiling", "bare", cores),
                              ("pool_over_parallel_bare", "bare_parallel", 1)):
        if "pool" in result and other in result:
            result[key] = statistics.median(pool["pages_per_s"] / (scale * them["pages_per_s"])
                                            for pool, them in zip(measured["pool"], measured[other]))
    return result


def bare_processes(pages_dir: Path, count: int) -> dict:
    """The bare run in ``count`` processes at once, each over its share of the pages; pages/s
    is all the pages over the slowest process's time."""
    children = [subprocess.Popen([sys.executable, "-m", "crawler.bench", "bare", str(pages_dir), str(i), str(count)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i in range(count)]
    results = []
    for child in children:
        out, err = child.communicate()
        if child.returncode != 0:
            last = err.strip().splitlines()[-1] if err.strip() else f"exit status {child.returncode}"
            raise BenchError(f"the bare trafilatura run failed: {last}")
        results.append(json.loads(out))
    if count == 1:
        return results[0]
    pages = sum(r["pages"] for r in results)
    wall = max(r["seconds"] for r in results)
    cpu_ms = sum(r["cpu_ms_per_page"] * r["pages"] for r in results)
    return {"pages": pages, "processes": count, "pages_per_s": pages / wall, "cpu_ms_per_page": cpu_ms / pages,
            "peak_rss_mb": sum(r["peak_rss_mb"] for r in results), "seconds": wall}


def memory(workers: int, corpus: Path | None, sizes: tuple[int, ...] = (2000, 10_000), echo=print,
           repeat: int = 1) -> dict:
    """Peak RSS of the pool crawl at several sizes: a bounded working set does not grow."""
    result: dict = {"workers": workers, "corpus": corpus_name(corpus)}
    for size in sizes:
        echo(f"pool crawl of {size} pages ...")
        result[str(size)] = run(size, workers, corpus, runs=("pool",), echo=echo, repeat=repeat)["pool"]
    small, large = (result[str(size)]["peak_rss_mb"] for size in (sizes[0], sizes[-1]))
    result["growth"] = large / small - 1
    return result


def load(urls: int = 5000, hosts: int = 50, workers: int = 2, echo=print) -> dict:
    """Scenario 27: ``urls`` generated articles over ``hosts`` loopback hosts."""
    with tempfile.TemporaryDirectory(prefix="aibrief-load-") as tmp:
        work = Path(tmp)
        log = work / "requests.jsonl"
        server = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(work), "--log", str(log)],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline().split()[1])
            echo(f"crawl of {urls} URLs over {hosts} hosts ...")
            feed = f'[[sources]]\nid = "load"\nurl = "http://load.bench.test/_gen/feed/{urls}?hosts={hosts}"\n'
            result = crawl(None, f"http://127.0.0.1:{port}", workers, work, sources=feed)
        finally:
            server.terminate()
            server.wait()
        result["hosts"] = hosts
        result["most_at_once_on_a_host"] = most_at_once(log)
    return result


def most_at_once(log: Path) -> int:
    """The most requests one host had in progress at the same time, from the server's log."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    ends = {r["id"]: r["t_end"] for r in records if "t_end" in r}
    events: dict[str, list[tuple[float, int]]] = {}
    for r in records:
        if "method" in r and r["id"] in ends:
            events.setdefault(r["host"], []).extend([(r["t"], 1), (ends[r["id"]], -1)])
    most = 0
    for marks in events.values():
        busy = 0
        for _, step in sorted(marks, key=lambda m: (m[0], m[1])):
            busy += step
            most = max(most, busy)
    return most


def report(result: dict) -> list[str]:
    medians = f", median of {result['repeat']} runs" if result.get("repeat", 1) > 1 else ""
    lines = [f"{result['pages']} pages from {result['corpus']}, {result['cores']} cores{medians}",
             f"{'run':8} {'pages/s':>9} {'cpu ms/page':>12} {'peak RSS MB':>12}  notes"]
    for name in ("bare", "bare_parallel", "inline", "pool"):
        if name in result:
            r = result[name]
            note = ""
            if name == "bare_parallel":
                note = f"{r['processes']} processes at once: {r['pages_per_s'] / (result['cores'] * result['bare']['pages_per_s']):.2f} of cores x bare"
            elif name != "bare":
                note = (f"{r['pages']} stored, {r['failed']} failed, {r['not_articles']} not articles; cpu ms/page: "
                        f"crawl process {r['crawl_cpu_ms_per_page']:.1f} (storing {r['store_ms_per_page']:.1f}), "
                        f"workers {r['workers_cpu_ms_per_page']:.1f}")
            label = f"bare x{r['processes']}" if name == "bare_parallel" else name
            lines.append(f"{label:8} {r['pages_per_s']:9.1f} {r['cpu_ms_per_page']:12.1f} {r['peak_rss_mb']:12.0f}  {note}")
    ratios = []
    if "pool_over_inline" in result:
        ratios.append(f"pool/inline {result['pool_over_inline']:.2f}")
    if "pool_over_ceiling" in result:
        ratios.append(f"pool/(cores x bare) {result['pool_over_ceiling']:.2f}")
    if "pool_over_parallel_bare" in result:
        ratios.append(f"pool/(bare x{result['bare_parallel']['processes']}) {result['pool_over_parallel_bare']:.2f}")
    if ratios:
        lines.append("; ".join(ratios))
    return lines


if __name__ == "__main__":
    # python -m crawler.bench bare DIR [PART PARTS]: the bare trafilatura run (over every
    # PARTS-th page from the PART-th), in a process of its own.
    if len(sys.argv) in (3, 5) and sys.argv[1] == "bare":
        print(json.dumps(bare(Path(sys.argv[2]), *map(int, sys.argv[3:]))))
    else:
        sys.exit("usage: python -m crawler.bench bare DIR [PART PARTS]   (aibrief bench runs the whole benchmark)")
