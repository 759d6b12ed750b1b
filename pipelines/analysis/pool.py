"""Extraction in worker processes, so that the crawl uses every core and the reactor stays free.

trafilatura takes 20-25 ms a page; run in the reactor it holds a crawl to about 33 pages/s
and stalls downloads meanwhile (issue 7's measurements). Threads are no way out: besides
the GIL, trafilatura called from several threads crashed the process in 5 of 8 probes
here. So page bytes go to a process pool:

- one worker per core by default; the pages in flight are bounded
  (:data:`IN_FLIGHT_PER_WORKER` a worker), and Scrapy's scraper stops the downloader while
  too many response bytes wait, so pages never pile up in memory;
- the workers run nicer than the crawl process (:data:`WORKER_NICENESS`),
  the pipeline's one serial stage;
- workers start from a fork server that has imported the extraction code once, not from
  a copy of the crawl process (forking a process that runs threads is unsafe);
- a worker that dies (killed, out of memory, a crash in a C library) breaks the pool: it is
  replaced and every page that was in it is tried once more; a worker that hangs past the
  timeout is killed the same way; a page that fails twice fails with the reason, and the
  crawl goes on;
- a worker ends itself when the crawl process is gone (``kill -9``), and the fork server
  with it.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from pipelines.analysis.settings import AnalysisSettings

if TYPE_CHECKING:
    from pipelines.analysis.page import PageAnalysis

logger = logging.getLogger(__name__)

ATTEMPTS = 2  # the page that was in a broken pool gets one more try
CLOSE_GRACE = 10.0  # seconds the workers get to exit when the crawl ends
MOST_REPLACEMENTS_WAITED = 5  # a page only queued in a pool replaced under it goes on to the next
# Pages handed to the pool and not yet back, per worker. The crawl process hands pages out
# and stores results in bursts; with two a worker (one extracted, one waiting) the workers
# ran dry during a burst. 2,000-page pool crawls of the bench's fixture site, niced
# workers, two to four runs each: 2: 65-70 pages/s, 4: 74-77, 8: 83-92, 16: 87-99,
# 32: 83-95. Memory stays bounded: Scrapy stops downloading while 5 MB of responses wait
# in its scraper, and a response waits there until its item is through the pipelines.
IN_FLIGHT_PER_WORKER = 8


# Set once per worker process by init_worker: what the configuration says.
_SETTINGS: list[AnalysisSettings] = []
WATCH_EVERY = 1.0  # seconds between a worker's looks at the crawl process
# Workers run this much nicer than the crawl. The crawl process is the pipeline's one serial
# stage (fetching, handing pages out, storing); with every core busy extracting, the
# scheduler otherwise shares a core between it and a worker, the reactor waits, and the
# workers then idle for want of pages (2,000-page pool crawls of the bench's fixture site:
# the machine 13-14 % idle, 7-8 % with nicer workers). A lower priority leaves no core unused.
WORKER_NICENESS = 10


def init_worker(settings: AnalysisSettings, crawl: tuple[int, str | None] | None = None) -> None:
    """Pool initializer: step back in priority (:data:`WORKER_NICENESS`), keep the settings,
    load jieba's dictionary, the taxonomy and the trained relevance scorer now (then freeze
    them for the garbage collector), and watch the crawl process (``crawl``: its pid and
    start time, see :func:`process_identity`)."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # (not allowed here: the worker runs at the crawl's priority)
        pass
    if crawl is not None and crawl[1] is not None:  # (no /proc to watch it by: not watched)
        threading.Thread(target=_exit_with, args=crawl, name="aibrief-watch-crawl", daemon=True).start()
    _SETTINGS[:] = [settings]
    _page().prepare(settings)
    # What is loaded now lives as long as the worker: out of the collector's sight, a full
    # collection no longer walks it (the collector took 0.62 ms of CPU a page, 0.36 frozen:
    # 300 pages of the bench's corpus in one process).
    gc.freeze()


def process_identity(pid: int) -> tuple[int, str | None]:
    """A process's pid and start time (so that a reused pid is not taken for it); the start
    time is None when it cannot be read."""
    fields = proc_stat(pid)
    return pid, fields[19] if fields else None


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first, then the parent's
    pid; user and system CPU ticks at 11 and 12, the start time at 19), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields if len(fields) > 19 else None


def _exit_with(pid: int, started: str) -> None:
    """End this worker when the crawl is gone (or killed and not yet collected: a zombie).
    A worker holds both ends of its task queue and the fork server's liveness pipe, so
    after a ``kill -9`` of the crawl nothing else would ever end it, nor the fork server:
    three idle processes, 200 MB each, per kill."""
    while True:
        time.sleep(WATCH_EVERY)
        fields = proc_stat(pid)
        if fields is None or fields[19] != started or fields[0] == "Z":
            os._exit(0)


def page_job(body: bytes, url: str | None, content_type: str | None, tz: str, now: datetime,
             hint_title: str | None = None, article=None) -> PageAnalysis:
    """:func:`pipelines.analysis.page.analyse_page` in a worker, with the worker's settings."""
    return _page().analyse_page(body, url, _SETTINGS[0], content_type=content_type, tz=tz, now=now,
                                hint_title=hint_title, article=article)


