"""The one clock everything asks: real time, or the instant ``AIBRIEF_NOW`` names.

``AIBRIEF_NOW=2022-10-14T08:05:00+08:00`` makes a run behave as if it were then (tests of
due rules and late starts, replays); it freezes only what aibrief decides by the clock, not
the network's timeouts.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    """The current instant, aware, in UTC."""
    frozen = os.environ.get("AIBRIEF_NOW")
    if frozen:
        moment = datetime.fromisoformat(frozen)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return datetime.now(timezone.utc)
