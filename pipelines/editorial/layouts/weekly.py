"""The weekly master: the Markdown an editor keeps for each weekly issue, and our own
editor layout (:func:`pipelines.editorial.export.render_editor_markdown`), which is one of
its forms.

    [TOC]
    > 导读：本期为 AI 简报 20201120 期，将为您带来 8 条相关新闻…
    # AI                                          a section (a heading that is no item)
    # 1. [title](url)                             items: headings of level 1 to 3,
    ## [2. title](url) | 来源                      numbered (also １．) or not,
    ## 3.【tag】[title](url) | 来源                 with a tag in 【】 or （）,
    ## 4. title                                   or with no link: the 原文 is a body line
    > Paper：https://arxiv.org/abs/…              cited links: label lines, often quoted,
    > 代码：                                        the URL on the same line or the next
    > https://github.com/…
    # 9. 其他                                      a numbered heading over bare links: a section
    - [a link](url)                               link lists under 其他/干货/福利: the issue's extras

The editor layout opens with ``> 导读：嵌入式 AI · AI 簡報 20221014 期`` and the headline,
and writes every item as ``## N. [title](url) | source`` with ``> 原文：url`` lines; its text
is escaped by :func:`pipelines.editorial.export.md_escape`, which the parser undoes.
"""
from __future__ import annotations

import re
from datetime import date

from pipelines.editorial.export import LINE_START
from pipelines.editorial.issues import IssueItem, headline_for
from pipelines.editorial.layouts.markdown import Block, Line, blocks
from pipelines.editorial.layouts.model import (
    HEADLINE,
    TITLE,
    IssueFormatError,
    ParsedIssue,
    link_role,
    parse_yyyymmdd,
    url_problem,
)

_NUMBER = re.compile(r"^\s*(?P<n>[0-9０-９]{1,3})\s*[.．、]\s*")
_TAG = re.compile(r"^\s*(?:【(?P<a>[^】]*)】|（(?P<b>[^）]*)）|\((?P<c>[^)]*)\))\s*")
_SOURCE = re.compile(r"^\s*[|｜]\s*(?P<source>.*?)\s*$")
_LEAD = re.compile(r"^(?:导读|導讀)\s*[:：]\s*(?P<rest>.*)$", re.DOTALL)
_LABEL = re.compile(r"^(?P<label>[^:：]{1,16}?)\s*[:：]\s*(?P<rest>.*)$")
_BARE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://\S*$")
# Sections whose link lists are the issue's extras rather than items.
EXTRA_SECTIONS = frozenset({"其他", "其它", "干货", "乾貨", "福利", "other", "others"})
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def looks_like(text: str) -> bool:
    """Markdown with headings or a 导读 blockquote: the weekly master (or the editor layout)."""
    return bool(re.search(r"^\s{0,3}(#{1,3}\s|>\s*(导读|導讀)|\[TOC\])", text, re.MULTILINE))


