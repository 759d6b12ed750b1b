"""Issues out of the archive: Markdown in the reference layout, and JSON.

The reference layout is the digest as RT-Thread publishes it: the section line, the
issue title, then per item its number and title, ``原文:`` and the URL, ``論文地址:`` /
``文章鏈接:`` / ``項目地址:`` and their URLs where the article cites them, and the summary.
The Markdown adds blank lines so that every one of those lines renders as written, and
starts with the headline. Rendering reads only the issue, so the same archive gives the
same bytes; files are written whole (a temporary file, then a rename).

The editor layout (:func:`render_editor_markdown`) is the master copy an editor keeps: a
导读 blockquote naming the issue, ``# Section`` headings, items as
``## N. [title](url) | source``, blockquoted link lines, the lead image, the summary.
:func:`pipelines.editorial.importer.parse_issue` reads both layouts.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from pathlib import Path

from pipelines.analysis.text import SCRIPTS, convert
from pipelines.editorial.issues import Issue, IssueItem

# The line that introduces each cited URL, by role, as the reference issue words them.
LINK_LABELS = {"source": "原文", "paper": "論文地址", "article": "文章鏈接", "code": "項目地址"}
# Line starts that Markdown would read as a heading, list, rule or code fence.
LINE_START = re.compile(r"^(#|[-+*](\s|$)|\d+[.)]|=+\s*$|`{3}|~{3})")
_ENTITY_LIKE = re.compile(r"&(?=(lt|gt|amp);)")


def md_escape(text: str) -> str:
    """Crawled text as inert Markdown: no HTML, no link syntax, no accidental headings or
    lists. :func:`pipelines.editorial.importer.md_unescape` is its exact inverse."""
    guard = bool(LINE_START.match(text))
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return "\\" + text if guard else text


def render_markdown(issue: Issue) -> str:
    lines: list[str] = [f"# {md_escape(issue.headline)}", "", md_escape(issue.section), "",
                        md_escape(issue.title), ""]
    for item in issue.items:
        lines += _item_lines(item)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_item_markdown(item: IssueItem) -> str:
    """One item as the reference layout writes it (``aibrief extract --format md``)."""
    return "\n".join(_item_lines(item)).rstrip("\n") + "\n"


def _item_lines(item: IssueItem) -> list[str]:
    lines = [f"{item.position}. {md_escape(item.title)}", ""]
    cited = [("source", item.url)] + [(link["role"], link["url"]) for link in item.links]
    for role, url in cited:
        if role in LINK_LABELS and url.startswith(("http://", "https://")):
            lines += [f"{LINK_LABELS[role]}:", _md_url(url), ""]
    for paragraph in item.summary.splitlines():
        if paragraph.strip():
            lines += [md_escape(paragraph.strip()), ""]
    return lines


# The link lines of the editor layout, by role.
EDITOR_LINK_LABELS = {"source": "原文", "paper": "论文地址", "article": "文章链接", "code": "项目地址"}
EDITOR_LEAD = "导读"


def render_editor_markdown(issue: Issue) -> str:
    """The editor layout: sections as headings, items as linked headings with their source."""
    counts: dict[str, int] = {}
    for item in issue.items:
        counts[item.section or ""] = counts.get(item.section or "", 0) + 1
    summary = "、".join(f"{md_escape(name)} {n} 条" for name, n in counts.items() if name)
    lead = f"{md_escape(issue.section)} · {md_escape(issue.title)}" if issue.section else md_escape(issue.title)
    lines = [f"> {EDITOR_LEAD}：{lead}", ">", f"> {md_escape(issue.headline)}"]
    if issue.items:
        lines += [">", f"> 本期 {len(issue.items)} 条" + (f"：{summary}" if summary else "")]
    lines.append("")
    section: str | None = None
    for item in issue.items:
        if item.section and item.section != section:
            section = item.section
            lines += [f"# {md_escape(section)}", ""]
        heading = f"## {item.position}. [{md_escape(item.title)}]({_md_link_url(item.url)})"
        if item.source:
            heading += f" | {md_escape(item.source)}"
        lines += [heading, ""]
        cited = [("source", item.url)] + [(link["role"], link["url"]) for link in item.links]
        quoted = [f"> {EDITOR_LINK_LABELS[role]}：{_md_url(url)}" for role, url in cited
                  if role in EDITOR_LINK_LABELS and url.startswith(("http://", "https://"))]
        lines += [*"\n>\n".join(quoted).split("\n"), ""]
        if item.image and item.image.startswith(("http://", "https://")):
            lines += [f"![]({_md_link_url(item.image)})", ""]
        for paragraph in item.summary.splitlines():
            if paragraph.strip():
                lines += [md_escape(paragraph.strip()), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_link_url(url: str) -> str:
    # Inside (...) a parenthesis would end the link early.
    return _md_url(url).replace("(", "%28").replace(")", "%29")


def _md_url(url: str) -> str:
    # A bare URL autolinks; angle brackets and spaces would end it early or open HTML.
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def render_json(issue: Issue) -> str:
    data = {
        "date": issue.date.isoformat(),
        "title": issue.title,
        "headline": issue.headline,
        "status": issue.status,
        "section": issue.section,
        "items": [{"position": item.position, "title": item.title, "url": item.url,
                   "links": [{"role": link["role"], "url": link["url"]} for link in item.links],
                   "summary": item.summary, "section": item.section, "topics": item.topics,
                   "source": item.source, "alternates": item.alternates} for item in issue.items],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_whole(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` so that ``path`` is always either the old file or the new one."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def convert_issue(issue: Issue, script: str) -> Issue:
    """A copy of ``issue`` with its words in the output ``script`` (a key of
    :data:`pipelines.analysis.text.SCRIPTS`).

    URLs, dates and numbers are left alone: OpenCC converts only Chinese characters.
    """
    if SCRIPTS[script] is None:
        return issue
    items = [dataclasses.replace(
        item, title=convert(item.title, script), summary=convert(item.summary, script),
        section=convert(item.section, script) if item.section else item.section,
        topics=[convert(t, script) for t in item.topics],
        source=convert(item.source, script) if item.source else item.source)
        for item in issue.items]
    return dataclasses.replace(issue, title=convert(issue.title, script), headline=convert(issue.headline, script),
                               section=convert(issue.section, script), items=items)
