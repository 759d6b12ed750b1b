"""The one TOML configuration file: where it is, what it may hold, and what it means.

Everything that reads configuration goes through :func:`load_config`; it is also the one
place where the environment (``AIBRIEF_CONFIG``, ``AIBRIEF_DB``) overrides the file.
A bad file raises :class:`ConfigError` whose message is one line naming the file, the key
and the problem.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schedules.due import DueRule, parse_due

DEFAULT_CONFIG_NAME = "aibrief.toml"
DEFAULT_DB_NAME = "aibrief.db"
SOURCE_KINDS = ("feed",)
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """A configuration problem, worded as one line: ``FILE: KEY: PROBLEM``."""


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

    def feed_url(self, rsshub: str) -> str | None:
        """The URL to fetch, or None while a bridge route has no bridge configured."""
        if self.url:
            return self.url
        if self.route and rsshub:
            return rsshub.rstrip("/") + self.route
        return None


@dataclass(slots=True, frozen=True)
class CrawlSettings:
    contact: str = "https://github.com/aibrief/aibrief"
    delay: float = 1.0
    timeout: float = 30.0
    retries: int = 2
    rsshub: str = ""
    # A page that failed this many crawls in a row is given up (kept, marked failed).
    max_attempts: int = 5


@dataclass(slots=True, frozen=True)
class CrawlGroup:
    """Sources crawled together on one interval by ``aibrief schedule``."""

    name: str
    sources: tuple[str, ...]  # source ids; "*" stands for every source no other group names
    every: timedelta


@dataclass(slots=True, frozen=True)
class ScheduleSettings:
    crawl: tuple[CrawlGroup, ...] = (CrawlGroup("all", ("*",), timedelta(hours=1)),)
    # How late the issue build may still run after its due time (the scheduler was down).
    misfire_grace: timedelta = timedelta(hours=6)


@dataclass(slots=True, frozen=True)
class IssueRules:
    max_items: int = 9
    due: DueRule = field(default_factory=lambda: parse_due("fri 08:00"))
    title: str = "AI 簡報 {date:%Y%m%d} 期"
    section: str = "嵌入式 AI"
    summary_chars: int = 300

    def title_for(self, day: date) -> str:
        return self.title.format(date=day)


@dataclass(slots=True, frozen=True)
class Config:
    path: Path | None  # None: the default that ships with the package
    timezone: str
    database: Path
    crawl: CrawlSettings
    issue: IssueRules
    sources: tuple[Source, ...]
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    max_size_mb: float | None = None  # a cap on the archive's size; writes past it fail as on a full disk

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def group_sources(self, group: CrawlGroup) -> list[Source]:
        """The active sources a crawl group covers ("*": those no other group names)."""
        named = {s for g in self.schedule.crawl for s in g.sources if s != "*"}
        wanted = set(group.sources)
        return [s for s in self.active_sources()
                if s.id in wanted or ("*" in wanted and s.id not in named)]

    def active_sources(self) -> list[Source]:
        """Enabled sources that can be fetched now (a bridge route needs its bridge)."""
        return [s for s in self.sources if s.enabled and s.feed_url(self.crawl.rsshub)]


def default_config_text() -> str:
    return resources.files("crawler").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


def find_config_path(explicit: str | os.PathLike | None = None) -> Path | None:
    """``--config``, then ``AIBRIEF_CONFIG``, then ``./aibrief.toml``; None for the default."""
    if explicit:
        return Path(explicit)
    if os.environ.get("AIBRIEF_CONFIG"):
        return Path(os.environ["AIBRIEF_CONFIG"])
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_config(path: str | os.PathLike | None = None, db: str | os.PathLike | None = None) -> Config:
    """Read, validate and resolve the configuration; the environment overrides here only."""
    config_path = find_config_path(path)
    label = str(config_path) if config_path else f"<default {DEFAULT_CONFIG_NAME}>"
    if config_path is None:
        text = default_config_text()
    else:
        try:
            text = config_path.read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{label}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{label}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    config = _parse(data, _Where(label))

    db = db or os.environ.get("AIBRIEF_DB")
    if db:
        database = Path(db)
    elif config.database != Path():
        base = config_path.parent if config_path else Path.cwd()
        database = config.database if config.database.is_absolute() else base / config.database
    else:
        database = Path.cwd() / DEFAULT_DB_NAME
    return Config(
        path=config_path.resolve() if config_path else None,
        timezone=config.timezone,
        database=database.absolute(),
        crawl=config.crawl,
        issue=config.issue,
        sources=config.sources,
        schedule=config.schedule,
        max_size_mb=config.max_size_mb,
    )


# --- validation -------------------------------------------------------------------------

class _Where:
    """Builds ``FILE: KEY: PROBLEM`` messages."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.label}: {key}: {problem}")


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a table", list: "an array"}