class _Reader:
    def __init__(self, fallback: date | None) -> None:
        self.fallback = fallback
        self.issue = ParsedIssue(date=None, title="", section="", headline="", layout="weekly")
        self.section: str | None = None
        self.extras_section = False
        self.item: IssueItem | None = None
        self.item_line = 0
        self.bullets: list[tuple[str, str, int]] = []  # link-only list lines under the open item
        self.awaiting: tuple[str, str] | None = None  # (role, label) of a label line whose URL is on the next line
        self.listed = False  # the open item is a numbered list line: the next such line is the next item

    # --- the issue's opening -------------------------------------------------------------
    def opening(self, block: Block) -> None:
        text = block.text()
        lead = _LEAD.match(text)
        name = TITLE.search(text)
        if name and self.issue.date is None:
            self.issue.date = parse_yyyymmdd(name["day"])
            if self.issue.date is None:
                raise IssueFormatError(f"line {block.line}: {name['day']} is not a date")
            if lead and " · " in lead["rest"].split("\n")[0]:  # the editor layout: "section · title"
                section, _, title = lead["rest"].split("\n")[0].partition(" · ")
                self.issue.section, self.issue.title = section.strip(), title.strip()
                self.issue.layout = "editor"
            else:
                self.issue.title = name.group(0)
        for line in block.lines:
            if HEADLINE.search(line.text()) and not self.issue.headline:
                self.issue.headline = _unguard(line.text(), block.raw)

    # --- items ---------------------------------------------------------------------------
    def heading(self, block: Block) -> None:
        self.close_item()
        line = block.lines[0] if block.lines else Line(block.line)
        found = _heading_item(line)
        if found is None:
            self.section = _unguard(line.text(), block.raw) or None
            self.extras_section = (self.section or "").strip().lower() in EXTRA_SECTIONS
            return
        number, title, url, source, tag = found
        if url is None and title.strip().lower() in EXTRA_SECTIONS:
            self.section, self.extras_section = title.strip(), True
            return
        self.open_item(_unguard(title, block.raw), url, source, tag, block.line, block.raw)

    def open_item(self, title: str, url: str | None, source: str | None, tag: str | None, at: int, raw: str) -> None:
        self.extras_section = False
        item = IssueItem(position=len(self.issue.items) + 1, title=title.strip(), url="", summary="",
                         section=self.section, source=source or None, topics=[tag] if tag else [])
        self.issue.items.append(item)
        self.item, self.item_line, self.bullets, self.awaiting, self.listed = item, at, [], None, False
        if url is not None:
            self.take("source", url, at)

    def close_item(self) -> None:
        item = self.item
        if item is None:
            return
        self.item = None
        if not item.url and not item.summary and self.bullets:
            # "# 9. 其他" over a list of bare links: a section of extras, not an item.
            self.issue.items.remove(item)
            self.section, self.extras_section = item.title, True
            for label, url, at in self.bullets:
                self.extra(label, url, at)
            return
        for label, url, at in self.bullets:
            self.take(link_role(label) or "other", url, at)
        if not item.url:
            self.issue.warnings.append(f"line {self.item_line}: item {item.position} ({item.title[:30]}) has no 原文 URL")

    def take(self, role: str, url: str, at: int) -> None:
        item = self.item
        problem = url_problem(url)
        if problem:
            self.issue.warnings.append(f"line {at}: {problem}; link left out")
            return
        if item is None:
            return
        if role == "source":
            if not item.url:
                item.url = url
                return
            if url == item.url:
                return
            if url.replace("(", "%28").replace(")", "%29") == item.url:
                item.url = url  # the title link had its parentheses escaped; the 原文 line has the URL as is
                return
            role = "article"
        if url != item.url and all(link["url"] != url for link in item.links):
            item.links.append({"role": role, "url": url})

    def extra(self, label: str, url: str, at: int) -> None:
        problem = url_problem(url)
        if problem:
            self.issue.warnings.append(f"line {at}: {problem}; link left out")
            return
        self.issue.extras.append({"role": link_role(label) or "other", "url": url, "label": label,
                                  "section": self.section or ""})

    # --- bodies --------------------------------------------------------------------------
    def body(self, block: Block) -> None:
        if block.kind in ("fence", "table", "hr"):
            return  # code, tables and rules are no item and say nothing the issue keeps
        if block.kind == "html":
            if self.item is not None and self.item.image is None and block.images():
                self.item.image = block.images()[0]
            return
        if (self.item is None or self.listed) and block.kind == "item" and not self.extras_section:
            links = block.links()
            if block.ordered and links:  # plain numbered list lines under a section are items
                label, url = links[0]
                rest = block.text().replace(label, "", 1).strip(" |｜-—:：")
                self.close_item()
                self.open_item(label, url, rest or None, None, block.line, block.raw)
                self.listed = True
                return
        if self.item is None:
            if block.kind == "item" or self.extras_section:
                for line in block.lines:
                    for label, url in line.links():
                        self.extra(label, url, line.number)
            elif self.issue.date is None or not self.issue.items:
                self.opening(block)
            return
        for index, line in enumerate(block.lines):
            self.body_line(block, line, first=index == 0)

    def body_line(self, block: Block, line: Line, first: bool) -> None:
        item = self.item
        text = line.text()
        links = line.links()
        if self.awaiting is not None:
            role, _ = self.awaiting
            self.awaiting = None
            url = _bare_url(line)
            if url is not None:
                self.take(role, url, line.number)
                return
        labelled = _label_line(line)
        if labelled is not None:
            role, url, label = labelled
            if url is None:
                self.awaiting = (role, label)
            else:
                self.take(role, url, line.number)
            return
        if block.kind == "item" and first and links and text == links[0][0] and len(links) == 1:
            self.bullets.append((links[0][0], links[0][1], line.number))
            return
        if line.images() and item.image is None:
            item.image = line.images()[0]
        if not text:
            return
        if block.quoted and self.issue.layout == "editor":
            return  # the editor layout quotes only link lines
        written = _unguard(line.text(markup=True), block.raw) if first else line.text(markup=True)
        if block.kind == "item" and first:
            written = f"{block.number}. {written}" if block.ordered and block.number is not None else f"- {written}"
        item.summary = f"{item.summary}\n{written}" if item.summary else written


