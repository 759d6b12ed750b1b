"""Dated issues of the digest: building a draft, publishing it, reading it back.

An issue is built from relevant stored articles whose story is in no published issue and
that were published by the end of the issue day: one per story, ranked, topic-diverse,
grouped into sections (:mod:`pipelines.editorial.compose`). Rebuilding a draft replaces it; a
published issue is never changed. Items keep their title, summary, cited links, section
and the story's other copies as they stand in the issue, so later edits to an article do
not rewrite what went out.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone, tzinfo

import sqlite_utils

from pipelines.analysis.dedupe import fingerprint
from pipelines.analysis.links import Link
from pipelines.analysis.settings import EditorialSettings
from pipelines.analysis.urls import canonical_url, strip_tracking
from pipelines.archive.articles import ArticleRecord, insert_article
from pipelines.archive.db import immediate, iso, utcnow
from pipelines.editorial.compose import compose, period_end, period_start, source_name, source_names
from pipelines.editorial.writer.settings import WriterSettings
from pipelines.editorial.writer.write import ItemInput, article_writing, write_articles, write_issue

logger = logging.getLogger(__name__)

# The cited links an item shows, in the order an issue lists them.
SHOWN_ROLES = ("paper", "article", "code")
# Headline parts: a title longer than this is shortened to its longest clause that fits,
# as editors shorten "牽手地平線補齊短板,大眾汽車投資24億歐元發力智能駕駛" for the headline.
HEADLINE_PART_CHARS = 24
_CLAUSES = re.compile(r"[，,：:｜|—;；！!？?]+")


class IssueError(Exception):
    """A request about issues that cannot be met; the message is one line."""


class EmptyPeriod(IssueError):
    """The issue's period has no candidates: no (empty) issue is built."""


class StaleDraft(IssueError):
    """A change asked for on a view of an older version of the issue (another tab, the
    command line, a rebuild came in between): it is refused, not applied to items that
    may have moved."""


def check_version(issue: Issue, expected: int | None) -> None:
    """StaleDraft unless ``expected`` is None (no check asked for) or the issue's version."""
    if expected is not None and expected != issue.version:
        raise StaleDraft(f"the issue of {issue.date.isoformat()} changed since this view of it (version {expected},"
                         f" now {issue.version}: another tab, the command line or a rebuild); nothing was changed:"
                         " reload and make the change again")


@dataclass(slots=True)
class IssueItem:
    position: int
    title: str
    url: str
    summary: str
    links: list[dict[str, str]] = field(default_factory=list)  # [{"role", "url"}]
    article_id: int | None = None
    section: str | None = None
    topics: list[str] = field(default_factory=list)
    source: str | None = None  # the source's name, as the item shows it
    image: str | None = None  # the article's lead image
    alternates: list[dict[str, str]] = field(default_factory=list)  # the story's other copies: [{"url", "source", "title"}]
    rank: int | None = None  # 1: the top story (the headline names the first two)
    priority: str | None = None  # the daily layout's mark: top | normal | low
    sources: list[dict[str, str]] = field(default_factory=list)  # every source cited: [{"name", "url"}]
    stars: int | None = None  # a repository's stars, for the daily layout's GitHub table
    # The cited article's language as the archive has it (read with the issue, not stored
    # on the item): the daily layout files items by it under 国际动态 or 中文圈.
    language: str | None = None


@dataclass(slots=True)
class Issue:
    id: int
    date: date
    title: str
    headline: str
    section: str
    status: str
    created_at: str
    updated_at: str
    published_at: str | None
    items: list[IssueItem] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    moments: str = ""  # the short version for WeChat Moments, as stored; empty: made on export
    links: list[dict[str, str]] = field(default_factory=list)  # links outside any item: [{"role", "url", "label", "section"}]
    version: int = 0  # bumped by every change (pipelines.editorial.issues.check_version)

    def cited_urls(self) -> list[str]:
        """Every URL the issue cites: each item's, then its links', in issue order."""
        return [url for item in self.items for url in [item.url, *(link["url"] for link in item.links)]]


def parse_day(text: str) -> date:
    """``2022-10-14`` or ``20221014``; ValueError with a clear message otherwise."""
    digits = text.strip().replace("-", "")
    if re.fullmatch(r"\d{8}", digits):
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date such as 2022-10-14")


def headline_for(day: date, titles: list[str]) -> str:
    parts = [headline_part(t) for t in titles[:2] if t.strip()]
    return f"【AI簡報{day:%Y%m%d}】" + "、".join(parts)


