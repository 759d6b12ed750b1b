"""The issue's due rule: on which weekdays and at what local time an issue falls due.

Written in the config as ``"fri 08:00"``, ``"daily 07:30"``, ``"mon,thu 08:00"`` or
``"mon-fri 09:00"``; times are in the configured time zone.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")


@dataclass(slots=True, frozen=True)
class DueRule:
    weekdays: frozenset[int]  # Monday is 0
    at: time

    def last_due(self, now: datetime) -> datetime:
        """The latest due instant at or before ``now`` (an aware datetime in the issue's zone)."""
        return next(due for due in self._dues(now, range(0, -8, -1)) if due <= now)

    def next_due(self, now: datetime) -> datetime:
        """The earliest due instant after ``now`` (an aware datetime in the issue's zone)."""
        return next(due for due in self._dues(now, range(8)) if due > now)

    def _dues(self, now: datetime, offsets: range) -> Iterator[datetime]:
        """The due instants on the days ``offsets`` away from ``now``'s (a week covers every rule)."""
        for offset in offsets:
            day = (now + timedelta(days=offset)).date()
            if day.weekday() in self.weekdays:
                yield datetime.combine(day, self.at, tzinfo=now.tzinfo)

    def __str__(self) -> str:
        days = "daily" if len(self.weekdays) == 7 else ",".join(DAYS[d] for d in sorted(self.weekdays))
        return f"{days} {self.at:%H:%M}"


def parse_due(text: str) -> DueRule:
    """Parse a due rule; ValueError says what is wrong with it."""
    match = _RULE.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a due rule such as 'fri 08:00' or 'daily 07:30'")
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: no such time of day")
    days: set[int] = set()
    for part in match["days"].split(","):
        if part == "daily":
            days.update(range(7))
        elif "-" in part:
            first, _, last = part.partition("-")
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"{text!r}: unknown day in {part!r} (use {', '.join(DAYS)})")
            a, b = DAYS.index(first), DAYS.index(last)
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in DAYS:
            days.add(DAYS.index(part))
        else:
            raise ValueError(f"{text!r}: unknown day {part!r} (use {', '.join(DAYS)} or daily)")
    return DueRule(frozenset(days), time(hour, minute))
