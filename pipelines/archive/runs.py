"""Crawl run records: when a run started and ended, what it crawled, what happened, how it ended.

A run made by the ``aibrief`` command spans one or more ``scrapy crawl`` processes; each
adds its counts to the same row. A ``scrapy crawl`` started by hand records a run of its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from pipelines.archive.db import immediate, iso, utcnow

# Counts that mean "something the run wanted did not happen".
FAILURE_COUNTS = ("failed", "feed/failed", "dropped/extract_error")


@dataclass(slots=True)
class Run:
    id: int
    started_at: str
    ended_at: str | None
    command: str
    sources: list[str]
    counts: dict[str, int]
    status: str
    error: str | None

    @classmethod
    def from_row(cls, row: dict) -> Run:
        return cls(id=row["id"], started_at=row["started_at"], ended_at=row["ended_at"],
                   command=row["command"], sources=json.loads(row["sources"]),
                   counts=json.loads(row["counts"]), status=row["status"], error=row["error"])


def start_run(db: sqlite_utils.Database, command: str, sources: list[str]) -> int:
    with immediate(db):
        cursor = db.execute(
            "INSERT INTO crawl_runs (started_at, command, sources, status) VALUES (?, ?, ?, 'running')",
            [iso(utcnow()), command, json.dumps(sources)])
    return cursor.lastrowid


def add_counts(db: sqlite_utils.Database, run_id: int, counts: dict[str, int]) -> None:
    with immediate(db):
        row = db.execute("SELECT counts FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            return
        merged = json.loads(row[0])
        for key, value in counts.items():
            merged[key] = merged.get(key, 0) + value
        db.execute("UPDATE crawl_runs SET counts = ? WHERE id = ?",
                   [json.dumps(dict(sorted(merged.items()))), run_id])


def finish_run(db: sqlite_utils.Database, run_id: int, status: str, error: str | None = None,
               sources: list[str] | None = None) -> Run:
    with immediate(db):
        db.execute("UPDATE crawl_runs SET ended_at = ?, status = ?, error = ? WHERE id = ?",
                   [iso(utcnow()), status, error, run_id])
        if sources is not None:
            db.execute("UPDATE crawl_runs SET sources = ? WHERE id = ?", [json.dumps(sources), run_id])
    return get_run(db, run_id)


def get_run(db: sqlite_utils.Database, run_id: int) -> Run:
    rows = list(db.query("SELECT * FROM crawl_runs WHERE id = ?", [run_id]))
    return Run.from_row(rows[0])


def run_status(counts: dict[str, int], sources: list[str], clean_exit: bool = True) -> str:
    """``failed`` when the crawl broke (or the disk filled up) or every source failed,
    ``partial`` when something failed, ``ok`` otherwise."""
    if not clean_exit or counts.get("disk_full"):
        return "failed"
    failed_sources = [s for s in sources if counts.get(f"source/{s}/failed")]
    if sources and len(failed_sources) == len(sources):
        return "failed"
    if failed_sources or any(counts.get(key) for key in FAILURE_COUNTS):
        return "partial"
    return "ok"


def latest_runs(db: sqlite_utils.Database, limit: int) -> list[Run]:
    """The latest crawl runs, newest first."""
    return [Run.from_row(row) for row in db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT ?", [limit])]