def headline_part(title: str) -> str:
    """A title shortened for the headline (and the daily layout's short version)."""
    title = " ".join(title.split())
    if len(title) <= HEADLINE_PART_CHARS:
        return title
    fitting = [c.strip() for c in _CLAUSES.split(title) if 0 < len(c.strip()) <= HEADLINE_PART_CHARS]
    if fitting:
        return max(fitting, key=len)
    return title[: HEADLINE_PART_CHARS - 1] + "…"


def _issue_row(db: sqlite_utils.Database, day: date) -> dict | None:
    rows = list(db.query("SELECT * FROM issues WHERE date = ?", [day.isoformat()]))
    return rows[0] if rows else None


def get_issue(db: sqlite_utils.Database, day: date) -> Issue | None:
    row = _issue_row(db, day)
    if row is None:
        return None
    issue = _issue(row)
    issue.items = [
        IssueItem(position=r["position"], title=r["title"], url=r["url"], summary=r["summary"],
                  links=json.loads(r["links"]), article_id=r["article_id"], section=r["section"],
                  topics=json.loads(r["topics"]), source=r["source"], image=r["image"],
                  alternates=json.loads(r["alternates"]), rank=r["rank"], priority=r["priority"],
                  sources=json.loads(r["sources"]), stars=r["stars"], language=r["article_language"])
        for r in db.query("SELECT issue_items.*, articles.language AS article_language FROM issue_items"
                          " LEFT JOIN articles ON articles.id = issue_items.article_id"
                          " WHERE issue_id = ? ORDER BY position", [row["id"]])]
    return issue


def list_issues(db: sqlite_utils.Database) -> list[tuple[Issue, int]]:
    """Every issue, newest first, with its number of items."""
    return [(_issue(row), row["n"]) for row in db.query(
        "SELECT issues.*, (SELECT count(*) FROM issue_items WHERE issue_id = issues.id) AS n"
        " FROM issues ORDER BY date DESC")]


def _issue(row: dict) -> Issue:
    return Issue(id=row["id"], date=date.fromisoformat(row["date"]), title=row["title"],
                 headline=row["headline"], section=row["section"], status=row["status"],
                 created_at=row["created_at"], updated_at=row["updated_at"],
                 published_at=row["published_at"], insights=json.loads(row["insights"]),
                 moments=row["moments"], links=json.loads(row["links"]), version=row["version"])


def build_configured_issue(db: sqlite_utils.Database, config, day: date, max_items: int | None = None,
                           force: bool = False) -> Issue:
    """:func:`build_issue` with the issue rules, time zone, taxonomy and period (by the due
    rule: a day for a daily rule, the days since the last issue otherwise) of ``config``;
    then, when the writer is enabled, :func:`write_into_issue`."""
    since = period_start(db, day, config.tz, daily=config.daily_issues)
    built = build_issue(db, day, title=config.issue.title_for(day), section=config.issue.section,
                        max_items=max_items or config.issue.max_items, tz=config.tz, editorial=config.editorial,
                        force=force, since=since)
    if config.writer.enabled and built.items:
        built = write_into_issue(db, built, config.writer, tz=config.tz, daily=config.issue.layout == "daily")
    return built


def write_into_issue(db: sqlite_utils.Database, issue: Issue, settings: WriterSettings, *, tz: tzinfo,
                     daily: bool) -> Issue:
    """The writer's texts in a draft: for each item whose article has a checked answer, its
    Chinese title (articles in other languages) and its summary (the one sentence for the
    daily layout, the paragraph for the others); then the issue's insights, Moments version
    and, for the daily layout, its headline of the day. Answers are asked for what is not
    written yet (outside any transaction: a model may take a minute); an item without a
    usable answer keeps its extractive summary."""
    report = write_articles(db, [item.article_id for item in issue.items if item.article_id], settings, tz=tz,
                            command="aibrief issue build")
    logger.info("issue %s: %s", issue.date, report.line())
    texts: dict[int, str] = {}
    with immediate(db):
        for item in issue.items:
            written = article_writing(db, item.article_id, settings) if item.article_id else None
            if written is None or not written.usable:
                continue
            item.title = written.title_zh or item.title
            item.summary = written.summary if daily else written.paragraph
            db.execute("UPDATE issue_items SET title = ?, summary = ? WHERE issue_id = ? AND position = ?",
                       [item.title, item.summary, issue.id, item.position])
        for item in issue.items:
            row = db.execute("SELECT text FROM articles WHERE id = ?", [item.article_id]).fetchone()
            texts[item.position] = row[0] if row else ""
        db.execute("UPDATE issues SET headline = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                   [headline_for(issue.date, top_titles(issue.items)), iso(utcnow()), issue.id])
    writing, report = write_issue(db, [ItemInput(item.position, item.title, item.summary, texts[item.position])
                                       for item in issue.items], settings, tz=tz, command="aibrief issue build")
    logger.info("issue %s: %s", issue.date, report.line())
    usable = writing is not None and writing.usable
    if writing is not None and not usable:
        logger.warning("issue %s: the writer's headline and insights are not used: %s", issue.date,
                       "; ".join(writing.flags))
    with immediate(db):  # a rebuilt draft drops what was written for its former items
        db.execute("UPDATE issues SET insights = ?, moments = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                   [json.dumps(writing.insights if usable else [], ensure_ascii=False),
                    writing.moments if usable else "", iso(utcnow()), issue.id])
        if usable and daily:
            db.execute("UPDATE issues SET headline = ? WHERE id = ?", [writing.headline, issue.id])
    return get_issue(db, issue.date)


