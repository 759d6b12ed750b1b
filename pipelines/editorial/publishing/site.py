"""The static archive of published issues (``aibrief site -o DIR``): an index, newest first;
a page per issue, with every export layout beside it; a page per month; and an Atom feed
with one entry per issue, the whole issue as its content.

Plain HTML and one style sheet, nothing to run in the browser. A rebuild writes only the
files whose bytes changed, so it is cheap after every publish; each file is written whole
(a temporary file, then a rename), issues first and the index and the feed last, so no
page links to one that is not there yet.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from html import escape
from pathlib import Path

import sqlite_utils
from feedgen.feed import FeedGenerator

from pipelines.editorial import export
from pipelines.editorial.issues import Issue, get_issue, list_issues
from pipelines.editorial.publishing.html import render_outline_html
from pipelines.editorial.publishing.outline import Outline, outline
from pipelines.editorial.publishing.wechat import render_wechat

FEED = "feed.xml"
STYLE = "style.css"
# The exports beside each issue page: file suffix, what the page calls it.
EXPORTS = ((".md", "Markdown（发布版）"), (".editor.md", "Markdown（编辑版）"), (".daily.md", "Markdown（早报）"),
           (".json", "JSON"), (".wechat.html", "公众号 HTML"))

CSS = """\
body { margin: 0; background: #f7f7f5; color: #222; font: 16px/1.75 -apple-system, BlinkMacSystemFont,
       "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
header.site, main, footer { max-width: 46rem; margin: 0 auto; padding: 0 1.25rem; }
header.site { padding-top: 1rem; font-weight: bold; }
header.site a { color: #0b5cad; text-decoration: none; }
main { background: #fff; padding: 1.5rem 1.75rem; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
footer { color: #888; font-size: .85rem; padding: 1rem 1.25rem 2rem; }
a { color: #0b5cad; }
.title { font-size: 1.6rem; line-height: 1.4; margin: 0 0 .5rem; }
.column { color: #888; font-size: .9rem; margin: 0; }
.headline { background: #f6f8fa; padding: .6rem .8rem; border-radius: 4px; color: #444; }
.section { color: #0b5cad; border-left: 4px solid #0b5cad; padding-left: .5rem; font-size: 1.2rem; margin: 2rem 0 1rem; }
.item { margin: 0 0 1.4rem; }
.item-title { font-size: 1.05rem; margin: 0 0 .3rem; }
.number { color: #0b5cad; margin-right: .2rem; }
.source { font-size: .85rem; color: #777; margin: 0 0 .3rem; word-break: break-all; }
.separator { color: #bbb; }
.summary { margin: 0; padding: .5rem .8rem; border-left: 3px solid #d0d7de; background: #fafafa; color: #444; }
.summary-text { margin: 0; }
.moments { color: #555; }
nav.exports, nav.pager { font-size: .9rem; margin: 0 0 1rem; }
nav.exports a, nav.pager a { margin-right: .8rem; }
ul.issues { list-style: none; padding: 0; }
ul.issues li { margin: 0 0 .8rem; }
ul.issues .date { color: #888; font-size: .85rem; margin-right: .5rem; }
"""


@dataclass(slots=True, frozen=True)
class SiteOptions:
    title: str  # the archive's name, atop every page and the feed
    site_url: str  # where it is served ("" leaves the feed's links relative)
    layout: str  # the issues' layout (issue.layout)
    moments_chars: int
    script: str  # the script the issues are shown in (editorial.script)


@dataclass(slots=True)
class SiteReport:
    written: list[str] = field(default_factory=list)  # paths relative to the site's folder
    unchanged: int = 0

    def line(self) -> str:
        return f"{len(self.written)} files written, {self.unchanged} unchanged"


def site_options(config, title: str | None = None) -> SiteOptions:
    """The archive's options from the configuration (:class:`schedules.settings.Config`);
    its name, unless given, is the issue title's words before the date."""
    name = title or config.issue.title.split("{")[0].strip() or "AI 簡報"
    return SiteOptions(title=name, site_url=config.publish.site_url, layout=config.issue.layout,
                       moments_chars=config.issue.moments_chars, script=config.editorial.script)


def issue_page(day) -> str:
    """The path of an issue's page in the archive."""
    return f"issues/{day.isoformat()}.html"


def month_page(day) -> str:
    return f"months/{day:%Y-%m}.html"


def build_site(db: sqlite_utils.Database, folder: Path, options: SiteOptions) -> SiteReport:
    """Write (or bring up to date) the archive of the published issues in ``folder``."""
    issues = [export.convert_issue(get_issue(db, found.date), options.script)
              for found, _ in list_issues(db) if found.status == "published"]
    report = SiteReport()
    site = _Writer(Path(folder), report)
    site.put(STYLE, CSS)
    # Each issue laid out and shown once: its page, its WeChat export and the feed share them.
    laid_out = {issue.date: outline(issue, options.layout, options.moments_chars) for issue in issues}
    shown = {day: render_outline_html(found, _SiteLook()) for day, found in laid_out.items()}
    for n, issue in enumerate(issues):
        newer = issues[n - 1] if n > 0 else None
        older = issues[n + 1] if n + 1 < len(issues) else None
        stem = f"issues/{issue.date.isoformat()}"
        for suffix, text in _exports(issue, laid_out[issue.date], options):
            site.put(stem + suffix, text)
        site.put(issue_page(issue.date), _issue_html(issue, shown[issue.date], options, newer, older))
    months: dict[str, list[Issue]] = {}
    for issue in issues:
        months.setdefault(month_page(issue.date), []).append(issue)
    for path, month_issues in months.items():
        site.put(path, _page(options, f"{month_issues[0].date:%Y 年 %m 月}", "../",
                             _issue_list(month_issues, "../")))
    site.put("index.html", _index_html(issues, months, options))
    site.put(FEED, _feed(issues, shown, options))
    return report


class _Writer:
    def __init__(self, folder: Path, report: SiteReport) -> None:
        self.folder, self.report = folder, report

    def put(self, relative: str, text: str) -> None:
        path = self.folder / relative
        data = text.encode("utf-8")
        try:
            if path.read_bytes() == data:
                self.report.unchanged += 1
                return
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        export.write_whole(path, data)
        self.report.written.append(relative)


def _exports(issue: Issue, laid_out: Outline, options: SiteOptions) -> Iterable[tuple[str, str]]:
    yield ".md", export.render_markdown(issue)
    yield ".editor.md", export.render_editor_markdown(issue)
    yield ".daily.md", export.render_daily_markdown(issue, options.moments_chars)
    yield ".json", export.render_json(issue)
    yield ".wechat.html", render_wechat(laid_out)


class _SiteLook:
    def attrs(self, role: str) -> str:
        return f' class="{role}"'

    def link(self, label_html: str, url: str) -> str:
        return f'<a href="{escape(url)}" rel="noopener">{label_html}</a>'


def issue_html(issue: Issue, options: SiteOptions) -> str:
    """The issue as the archive shows it (and the feed carries it)."""
    return render_outline_html(outline(issue, options.layout, options.moments_chars), _SiteLook())


def _issue_html(issue: Issue, shown: str, options: SiteOptions, newer: Issue | None, older: Issue | None) -> str:
    name = issue.date.isoformat()
    exports = " ".join(f'<a href="{name}{suffix}">{escape(label)}</a>' for suffix, label in EXPORTS)
    pager = [f'<a href="../{month_page(issue.date)}">{issue.date:%Y 年 %m 月}</a>']
    if older:
        pager.append(f'<a href="{older.date.isoformat()}.html" rel="prev">← {escape(older.title)}</a>')
    if newer:
        pager.append(f'<a href="{newer.date.isoformat()}.html" rel="next">{escape(newer.title)} →</a>')
    body = (f'<nav class="pager">{" ".join(pager)}</nav>\n{shown}\n'
            f'<nav class="exports">下载：{exports}</nav>')
    return _page(options, issue.title, "../", body)


def _issue_list(issues: list[Issue], root: str) -> str:
    rows = "".join(f'<li><span class="date">{issue.date.isoformat()}</span>'
                   f'<a href="{root}{issue_page(issue.date)}">{escape(issue.title)}</a><br>'
                   f'<span class="column">{escape(issue.headline)}</span></li>' for issue in issues)
    return f'<ul class="issues">{rows}</ul>'


def _index_html(issues: list[Issue], months: dict[str, list[Issue]], options: SiteOptions) -> str:
    month_links = " ".join(f'<a href="{path}">{found[0].date:%Y-%m}</a>' for path, found in months.items())
    body = (f'<h1 class="title">{escape(options.title)}</h1>\n'
            f'<nav class="pager">按月：{month_links or "（尚无）"} <a href="{FEED}">Atom 订阅</a></nav>\n'
            + (_issue_list(issues, "") if issues else "<p>尚无已发布的一期。</p>"))
    return _page(options, options.title, "", body)


def _page(options: SiteOptions, title: str, root: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}{STYLE}">
<link rel="alternate" type="application/atom+xml" title="{escape(options.title)}" href="{root}{FEED}">
</head>
<body>
<header class="site"><a href="{root}index.html">{escape(options.title)}</a></header>
<main>
{body}
</main>
<footer><a href="{root}index.html">全部各期</a> · <a href="{root}{FEED}">Atom</a></footer>
</body>
</html>
"""


def _moment(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else datetime(1970, 1, 1, tzinfo=timezone.utc)


def _feed(issues: list[Issue], shown: dict[date, str], options: SiteOptions) -> str:
    base = options.site_url.rstrip("/") + "/" if options.site_url else ""
    feed = FeedGenerator()
    feed.id(base + FEED if base else "urn:aibrief:issues")
    feed.title(options.title)
    feed.author({"name": options.title})
    feed.language("zh-CN")
    feed.link(href=base + "index.html", rel="alternate")
    if base:
        feed.link(href=base + FEED, rel="self")
    feed.updated(max((_moment(i.published_at) for i in issues), default=_moment(None)))
    for issue in reversed(issues):  # each entry goes first: the newest ends on top
        entry = feed.add_entry()
        entry.id(base + issue_page(issue.date) if base else f"urn:aibrief:issue:{issue.date.isoformat()}")
        entry.title(issue.title)
        entry.link(href=base + issue_page(issue.date), rel="alternate")
        entry.published(_moment(issue.published_at))
        entry.updated(_moment(issue.published_at))
        if issue.headline:
            entry.summary(issue.headline)
        entry.content(shown[issue.date], type="html")
    return feed.atom_str(pretty=True).decode("utf-8")



