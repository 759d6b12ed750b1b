"""RSS and Atom feeds, and WeChat accounts bridged to feeds.

WeChat public accounts publish no feeds; bridges do (RSSHub's wechat routes, wechat2rss,
wewe-rss, we-mp-rss…). Their entries should lead to the article on ``mp.weixin.qq.com``,
which the WeChat site adapter reads, but some put the original address elsewhere (the
guid, a second link, a "阅读原文" link in the content) and their own copy in ``link``:
:func:`wechat_link` prefers the WeChat address wherever the entry gives it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

import feedparser

from crawler.discovery import DiscoveryError, Found, one_line
from pipelines.analysis.dates import feed_date
from pipelines.analysis.encoding import feed_document
from pipelines.analysis.links import clean_url

WECHAT_HOST = "mp.weixin.qq.com"
_WECHAT_URL = re.compile(r"https?://mp\.weixin\.qq\.com/s[/?][^\s\"'<>]+")


@dataclass(slots=True)
class FeedReading:
    """What a feed gave: its entries' links with hints, and what it held besides."""

    found: list[Found]
    refused: list[str] = field(default_factory=list)  # entry links that are not http(s) URLs
    unlinked: int = 0  # entries with no link at all
    malformed: str | None = None  # the parser's complaint about a feed it could still read


def parse_feed(body: bytes, url: str, content_type: str | None, tz: tzinfo, now: datetime | None = None,
               wechat: bool = False) -> FeedReading:
    """Read a feed; DiscoveryError when it yields no link to follow."""
    # With no Content-Type, feedparser is given no headers at all: handed an empty type (or
    # headers without one) it flags a valid feed as served with the wrong type. Relative
    # links are resolved against the feed's URL below either way.
    headers = {"content-type": content_type, "content-location": url} if (content_type or "").strip() else None
    parsed = feedparser.parse(feed_document(body, content_type), response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo"):
            raise DiscoveryError(f"not a readable feed ({one_line(parsed.get('bozo_exception'))})")
        raise DiscoveryError("no entries")
    reading = FeedReading([], malformed=one_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None)
    for entry in parsed.entries:
        link = wechat_link(entry) if wechat else None
        link = link or entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
        if not link:
            reading.unlinked += 1
            continue
        absolute = clean_url(link, url)
        if absolute is None:
            reading.refused.append(link)
            continue
        reading.found.append(Found(absolute, title=" ".join((entry.get("title") or "").split()) or None,
                                   published=_entry_date(entry, tz, now),
                                   author=entry.get("author") or None))
    if not reading.found:
        raise DiscoveryError(f"{len(parsed.entries)} entries, none with an http(s) link")
    return reading


def _entry_date(entry, tz: tzinfo, now: datetime | None) -> datetime | None:
    """The entry's publication date, else its update or creation date (see
    :func:`pipelines.analysis.dates.feed_date` for whose reading is taken)."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            return feed_date(raw, entry.get(f"{key}_parsed"), tz, now)
    return None


def read_feed(body: bytes, url: str, content_type: str | None, tz: tzinfo, now: datetime | None = None,
              wechat: bool = False) -> list[Found]:
    """The entries of a feed as links with hints; DiscoveryError when it has none."""
    return parse_feed(body, url, content_type, tz, now, wechat).found


def is_wechat(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == WECHAT_HOST


def wechat_link(entry) -> str | None:
    """The entry's ``mp.weixin.qq.com`` article address, wherever the bridge put it."""
    candidates = [entry.get("link"), *(link.get("href") for link in entry.get("links", [])),
                  entry.get("id"), entry.get("guid")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith("http") and is_wechat(candidate):
            return candidate
    texts = [entry.get("summary") or ""] + [part.get("value", "") for part in entry.get("content", [])]
    for text in texts:
        match = _WECHAT_URL.search(text.replace("&amp;", "&"))
        if match:
            return match.group(0)
    return None
