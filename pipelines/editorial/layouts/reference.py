"""The reference layout: the digest as published, in plain text, or as our reference
Markdown export (:func:`pipelines.editorial.export.render_markdown`).

It is plain text, not Markdown (``1.`` lines and ``原文:`` lines with the URL on the next
line are not Markdown structure), so it is read line by line.

    嵌入式 AI
    AI 簡報 20221014 期
    1. <title>
    原文:
    <url>
    論文地址:            (optional; also 文章鏈接:, 項目地址:)
    <url>
    <summary lines>
    2. ...
    - END -              (this and what follows, the publisher's footer, are ignored)

An item starts at the next number in sequence followed by a ``原文`` line; the labelled
URL lines right after it are its cited links; the lines up to the next item are its
summary. The headline (``【AI簡報20221014】…``) is read wherever it stands.
"""
from __future__ import annotations

import re
from datetime import date

from pipelines.editorial.export import LINE_START
from pipelines.editorial.issues import IssueItem, headline_for
from pipelines.editorial.layouts.model import IssueFormatError, ParsedIssue

TITLE = re.compile(r"AI\s*[簡简][報报]\s*(?P<day>\d{8})\s*期")
HEADLINE = re.compile(r"^(?:#\s*)?(?:原文[標标]題\s*[:：]\s*)?(?P<headline>【AI\s*[簡简][報报]\s*\d{8}】.*)$")
ITEM = re.compile(r"^(?P<n>\d{1,3})\s*[.．、]\s*(?P<title>\S.*)$")
LABEL = re.compile(r"^(?P<label>原文|原文鏈接|原文链接|論文地址|论文地址|文章鏈接|文章链接|項目地址|项目地址)"
                   r"\s*[:：]\s*(?P<url>https?://\S+)?\s*$")
URL = re.compile(r"^https?://\S+$")
END = re.compile(r"^-\s*END\s*-$", re.IGNORECASE)
ROLES = {"原文": "source", "論文地址": "paper", "论文地址": "paper", "文章鏈接": "article",
         "文章链接": "article", "原文鏈接": "article", "原文链接": "article", "項目地址": "code",
         "项目地址": "code"}
_UNESCAPE = re.compile(r"\\([\\\[\]])|&(lt|gt|amp);")


def md_unescape(text: str) -> str:
    """The exact inverse of :func:`pipelines.editorial.export.md_escape`."""
    if text.startswith("\\") and LINE_START.match(text[1:]):
        text = text[1:]
    return _UNESCAPE.sub(lambda m: m.group(1) or {"lt": "<", "gt": ">", "amp": "&"}[m.group(2)], text)


def parse(text: str, markdown: bool = False) -> ParsedIssue:
    """Parse the reference layout; IssueFormatError names the line at fault."""
    lines = [line.rstrip().removesuffix("\\").rstrip() for line in text.lstrip("\ufeff").splitlines()]
    plain = (lambda s: md_unescape(s.strip())) if markdown else (lambda s: s.strip())
    headline = ""
    title_at = None
    for number, line in enumerate(lines):
        found = HEADLINE.match(line.strip())
        if found and not headline:
            headline = plain(found["headline"].strip())
        elif TITLE.search(line) and title_at is None:
            title_at = number
    if title_at is None:
        raise IssueFormatError("no issue title such as 'AI 簡報 20221014 期' found")
    day_text = TITLE.search(lines[title_at])["day"]
    try:
        day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
    except ValueError:
        raise IssueFormatError(f"line {title_at + 1}: {day_text} is not a date") from None
    before = [plain(line) for line in lines[:title_at] if line.strip() and not HEADLINE.match(line.strip())]
    issue = ParsedIssue(date=day, title=plain(lines[title_at]), section=before[-1] if before else "",
                        headline=headline, layout="reference")

    body = lines[title_at + 1:]
    item: IssueItem | None = None
    in_links = False
    i = 0
    while i < len(body):
        line = body[i].strip()
        i += 1
        if not line or HEADLINE.match(line):
            continue
        if END.match(line):
            break
        header = ITEM.match(line)
        expected = len(issue.items) + 1
        if header and int(header["n"]) == expected and _next_is_source(body, i):
            item = IssueItem(position=expected, title=plain(header["title"]), url="", summary="")
            issue.items.append(item)
            in_links = True
            continue
        if item is None:
            raise IssueFormatError(f"line {title_at + 1 + i}: text before the first item: {line[:40]!r}")
        label = LABEL.match(line)
        if in_links and label:
            url = label["url"]
            if url is None:
                url, i = _next_url(body, i)
            if url is None:
                raise IssueFormatError(f"line {title_at + 1 + i}: {label['label']}: no URL follows")
            role = ROLES[label["label"]]
            if role == "source" and not item.url:
                item.url = url
            elif role != "source":
                item.links.append({"role": role, "url": url})
            continue
        in_links = False
        item.summary = f"{item.summary}\n{plain(line)}" if item.summary else plain(line)
    if not issue.items:
        raise IssueFormatError(f"issue {day_text}: no items found (an item is '1. title' then '原文:' and a URL)")
    for parsed in issue.items:
        if not parsed.url:
            raise IssueFormatError(f"item {parsed.position} ({parsed.title[:30]}): no 原文 URL")
    if not issue.headline:
        issue.headline = headline_for(day, [parsed.title for parsed in issue.items])
    return issue


def _next_nonblank(body: list[str], i: int) -> tuple[str | None, int]:
    while i < len(body) and not body[i].strip():
        i += 1
    return (body[i].strip(), i) if i < len(body) else (None, i)


def _next_is_source(body: list[str], i: int) -> bool:
    line, _ = _next_nonblank(body, i)
    label = LABEL.match(line or "")
    return bool(label) and ROLES[label["label"]] == "source"


def _next_url(body: list[str], i: int) -> tuple[str | None, int]:
    line, at = _next_nonblank(body, i)
    if line and URL.match(line):
        return line, at + 1
    return None, i
