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
from pipelines.editorial.issues import Issue, IssueItem, headline_part

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
        heading = f"## {item.position}. {_md_link(md_escape(item.title), item.url)}"
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


def _md_link(label: str, url: str) -> str:
    """``[label](url)`` for a web address; the label alone for anything else (a page's
    ``javascript:`` or ``data:`` link must not become a link in what we publish)."""
    return f"[{label}]({_md_link_url(url)})" if url.startswith(("http://", "https://")) else label


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


def write_whole(path: str | os.PathLike, text: str | bytes) -> None:
    """Write ``text`` (or bytes) so that ``path`` is always either the old file or the new one."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text if isinstance(text, bytes) else text.encode("utf-8"))
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


# --- the daily 早报 -------------------------------------------------------------------------
# Sections of the daily layout, in the order it prints them, with the emoji it heads them with.
DAILY_FEATURED = "今日精选"
DAILY_INTERNATIONAL = "国际动态"
DAILY_CHINESE = "中文圈"
DAILY_GITHUB = "GitHub 今日趋势（AI）"
DAILY_INSIGHTS = "今日洞察"
DAILY_EMOJI = {DAILY_FEATURED: "🔥", DAILY_INTERNATIONAL: "🌍", DAILY_CHINESE: "🇨🇳", DAILY_GITHUB: "⭐",
               DAILY_INSIGHTS: "💡"}
# How many top-ranked items 今日精选 holds when an issue was built rather than imported: the
# three that the 2026 早报 files feature on most days.
DAILY_FEATURED_ITEMS = 3
PRIORITY_MARKS = {"top": "🔴", "normal": "🟡", "low": "🟢"}
_WEEKDAYS = "一二三四五六日"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def daily_groups(issue: Issue, by_topic: bool = False) -> list[tuple[str, list[IssueItem]]]:
    """The daily layout's sections and their items, in print order.

    An issue that already has the daily sections (imported from a 早报) keeps them and its
    order. Otherwise 今日精选 holds the top-ranked items, GitHub repositories go to the
    table, and the rest are grouped by region (articles in Chinese under 中文圈, others under
    国际动态, by the article's language, else by its title's script) or, ``by_topic``, by
    their ``editorial.sections`` section.
    """
    daily_names = {DAILY_FEATURED, DAILY_INTERNATIONAL, DAILY_CHINESE, DAILY_GITHUB}
    groups: dict[str, list[IssueItem]] = {}
    if issue.items and all(item.section in daily_names or item.stars is not None for item in issue.items):
        for item in issue.items:
            groups.setdefault(item.section or DAILY_GITHUB, []).append(item)
        return list(groups.items())
    ranked = sorted((i for i in issue.items if i.rank is not None and not _is_repository(i)), key=lambda i: i.rank)
    featured = {id(i) for i in ranked[:DAILY_FEATURED_ITEMS]}
    order = [DAILY_FEATURED]
    for item in issue.items:
        if id(item) in featured:
            name = DAILY_FEATURED
        elif _is_repository(item):
            name = DAILY_GITHUB
        elif by_topic and item.section:
            name = item.section
        else:
            name = DAILY_CHINESE if _in_chinese(item) else DAILY_INTERNATIONAL
        groups.setdefault(name, []).append(item)
        if name not in order and name != DAILY_GITHUB:
            order.append(name)
    order.append(DAILY_GITHUB)
    return [(name, groups[name]) for name in order if name in groups]


def _in_chinese(item: IssueItem) -> bool:
    """The item reports a Chinese-language article (a translated title does not make an
    English article Chinese); an item of no known language goes by its title's script."""
    if item.language:
        return item.language.lower().startswith("zh")
    return bool(_HAN.search(item.title))


def _is_repository(item: IssueItem) -> bool:
    return item.stars is not None or any(s.get("role") == "code" for s in item.sources)


def render_daily_markdown(issue: Issue, moments_chars: int, by_topic: bool = False) -> str:
    """The daily 早报 (:mod:`pipelines.editorial.layouts.daily` reads it back)."""
    lines = [f"# 🤖 AI 早报 | {issue.date:%Y.%m.%d}（周{_WEEKDAYS[issue.date.weekday()]}）", ""]
    if issue.headline:
        lines += [f"> 📌 **今日一句话**：{_daily_escape(issue.headline)}", ""]
    groups = daily_groups(issue, by_topic)
    for name, items in groups:
        lines += ["---", "", f"## {DAILY_EMOJI.get(name, '📰')} {md_escape(name)}", ""]
        if name == DAILY_GITHUB:
            lines += ["| 项目 | 说明 | ⭐ |", "| --- | --- | --- |"]
            lines += [f"| {_md_link(_cell(item.title), item.url)} | {_cell(_first_sentence(item.summary))} | "
                      f"{'' if item.stars is None else f'{item.stars:,}'} |" for item in items]
            lines.append("")
            continue
        for item in items:
            lines += [_daily_item(item, name == DAILY_FEATURED), ""]
    if issue.insights:
        lines += ["---", "", f"## {DAILY_EMOJI[DAILY_INSIGHTS]} {DAILY_INSIGHTS}", ""]
        lines += [f"{n}. {_daily_escape(text)}" for n, text in enumerate(issue.insights, start=1)] + [""]
    moments = issue.moments.splitlines() if issue.moments else moments_lines(
        [item for _, items in groups for item in items], moments_chars)
    if moments:
        lines += ["---", "", "**朋友圈版 ↓**", ""]
        for line in moments:
            lines += [_daily_escape(line), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def moments_lines(items: list[IssueItem], moments_chars: int) -> list[str]:
    """The short version for WeChat Moments: one title a line, shortened as the headline
    shortens them, as many as fit in ``moments_chars`` characters."""
    lines: list[str] = []
    used = 0
    for item in items:
        line = f"{len(lines) + 1}. {headline_part(item.title)}"
        if used + len(line) > moments_chars:
            break
        lines.append(line)
        used += len(line)
    return lines


def _daily_item(item: IssueItem, featured: bool) -> str:
    mark = PRIORITY_MARKS.get(item.priority or "", "🔴" if featured else "🟡")
    sources = item.sources or ([{"name": item.source or "原文", "url": item.url}] if item.url else [])
    cited = "、".join(_md_link(md_escape(s["name"]), s["url"]) for s in sources if s.get("url"))
    text = f"{mark} **{_daily_escape(item.title)}**"
    summary = _first_sentence(item.summary)
    if summary:
        text += f" — {_daily_escape(summary)}"
    return text + (f"（{cited}）" if cited else "")


def _first_sentence(summary: str) -> str:
    """The daily layout's item is one paragraph: the summary's first paragraph."""
    return next((p.strip() for p in summary.splitlines() if p.strip()), "")


def _daily_escape(text: str) -> str:
    # The daily item's title sits in bold and its text on one line: emphasis markers and
    # line starts are escaped as well as links and HTML.
    return md_escape(" ".join(text.split())).replace("*", "\\*").replace("_", "\\_")


def _cell(text: str) -> str:
    return _daily_escape(text).replace("|", "\\|")


def render_layout(issue: Issue, layout: str, moments_chars: int, by_topic: bool = False) -> str:
    """The issue's Markdown in ``layout`` (one of :data:`pipelines.editorial.settings.LAYOUTS`):
    what ``aibrief export --layout`` writes and the desk's previews show."""
    if layout == "editor":
        return render_editor_markdown(issue)
    if layout == "daily":
        return render_daily_markdown(issue, moments_chars, by_topic=by_topic)
    return render_markdown(issue)
