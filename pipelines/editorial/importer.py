"""Reading an issue back in: the reference plain-text layout, or our own Markdown export.

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

The editor layout (``aibrief export --layout editor``) is read as well::

    > 导读：嵌入式 AI · AI 簡報 20221014 期
    > 【AI簡報20221014】…
    # <section>
    ## 1. [<title>](<url>) | <source>
    > 原文：<url>
    > 论文地址：<url>  (also 文章链接, 项目地址)
    ![](<image>)
    <summary lines>
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.editorial.export import LINE_START
from pipelines.editorial.issues import IssueItem, headline_for

TITLE = re.compile(r"AI\s*[簡简]報\s*(?P<day>\d{8})\s*期")
HEADLINE = re.compile(r"^(?:#\s*)?(?:原文[標标]題\s*[:：]\s*)?(?P<headline>【AI\s*[簡简]報\s*\d{8}】.*)$")
ITEM = re.compile(r"^(?P<n>\d{1,3})\s*[.．、]\s*(?P<title>\S.*)$")
LABEL = re.compile(r"^(?P<label>原文|原文鏈接|原文链接|論文地址|论文地址|文章鏈接|文章链接|項目地址|项目地址)"
                   r"\s*[:：]\s*(?P<url>https?://\S+)?\s*$")
URL = re.compile(r"^https?://\S+$")
END = re.compile(r"^-\s*END\s*-$", re.IGNORECASE)
ROLES = {"原文": "source", "論文地址": "paper", "论文地址": "paper", "文章鏈接": "article",
         "文章链接": "article", "原文鏈接": "article", "原文链接": "article", "項目地址": "code",
         "项目地址": "code"}
_UNESCAPE = re.compile(r"\\([\\\[\]])|&(lt|gt|amp);")


class IssueFormatError(Exception):
    """The text is not an issue in a layout we read; the message is one line."""


@dataclass(slots=True)
class ParsedIssue:
    date: date
    title: str
    section: str
    headline: str
    items: list[IssueItem] = field(default_factory=list)


def md_unescape(text: str) -> str:
    """The exact inverse of :func:`pipelines.editorial.export.md_escape`."""
    if text.startswith("\\") and LINE_START.match(text[1:]):
        text = text[1:]
    return _UNESCAPE.sub(lambda m: m.group(1) or {"lt": "<", "gt": ">", "amp": "&"}[m.group(2)], text)


EDITOR_ITEM = re.compile(r"^##\s+(?P<n>\d{1,3})\.\s+\[(?P<title>(?:\\.|[^\]\\])*)\]\((?P<url>https?://[^\s)]+)\)"
                         r"(?:\s+\|\s+(?P<source>.+))?$")
EDITOR_LEAD = re.compile(r"^>\s*(?:导读|導讀)\s*[:：]\s*(?:(?P<section>.+?)\s+·\s+)?(?P<title>.+)$")
EDITOR_SECTION = re.compile(r"^#\s+(?P<section>\S.*)$")
EDITOR_IMAGE = re.compile(r"^!\[[^\]]*\]\((?P<url>https?://[^\s)]+)\)$")


def read_issue_file(path: Path) -> ParsedIssue:
    """Read and parse an issue file (UTF-8; Markdown by its suffix or its first line);
    IssueFormatError names the file and what is wrong."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise IssueFormatError(f"{path}: not UTF-8 text") from None
    markdown = path.suffix.lower() in (".md", ".markdown") or text.lstrip("\ufeff").lstrip().startswith("# ")
    try:
        return parse_issue(text, markdown=markdown)
    except IssueFormatError as exc:
        raise IssueFormatError(f"{path}: {exc}") from None


def parse_issue(text: str, markdown: bool = False) -> ParsedIssue:
    """Parse an issue; IssueFormatError names the line at fault."""
    if any(EDITOR_ITEM.match(line.strip()) for line in text.splitlines()):
        return parse_editor_issue(text)
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
    before = [plain(l) for l in lines[:title_at] if l.strip() and not HEADLINE.match(l.strip())]
    issue = ParsedIssue(date=day, title=plain(lines[title_at]), section=before[-1] if before else "",
                        headline=headline)

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


def parse_editor_issue(text: str) -> ParsedIssue:
    """Parse the editor layout (:func:`pipelines.editorial.export.render_editor_markdown`)."""
    lines = [line.rstrip() for line in text.lstrip("\ufeff").splitlines()]
    issue: ParsedIssue | None = None
    headline = ""
    section: str | None = None
    item: IssueItem | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        lead = EDITOR_LEAD.match(line)
        if lead and issue is None:
            found = TITLE.search(lead["title"])
            if not found:
                raise IssueFormatError(f"line {number}: the 导读 line names no issue such as 'AI 簡報 20221014 期'")
            day_text = found["day"]
            try:
                day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
            except ValueError:
                raise IssueFormatError(f"line {number}: {day_text} is not a date") from None
            issue = ParsedIssue(date=day, title=md_unescape(lead["title"].strip()),
                                section=md_unescape((lead["section"] or "").strip()), headline="")
            continue
        if line.startswith(">"):
            quoted = line[1:].strip()
            found = HEADLINE.match(quoted)
            if found and item is None:
                headline = md_unescape(found["headline"].strip())
                continue
            label = LABEL.match(quoted)
            if label and item is not None and label["url"]:
                role = ROLES[label["label"]]
                if role != "source":
                    item.links.append({"role": role, "url": label["url"]})
            continue  # the blockquote's other lines (the item count) say nothing to keep
        if issue is None:
            raise IssueFormatError(f"line {number}: no 导读 line naming the issue before {line[:40]!r}")
        header = EDITOR_ITEM.match(line)
        if header:
            expected = len(issue.items) + 1
            if int(header["n"]) != expected:
                raise IssueFormatError(f"line {number}: item {header['n']} where item {expected} was expected")
            item = IssueItem(position=expected, title=md_unescape(header["title"]), url=header["url"], summary="",
                             section=section, source=md_unescape(header["source"].strip()) if header["source"] else None)
            issue.items.append(item)
            continue
        heading = EDITOR_SECTION.match(line)
        if heading:
            section, item = md_unescape(heading["section"].strip()), None
            continue
        if item is None:
            raise IssueFormatError(f"line {number}: text outside any item: {line[:40]!r}")
        image = EDITOR_IMAGE.match(line)
        if image and not item.summary and item.image is None:
            item.image = image["url"]
            continue
        item.summary = f"{item.summary}\n{md_unescape(line)}" if item.summary else md_unescape(line)
    if issue is None:
        raise IssueFormatError("no 导读 line such as '> 导读：嵌入式 AI · AI 簡報 20221014 期' found")
    if not issue.items:
        raise IssueFormatError(f"issue {issue.date:%Y%m%d}: no items found (an item is '## 1. [title](url)')")
    issue.headline = headline or headline_for(issue.date, [parsed.title for parsed in issue.items])
    return issue