def _heading_item(line: Line) -> tuple[int | None, str, str | None, str | None, str | None] | None:
    """(number, title, URL, source, tag) when the heading is an item, else None."""
    runs = [r for r in line.runs if not r.markup and not r.image]
    first_link = next((i for i, r in enumerate(runs) if r.href is not None), None)
    text = line.text()
    if first_link is None:
        numbered = _NUMBER.match(text)
        if not numbered:
            return None
        rest = text[numbered.end():]
        tag = _TAG.match(rest)
        if tag:
            rest = rest[tag.end():]
        return int(numbered["n"].translate(_FULLWIDTH_DIGITS)), rest.strip(), None, None, _tag(tag)
    href = runs[first_link].href
    end = first_link
    while end < len(runs) and runs[end].href == href:
        end += 1
    prefix = "".join(r.text for r in runs[:first_link])
    label = "".join(r.text for r in runs[first_link:end]).strip()
    suffix = "".join(r.text for r in runs[end:])
    number: int | None = None
    numbered = _NUMBER.match(prefix)
    if numbered:
        number, prefix = int(numbered["n"].translate(_FULLWIDTH_DIGITS)), prefix[numbered.end():]
    tag = _TAG.match(prefix)
    if tag:
        prefix = prefix[tag.end():]
    if prefix.strip():
        return None  # words before the link: a section heading that happens to link somewhere
    if number is None:
        inner = _NUMBER.match(label)
        if inner:
            number, label = int(inner["n"].translate(_FULLWIDTH_DIGITS)), label[inner.end():]
    source = _SOURCE.match(suffix)
    return number, label, href, (source["source"] or None) if source else None, _tag(tag)


def _tag(found: re.Match | None) -> str | None:
    if found is None:
        return None
    return (found["a"] or found["b"] or found["c"] or "").strip() or None


def _label_line(line: Line) -> tuple[str, str | None, str] | None:
    """(role, URL or None when it is on the next line, label) for a link line."""
    text = line.text()
    links = line.links()
    if len(links) == 1 and text == links[0][0]:
        role = link_role(links[0][0])
        if role is not None:
            return role, links[0][1], links[0][0]
    found = _LABEL.match(text)
    if not found:
        return None
    role = link_role(found["label"])
    if role is None:
        return None
    rest = found["rest"].strip()
    if links:
        return role, links[-1][1], found["label"]
    if not rest:
        return role, None, found["label"]
    if _BARE_URL.match(rest):
        return role, rest, found["label"]
    return None


def _bare_url(line: Line) -> str | None:
    text = line.text()
    links = line.links()
    if len(links) == 1 and text == links[0][0]:
        return links[0][1]
    return text if _BARE_URL.match(text) else None


def _unguard(text: str, raw: str) -> str:
    """Undo :func:`pipelines.editorial.export.md_escape`'s guard: a backslash before a line
    start such as ``1.`` that CommonMark keeps as text (it escapes no digit)."""
    if text.startswith("\\") and LINE_START.match(text[1:]) and "\\\\" + text[1:] not in raw:
        return text[1:]
    return text


def parse(text: str, fallback: date | None = None) -> ParsedIssue:
    """Read a weekly master or the editor layout; ``fallback``: the issue's date when the
    text names none (from the file name, or ``--date``)."""
    reader = _Reader(fallback)
    for block in blocks(text):
        if block.kind == "heading":
            reader.heading(block)
        else:
            reader.body(block)
    reader.close_item()
    issue = reader.issue
    if issue.date is None:
        if fallback is None:
            raise IssueFormatError("no issue title such as 'AI 簡報 20221014 期' found: no 导读 line names the "
                                   "issue, the file name holds no date, and no --date was given")
        issue.date = fallback
    if not issue.items:
        raise IssueFormatError(f"issue {issue.date:%Y%m%d}: no items found (an item is a heading such as "
                               "'## 1. [title](url)')")
    if not issue.headline:
        issue.headline = headline_for(issue.date, [item.title for item in issue.items])
    return issue
