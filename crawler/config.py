"""The one TOML configuration file: where it is, what it may hold, and what it means.

Everything that reads configuration goes through :func:`load_config`, which turns the file
into the settings records of the layers that use them (:class:`schedules.settings.Config`
holding :class:`pipelines.editorial.settings.IssueRules`,
:class:`pipelines.analysis.settings.EditorialSettings` and the rest); it is also the one
place where the environment (``AIBRIEF_CONFIG``, ``AIBRIEF_DB``) overrides the file. Every
default is in the shipped ``aibrief.toml``: a table a configuration leaves out, or a key of
it, takes the shipped value.
A bad file raises :class:`ConfigError` whose message is one line naming the file, the key
and the problem.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import tomllib
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.discovery.listings import ListingRules
from pipelines.analysis.settings import EditorialSettings, Topic
from pipelines.analysis.summary import SUMMARIZERS
from pipelines.analysis.text import SCRIPTS
from pipelines.cluster import ClusterSettings
from pipelines.editorial.publishing.settings import CHANNELS, SENDS, Output, PublishSettings, SmtpSettings
from pipelines.editorial.settings import LAYOUTS, IssueRules
from pipelines.editorial.writer.settings import WriterSettings
from schedules.due import parse_due
from schedules.settings import Config, CrawlGroup, CrawlSettings, DeskSettings, ScheduleSettings, Source

DEFAULT_CONFIG_NAME = "aibrief.toml"
DEFAULT_DB_NAME = "aibrief.db"
SOURCE_KINDS = ("feed", "sitemap", "listing", "arxiv", "github-trending", "wechat", "hackernews")
# What a source of these kinds fetches when it names no url of its own.
DEFAULT_SOURCE_URLS = {"arxiv": "https://export.arxiv.org/api/query", "github-trending": "https://github.com/trending",
                       "hackernews": "https://hacker-news.firebaseio.com/v0/"}
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Tables whose keys a configuration may leave out: the shipped file's values stand in.
DEFAULTED_TABLES = ("crawl", "issue", "schedule", "editorial", "writer", "publish", "desk", "cluster")


class ConfigError(Exception):
    """A configuration problem, worded as one line: ``FILE: KEY: PROBLEM``."""


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
    model = _model_path(data, config_path, database.absolute())
    publish = config.publish
    if publish.site_dir:
        publish = dataclasses.replace(publish, site_dir=_beside_config(publish.site_dir, config_path))
    return dataclasses.replace(config, path=config_path.resolve() if config_path else None,
                               database=database.absolute(), publish=publish,
                               editorial=dataclasses.replace(config.editorial, model=model))


def _model_path(data: dict, config_path: Path | None, database: Path) -> str:
    """Where the trained relevance scorer is (``editorial.model``): empty means beside the
    database and named after it, "off" none, a relative path is relative to the config."""
    editorial = data.get("editorial") if isinstance(data.get("editorial"), dict) else {}
    value = str(editorial.get("model", _shipped_tables()["editorial"].get("model", ""))).strip()
    if value == MODEL_OFF:
        return ""
    if not value:
        return str(database.with_name(database.stem + ".relevance.json.gz"))
    return _beside_config(value, config_path)


def _beside_config(value: str, config_path: Path | None) -> str:
    """A path from the configuration, absolute: a relative one is relative to the file (the
    current folder for the built-in configuration)."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (config_path.parent if config_path else Path.cwd()) / path
    return str(path.absolute())


# --- validation -------------------------------------------------------------------------