def _get(table: dict, key: str, kind: type, where: _Where, prefix: str, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise where.error(f"{prefix}{key}", f"must be {_TYPE_NAMES[kind]}, not {value!r}")
    return value


def _no_unknown(table: dict, allowed: set[str], where: _Where, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise where.error(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _check_url(value: str, where: _Where, key: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise where.error(key, f"{value!r} is not an http(s) URL")
    return value


def _check_zone(value: str, where: _Where, key: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise where.error(key, f"unknown time zone {value!r}") from None
    return value


def _positive(value: float | int, where: _Where, key: str, allow_zero: bool = False) -> Any:
    if value < 0 or (value == 0 and not allow_zero):
        raise where.error(key, f"must be {'zero or more' if allow_zero else 'positive'}, not {value!r}")
    return value


def _parse(data: dict, where: _Where) -> Config:
    _no_unknown(data, {"timezone", "database", "max_size_mb", "crawl", "issue", "sources", "schedule"}, where, "")
    timezone = _check_zone(_get(data, "timezone", str, where, "", "Asia/Shanghai"), where, "timezone")
    database = Path(_get(data, "database", str, where, "", ""))

    crawl_table = _get(data, "crawl", dict, where, "", {})
    _no_unknown(crawl_table, {"contact", "delay", "timeout", "retries", "rsshub", "max_attempts"}, where, "crawl.")
    defaults = CrawlSettings()
    rsshub = _get(crawl_table, "rsshub", str, where, "crawl.", defaults.rsshub)
    if rsshub:
        _check_url(rsshub, where, "crawl.rsshub")
    crawl = CrawlSettings(
        contact=_check_url(_get(crawl_table, "contact", str, where, "crawl.", defaults.contact),
                           where, "crawl.contact"),
        delay=_positive(_get(crawl_table, "delay", float, where, "crawl.", defaults.delay),
                        where, "crawl.delay", allow_zero=True),
        timeout=_positive(_get(crawl_table, "timeout", float, where, "crawl.", defaults.timeout),
                          where, "crawl.timeout"),
        retries=_positive(_get(crawl_table, "retries", int, where, "crawl.", defaults.retries),
                          where, "crawl.retries", allow_zero=True),
        rsshub=rsshub,
        max_attempts=_positive(_get(crawl_table, "max_attempts", int, where, "crawl.", defaults.max_attempts),
                               where, "crawl.max_attempts"),
    )

    issue_table = _get(data, "issue", dict, where, "", {})
    _no_unknown(issue_table, {"max_items", "due", "title", "section", "summary_chars"}, where, "issue.")
    rules = IssueRules()
    due_text = _get(issue_table, "due", str, where, "issue.", None)
    try:
        due = parse_due(due_text) if due_text is not None else rules.due
    except ValueError as exc:
        raise where.error("issue.due", str(exc)) from None
    title = _get(issue_table, "title", str, where, "issue.", rules.title)
    try:
        title.format(date=date(2022, 10, 14))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise where.error("issue.title", f"bad template {title!r} (use {{date:%Y%m%d}}): {exc}") from None
    issue = IssueRules(
        max_items=_positive(_get(issue_table, "max_items", int, where, "issue.", rules.max_items),
                            where, "issue.max_items"),
        due=due,
        title=title,
        section=_get(issue_table, "section", str, where, "issue.", rules.section),
        summary_chars=_positive(_get(issue_table, "summary_chars", int, where, "issue.",
                                     rules.summary_chars), where, "issue.summary_chars"),
    )

    source_list = _get(data, "sources", list, where, "", [])
    sources: list[Source] = []
    seen: set[str] = set()
    for n, table in enumerate(source_list):
        prefix = f"sources[{n}]."
        if not isinstance(table, dict):
            raise where.error(f"sources[{n}]", "must be a table ([[sources]])")
        source = _parse_source(table, where, prefix)
        if source.id in seen:
            raise where.error(f"{prefix}id", f"duplicate source id {source.id!r}")
        seen.add(source.id)
        sources.append(source)
    schedule = _parse_schedule(_get(data, "schedule", dict, where, "", {}), where, seen)
    max_size = _get(data, "max_size_mb", float, where, "", None)
    if max_size is not None:
        _positive(max_size, where, "max_size_mb")
    return Config(path=None, timezone=timezone, database=database, crawl=crawl, issue=issue,
                  sources=tuple(sources), schedule=schedule, max_size_mb=max_size)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``; ValueError otherwise."""
    match = _DURATION.match(text.lower())
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration such as '30m', '1h' or '90s'")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: float(match[1])})


def _duration(table: dict, key: str, where: _Where, prefix: str, default: timedelta) -> timedelta:
    text = _get(table, key, str, where, prefix, None)
    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise where.error(f"{prefix}{key}", str(exc)) from None


def _parse_schedule(table: dict, where: _Where, source_ids: set[str]) -> ScheduleSettings:
    _no_unknown(table, {"crawl", "misfire_grace"}, where, "schedule.")
    defaults = ScheduleSettings()
    groups: list[CrawlGroup] = []
    for n, group in enumerate(_get(table, "crawl", list, where, "schedule.", [])):
        prefix = f"schedule.crawl[{n}]."
        if not isinstance(group, dict):
            raise where.error(f"schedule.crawl[{n}]", "must be a table ([[schedule.crawl]])")
        _no_unknown(group, {"name", "sources", "every"}, where, prefix)
        name = _get(group, "name", str, where, prefix, f"group{n + 1}")
        if not SOURCE_ID.match(name) or any(g.name == name for g in groups):
            raise where.error(f"{prefix}name", f"{name!r} must be a unique lower-case name")
        sources = _get(group, "sources", list, where, prefix, ["*"])
        for source_id in sources:
            if source_id != "*" and source_id not in source_ids:
                raise where.error(f"{prefix}sources", f"unknown source {source_id!r}")
        groups.append(CrawlGroup(name, tuple(sources), _duration(group, "every", where, prefix, timedelta(hours=1))))
    return ScheduleSettings(crawl=tuple(groups) or defaults.crawl,
                            misfire_grace=_duration(table, "misfire_grace", where, "schedule.", defaults.misfire_grace))


def _parse_source(table: dict, where: _Where, prefix: str) -> Source:
    _no_unknown(table, {"id", "name", "kind", "url", "route", "enabled", "options"}, where, prefix)
    if "id" not in table:
        raise where.error(f"{prefix}id", "missing")
    source_id = _get(table, "id", str, where, prefix, "")
    if not SOURCE_ID.match(source_id):
        raise where.error(f"{prefix}id", f"{source_id!r} must be lower-case letters, digits, '.', '_' or '-'")
    prefix = f"sources[{source_id}]."
    kind = _get(table, "kind", str, where, prefix, "feed")
    if kind not in SOURCE_KINDS:
        raise where.error(f"{prefix}kind", f"unknown kind {kind!r} (known: {', '.join(SOURCE_KINDS)})")
    url = _get(table, "url", str, where, prefix, None)
    route = _get(table, "route", str, where, prefix, None)
    if (url is None) == (route is None):
        raise where.error(f"{prefix}url", "give exactly one of url or route")
    if url is not None:
        _check_url(url, where, f"{prefix}url")
    if route is not None and not route.startswith("/"):
        raise where.error(f"{prefix}route", f"{route!r} must be a path starting with '/'")
    options = _get(table, "options", dict, where, prefix, {})
    _no_unknown(options, {"timezone", "max_entries"}, where, f"{prefix}options.")
    zone = _get(options, "timezone", str, where, f"{prefix}options.", None)
    if zone is not None:
        _check_zone(zone, where, f"{prefix}options.timezone")
    max_entries = _get(options, "max_entries", int, where, f"{prefix}options.", None)
    if max_entries is not None:
        _positive(max_entries, where, f"{prefix}options.max_entries")
    return Source(
        id=source_id,
        kind=kind,
        name=_get(table, "name", str, where, prefix, source_id),
        url=url,
        route=route,
        enabled=_get(table, "enabled", bool, where, prefix, True),
        timezone=zone,
        max_entries=max_entries,
    )


def config_for_crawler(crawler) -> Config:
    """The configuration a Scrapy crawl runs with, loaded once per crawler.

    ``AIBRIEF_CONFIG`` and ``AIBRIEF_DB`` come as Scrapy settings (``-s``) or, through
    :func:`load_config`, from the environment, exactly as for the ``aibrief`` command.
    """
    config = getattr(crawler, "_aibrief_config", None)
    if config is None:
        config = load_config(crawler.settings.get("AIBRIEF_CONFIG"), crawler.settings.get("AIBRIEF_DB"))
        crawler._aibrief_config = config
    return config