def build_issue(db: sqlite_utils.Database, day: date, *, title: str, section: str, max_items: int,
                tz: tzinfo, editorial: EditorialSettings, force: bool = False,
                since: datetime | None = None) -> Issue:
    """Write the draft issue for ``day``: relevant stories published from ``since`` (no
    bound without it) in no published issue, chosen and ordered by
    :func:`pipelines.editorial.compose.compose` under ``editorial``. A draft the editor
    changed by hand is rebuilt only with ``force`` (IssueError otherwise); a period with
    no candidates builds nothing (:class:`EmptyPeriod`), and an existing draft stays."""
    day_end = period_end(day, tz)
    with immediate(db):
        existing = _issue_row(db, day)
        if existing is not None and existing["status"] == "published":
            raise IssueError(f"the issue of {day.isoformat()} is published; it is not changed")
        if existing is not None and existing.get("edited_at") and not force:
            raise IssueError(f"the draft of {day.isoformat()} was changed by hand ({existing['edited_at'][:16]} UTC);"
                             " rebuilding would replace those changes: add --force to rebuild it")
        picks = compose(db, day_end, editorial, max_items, since)
        if not picks:
            start = f"since {since.astimezone(tz):%Y-%m-%d}" if since else "at all"
            raise EmptyPeriod(f"no candidates for the issue of {day.isoformat()} ({start}): no issue built")
        articles = [pick.cited for pick in picks]
        items = [IssueItem(position=n, title=a["title"] or a["url"], url=strip_tracking(a["url"]),
                           summary=a["summary"], links=_shown_links(db, a["id"]), article_id=a["id"],
                           section=pick.section, topics=pick.candidate.topics,
                           source=_source(db, a), image=(json.loads(a["images"] or "[]") or [None])[0],
                           alternates=pick.alternates, rank=pick.rank)
                 for n, (pick, a) in enumerate(zip(picks, articles), start=1)]
        now = iso(utcnow())
        headline = headline_for(day, top_titles(items))
        if existing is None:
            issue_id = db.execute(
                "INSERT INTO issues (date, title, headline, section, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'draft', ?, ?)",
                [day.isoformat(), title, headline, section, now, now]).lastrowid
        else:
            issue_id = existing["id"]
            db.execute("UPDATE issues SET title = ?, headline = ?, section = ?, updated_at = ?, edited_at = NULL,"
                       " version = version + 1 WHERE id = ?", [title, headline, section, now, issue_id])
            db.execute("DELETE FROM issue_items WHERE issue_id = ?", [issue_id])
        _insert_items(db, issue_id, items, {a["id"]: a["canonical_url"] for a in articles})
    return get_issue(db, day)


def top_titles(items: list[IssueItem]) -> list[str]:
    """The titles the headline names: the two top-ranked items (issue order for items
    without a rank)."""
    ranked = sorted(items, key=lambda i: (i.rank is None, i.rank or 0, i.position))
    return [item.title for item in ranked[:2]]


def _source(db: sqlite_utils.Database, article: dict) -> str:
    return source_name(source_names(db), article.get("source_id"), article["url"])


def _shown_links(db: sqlite_utils.Database, article_id: int) -> list[dict[str, str]]:
    rows = db.execute("SELECT role, url FROM article_links WHERE article_id = ? AND role IN ('paper', 'article', 'code')"
                      " ORDER BY rowid", [article_id]).fetchall()
    return [{"role": role, "url": url} for role, url in sorted(rows, key=lambda r: SHOWN_ROLES.index(r[0]))]