class _Where:
    """Builds ``FILE: KEY: PROBLEM`` messages."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.label}: {key}: {problem}")


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a table", list: "an array"}


_REQUIRED: Any = object()


def _get(table: dict, key: str, kind: type, where: _Where, prefix: str, default: Any = _REQUIRED) -> Any:
    """``table[key]`` checked to be of ``kind``; ``default`` when it is not there (a key of
    a table the shipped file fills in is always there)."""
    if key not in table:
        if default is _REQUIRED:
            raise where.error(f"{prefix}{key}", "missing")
        return default
    value = table[key]
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise where.error(f"{prefix}{key}", f"must be {_TYPE_NAMES[kind]}, not {value!r}")
    if kind is float and not math.isfinite(value):
        raise where.error(f"{prefix}{key}", f"must be a finite number, not {value!r}")
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


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
                        r"|^[0-9a-f:.]+$")


def _host_names(values: list, where: _Where, key: str) -> tuple[str, ...]:
    hosts = []
    for value in values:
        host = value.strip().lower().rstrip(".") if isinstance(value, str) else ""
        if not _HOST_NAME.match(host):
            raise where.error(key, f"{value!r} is not a host name such as \"rsshub.intranet.example\"")
        hosts.append(host)
    return tuple(hosts)


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


@functools.cache
def _shipped_tables() -> dict:
    """The shipped file's tables whose keys stand in for those a configuration leaves out."""
    data = tomllib.loads(default_config_text())
    return {"timezone": data["timezone"], **{name: data[name] for name in DEFAULTED_TABLES}}


def _table(data: dict, name: str, where: _Where) -> dict:
    """The configuration's table ``name`` over the shipped one."""
    return {**_shipped_tables()[name], **_get(data, name, dict, where, "", {})}


def _parse(data: dict, where: _Where) -> Config:
    _no_unknown(data, {"timezone", "database", "max_size_mb", "crawl", "issue", "sources", "schedule", "editorial",
                      "writer", "publish", "desk", "cluster"}, where, "")
    timezone = _check_zone(_get(data, "timezone", str, where, "", _shipped_tables()["timezone"]), where, "timezone")
    database = Path(_get(data, "database", str, where, "", ""))

    crawl_table = _table(data, "crawl", where)
    _no_unknown(crawl_table, {"contact", "delay", "timeout", "retries", "rsshub", "wechat_bridge", "max_attempts",
                              "allow_private", "allow_hosts", "store_batch", "store_flush"}, where, "crawl.")
    rsshub = _get(crawl_table, "rsshub", str, where, "crawl.")
    if rsshub:
        _check_url(rsshub, where, "crawl.rsshub")
    crawl = CrawlSettings(
        contact=_check_url(_get(crawl_table, "contact", str, where, "crawl."), where, "crawl.contact"),
        delay=_positive(_get(crawl_table, "delay", float, where, "crawl."), where, "crawl.delay", allow_zero=True),
        timeout=_positive(_get(crawl_table, "timeout", float, where, "crawl."), where, "crawl.timeout"),
        retries=_positive(_get(crawl_table, "retries", int, where, "crawl."), where, "crawl.retries", allow_zero=True),
        rsshub=rsshub,
        wechat_bridge=_check_bridge(_get(crawl_table, "wechat_bridge", str, where, "crawl."),
                                    where, "crawl.wechat_bridge"),
        max_attempts=_positive(_get(crawl_table, "max_attempts", int, where, "crawl."), where, "crawl.max_attempts"),
        allow_private=_get(crawl_table, "allow_private", bool, where, "crawl."),
        allow_hosts=_host_names(_get(crawl_table, "allow_hosts", list, where, "crawl."), where, "crawl.allow_hosts"),
        store_batch=_positive(_get(crawl_table, "store_batch", int, where, "crawl."), where, "crawl.store_batch"),
        store_flush=_positive(_get(crawl_table, "store_flush", float, where, "crawl."), where, "crawl.store_flush",
                              allow_zero=True),
    )

    issue_table = _table(data, "issue", where)
    _no_unknown(issue_table, {"max_items", "due", "title", "section", "summary_chars", "layout", "moments_chars"},
                where, "issue.")
    layout = _get(issue_table, "layout", str, where, "issue.")
    if layout not in LAYOUTS:
        raise where.error("issue.layout", f"unknown layout {layout!r} (use {', '.join(LAYOUTS)})")
    try:
        due = parse_due(_get(issue_table, "due", str, where, "issue."))
    except ValueError as exc:
        raise where.error("issue.due", str(exc)) from None
    title = _get(issue_table, "title", str, where, "issue.")
    try:
        title.format(date=date(2022, 10, 14))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise where.error("issue.title", f"bad template {title!r} (use {{date:%Y%m%d}}): {exc}") from None
    issue = IssueRules(
        max_items=_positive(_get(issue_table, "max_items", int, where, "issue."), where, "issue.max_items"),
        title=title,
        section=_get(issue_table, "section", str, where, "issue."),
        summary_chars=_positive(_get(issue_table, "summary_chars", int, where, "issue."), where, "issue.summary_chars"),
        layout=layout,
        moments_chars=_positive(_get(issue_table, "moments_chars", int, where, "issue."), where, "issue.moments_chars"),
    )

    source_list = _get(data, "sources", list, where, "", [])
    sources: list[Source] = []
    seen: set[str] = set()
    for n, table in enumerate(source_list):
        prefix = f"sources[{n}]."
        if not isinstance(table, dict):
            raise where.error(f"sources[{n}]", "must be a table ([[sources]])")
        source = _parse_source(table, where, prefix, crawl)
        if source.id in seen:
            raise where.error(f"{prefix}id", f"duplicate source id {source.id!r}")
        seen.add(source.id)
        sources.append(source)
    schedule_table = _table(data, "schedule", where)
    if "crawl" not in _get(data, "schedule", dict, where, "", {}):
        schedule_table["crawl"] = _shipped_groups_for(schedule_table["crawl"], seen)
    schedule = _parse_schedule(schedule_table, where, seen, due)
    max_size = _get(data, "max_size_mb", float, where, "", None)
    if max_size is not None:
        _positive(max_size, where, "max_size_mb")
    editorial = _parse_editorial(_get(data, "editorial", dict, where, "", {}), where)
    writer = _parse_writer(_table(data, "writer", where), where, issue)
    publish = _parse_publish(_table(data, "publish", where), where)
    return Config(path=None, timezone=timezone, database=database, crawl=crawl, issue=issue,
                  sources=tuple(sources), schedule=schedule, max_size_mb=max_size, editorial=editorial,
                  writer=writer, publish=publish, desk=_parse_desk(_table(data, "desk", where), where),
                  cluster=_parse_cluster(_table(data, "cluster", where), where))


