"""The ``[issue]`` table: what an issue holds and how it is titled.

A plain record, built by the configuration loader (:mod:`crawler.config`) from the
configuration file, whose shipped copy holds every default. When an issue falls due is the
scheduler's business (:class:`schedules.settings.ScheduleSettings`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LAYOUTS = ("reference", "editor", "daily")


@dataclass(slots=True, frozen=True)
class IssueRules:
    max_items: int
    title: str  # a template: "AI 簡報 {date:%Y%m%d} 期"
    section: str
    summary_chars: int
    layout: str  # one of LAYOUTS: what `aibrief export` writes by default
    moments_chars: int  # the daily layout's short version for WeChat Moments, at most this long

    def title_for(self, day: date) -> str:
        return self.title.format(date=day)
