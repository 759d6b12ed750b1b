"""The daily 早报 (since 2026), as :func:`pipelines.editorial.export.render_daily_markdown`
writes it and as editors wrote it before:

    # 🤖 AI 早报 | 2026.08.22（周六）              the date also as 2026-05-21
    > 📌 **今日一句话**：…                          the headline
    ---
    ## 🔥 今日精选                                 sections (the emoji is decoration)
    🔴 **Waymo** 自研芯片 — 说明。（[The Decoder](https://…)、[Verge](https://…)）
    🟡 **[TechCrunch]** [Title as published](https://…) — 说明。     (the earlier form)
    ## ⭐ GitHub 今日趋势（AI）
    | 项目 | 说明 | ⭐ |                          each row an item: the repository, what it is, stars
    | [owner/repo](https://github.com/owner/repo) | 说明 | 2,858 |
    ## 💡 今日洞察
    1. a short analysis citing no URL               the issue's insights, not items
    **朋友圈版 ↓**
    a few short lines for WeChat Moments            the issue's short version
"""
from __future__ import annotations

import re
from datetime import date

from pipelines.editorial.export import LINE_START
from pipelines.editorial.issues import IssueItem
from pipelines.editorial.layouts.markdown import Block, Line, blocks
from pipelines.editorial.layouts.model import IssueFormatError, ParsedIssue, url_problem

TITLE = re.compile(r"AI\s*早[报報]\s*[|｜]?\s*(?P<y>\d{4})[.\-/](?P<m>\d{1,2})[.\-/](?P<d>\d{1,2})")
MARKS = {"🔴": "top", "🟡": "normal", "🟢": "low"}
INSIGHTS = "今日洞察"
MOMENTS = "朋友圈版"
_DECORATION = re.compile(r"^[^\w\[（(]+")
_SUMMARY = re.compile(r"^\s*(?P<rest>.*?)\s*(?:—{1,2}|--)\s*(?P<summary>.*)$", re.DOTALL)
_HEADLINE = re.compile(r"今日一句话\s*[:：]\s*(?P<text>.*)$", re.DOTALL)
_SOURCE_NAME = re.compile(r"^\[(?P<name>[^\]]+)\]$")


def looks_like(text: str) -> bool:
    return bool(re.search(r"^#\s*.*" + TITLE.pattern, text, re.MULTILINE))


def _unguard(text: str) -> str:
    # md_escape guards a line that opens like a list ("1. …") with a backslash that
    # CommonMark keeps as text before a digit.
    return text[1:] if text.startswith("\\") and LINE_START.match(text[1:]) else text


def section_name(heading: str) -> str:
    """``🔥 今日精选`` -> ``今日精选``: sections are named without their emoji."""
    return _DECORATION.sub("", heading).strip()


def parse(text: str, fallback: date | None = None) -> ParsedIssue:
    issue = ParsedIssue(date=None, title="", section="", headline="", layout="daily")
    section: str | None = None
    moments: list[str] | None = None
    for block in blocks(text):
        if moments is not None:
            if block.kind in ("paragraph", "item"):
                lines = [_unguard(line.text()) for line in block.lines if line.text()]
                if lines and block.ordered and block.number is not None:
                    lines[0] = f"{block.number}. {lines[0]}"
                moments += lines
            continue
        if block.kind == "heading":
            found = TITLE.search(block.text())
            if block.level == 1 and found and issue.date is None:
                try:
                    issue.date = date(int(found["y"]), int(found["m"]), int(found["d"]))
                except ValueError:
                    raise IssueFormatError(f"line {block.line}: {found.group(0)!r} is not a date") from None
                issue.title = section_name(block.text())
            else:
                section = section_name(block.text()) or None
            continue
        if MOMENTS in block.text() and block.kind == "paragraph" and len(block.lines) == 1:
            moments = []
            continue
        if block.kind == "table":
            _table(issue, block, section)
        elif section == INSIGHTS and block.kind == "item":
            issue.insights.append(block.text())
        elif block.kind in ("paragraph", "item"):
            headline = _HEADLINE.search(block.text())
            if block.quoted and headline and not issue.headline:
                issue.headline = headline["text"].strip()
                continue
            for line in block.lines:
                if line.text()[:1] in MARKS:
                    _item(issue, line, section)
                elif issue.items and issue.items[-1].section == section and line.text():
                    item = issue.items[-1]  # a news item's paragraph that runs on over a line break
                    item.summary = f"{item.summary}\n{line.text()}" if item.summary else line.text()
    if moments is not None:
        issue.moments = "\n".join(moments)
    if issue.date is None:
        if fallback is None:
            raise IssueFormatError("no title such as '# 🤖 AI 早报 | 2026.08.22（周六）' found")
        issue.date = fallback
    if not issue.items:
        raise IssueFormatError(f"issue {issue.date}: no items found (an item is a paragraph opening with 🔴 or 🟡)")
    return issue


def _item(issue: ParsedIssue, line: Line, section: str | None) -> None:
    text = line.text()
    priority = MARKS[text[0]]
    runs = [r for r in line.runs if not r.markup]
    strong = "".join(r.text for r in runs if r.strong and r.href is None).strip()
    links = line.links()
    body = text[1:].strip()
    sources: list[dict[str, str]] = []
    tail = body.rfind("（")
    if body.endswith("）") and tail >= 0:
        cited = body[tail + 1:-1]
        sources = [{"name": label, "url": href} for label, href in links if label and label in cited]
        if sources:
            body = body[:tail].rstrip()
    named = _SOURCE_NAME.match(strong)
    if named and links:  # "🔴 **[TechCrunch]** [Title as published](url) — 说明。"
        title, url = links[0]
        after = body.split(title, 1)[1] if title in body else ""
        summary = _SUMMARY.match(after)
        sources.insert(0, {"name": named["name"], "url": url})
        summary_text = summary["summary"] if summary else after.strip()
    else:  # "🟡 **Waymo** 自研芯片 — 说明。（[The Decoder](url)）"
        after = body[len(strong):] if strong and body.startswith(strong) else body
        split = _SUMMARY.match(after)
        rest = split["rest"] if split else after
        title = " ".join(part for part in (strong, rest.strip()) if part)
        summary_text = split["summary"] if split else ""
    kept = []
    for source in sources:
        problem = url_problem(source["url"])
        if problem:
            issue.warnings.append(f"line {line.number}: {problem}; link left out")
        else:
            kept.append(source)
    item = IssueItem(position=len(issue.items) + 1, title=title.strip(), url=kept[0]["url"] if kept else "",
                     summary=summary_text.strip(), section=section, source=kept[0]["name"] if kept else None,
                     links=[{"role": "article", "url": s["url"]} for s in kept[1:]], priority=priority,
                     sources=kept)
    if not item.url:
        issue.warnings.append(f"line {line.number}: item {item.position} ({item.title[:30]}) has no source URL")
    issue.items.append(item)


def _table(issue: ParsedIssue, block: Block, section: str | None) -> None:
    for row in block.rows:
        links = row[0].links() if row else []
        if not links:
            continue  # the header row
        name, url = links[0]
        problem = url_problem(url)
        if problem:
            issue.warnings.append(f"line {row[0].number}: {problem}; row left out")
            continue
        digits = re.sub(r"[^\d]", "", row[-1].text()) if len(row) > 2 else ""
        issue.items.append(IssueItem(
            position=len(issue.items) + 1, title=name, url=url, summary=row[1].text() if len(row) > 1 else "",
            section=section, source="GitHub", stars=int(digits) if digits else None,
            sources=[{"name": "GitHub", "url": url, "role": "code"}]))