def _parse_desk(table: dict, where: _Where) -> DeskSettings:
    """The ``[desk]`` table of ``aibrief serve``."""
    _no_unknown(table, {"host", "port", "token"}, where, "desk.")
    host = _get(table, "host", str, where, "desk.").strip()
    if not host:
        raise where.error("desk.host", "give an address to listen on, such as 127.0.0.1")
    port = _get(table, "port", int, where, "desk.")
    if not 0 < port < 65536:
        raise where.error("desk.port", f"{port} is no TCP port (1 to 65535)")
    return DeskSettings(host=host, port=port, token=_get(table, "token", str, where, "desk.").strip())


def _parse_cluster(table: dict, where: _Where) -> ClusterSettings:
    _no_unknown(table, {"redis_url", "name", "idle_seconds", "lease_seconds", "batch"}, where, "cluster.")
    url = _get(table, "redis_url", str, where, "cluster.")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise where.error("cluster.redis_url", f"is not a redis:// URL: {url!r}")
    name = _get(table, "name", str, where, "cluster.")
    if not SOURCE_ID.match(name):
        raise where.error("cluster.name", f"must be letters, digits, '.', '_' or '-': {name!r}")
    return ClusterSettings(
        redis_url=url, name=name,
        idle_seconds=_positive(_get(table, "idle_seconds", float, where, "cluster."), where, "cluster.idle_seconds"),
        lease_seconds=_positive(_get(table, "lease_seconds", float, where, "cluster."), where, "cluster.lease_seconds"),
        batch=_positive(_get(table, "batch", int, where, "cluster."), where, "cluster.batch"))


