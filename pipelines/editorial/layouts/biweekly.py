"""The layout of the embedded-AI bi-weekly digest (嵌入式AI简报), whose published archive
is the largest body of past issues at hand:

    ---
    layout: default
    ---
    # 嵌入式AI简报 (2020-11-30) 华为Bolt发布1.0/…
    > 导读：本次21条。…
    - a warm-up news line without a link        (not an item)
    ## 业界新闻
    - [title | source](url)                     an item
    摘要：…                                     its summary (the paragraphs up to the next item)
    ## 论文
    - [2011.12289v1] [title](url)               a paper: the arXiv id, then the link
    标题：[English title](https://arxiv.org/…)  cited links as label lines
    代码：https://github.com/…
    ## [往期回顾](…)                             the end of the issue
"""
from __future__ import annotations

import re
from datetime import date

from pipelines.editorial.issues import IssueItem
from pipelines.editorial.layouts.markdown import Line, blocks
from pipelines.editorial.layouts.model import IssueFormatError, ParsedIssue, link_role, url_problem

TITLE = re.compile(r"嵌入式\s*AI\s*[简簡][报報]\s*[(（]\s*(?P<day>\d{4}-\d{2}-\d{2})\s*[)）]")
_LABEL = re.compile(r"^(?P<label>[^:：]{1,12}?)\s*[:：]\s*(?P<rest>.*)$")
_ARXIV_ID = re.compile(r"^\s*\[?\s*\d{4}\.\d{4,5}(v\d+)?\s*\]?\s*$")
_PAPER_LABELS = frozenset({"标题", "標題", "title"})


def looks_like(text: str) -> bool:
    return bool(re.search(r"^#\s*" + TITLE.pattern, text, re.MULTILINE))


def parse(text: str, fallback: date | None = None) -> ParsedIssue:
    issue = ParsedIssue(date=None, title="", section="", headline="", layout="biweekly")
    section: str | None = None
    item: IssueItem | None = None
    for block in blocks(text):
        if block.kind == "heading":
            item = None
            heading = block.text()
            found = TITLE.search(heading)
            if block.level == 1 and found and issue.date is None:
                issue.date = date.fromisoformat(found["day"])
                issue.title = issue.headline = " ".join(heading.split())
            elif block.links():
                break  # "## [往期回顾](…)": the issue ends, the back-issue links follow
            else:
                section = heading or None
            continue
        if section is None or block.kind in ("fence", "table", "hr", "html"):
            continue  # the opening: 导读 and the warm-up lines without links
        lines = list(block.lines)
        if block.kind == "item" and block.depth == 1 and lines and lines[0].links():
            head = lines.pop(0)
            item = _item(issue, head, section)
        if item is None:
            continue
        for line in lines:
            _body_line(issue, item, line)
    if issue.date is None:
        if fallback is None:
            raise IssueFormatError("no title such as '# 嵌入式AI简报 (2020-11-30)' found")
        issue.date = fallback
    if not issue.items:
        raise IssueFormatError(f"issue {issue.date}: no items found (an item is '- [title | source](url)')")
    return issue


def _item(issue: ParsedIssue, head: Line, section: str) -> IssueItem:
    links = head.links()
    label, url = links[0]
    # "[2011.12289v1] [title](url)": the bracketed arXiv id is text, the title the first real link.
    title, _, source = label.rpartition(" | ") if " | " in label else (label, "", "")
    item = IssueItem(position=len(issue.items) + 1, title=title.strip(), url="", summary="", section=section,
                     source=source.strip() or None)
    issue.items.append(item)
    _take(issue, item, "source", url, head.number)
    for extra_label, extra_url in links[1:]:
        _take(issue, item, link_role(extra_label) or "article", extra_url, head.number)
    return item


def _body_line(issue: ParsedIssue, item: IssueItem, line: Line) -> None:
    text = line.text()
    if not text:
        return
    found = _LABEL.match(text)
    label = found["label"].strip() if found else ""
    links = line.links()
    if found and label == "摘要":
        summary = found["rest"].strip()
        item.summary = f"{item.summary}\n{summary}" if item.summary else summary
        return
    if found and (label in _PAPER_LABELS or link_role(label)):
        role = "paper" if label in _PAPER_LABELS else link_role(label)
        rest = found["rest"].strip()
        urls = [href for _, href in links] or ([rest] if "://" in rest and " " not in rest else [])
        for url in urls:
            _take(issue, item, "article" if role == "source" else role, url, line.number)
        return
    if links and text == " ".join(label for label, _ in links):
        for link_label, url in links:  # "[报道原文](…)" and the like
            _take(issue, item, link_role(link_label) or "article", url, line.number)
        return
    item.summary = f"{item.summary}\n{text}" if item.summary else text


def _take(issue: ParsedIssue, item: IssueItem, role: str, url: str, at: int) -> None:
    problem = url_problem(url)
    if problem:
        issue.warnings.append(f"line {at}: {problem}; link left out")
        return
    if role == "source" and not item.url:
        item.url = url
    elif url != item.url and all(link["url"] != url for link in item.links):
        item.links.append({"role": "article" if role == "source" else role, "url": url})
