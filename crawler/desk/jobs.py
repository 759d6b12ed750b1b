"""The desk's work that outlives a request: crawling one source as a recorded run, and
fetching the URLs an editor added before the archive held them. Both take the run lock
every crawling command takes, in a thread of their own (a lease's connection stays in
the thread that opened it).

A crawl of a source asked for while another run holds the lock is refused at once (the
page says the run is busy). A URL to add is kept waiting in the archive
(:mod:`pipelines.editorial.pending`) and fetched as soon as the lock is free: the fetcher
tries again every ``RETRY_SECONDS`` while URLs wait, and settles the ones another crawl
stored meanwhile. URLs left waiting by a desk that stopped are fetched when it starts.
"""
from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from contextlib import ExitStack

from pipelines.archive.db import StorageError, connect
from pipelines.editorial.pending import note_waiting, settle_pending, waiting_urls
from schedules.lock import LockHeld, run_lock
from schedules.runner import crawl, crawl_urls, select_sources
from schedules.settings import Config

logger = logging.getLogger(__name__)

# How often waiting URLs are tried again while another run holds the lock: a crawl of a
# source takes tens of seconds, so a page shows the URL land within seconds of its end.
RETRY_SECONDS = 2.0
# How long a request waits to learn whether its crawl got the run lock (a busy database
# may hold the lease's transaction up to its busy timeout).
LOCK_ANSWER_SECONDS = 35.0


class Jobs:
    """The desk's background crawls, for one configuration."""

    def __init__(self, config: Config, log_level: str = "WARNING") -> None:
        self.config = config
        self.log_level = log_level
        self._guard = threading.Lock()
        self._fetcher: threading.Thread | None = None
        self._wake = threading.Event()

    def crawl_source(self, source_id: str) -> None:
        """Start a recorded crawl of one source; LockHeld at once when another run holds
        the lock, UnknownSource for a source the configuration does not have."""
        select_sources(self.config, [source_id])
        answer: queue.Queue[BaseException | None] = queue.Queue()
        command = f"aibrief serve, crawl of {source_id}"

        def work() -> None:
            with ExitStack() as stack:
                try:
                    lease = stack.enter_context(run_lock(self.config.database, command))
                except (LockHeld, StorageError, sqlite3.Error) as exc:
                    answer.put(exc)
                    return
                answer.put(None)
                try:
                    run = crawl(self.config, [source_id], command=command, lease=lease, log_level=self.log_level)
                    logger.info("%s: run %d %s", command, run.id, run.status)
                except (StorageError, sqlite3.Error, OSError) as exc:
                    logger.error("%s failed: %s", command, exc)

        threading.Thread(target=work, name=f"desk-crawl-{source_id}", daemon=True).start()
        try:
            outcome = answer.get(timeout=LOCK_ANSWER_SECONDS)
        except queue.Empty:
            raise LockHeld(f"the run lock gave no answer in {LOCK_ANSWER_SECONDS:.0f} s (the database is busy);"
                           " the crawl may start late: see the runs") from None
        if outcome is not None:
            raise outcome

    def fetch_waiting(self) -> None:
        """Make sure the fetcher runs while URLs wait (it stops when none do)."""
        with self._guard:
            if self._fetcher is None or not self._fetcher.is_alive():
                self._fetcher = threading.Thread(target=self._fetch_loop, name="desk-fetcher", daemon=True)
                self._fetcher.start()
            else:
                self._wake.set()

    def _fetch_loop(self) -> None:
        while True:
            db = connect(self.config.database)
            try:
                settle_pending(db, self.config.editorial)  # stored meanwhile by another crawl
                with self._guard:
                    urls = waiting_urls(db)
                    if not urls:
                        self._fetcher = None
                        return
                self._fetch(db, urls)
            except (StorageError, sqlite3.Error, OSError) as exc:
                logger.error("desk: fetching added URLs failed: %s", exc)
            finally:
                db.close()
            self._wake.wait(RETRY_SECONDS)
            self._wake.clear()

    def _fetch(self, db, urls: list[str]) -> None:
        try:
            with run_lock(self.config.database, "aibrief serve, fetch of added pages") as lease:
                note_waiting(db, "fetching")
                code = crawl_urls(self.config, urls, lease=lease, log_level=self.log_level)
        except LockHeld as exc:
            note_waiting(db, f"waiting for the run lock: {exc}")
            return
        if code != 0:
            logger.warning("desk: the fetch of %d added URLs exited with status %d", len(urls), code)
        settle_pending(db, self.config.editorial, fetched=set(urls))
