"""``aibrief sources check``: fetch each source's discovery document once and say what
it yields (links found, the newest date, or the error), storing nothing.

It reads documents with the same functions as the crawl, so a source that checks clean
is one the crawl can read; it asks robots.txt first, as the crawl does, and keeps to
the configured delay per host (three seconds for the arXiv API).
"""
from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from protego import Protego

from crawler.addresses import AddressPolicy, AddressRefused, policy_opener
from crawler.discovery import DiscoveryError, Found, newest, one_line
from crawler.discovery.arxiv import API_INTERVAL, DEFAULT_DAYS, DEFAULT_MAX_RESULTS, in_window, query_url, read_answer
from crawler.discovery.feeds import is_wechat, read_feed
from crawler.discovery.github import read_trending, trending_url
from crawler.discovery.hackernews import (
    DEFAULT_MAX_STORIES,
    DEFAULT_MIN_POINTS,
    item_url,
    read_item,
    read_top_stories,
    top_stories_url,
)
from crawler.discovery.listings import ListingRules, read_listing
from crawler.discovery.sitemaps import DEFAULT_DAYS as SITEMAP_DAYS
from crawler.discovery.sitemaps import DEFAULT_MAX_ENTRIES, MAX_SITEMAP_BYTES, read_sitemap, select_entries
from crawler.settings import DOWNLOAD_MAXSIZE
from pipelines.archive import clock
from schedules.settings import Config, Source

# Sitemaps a check reads below an index or robots.txt: enough to see that they work.
CHECK_SITEMAPS = 3


@dataclass(slots=True)
class CheckResult:
    source: Source
    url: str | None
    found: list[Found] = field(default_factory=list)
    newest: datetime | None = None
    note: str = ""
    error: str | None = None

    def line(self, tz: ZoneInfo) -> str:
        when = self.newest.astimezone(tz).strftime("%Y-%m-%d %H:%M") if self.newest else "-"
        status = f"error: {self.error}" if self.error else (self.note or "ok")
        return f"{self.source.id:28} {self.source.kind:15} {len(self.found):>4} links  newest {when:16}  {status}"


class FetchError(Exception):
    """A fetch that failed; the message is one line."""


def fetch_once(url: str, user_agent: str, timeout: float, max_size: int,
               policy: AddressPolicy, referer: str = "") -> tuple[bytes, str, str | None]:
    """(body, final URL, content type) of one GET, or FetchError; no robots.txt, no pacing;
    the address policy holds for the URL and every redirect hop."""
    refused = policy.refuse_url(url)
    if refused:
        raise FetchError(f"not fetched, {refused}")
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, **({"Referer": referer} if referer else {})})
    try:
        with policy_opener(policy).open(request, timeout=timeout) as response:
            body = response.read(max_size + 1)
            if len(body) > max_size:
                raise FetchError(f"larger than {max_size // 2**20} MB")
            return body, response.url, response.headers.get("Content-Type")
    except AddressRefused as exc:
        raise FetchError(str(exc)) from None
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(one_line(getattr(exc, "reason", exc))) from None


class Fetcher:
    """Polite one-off GETs: the crawl's user agent, timeout and size limit, robots.txt
    obeyed, and a pause between two requests to one host."""

    def __init__(self, user_agent: str, timeout: float, delay: float, policy: AddressPolicy) -> None:
        self.user_agent = user_agent
        self.policy = policy
        self.timeout = timeout
        self.delay = delay
        self.robots: dict[str, Protego | str] = {}
        self.last: dict[str, float] = {}
        self.intervals: dict[str, float] = {}

    def pace(self, host: str, seconds: float) -> None:
        self.intervals[host] = max(self.intervals.get(host, 0.0), seconds)

    def get(self, url: str, max_size: int = DOWNLOAD_MAXSIZE) -> tuple[bytes, str, str | None]:
        """(body, final URL, content type) of one page, or FetchError."""
        self._obey_robots(url)
        return self._get(url, max_size)

    def _get(self, url: str, max_size: int) -> tuple[bytes, str, str | None]:
        host = urlsplit(url).hostname or ""
        wait = self.last.get(host, 0.0) + max(self.delay, self.intervals.get(host, 0.0)) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last[host] = time.monotonic()
        return fetch_once(url, self.user_agent, self.timeout, max_size, self.policy)

    def _obey_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.path == "/robots.txt":
            return
        if origin not in self.robots:
            try:
                body, _, _ = self._get(origin + "/robots.txt", DOWNLOAD_MAXSIZE)
                self.robots[origin] = Protego.parse(body.decode("utf-8", "replace"))
            except FetchError as exc:
                # RFC 9309, 2.3.1.3: no robots.txt (4xx) means no rules; 5xx or no answer, keep out.
                self.robots[origin] = "" if str(exc).startswith("HTTP 4") else f"robots.txt unavailable ({exc})"
        rules = self.robots[origin]
        if isinstance(rules, str):
            if rules:
                raise FetchError(rules)
            return
        if not rules.can_fetch(url, self.user_agent):
            raise FetchError("refused by robots.txt")


