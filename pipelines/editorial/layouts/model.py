"""What a layout reader returns: the issue as the file states it, with the warnings the
import summary counts."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from pipelines.editorial.issues import IssueItem

# Issue names as the digest writes them: "AI 簡報 20221014 期" (Traditional or Simplified).
TITLE = re.compile(r"AI\s*[簡简][報报]\s*(?P<day>\d{8})\s*期")
HEADLINE = re.compile(r"【AI\s*[簡简][報报]\s*\d{8}】")
# Link labels and the role of what they point at. 原文 and its variants name the item's own URL.
SOURCE_LABELS = frozenset({"原文", "原文链接", "原文鏈接", "原文地址"})
LINK_ROLES = {
    "论文": "paper", "論文": "paper", "论文地址": "paper", "論文地址": "paper", "论文链接": "paper",
    "論文鏈接": "paper", "paper": "paper", "arxiv": "paper",
    "代码": "code", "代碼": "code", "代码地址": "code", "代碼地址": "code", "项目地址": "code", "項目地址": "code",
    "github": "code", "github 地址": "code", "github地址": "code", "code": "code",
    "文章链接": "article", "文章鏈接": "article", "报道原文": "article", "報道原文": "article",
    "官网": "other", "官網": "other",
}


class IssueFormatError(Exception):
    """The text is not an issue in a layout we read; the message is one line."""


@dataclass(slots=True)
class ParsedIssue:
    date: date | None
    title: str
    section: str
    headline: str
    items: list[IssueItem] = field(default_factory=list)
    layout: str = "reference"
    insights: list[str] = field(default_factory=list)
    moments: str = ""
    extras: list[dict[str, str]] = field(default_factory=list)  # the issue's own links: [{"role", "url", "label"}]
    warnings: list[str] = field(default_factory=list)


def parse_yyyymmdd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be kept as a cited URL, or None. Only http(s) with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # raises on a port that is not a number
    except ValueError as exc:
        return f"malformed URL {url!r} ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"not an http(s) URL: {url!r}"
    if not host:
        return f"URL without a host: {url!r}"
    return None


def link_role(label: str) -> str | None:
    """The role of a link line's label, None when the label names no link we know."""
    key = " ".join(label.strip().strip("*").strip().lower().split())
    if key in SOURCE_LABELS:
        return "source"
    return LINK_ROLES.get(key)
