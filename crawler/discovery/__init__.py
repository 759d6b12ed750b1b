"""Discovery: what a source's discovery document (a sitemap, a listing page, a feed, an
arXiv API answer, a GitHub Trending page) says about the articles it leads to.

Pure functions, bytes in and links with hints out, used by the spiders and by
``aibrief sources check`` alike, and tested without Scrapy. A document that yields
nothing a crawl can use raises :class:`DiscoveryError` with a one-line reason: a source
that suddenly lists nothing is broken (a layout change, an error page), never "no news".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


class DiscoveryError(Exception):
    """A discovery document that yields nothing usable; the message is one line."""


@dataclass(slots=True)
class Found:
    """One article link found on a discovery document, with what the document says of it."""

    url: str  # absolute, http(s)
    title: str | None = None
    published: datetime | None = None  # aware
    author: str | None = None

    def hints(self) -> dict[str, Any]:
        """What travels with the page request (``PageItem.hints``)."""
        return {"title": self.title, "published": self.published, "author": self.author}


def one_line(text: object, limit: int = 200) -> str:
    """An exception's or a parser's message as one short line."""
    line = " ".join(str(text or "").split())
    return (line[: limit - 1] + "…") if len(line) > limit else (line or "unknown error")


def newest(found: list[Found]) -> datetime | None:
    return max((f.published for f in found if f.published is not None), default=None)