WRITER_KEYS = {"enabled", "base_url", "model", "api_key_env", "timeout", "concurrency", "retries", "backoff",
               "max_retry_wait", "max_tokens", "tokens_per_run", "tokens_per_day", "summary_chars",
               "prompt_version", "article_prompt", "issue_prompt"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parse_writer(table: dict, where: _Where, issue: IssueRules) -> WriterSettings:
    """The ``[writer]`` table; the API key is read here, from the variable it names."""
    _no_unknown(table, WRITER_KEYS, where, "writer.")
    p = "writer."
    api_key_env = _get(table, "api_key_env", str, where, p)
    if api_key_env and not _ENV_NAME.match(api_key_env):
        raise where.error(p + "api_key_env", f"{api_key_env!r} is not an environment variable name "
                          "(name the variable holding the key, not the key)")
    summary_chars = _positive(_get(table, "summary_chars", int, where, p), where, p + "summary_chars")
    templates = {}
    for key, fields in (("article_prompt", {"summary_chars": summary_chars, "paragraph_chars": issue.summary_chars}),
                        ("issue_prompt", {"moments_chars": issue.moments_chars})):
        templates[key] = _get(table, key, str, where, p)
        try:
            templates[key].format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise where.error(p + key, f"bad template: {exc!r} (use {', '.join('{' + f + '}' for f in fields)}; "
                              "write other braces twice)") from None
    return WriterSettings(
        enabled=_get(table, "enabled", bool, where, p),
        base_url=_check_url(_get(table, "base_url", str, where, p), where, p + "base_url"),
        model=_get(table, "model", str, where, p),
        api_key_env=api_key_env,
        api_key=os.environ.get(api_key_env, "") if api_key_env else "",
        timeout=_positive(_get(table, "timeout", float, where, p), where, p + "timeout"),
        concurrency=_positive(_get(table, "concurrency", int, where, p), where, p + "concurrency"),
        retries=_positive(_get(table, "retries", int, where, p), where, p + "retries", allow_zero=True),
        backoff=_positive(_get(table, "backoff", float, where, p), where, p + "backoff", allow_zero=True),
        max_retry_wait=_positive(_get(table, "max_retry_wait", float, where, p), where, p + "max_retry_wait",
                                 allow_zero=True),
        max_tokens=_positive(_get(table, "max_tokens", int, where, p), where, p + "max_tokens"),
        tokens_per_run=_positive(_get(table, "tokens_per_run", int, where, p), where, p + "tokens_per_run"),
        tokens_per_day=_positive(_get(table, "tokens_per_day", int, where, p), where, p + "tokens_per_day"),
        summary_chars=summary_chars,
        paragraph_chars=issue.summary_chars,
        moments_chars=issue.moments_chars,
        prompt_version=_get(table, "prompt_version", str, where, p),
        article_prompt=templates["article_prompt"],
        issue_prompt=templates["issue_prompt"],
    )


# --- publishing: [publish] and its [[publish.outputs]] ------------------------------------
# The defaults every output takes unless it says otherwise sit in [publish] beside the
# retry settings; a secret is given inline or, better, by the environment variable named
# in KEY_env. An empty variable is no configuration error (other commands must still run):
# the output records it as its failure when it is sent.

PUBLISH_KEYS = {"site_url", "site_dir", "timeout", "retries", "backoff", "max_retry_wait", "sends", "top", "starttls",
                "telegram_api", "outputs"}
OUTPUT_KEYS = {"name", "channel", "sends", "top"}
# Beyond OUTPUT_KEYS, by channel; a key with an "_env" twin is a secret.
CHANNEL_KEYS = {
    "webhook": {"url"},
    "feishu": {"url", "secret"},
    "dingtalk": {"url", "secret"},
    "wecom": {"url"},
    "slack": {"url"},
    "telegram": {"token", "chat_id", "api"},
    "email": {"host", "port", "username", "password", "sender", "to", "starttls", "ca_file"},
}
SECRETS = {"url", "secret", "token", "password"}
REQUIRED_KEYS = {"webhook": ("url",), "feishu": ("url",), "dingtalk": ("url",), "wecom": ("url",), "slack": ("url",),
                 "telegram": ("token", "chat_id"), "email": ("host", "port", "sender", "to")}


def _parse_publish(table: dict, where: _Where) -> PublishSettings:
    p = "publish."
    _no_unknown(table, PUBLISH_KEYS, where, p)
    site_url = _get(table, "site_url", str, where, p)
    if site_url:
        _check_url(site_url, where, p + "site_url")
    defaults = {"sends": _get(table, "sends", str, where, p), "top": _get(table, "top", int, where, p),
                "starttls": _get(table, "starttls", bool, where, p),
                "api": _check_url(_get(table, "telegram_api", str, where, p), where, p + "telegram_api")}
    if defaults["sends"] not in SENDS:
        raise where.error(p + "sends", f"{defaults['sends']!r} is not one of {', '.join(SENDS)}")
    _positive(defaults["top"], where, p + "top")
    outputs: list[Output] = []
    for n, output in enumerate(_get(table, "outputs", list, where, p)):
        if not isinstance(output, dict):
            raise where.error(f"{p}outputs[{n}]", "must be a table ([[publish.outputs]])")
        parsed = _parse_output(output, where, f"{p}outputs[{n}].", n, defaults)
        if any(o.name == parsed.name for o in outputs):
            raise where.error(f"{p}outputs[{n}].name", f"duplicate output name {parsed.name!r}")
        outputs.append(parsed)
    return PublishSettings(
        site_url=site_url,
        site_dir=_get(table, "site_dir", str, where, p).strip(),
        timeout=_positive(_get(table, "timeout", float, where, p), where, p + "timeout"),
        retries=_positive(_get(table, "retries", int, where, p), where, p + "retries", allow_zero=True),
        backoff=_positive(_get(table, "backoff", float, where, p), where, p + "backoff", allow_zero=True),
        max_retry_wait=_positive(_get(table, "max_retry_wait", float, where, p), where, p + "max_retry_wait",
                                 allow_zero=True),
        outputs=tuple(outputs),
    )


def _parse_output(table: dict, where: _Where, prefix: str, n: int, defaults: dict) -> Output:
    channel = _get(table, "channel", str, where, prefix)
    if channel not in CHANNELS:
        raise where.error(prefix + "channel", f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    name = _get(table, "name", str, where, prefix, f"{channel}-{n + 1}")
    if not SOURCE_ID.match(name):
        raise where.error(prefix + "name", f"{name!r} must be lower-case letters, digits, '.', '_' or '-'")
    prefix = f"publish.outputs[{name}]."
    keys = CHANNEL_KEYS[channel]
    _no_unknown(table, OUTPUT_KEYS | keys | {f"{k}_env" for k in keys & SECRETS}, where, prefix)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for key in sorted(keys):
        kind = {"port": int, "starttls": bool, "to": list}.get(key, str)
        value = _get(table, key, kind, where, prefix, None)
        if key in SECRETS and f"{key}_env" in table:
            env = _get(table, f"{key}_env", str, where, prefix)
            if value is not None:
                raise where.error(prefix + key, f"give {key} or {key}_env, not both")
            if not _ENV_NAME.match(env):
                raise where.error(prefix + f"{key}_env", f"{env!r} is not an environment variable name")
            value = os.environ.get(env, "")
            if not value:
                missing.append(f"environment variable {env} ({key}) is not set")
        elif value is None and key in REQUIRED_KEYS[channel]:
            raise where.error(prefix + key, f"missing (a {channel} output needs {', '.join(REQUIRED_KEYS[channel])})")
        values[key] = value
    if channel != "telegram" and values.get("url") and not missing:
        _check_url(values["url"], where, prefix + "url")
    sends = _get(table, "sends", str, where, prefix, defaults["sends"])
    if sends not in SENDS:
        raise where.error(prefix + "sends", f"{sends!r} is not one of {', '.join(SENDS)}")
    smtp = None
    if channel == "email":
        recipients = values["to"]
        if not recipients or not all(isinstance(r, str) and "@" in r for r in recipients):
            raise where.error(prefix + "to", "must be a list of e-mail addresses")
        if "@" not in values["sender"]:
            raise where.error(prefix + "sender", f"{values['sender']!r} is not an e-mail address")
        ca_file = values.get("ca_file") or ""
        smtp = SmtpSettings(host=values["host"], port=_positive(values["port"], where, prefix + "port"),
                            username=values.get("username") or "", password=values.get("password") or "",
                            sender=values["sender"], to=tuple(recipients),
                            starttls=defaults["starttls"] if values.get("starttls") is None else values["starttls"],
                            ca_file=ca_file)
    return Output(name=name, channel=channel, sends=sends,
                  top=_positive(_get(table, "top", int, where, prefix, defaults["top"]), where, prefix + "top"),
                  url=values.get("api") or defaults["api"] if channel == "telegram" else values.get("url") or "",
                  secret=values.get("secret") or "", token=values.get("token") or "",
                  chat_id=values.get("chat_id") or "", smtp=smtp, missing="; ".join(missing))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``; ValueError otherwise."""
    match = _DURATION.match(text.lower())
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration such as '30m', '1h' or '90s'")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: float(match[1])})


def _duration(table: dict, key: str, where: _Where, prefix: str) -> timedelta:
    text = _get(table, key, str, where, prefix)
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise where.error(f"{prefix}{key}", str(exc)) from None


def _shipped_groups_for(groups: list[dict], source_ids: set[str]) -> list[dict]:
    """The shipped crawl groups over a configuration's own sources: each names those of
    its sources that the configuration has; a group left with none is dropped."""
    kept = []
    for group in groups:
        names = [name for name in group.get("sources", ["*"]) if name == "*" or name in source_ids]
        if names:
            kept.append({**group, "sources": names})
    return kept


def _parse_schedule(table: dict, where: _Where, source_ids: set[str], due) -> ScheduleSettings:
    _no_unknown(table, {"crawl", "misfire_grace"}, where, "schedule.")
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
        groups.append(CrawlGroup(name, tuple(sources), _duration({"every": "1h", **group}, "every", where, prefix)))
    if not groups:
        raise where.error("schedule.crawl", "give at least one crawl group ([[schedule.crawl]])")
    return ScheduleSettings(crawl=tuple(groups), misfire_grace=_duration(table, "misfire_grace", where, "schedule."),
                            due=due)


def _parse_source(table: dict, where: _Where, prefix: str, crawl: CrawlSettings) -> Source:
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
    options = _get(table, "options", dict, where, prefix, {})
    _no_unknown(options, COMMON_OPTIONS | KIND_OPTIONS[kind], where, f"{prefix}options.")
    kind_options = _kind_options(kind, options, where, f"{prefix}options.")
    if "primary" in options:
        kind_options["primary"] = _get(options, "primary", bool, where, f"{prefix}options.")
    if kind == "wechat" and "id" in kind_options:
        if url is not None or route is not None:
            raise where.error(f"{prefix}url", "give one of url, route or options.id, not several")
        url = _bridge_url(crawl, kind_options["id"], _get(table, "name", str, where, prefix, source_id))
    elif kind in ("feed", "wechat") and (url is None) == (route is None):
        raise where.error(f"{prefix}url", "give exactly one of url or route"
                          + (" (or options.id for the WeChat bridge)" if kind == "wechat" else ""))
    elif kind not in ("feed", "wechat"):
        if route is not None:
            raise where.error(f"{prefix}route", f"a {kind} source takes a url, not a route")
        url = url or DEFAULT_SOURCE_URLS.get(kind)
        if url is None:
            raise where.error(f"{prefix}url", "missing")
    if url is not None:
        _check_url(url, where, f"{prefix}url")
    if route is not None and not route.startswith("/"):
        raise where.error(f"{prefix}route", f"{route!r} must be a path starting with '/'")
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
        options=kind_options,
    )


# --- the options of each source kind -----------------------------------------------------

# Every kind takes these. primary: the source is a vendor's or lab's own channel (its
# announcements are what others report), preferred as the cited copy of a story.
COMMON_OPTIONS = {"timezone", "max_entries", "primary"}
# Beyond COMMON_OPTIONS.
KIND_OPTIONS: dict[str, set[str]] = {
    "feed": set(),
    # days: how far back a first crawl looks, and the most any crawl looks back (later
    # crawls look back to the source's last success); url_pattern: which page URLs to take;
    # sitemap_pattern / max_sitemaps: which sitemaps of an index (or robots.txt) to read.
    "sitemap": {"days", "url_pattern", "sitemap_pattern", "max_sitemaps"},
    # Link rules (crawler.discovery.listings): selectors, or paths into JSON.
    "listing": {"format", "item", "link", "title", "date", "next_page", "max_pages", "url_pattern", "script"},
    "arxiv": {"categories", "query", "days"},
    "github-trending": {"since", "language", "readme"},
    "wechat": {"id"},
    # min_points: the stories taken from the front page (crawler.discovery.hackernews).
    "hackernews": {"min_points"},
}
ARXIV_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")  # cs.AI, eess.SP, q-bio.NC, econ
TRENDING_PERIODS = ("daily", "weekly", "monthly")
MAX_LISTING_PAGES = 20


def _kind_options(kind: str, options: dict, where: _Where, prefix: str) -> dict[str, Any]:
    """The options of one kind, typed and checked; ``options.KEY: problem`` errors."""
    found: dict[str, Any] = {}
    for key in KIND_OPTIONS[kind]:
        if key not in options:
            continue
        kind_of = {"days": int, "max_sitemaps": int, "max_pages": int, "readme": bool, "categories": list,
                   "min_points": int}.get(key, str)
        found[key] = _get(options, key, kind_of, where, prefix, None)
    for key in ("days", "max_sitemaps", "max_pages"):
        if key in found:
            _positive(found[key], where, f"{prefix}{key}")
    if "min_points" in found:
        _positive(found["min_points"], where, f"{prefix}min_points", allow_zero=True)
    for key in ("url_pattern", "sitemap_pattern", "script"):
        if key in found:
            try:
                re.compile(found[key])
            except re.error as exc:
                raise where.error(f"{prefix}{key}", f"not a regular expression: {exc}") from None
    if kind == "listing":
        try:  # (selectors are checked where they are used)
            ListingRules.from_options(found)
        except ValueError as exc:
            key, _, problem = str(exc).partition(": ")
            raise where.error(f"{prefix}{key}", problem) from None
        if found.get("max_pages", 1) > MAX_LISTING_PAGES:
            raise where.error(f"{prefix}max_pages", f"at most {MAX_LISTING_PAGES}, not {found['max_pages']}")
    elif kind == "arxiv":
        categories = found.get("categories")
        if not categories:
            raise where.error(f"{prefix}categories", "missing (for example [\"cs.AI\", \"cs.AR\"])")
        for category in categories:
            if not isinstance(category, str) or not ARXIV_CATEGORY.match(category):
                raise where.error(f"{prefix}categories", f"{category!r} is not an arXiv category such as 'cs.AR'")
    elif kind == "github-trending":
        since = found.setdefault("since", "daily")
        if since not in TRENDING_PERIODS:
            raise where.error(f"{prefix}since", f"{since!r} is not one of {', '.join(TRENDING_PERIODS)}")
    elif kind == "wechat" and "id" in found and not found["id"].strip():
        raise where.error(f"{prefix}id", "must not be empty")
    return found


def _check_bridge(value: str, where: _Where, key: str) -> str:
    if not value:
        return value
    if "{id}" not in value and "{name}" not in value:
        raise where.error(key, f"{value!r} names no account: put {{id}} (or {{name}}) where it goes")
    try:
        sample = value.format(id="x", name="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise where.error(key, f"bad template {value!r}: use {{id}} or {{name}}: {exc}") from None
    _check_url(sample, where, key)
    return value


def _bridge_url(crawl: CrawlSettings, account: str, name: str) -> str | None:
    """The feed of a WeChat account on the configured bridge, or None while there is none.

    Without ``crawl.wechat_bridge``, RSSHub's ``/wechat/wechat2rss/:id`` route on
    ``crawl.rsshub`` (docs.rsshub.app, route "wechat2rss"), which proxies wechat2rss.xlab.app.
    """
    template = crawl.wechat_bridge or (crawl.rsshub.rstrip("/") + "/wechat/wechat2rss/{id}" if crawl.rsshub else "")
    if not template:
        return None
    return template.format(id=quote(account.strip(), safe=""), name=quote(name.strip(), safe=""))


# --- editorial: the relevance taxonomy, composing and writing out an issue --------------
# Its own table, ``[editorial]`` with ``[[editorial.topics]]``. A configuration without it
# (or without some of its keys) takes the shipped aibrief.toml's values: the taxonomy is
# data, kept in one place.

EDITORIAL_KEYS = {"threshold", "title_weight", "topic_min", "max_topic_share", "half_life", "sections",
                  "default_section", "script", "summarizer", "aggregators", "topics", "model"}
MODEL_OFF = "off"  # editorial.model: no trained scorer


@functools.cache
def default_editorial() -> EditorialSettings:
    """The editorial settings of the shipped aibrief.toml."""
    return _parse_editorial({}, _Where(f"<default {DEFAULT_CONFIG_NAME}>"))


def _parse_editorial(table: dict, where: _Where) -> EditorialSettings:
    _no_unknown(table, EDITORIAL_KEYS, where, "editorial.")
    shipped = dict(_shipped_tables()["editorial"])
    if "topics" in table:  # a taxonomy of its own: the shipped section order does not fit it
        shipped.pop("sections", None)
    table = {**shipped, **table}
    p = "editorial."

    def number(key: str, allow_zero: bool = False) -> float:
        return _positive(_get(table, key, float, where, p), where, p + key, allow_zero)

    share = number("max_topic_share")
    if share > 1:
        raise where.error(p + "max_topic_share", f"must be a share between 0 and 1, not {share!r}")
    script = _get(table, "script", str, where, p)
    if script not in SCRIPTS:
        raise where.error(p + "script", f"unknown script {script!r} (known: {', '.join(SCRIPTS)})")
    summarizer = _get(table, "summarizer", str, where, p)
    if summarizer not in SUMMARIZERS:
        raise where.error(p + "summarizer", f"unknown summarizer {summarizer!r} (known: {', '.join(SUMMARIZERS)})")
    _get(table, "model", str, where, p)  # resolved against the database by load_config
    aggregators = _get(table, "aggregators", list, where, p)
    if not all(isinstance(host, str) and host and "/" not in host for host in aggregators):
        raise where.error(p + "aggregators", "must be a list of host names such as \"app.myzaker.com\"")

    topics: list[Topic] = []
    for n, topic_table in enumerate(_get(table, "topics", list, where, p, [])):
        prefix = f"{p}topics[{n}]."
        if not isinstance(topic_table, dict):
            raise where.error(f"{p}topics[{n}]", "must be a table ([[editorial.topics]])")
        _no_unknown(topic_table, {"name", "section", "terms"}, where, prefix)
        name = _get(topic_table, "name", str, where, prefix, "").strip()
        if not name or any(t.name == name for t in topics):
            raise where.error(f"{prefix}name", f"{name!r} must be a unique, non-empty topic name")
        prefix = f"{p}topics[{name}]."
        terms = _get(topic_table, "terms", dict, where, prefix, {})
        if not terms:
            raise where.error(f"{prefix}terms", "give at least one term with its weight")
        for term, weight in terms.items():
            if not term.strip():
                raise where.error(f"{prefix}terms", "an empty term")
            _get(terms, term, float, where, f"{prefix}terms.", 0.0)
        topics.append(Topic(name, _get(topic_table, "section", str, where, prefix, name),
                            tuple((term, float(weight)) for term, weight in terms.items())))
    if not topics:
        raise where.error(p + "topics", "give at least one topic ([[editorial.topics]])")

    default_section = _get(table, "default_section", str, where, p)
    sections = _get(table, "sections", list, where, p, [])
    if not all(isinstance(s, str) and s.strip() for s in sections) or len(set(sections)) != len(sections):
        raise where.error(p + "sections", "must be a list of distinct section names")
    order = list(sections)
    for section in [t.section for t in topics] + [default_section]:
        if section not in order:
            if sections:
                raise where.error(p + "sections", f"{section!r} is a topic's section but not in the list")
            order.append(section)
    return EditorialSettings(
        threshold=number("threshold"),
        title_weight=number("title_weight"),
        topic_min=number("topic_min", allow_zero=True),
        max_topic_share=share,
        half_life=_duration(table, "half_life", where, p),
        sections=tuple(order),
        default_section=default_section,
        script=script,
        summarizer=summarizer,
        aggregators=tuple(host.lower() for host in aggregators),
        topics=tuple(topics),
        model="",  # where the trained scorer is depends on the database: load_config resolves it
    )