def check_sources(config: Config, sources: list[Source], fetcher: Fetcher, now: datetime | None = None):
    """One CheckResult per source, in order, as each is done."""
    now = now or clock.now()
    for source in sources:
        yield check_source(config, source, fetcher, now)


def check_source(config: Config, source: Source, fetcher: Fetcher, now: datetime) -> CheckResult:
    url = source.feed_url(config.crawl.rsshub)
    result = CheckResult(source, url)
    if url is None:
        result.error = "no URL: set crawl.wechat_bridge or crawl.rsshub in the configuration"
        return result
    tz = ZoneInfo(source.timezone) if source.timezone else config.tz
    try:
        found, result.note = _CHECKS[source.kind](source, url, fetcher, tz, now)
    except (DiscoveryError, FetchError) as exc:
        result.error = f"{result.url}: {exc}"
        return result
    result.found = found
    result.newest = newest(found)
    return result


def _feed(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    body, final, content_type = fetcher.get(url)
    found = read_feed(body, final, content_type, tz, now, wechat=source.kind == "wechat")
    if source.kind == "wechat":
        on_wechat = sum(is_wechat(f.url) for f in found)
        return found, f"{on_wechat} of {len(found)} lead to mp.weixin.qq.com"
    return found, ""


def _sitemap(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    """Down from the source's document (robots.txt, index) to at most CHECK_SITEMAPS
    sitemaps of pages, chosen as the spider chooses them."""
    since = now - timedelta(days=source.option("days", SITEMAP_DAYS))
    index_pattern = re.compile(source.option("sitemap_pattern")) if source.option("sitemap_pattern") else None
    page_pattern = re.compile(source.option("url_pattern")) if source.option("url_pattern") else None
    queue, found, read = [url], [], 0
    while queue and read <= CHECK_SITEMAPS:
        current = queue.pop(0)
        body, final, content_type = fetcher.get(current, MAX_SITEMAP_BYTES)
        read += 1
        try:
            sitemap = read_sitemap(body, final, content_type, tz, now)
        except DiscoveryError as exc:
            raise DiscoveryError(f"{current}: {exc}" if current != url else str(exc)) from None
        if sitemap.lists_sitemaps:
            children, _, _ = select_entries(sitemap.entries[::-1], since if sitemap.kind == "index" else None,
                                            index_pattern, CHECK_SITEMAPS)
            queue = [child.url for child in children] + queue
        else:
            limit = source.max_entries or DEFAULT_MAX_ENTRIES
            pages, _, _ = select_entries(sitemap.entries, since, page_pattern, limit)
            found += [Found(page.url, page.title, page.when) for page in pages]
    return found, f"{read} sitemap{'s' if read > 1 else ''} read"


def _listing(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    body, final, content_type = fetcher.get(url)
    listing = read_listing(body, final, content_type, ListingRules.from_options(source.options), tz, now)
    return listing.found, f"next page {listing.next_page}" if listing.next_page else ""


def _arxiv(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    fetcher.pace(urlsplit(url).hostname or "", API_INTERVAL)
    body, _, _ = fetcher.get(query_url(url, source.option("categories"), source.option("query"),
                                           source.max_entries or DEFAULT_MAX_RESULTS))
    papers = read_answer(body)
    since = now - timedelta(days=source.option("days", DEFAULT_DAYS))
    recent = [Found(p.abs_url, p.title, p.published) for p in papers if in_window(p, since)]
    return recent, f"{len(papers)} papers in the answer"


def _trending(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    body, final, content_type = fetcher.get(trending_url(url, source.option("since", "daily"),
                                                             source.option("language")))
    repos = read_trending(body, final, content_type)
    return [Found(repo.url, repo.full_name) for repo in repos], "" if repos else "nothing trending"


def _hackernews(source: Source, url: str, fetcher: Fetcher, tz, now) -> tuple[list[Found], str]:
    """The front page's stories above the source's points, each item asked for (a broken
    item is left out and counted in the note, as the crawl skips it)."""
    body, _, _ = fetcher.get(top_stories_url(url))
    ids = read_top_stories(body)[: source.max_entries or DEFAULT_MAX_STORIES]
    floor = source.option("min_points", DEFAULT_MIN_POINTS)
    found, below, broken = [], 0, 0
    for story_id in ids:
        try:
            item_body, _, _ = fetcher.get(item_url(url, story_id))
            story = read_item(item_body)
        except (DiscoveryError, FetchError):
            broken += 1
            continue
        if story is None:
            continue
        if story.points < floor:
            below += 1
            continue
        found.append(story.found())
    note = f"{below} of {len(ids)} stories below {floor} points" + (f", {broken} unreadable" if broken else "")
    return found, note


_CHECKS = {"hackernews": _hackernews, "feed": _feed, "wechat": _feed, "sitemap": _sitemap, "listing": _listing, "arxiv": _arxiv,
           "github-trending": _trending}
