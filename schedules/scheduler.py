"""``aibrief schedule``: the crawl groups on their intervals and the issue build on its due rule.

One foreground process, one job at a time. Crawls are ``scrapy crawl`` subprocesses (see
:mod:`schedules.runner`); every turn takes the run lock and skips itself, with one log
line, when another run holds it. The issue is built once per due day: at the due time, or
late (the scheduler was down, the lock was held) while within ``schedule.misfire_grace``.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import FrameType

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipelines.archive import clock, runs
from pipelines.archive.db import connect, parse_iso
from pipelines.editorial.issues import EmptyPeriod, build_configured_issue, get_issue
from pipelines.editorial.writer.write import write_for_day
from schedules.cluster import crawl
from schedules.due import DAYS
from schedules.lock import LockHeld, run_lock
from schedules.settings import Config, CrawlGroup

logger = logging.getLogger(__name__)

def crawl_command(group: CrawlGroup) -> str:
    """The run lock's holder and the crawl_runs command of a group's crawls."""
    return f"aibrief schedule {group.name}"


def crawl_group(config: Config, group: CrawlGroup, log_level: str = "WARNING") -> runs.Run | None:
    """One crawl of a group; None when it was skipped (no active sources, lock held)."""
    sources = [s.id for s in config.group_sources(group)]
    if not sources:
        logger.warning("crawl %s: no active sources; skipped", group.name)
        return None
    try:
        with run_lock(config.database, crawl_command(group)) as lease:
            run = crawl(config, sources, command=crawl_command(group), lease=lease, log_level=log_level)
    except LockHeld as exc:
        logger.warning("crawl %s skipped: %s", group.name, exc)
        return None
    log = logger.warning if run.status == "failed" else logger.info
    log("crawl %s: run %d %s%s", group.name, run.id, run.status, f" ({run.error})" if run.error else "")
    return run


def build_due_issue(config: Config) -> bool:
    """Build the issue last due unless it exists or its due time is past the grace; True if built."""
    now = clock.now().astimezone(config.tz)
    due = config.schedule.due.last_due(now)
    day = due.date()
    if _has_issue(config, day):
        return False
    if now - due > config.schedule.misfire_grace:
        logger.info("issue %s: due at %s, more than %s ago; not built", day, due, config.schedule.misfire_grace)
        return False
    try:
        with run_lock(config.database, "aibrief schedule issue"):
            if _has_issue(config, day):  # built meanwhile by another run
                return False
            db = connect(config.database)
            try:
                issue = build_configured_issue(db, config, day)
            finally:
                db.close()
    except LockHeld as exc:
        logger.warning("issue %s build skipped: %s", day, exc)
        return False
    except EmptyPeriod as exc:
        logger.warning("%s", exc)
        return False
    logger.info("issue %s built (%d items)", day, len(issue.items))
    return True


def write_due(config: Config) -> bool:
    """When the writer is enabled: write for the articles the issue last due would pick, so
    that the build after a crawl (:func:`build_due_issue`) finds them written; True if it
    ran. A failure of the model's endpoint is counted in the writer's run, never a failure
    of the crawl."""
    if not config.writer.enabled:
        return False
    day = config.schedule.due.last_due(clock.now().astimezone(config.tz)).date()
    try:
        with run_lock(config.database, "aibrief schedule write"):
            db = connect(config.database)
            try:
                report = write_for_day(db, day, config.writer, editorial=config.editorial,
                                       max_items=config.issue.max_items, tz=config.tz,
                                       daily=config.daily_issues, command="aibrief schedule write")
            finally:
                db.close()
    except LockHeld as exc:
        logger.warning("write %s skipped: %s", day, exc)
        return False
    logger.info("write %s: %s", day, report.line())
    return True


def _has_issue(config: Config, day: date) -> bool:
    db = connect(config.database)
    try:
        return get_issue(db, day) is not None
    finally:
        db.close()


def due_groups(config: Config) -> list[CrawlGroup]:
    """Groups never crawled by the scheduler, or whose last crawl started an interval ago."""
    now = clock.now()
    db = connect(config.database)
    try:
        due = []
        for group in config.schedule.crawl:
            (last,) = db.execute("SELECT max(started_at) FROM crawl_runs WHERE command = ?",
                                 [crawl_command(group)]).fetchone()
            if last is None or now - parse_iso(last) >= group.every:
                due.append(group)
        return due
    finally:
        db.close()


def run_once(config: Config, log_level: str = "WARNING") -> int:
    """Crawl the groups that are due, write (when the writer is enabled), then build the
    issue if due.

    1 when every crawl that ran failed, else 0; a turn skipped for a held lock is no failure.
    """
    ran = [run for group in due_groups(config) if (run := crawl_group(config, group, log_level)) is not None]
    write_due(config)
    build_due_issue(config)
    return 1 if ran and all(run.status == "failed" for run in ran) else 0


def run_scheduler(config: Config, *, once: bool = False, log_level: str = "WARNING") -> int:
    """Run the schedule in the foreground until SIGTERM or SIGINT (then 0), or once."""
    with _on_stop_signals(_interrupt):
        if once:
            return run_once(config, log_level)
        build_due_issue(config)  # the scheduler may come back after the due time
    scheduler = BlockingScheduler(
        timezone=config.tz,
        # One worker: jobs wait on subprocesses, and one at a time keeps the lock uncontended.
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"max_instances": 1, "coalesce": True})
    for group in config.schedule.crawl:
        scheduler.add_job(
            _turn(scheduler, f"crawl {group.name}", _crawl_then_build(config, group, log_level)),
            IntervalTrigger(seconds=group.every.total_seconds(), timezone=config.tz),
            id=f"crawl:{group.name}", name=f"crawl {group.name}",
            # APScheduler keeps real time; AIBRIEF_NOW freezes only what aibrief decides.
            next_run_time=datetime.now(config.tz),
            # A crawl queued behind another job still runs, however late (coalesced to one).
            misfire_grace_time=None)
    rule = config.schedule.due
    scheduler.add_job(
        _turn(scheduler, "issue build", lambda: build_due_issue(config)),
        CronTrigger(day_of_week=",".join(DAYS[d] for d in sorted(rule.weekdays)),
                    hour=rule.at.hour, minute=rule.at.minute, timezone=config.tz),
        id="issue:build", name="issue build",
        # APScheduler's default of one second would drop a build that starts a little late.
        misfire_grace_time=int(config.schedule.misfire_grace.total_seconds()))

    # A signal handler runs in the main thread, inside the scheduler's loop and its locks, so
    # it does nothing itself: Python writes the signal's number to a pipe, and a thread that
    # reads it shuts the scheduler down, letting the running job finish.
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    stopper = threading.Thread(target=_stop_on_signal, args=(scheduler, read_fd), name="aibrief-stop", daemon=True)

    def started(event: object) -> None:
        _echo_jobs(scheduler)
        stopper.start()  # only now can shutdown() succeed; a signal before waits in the pipe

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    previous_fd = signal.set_wakeup_fd(write_fd)
    try:
        with _on_stop_signals(lambda signum, frame: None):
            scheduler.start()
    finally:
        signal.set_wakeup_fd(previous_fd)
        os.close(write_fd)
    stopper.join()
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the runner stops its crawl, the lock is released


@contextmanager
def _on_stop_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _stop_on_signal(scheduler: BlockingScheduler, read_fd: int) -> None:
    try:
        got = os.read(read_fd, 1)  # later signals are ignored: the running job finishes
    finally:
        os.close(read_fd)
    if not got:  # the loop ended otherwise
        return
    logger.warning("%s: stopping after the running job", signal.Signals(got[0]).name)
    scheduler.shutdown(wait=True)


def _crawl_then_build(config: Config, group: CrawlGroup, log_level: str) -> Callable[[], None]:
    def job() -> None:
        crawl_group(config, group, log_level)
        write_due(config)
        # A build skipped at its time (lock held, an error) is retried after each crawl.
        build_due_issue(config)
    return job


def _turn(scheduler: BlockingScheduler, what: str, work: Callable[[], object]) -> Callable[[], None]:
    """A job that does nothing once the scheduler stops and logs any error in one line."""
    def job() -> None:
        if not scheduler.running:
            return
        try:
            work()
        except Exception as exc:  # noqa: BLE001 (one line per failed turn; the scheduler goes on)
            logger.error("%s failed: %s: %s", what, type(exc).__name__, exc)
    return job


def _echo_jobs(scheduler: BlockingScheduler) -> None:
    jobs = ", ".join(f"{job.id} next {job.next_run_time:%Y-%m-%d %H:%M:%S %Z}" for job in scheduler.get_jobs())
    sys.stderr.write(f"aibrief schedule: {jobs}\n")
    sys.stderr.flush()