def _insert_items(db: sqlite_utils.Database, issue_id: int, items: list[IssueItem],
                  canonical: dict[int, str]) -> None:
    for item in items:
        db.execute(
            "INSERT INTO issue_items (issue_id, position, article_id, url, canonical_url, title, summary, links,"
            " section, topics, source, image, alternates, rank, priority, sources, stars)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [issue_id, item.position, item.article_id, item.url,
             canonical.get(item.article_id) or _canonical_or_none(item.url) or "", item.title, item.summary,
             json.dumps(item.links, ensure_ascii=False), item.section,
             json.dumps(item.topics, ensure_ascii=False), item.source, item.image,
             json.dumps(item.alternates, ensure_ascii=False), item.rank, item.priority,
             json.dumps(item.sources, ensure_ascii=False), item.stars])


def publish_issue(db: sqlite_utils.Database, day: date, expected_version: int | None = None) -> Issue:
    """Freeze the issue of ``day``; publishing a published issue changes nothing. With
    ``expected_version``, a draft changed since that version is refused (StaleDraft)."""
    with immediate(db):
        row = _issue_row(db, day)
        if row is None:
            raise IssueError(f"no issue for {day.isoformat()} (build it with: aibrief issue build --date {day})")
        if row["status"] != "published":
            check_version(_issue(row), expected_version)
            if not db.execute("SELECT 1 FROM issue_items WHERE issue_id = ?", [row["id"]]).fetchone():
                raise IssueError(f"the issue of {day.isoformat()} has no items; nothing to publish")
            now = iso(utcnow())
            db.execute("UPDATE issues SET status = 'published', published_at = ?, updated_at = ?, version = version + 1"
                       " WHERE id = ?",
                       [now, now, row["id"]])
    return get_issue(db, day)


def store_published(db: sqlite_utils.Database, day: date, *, title: str, section: str, headline: str,
                    items: list[IssueItem], replace: bool = False, insights: list[str] | None = None, moments: str = "",
                    links: list[dict[str, str]] | None = None) -> tuple[Issue, bool]:
    """Store an issue that went out elsewhere (an import) as published, in one transaction.

    Returns the issue and whether anything changed. The same issue imported again changes
    nothing; a different one over an existing issue of that day (draft or published) is
    refused unless ``replace``. Each item's URL that the archive does not hold yet enters
    it as a known article with the text the issue gives (:func:`known_article`), so crawls
    count it as stored, dedupe finds new copies of its story, and builds never propose it.
    """
    with immediate(db):
        existing = get_issue(db, day)
        if existing is not None:
            if existing.status == "published" and _same_items(existing.items, items):
                return existing, False
            if not replace:
                state = "published already with other items" if existing.status == "published" else "a draft"
                raise IssueError(f"the issue of {day.isoformat()} is {state}; it is not changed "
                                 "(import with --replace to replace it)")
            db.execute("DELETE FROM issues WHERE id = ?", [existing.id])
        now = iso(utcnow())
        issue_id = db.execute(
            "INSERT INTO issues (date, title, headline, section, status, created_at, updated_at, published_at,"
            " insights, moments, links) VALUES (?, ?, ?, ?, 'published', ?, ?, ?, ?, ?, ?)",
            [day.isoformat(), title, headline, section, now, now, now, json.dumps(insights or [], ensure_ascii=False),
             moments, json.dumps(links or [], ensure_ascii=False)]).lastrowid
        known = {}
        for item in items:
            canonical = _canonical_or_none(item.url)
            if canonical is None:
                item.article_id = None
                continue
            row = db.execute("SELECT id FROM articles WHERE canonical_url = ?", [canonical]).fetchone()
            item.article_id = row[0] if row else insert_article(db, known_article(item, canonical, day))
            known[item.article_id] = canonical
        _insert_items(db, issue_id, items, known)
    return get_issue(db, day), True


def _same_items(stored: list[IssueItem], items: list[IssueItem]) -> bool:
    return [(i.title, i.url, i.summary, i.links) for i in stored] == [(i.title, i.url, i.summary, i.links) for i in items]


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonical_url(url) if url else None
    except ValueError:
        return None


def known_article(item: IssueItem, canonical: str, day: date) -> ArticleRecord:
    """An imported item as an article of the archive: what the issue says of it, not
    fetched (``aibrief refetch`` fetches it and keeps the row). Its date is the issue's;
    its fingerprint is taken from the title and summary, so that a crawled copy of the
    story joins its cluster."""
    text = item.summary or item.title
    return ArticleRecord(
        canonical_url=canonical, url=item.url, source_id=None, text=text, summary=item.summary,
        published=datetime.combine(day, time(0, 0), tzinfo=timezone.utc), published_from="issue",
        fetched_at=utcnow(), title=item.title, topics=[item.section] if item.section else [],
        links=[Link(url=link["url"], role=link["role"]) for link in item.links
               if link.get("role") in ("paper", "article", "code", "other")],
        fingerprint=fingerprint(item.title, text))
