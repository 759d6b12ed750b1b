"""Site adapters: what the extraction stage knows about the sites this digest cites.

One module a site (its ``NAME``, ``HOSTS``, selectors as constants, ``matches(page)`` and
``extract(page)``: see :mod:`pipelines.analysis.sites.base`); this module lists them, most
specific first.
"""
from __future__ import annotations

from types import ModuleType

from pipelines.analysis.sites import arxiv, googleblog, kr36, tencent, wechat, zaker
from pipelines.analysis.sites.base import Page

ADAPTERS: tuple[ModuleType, ...] = (wechat, arxiv, kr36, tencent, zaker, googleblog)


def adapters() -> tuple[ModuleType, ...]:
    """The adapters, most specific first."""
    return ADAPTERS


def adapter_for(page: Page) -> ModuleType | None:
    return next((adapter for adapter in ADAPTERS if adapter.matches(page)), None)
