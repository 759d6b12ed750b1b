"""The desk's Publish button, through one function.

Publishing freezes the issue with :func:`pipelines.editorial.issues.publish_issue`, the
function ``aibrief issue publish`` calls; whatever else publishing should do when it
happens from the desk (the configured outputs and deliveries) belongs here, after it.
"""
from __future__ import annotations

from datetime import date

import sqlite_utils

from pipelines.editorial.issues import Issue, publish_issue
from schedules.settings import Config


def publish_from_desk(db: sqlite_utils.Database, config: Config, day: date, expected_version: int | None) -> Issue:
    """Publish the issue of ``day`` if it is still at ``expected_version`` (StaleDraft
    otherwise); returns the published issue."""
    return publish_issue(db, day, expected_version)