def _page() -> ModuleType:
    """The analysis code, imported where it runs. Importing it (trafilatura, jieba, numpy)
    takes 0.34 s after Scrapy's imports (python -X importtime): the fork server loads it
    for every worker (pipelines.analysis.preload), and a crawl process with a pool never
    needs it in its own."""
    from pipelines.analysis import page

    return page


class InlineAnalysis:
    """:func:`pipelines.analysis.page.analyse_page` in the crawl process, in the reactor
    thread (``AIBRIEF_EXTRACT_WORKERS = 0``): the same calls as a worker makes."""

    restarts = 0

    def __init__(self, settings: AnalysisSettings) -> None:
        self.settings = settings
        _page().prepare(settings)

    async def run(self, body: bytes, url: str | None, content_type: str | None, tz: str, now: datetime,
                  hint_title: str | None = None, article=None) -> PageAnalysis:
        return _page().analyse_page(body, url, self.settings, content_type=content_type, tz=tz, now=now,
                                    hint_title=hint_title, article=article)

    def close(self) -> None:
        pass


class ExtractionFailed(Exception):
    """A page could not be extracted in the pool (its worker crashed or hung, twice)."""


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def extract_workers(settings) -> int:
    """The extraction workers a crawl's settings ask for (``AIBRIEF_EXTRACT_WORKERS``: unset
    is one per core, 0 is inline); ValueError, in a line, when the value is no count."""
    value = settings.get("AIBRIEF_EXTRACT_WORKERS")
    if value in (None, ""):
        return default_workers()
    try:
        workers = int(value)
    except (TypeError, ValueError):
        workers = -1
    if workers < 0:
        raise ValueError(f"AIBRIEF_EXTRACT_WORKERS must be 0 (inline) or a number of workers, not {value!r}")
    return workers


def start_fork_server() -> multiprocessing.context.BaseContext:
    """Start the process that the extraction workers are forked from, if it is not running yet,
    and return the context that forks from it.

    The fork server imports the extraction code before it forks anything, about a second
    here. A worker cannot start before that, and starting one waits for it: the pool's first
    page used to hold the reactor thread still that long, fetching included. The crawl command
    calls this before Scrapy sets up the crawl, so that the import overlaps that set-up.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.analysis.preload"])
    multiprocessing.forkserver.ensure_running()
    return context


class ExtractionPool:
    """Runs :func:`pipelines.analysis.page.analyse_page` (extraction, summary,
    classification, dedupe fingerprint) for each page in worker processes set up with the
    configuration's analysis settings. ``timeout``: seconds a page may take before its
    worker is taken for hung (the crawl's ``AIBRIEF_EXTRACT_TIMEOUT``)."""

    def __init__(self, workers: int, settings: AnalysisSettings, timeout: float) -> None:
        self.workers = workers
        self.timeout = timeout
        self._settings = settings
        self.restarts = 0
        self._slots = asyncio.Semaphore(workers * IN_FLIGHT_PER_WORKER)
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        context = start_fork_server()
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=init_worker,
                                   initargs=(self._settings, process_identity(os.getpid())))

    async def run(self, body: bytes, url: str | None, content_type: str | None, tz: str,
                  now: datetime, hint_title: str | None = None, article=None) -> PageAnalysis:
        async with self._slots:
            reason, failures, waits = "unknown", 0, 0
            while failures < ATTEMPTS and waits <= MOST_REPLACEMENTS_WAITED:
                executor = self._executor
                future = None
                try:
                    future = executor.submit(page_job, body, url, content_type, tz, now, hint_title, article)
                    return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
                except BrokenProcessPool:
                    failures += 1
                    reason = "its extraction worker died"
                    self._replace(executor, reason)
                except asyncio.TimeoutError:
                    failures += 1
                    reason = f"extraction took over {self.timeout:.0f} s"
                    self._replace(executor, reason, kill=True)
                except asyncio.CancelledError:
                    # Waiting in a pool that was replaced because another page hung: this
                    # page did nothing wrong and goes to the new pool. (Cancelled otherwise,
                    # the crawl is stopping: let it.)
                    if future is None or not future.cancelled() or executor is self._executor:
                        raise
                    waits += 1
            if failures >= ATTEMPTS:
                raise ExtractionFailed(f"{reason}, twice")
            raise ExtractionFailed(f"{reason}; its pool kept being replaced")

    def _replace(self, broken: ProcessPoolExecutor, reason: str, kill: bool = False) -> None:
        """Swap in a new pool, once per broken one (every page that was in it lands here)."""
        if broken is not self._executor:
            return
        self.restarts += 1
        logger.warning("extraction pool restarted: %s", reason)
        if kill:
            for process in list(getattr(broken, "_processes", {}).values()):
                process.kill()
        broken.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    def close(self) -> None:
        """Let the workers finish and exit; kill any that has not within CLOSE_GRACE (a worker
        hung while holding no page would otherwise keep the crawl from ever ending)."""
        executor = self._executor
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + CLOSE_GRACE
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("extraction worker %s did not exit: killed", process.pid)
                process.kill()
                process.join(5)
