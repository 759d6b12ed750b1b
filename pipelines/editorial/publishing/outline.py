"""An issue as every publishing output lays it out: its title, headline, sections of
numbered entries with their cited links and summaries, and the daily issue's insights and
Moments version.

Two layouts, as the Markdown export has them (:mod:`pipelines.editorial.export`): the
weekly one (the issue's title, items under their ``editorial.sections`` section, each with
``原文`` and its other cited links and the whole summary) and the daily 早报 (its dated
title, 今日一句话, the daily sections, one sentence per item and the sources it cites).
The WeChat article, the archive's pages, the feed and the chat messages all render an
outline, so they all say the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.editorial.export import (
    DAILY_EMOJI,
    DAILY_FEATURED,
    DAILY_INSIGHTS,
    EDITOR_LINK_LABELS,
    PRIORITY_MARKS,
    daily_groups,
    moments_lines,
)
from pipelines.editorial.issues import Issue, IssueItem

DAILY = "daily"
_WEEKDAYS = "一二三四五六日"


@dataclass(slots=True)
class Entry:
    number: int
    title: str
    url: str  # "" when the item cites no web address
    links: list[tuple[str, str]]  # (label, URL): 原文, 论文地址… or the daily item's source names
    summary: list[str]  # paragraphs
    image: str | None = None
    mark: str = ""  # the daily layout's priority mark


@dataclass(slots=True)
class Section:
    name: str  # "" for items outside any section
    entries: list[Entry]


@dataclass(slots=True)
class Outline:
    title: str
    headline: str
    section: str  # the issue's column line ("嵌入式 AI"); "" in the daily layout
    sections: list[Section]
    insights: list[str] = field(default_factory=list)
    moments: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [entry for section in self.sections for entry in section.entries]


def _web(url: str | None) -> bool:
    return bool(url) and url.startswith(("http://", "https://"))


def outline(issue: Issue, layout: str, moments_chars: int) -> Outline:
    """``issue`` in the daily layout when ``layout`` is "daily", else in the weekly one."""
    return _daily(issue, moments_chars) if layout == DAILY else _weekly(issue)


def _weekly(issue: Issue) -> Outline:
    sections: list[Section] = []
    for item in issue.items:
        name = item.section or ""
        if not sections or sections[-1].name != name:
            sections.append(Section(name, []))
        cited = [("source", item.url)] + [(link["role"], link["url"]) for link in item.links]
        links = [(EDITOR_LINK_LABELS[role], url) for role, url in cited if role in EDITOR_LINK_LABELS and _web(url)]
        sections[-1].entries.append(Entry(item.position, item.title, item.url if _web(item.url) else "", links,
                                          _paragraphs(item.summary), item.image if _web(item.image) else None))
    return Outline(issue.title, issue.headline, issue.section, sections)


def _daily(issue: Issue, moments_chars: int) -> Outline:
    groups = daily_groups(issue)
    sections = []
    number = 0
    for name, items in groups:
        entries = []
        for item in items:
            number += 1
            entries.append(_daily_entry(item, number, featured=name == DAILY_FEATURED))
        sections.append(Section(f"{DAILY_EMOJI.get(name, '📰')} {name}", entries))
    moments = issue.moments.splitlines() if issue.moments else moments_lines(
        [item for _, items in groups for item in items], moments_chars)
    title = f"🤖 AI 早报 | {issue.date:%Y.%m.%d}（周{_WEEKDAYS[issue.date.weekday()]}）"
    return Outline(title, issue.headline, "", sections, list(issue.insights), [m for m in moments if m.strip()])


def _daily_entry(item: IssueItem, number: int, featured: bool) -> Entry:
    sources = item.sources or ([{"name": item.source or "原文", "url": item.url}] if item.url else [])
    links = [(s.get("name") or "原文", s["url"]) for s in sources if _web(s.get("url"))]
    mark = PRIORITY_MARKS.get(item.priority or "", "🔴" if featured else "🟡")
    if item.stars is not None:
        mark = f"⭐ {item.stars:,}"
    first = _paragraphs(item.summary)[:1]
    return Entry(number, item.title, item.url if _web(item.url) else "", links, first, None, mark)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.splitlines() if p.strip()]


INSIGHTS_HEADING = f"{DAILY_EMOJI[DAILY_INSIGHTS]} {DAILY_INSIGHTS}"
MOMENTS_HEADING = "朋友圈版"
