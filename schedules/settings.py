"""What the scheduled pipeline runs with: sources, crawl politeness, crawl groups, when
an issue falls due, and the whole configuration as one record.

Plain records, built by the configuration loader (:mod:`crawler.config`) from the
configuration file, whose shipped copy holds every default; the layers below take the
parts they need (:class:`pipelines.analysis.settings.AnalysisSettings`,
:class:`pipelines.editorial.settings.IssueRules`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.analysis.settings import AnalysisSettings, EditorialSettings
from pipelines.archive.articles import SourceRow
from pipelines.cluster import ClusterSettings
from pipelines.editorial.publishing.settings import PublishSettings
from pipelines.editorial.settings import IssueRules
from pipelines.editorial.writer.settings import WriterSettings
from schedules.due import DueRule


@dataclass(slots=True, frozen=True)
class Source:
    id: str
    kind: str
    name: str
    url: str | None = None
    # A path on the RSSHub instance named by ``crawl.rsshub``; used instead of ``url``.
    route: str | None = None
    enabled: bool = True
    timezone: str | None = None  # for naive dates in this source's feed and pages
    max_entries: int | None = None
    # The kind's own options (crawler.config.KIND_OPTIONS), validated and typed.
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def feed_url(self, rsshub: str) -> str | None:
        """The URL to fetch, or None while a bridge route has no bridge configured."""
        if self.url:
            return self.url
        if self.route and rsshub:
            return rsshub.rstrip("/") + self.route
        return None


@dataclass(slots=True, frozen=True)
class CrawlSettings:
    contact: str
    delay: float
    timeout: float
    retries: int
    rsshub: str
    # A WeChat-to-RSS bridge: a feed URL with {id} (and/or {name}) for the account; empty:
    # the RSSHub instance's wechat2rss route, when ``rsshub`` is set.
    wechat_bridge: str
    # A page that failed this many crawls in a row is given up (kept, marked failed).
    max_attempts: int
    # Fetching from private, loopback and other non-global addresses (crawler.addresses):
    # refused unless allowed as a whole or for these host names.
    allow_private: bool
    allow_hosts: tuple[str, ...]
    # The crawl stores articles in batches of at most this many, each written within
    # store_flush seconds (pipelines.archive.batch).
    store_batch: int
    store_flush: float


@dataclass(slots=True, frozen=True)
class CrawlGroup:
    """Sources crawled together on one interval by ``aibrief schedule``."""

    name: str
    sources: tuple[str, ...]  # source ids; "*" stands for every source no other group names
    every: timedelta


@dataclass(slots=True, frozen=True)
class ScheduleSettings:
    crawl: tuple[CrawlGroup, ...]
    # How late the issue build may still run after its due time (the scheduler was down).
    misfire_grace: timedelta
    due: DueRule  # when the issue is built (the configuration's issue.due)


@dataclass(slots=True, frozen=True)
class DeskSettings:
    """The editor's desk (``aibrief serve``): where it listens, and the token that any
    address other than loopback requires."""

    host: str
    port: int
    token: str  # empty: none (then only 127.0.0.1 or another loopback address may be bound)


@dataclass(slots=True, frozen=True)
class Config:
    path: Path | None  # None: the default that ships with the package
    timezone: str
    database: Path
    crawl: CrawlSettings
    issue: IssueRules
    sources: tuple[Source, ...]
    schedule: ScheduleSettings
    editorial: EditorialSettings
    writer: WriterSettings  # the optional model that writes summaries and the daily headline
    publish: PublishSettings  # the archive's address and where a published issue is delivered
    desk: DeskSettings  # aibrief serve
    cluster: ClusterSettings  # crawl workers on several hosts sharing a Redis (empty redis_url: off)
    max_size_mb: float | None = None  # a cap on the archive's size; writes past it fail as on a full disk

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def daily_issues(self) -> bool:
        """The issue falls due every day (a daily rule): its period is a day."""
        return len(self.schedule.due.weekdays) == 7

    @property
    def analysis(self) -> AnalysisSettings:
        return AnalysisSettings(self.editorial, self.issue.summary_chars)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def source_timezone(self, source_id: str | None) -> str:
        """The zone naive dates of this source are read in."""
        source = self.source(source_id) if source_id else None
        return source.timezone if source and source.timezone else self.timezone

    def group_sources(self, group: CrawlGroup) -> list[Source]:
        """The active sources a crawl group covers ("*": those no other group names)."""
        named = {s for g in self.schedule.crawl for s in g.sources if s != "*"}
        wanted = set(group.sources)
        return [s for s in self.active_sources()
                if s.id in wanted or ("*" in wanted and s.id not in named)]

    def active_sources(self) -> list[Source]:
        """Enabled sources that can be fetched now (a bridge route needs its bridge)."""
        return [s for s in self.sources if s.enabled and s.feed_url(self.crawl.rsshub)]

    def source_rows(self) -> list[SourceRow]:
        """The sources as the archive's ``sources`` table keeps them."""
        return [SourceRow(s.id, s.kind, s.name, s.feed_url(self.crawl.rsshub) or s.route, s.enabled,
                          bool(s.option("primary", False))) for s in self.sources]
