"""Placeholder: the zaker adapter is being written; until then it matches no page."""
from __future__ import annotations

from pipelines.sites import Page, SiteFields

NAME = "zaker"
HOSTS: tuple[str, ...] = ()


def matches(page: Page) -> bool:
    return False


def extract(page: Page) -> SiteFields:
    return SiteFields()
