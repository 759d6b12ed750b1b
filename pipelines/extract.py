"""The stable entry point for tools outside aibrief: ``extract_article(body, url)``.

The extraction itself is :func:`pipelines.analysis.extract.extract`; this name stays where
outside tools (the shared corpus' evaluation among them) have always called it, with the
shipped configuration's settings given explicitly.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from pipelines.analysis.extract import Article, extract

# The time zone of the shipped aibrief.toml, in which naive dates are read (a test keeps
# the two equal).
SHIPPED_TIMEZONE = ZoneInfo("Asia/Shanghai")


def extract_article(body: bytes, url: str | None = None, **options) -> Article | None:
    """The article in a page (bytes as served), or None when the page holds none.
    ``options``: those of :func:`pipelines.analysis.extract.extract`."""
    options.setdefault("tz", SHIPPED_TIMEZONE)
    return extract(body, url, **options).article
