"""What became of each delivery of a published issue: one row per issue and output.

A row is claimed (``sending``) in a write transaction before anything is sent, so that two
publishing runs never send one output twice; ``parts_sent`` counts the messages of a split
delivery that went out, so a retry resumes after them. ``delivered`` is final: nothing sends
it again. ``failed`` keeps the reason; ``aibrief issue publish DATE --retry-failed`` tries
it again, and a ``sending`` row left by a run that died with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from pipelines.archive.db import immediate, iso, utcnow

DELIVERED, FAILED, SENDING = "delivered", "failed", "sending"


@dataclass(slots=True)
class Delivery:
    issue_id: int
    output: str
    channel: str
    status: str
    parts_sent: int
    attempts: int
    reason: str | None
    updated_at: str
    delivered_at: str | None


def deliveries_of(db: sqlite_utils.Database, issue_id: int) -> list[Delivery]:
    return [Delivery(**row) for row in db.query(
        "SELECT issue_id, output, channel, status, parts_sent, attempts, reason, updated_at, delivered_at"
        " FROM publish_deliveries WHERE issue_id = ? ORDER BY output", [issue_id])]


def claim_delivery(db: sqlite_utils.Database, issue_id: int, output: str, channel: str,
                   retry_failed: bool) -> int | None:
    """Take the output's delivery of the issue for this run: the number of its messages
    already sent, or None when it is not to be sent (delivered, or failed without
    ``retry_failed``, or being sent by another run)."""
    now = iso(utcnow())
    with immediate(db):
        row = db.execute("SELECT status, parts_sent FROM publish_deliveries WHERE issue_id = ? AND output = ?",
                         [issue_id, output]).fetchone()
        if row is None:
            db.execute("INSERT INTO publish_deliveries (issue_id, output, channel, status, updated_at)"
                       " VALUES (?, ?, ?, 'sending', ?)", [issue_id, output, channel, now])
            return 0
        status, parts_sent = row
        if status == DELIVERED or not retry_failed:
            return None
        db.execute("UPDATE publish_deliveries SET status = 'sending', channel = ?, updated_at = ?"
                   " WHERE issue_id = ? AND output = ?", [channel, now, issue_id, output])
        return parts_sent


def record_part(db: sqlite_utils.Database, issue_id: int, output: str, parts_sent: int, attempts: int) -> None:
    """One more message of the delivery went out."""
    with immediate(db):
        db.execute("UPDATE publish_deliveries SET parts_sent = ?, attempts = attempts + ?, updated_at = ?"
                   " WHERE issue_id = ? AND output = ?", [parts_sent, attempts, iso(utcnow()), issue_id, output])


def finish_delivery(db: sqlite_utils.Database, issue_id: int, output: str, *, reason: str | None,
                    attempts: int = 0) -> None:
    """Delivered (no ``reason``) or failed with ``reason``."""
    now = iso(utcnow())
    with immediate(db):
        db.execute("UPDATE publish_deliveries SET status = ?, reason = ?, attempts = attempts + ?, updated_at = ?,"
                   " delivered_at = ? WHERE issue_id = ? AND output = ?",
                   [FAILED if reason else DELIVERED, reason, attempts, now, None if reason else now, issue_id, output])
