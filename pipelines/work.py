"""Everything about one page that needs no database, as a worker process does it.

Extraction is most of a page's cost, and the summary, the classification and the dedupe
fingerprint after it are the rest: together in a worker, they leave the crawl process only
fetching and storing (measured with ``aibrief bench``: on the shared corpus, summary,
jieba and MinHash in the crawl process held the pool to a fraction of its workers). With
extraction inline (no pool), the same steps run in their own pipeline stages instead.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pipelines.extract import Extraction

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PageWork:
    extraction: Extraction
    summary: str | None = None
    summary_failed: bool = False  # the lead stands in for a summarizer that failed
    classification: object | None = None  # pipelines.classify.Classification
    fingerprint: object | None = None  # pipelines.dedupe.Fingerprint


# Set once per worker process by init_worker: what the configuration says.
_EDITORIAL: list = []
WATCH_EVERY = 1.0  # seconds between a worker's looks at the crawl process
# Workers run this much nicer than the crawl. The crawl process is the pipeline's one serial
# stage (fetching, handing pages out, storing); with every core busy extracting, the
# scheduler otherwise shares a core between it and a worker, the reactor waits, and the
# workers then idle for want of pages (2,000-page pool crawls of the bench's fixture site:
# the machine 13-14 % idle, 7-8 % with nicer workers). A lower priority leaves no core unused.
WORKER_NICENESS = 10


def init_worker(editorial, summary_chars: int, crawl: tuple[int, str | None] | None = None) -> None:
    """Pool initializer: step back in priority (:data:`WORKER_NICENESS`), keep the settings,
    load jieba's dictionary and the taxonomy now, and watch the crawl process (``crawl``:
    its pid and start time, see :func:`process_identity`)."""
    from pipelines.classify import taxonomy_for, _tokenizer
    from pipelines.dedupe import _permutations
    from pipelines.summary import summarizer_for

    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # (not allowed here: the worker runs at the crawl's priority)
        pass
    if crawl is not None and crawl[1] is not None:  # (no /proc to watch it by: not watched)
        threading.Thread(target=_exit_with, args=crawl, name="aibrief-watch-crawl", daemon=True).start()
    _EDITORIAL[:] = [editorial, summary_chars, summarizer_for(editorial.summarizer)]
    _tokenizer()
    taxonomy_for(editorial)
    _permutations()


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
             hint_title: str | None = None) -> PageWork:
    # (Imported here: the crawl process imports this module to start the pool before it has
    # loaded the extraction code. The fork server has, for every worker.)
    from pipelines.classify import classify
    from pipelines.dedupe import fingerprint
    from pipelines.enrich import summarize_or_lead
    from pipelines.extract import extract

    work = PageWork(extract(body, url, content_type=content_type, tz=ZoneInfo(tz), now=now))
    article = work.extraction.article
    if article is None or not _EDITORIAL:
        return work
    editorial, summary_chars, summarizer = _EDITORIAL
    title = article.title or hint_title
    work.summary, work.summary_failed = summarize_or_lead(summarizer, article.title, article.text, summary_chars, url)
    work.classification = classify(title or "", article.text, editorial)
    work.fingerprint = fingerprint(title, article.text)
    return work
