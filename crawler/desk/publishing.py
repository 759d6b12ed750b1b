"""The desk's Publish button, through one function.

Publishing from the desk is what ``aibrief issue publish`` does:
:func:`pipelines.editorial.publishing.deliver.publish_and_deliver` freezes the issue and
then sends it to each configured output not delivered yet; the page reports each output's
result as the command does.
"""
from __future__ import annotations

from datetime import date

import sqlite_utils

from pipelines.editorial.publishing.deliver import publish_and_deliver
from schedules.settings import Config


def publish_from_desk(db: sqlite_utils.Database, config: Config, day: date, expected_version: int | None) -> str:
    """Publish the issue of ``day`` if it is still at ``expected_version`` (StaleDraft
    otherwise) and deliver it; returns the line the page shows."""
    done = publish_and_deliver(db, config, day, expected_version=expected_version)
    line = f"published {done.issue.title} ({len(done.issue.items)} items)"
    if done.deliveries:
        line += "; " + ", ".join(f"{result.output}: {result.status}" + (f" ({result.reason})" if result.reason else "")
                                 for result in done.deliveries)
    return line
