"""An editor's changes to a draft issue (drop, move, add and edit items), and the archive
questions an editor asks of it (why an article scored so; scoring it again).

Positions stay dense (1..n) and stable: an item keeps its place relative to the others
unless it is the one moved. A moved item joins the section of the item whose place it
takes; an added item goes to the end of its section. The headline follows the two
top-ranked items (:func:`pipelines.editorial.issues.top_titles`); an added item ranks last.
Published issues are never changed. Every change bumps the issue's version; a change
given the version its caller saw (``expected_version``: the desk's pages, the CLI's
``--if-version``) is refused when the draft has moved on since
(:func:`pipelines.editorial.issues.check_version`). Each change is also kept as the editor's label of the
item (:func:`pipelines.editorial.labels.record_label`: a dropped item was not wanted; an
added, moved or edited one was), which ``aibrief relevance train`` learns from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import sqlite_utils

from pipelines.analysis.classify import Classification, classify, scorer_for
from pipelines.analysis.dedupe import fingerprint
from pipelines.analysis.relevance import ModelInfo
from pipelines.analysis.settings import EditorialSettings
from pipelines.analysis.urls import canonical_url, strip_tracking
from pipelines.archive.clusters import assign_cluster
from pipelines.archive.db import immediate, iso, utcnow
from pipelines.editorial.compose import source_name, source_names
from pipelines.editorial.issues import (
    Issue,
    IssueError,
    IssueItem,
    _insert_items,
    _shown_links,
    check_version,
    get_issue,
    headline_for,
    top_titles,
)
from pipelines.editorial.labels import record_label

RECLASSIFY_BATCH = 200  # articles a transaction: other writers wait at most that long


def _draft(db: sqlite_utils.Database, day: date, expected_version: int | None = None) -> Issue:
    issue = get_issue(db, day)
    if issue is None:
        raise IssueError(f"no issue for {day.isoformat()} (build it with: aibrief issue build --date {day})")
    if issue.status == "published":
        raise IssueError(f"the issue of {day.isoformat()} is published; it is not changed")
    check_version(issue, expected_version)
    return issue


def _item(issue: Issue, n: int) -> IssueItem:
    if not 1 <= n <= len(issue.items):
        raise IssueError(f"the issue of {issue.date.isoformat()} has no item {n} "
                         f"(it has {len(issue.items)} item{'s' if len(issue.items) != 1 else ''})")
    return issue.items[n - 1]


def _save(db: sqlite_utils.Database, issue: Issue, items: list[IssueItem]) -> Issue:
    """Write ``items`` as the draft's items, numbered 1..n in this order."""
    canonical = dict(db.execute("SELECT article_id, canonical_url FROM issue_items WHERE issue_id = ?"
                                " AND article_id IS NOT NULL", [issue.id]).fetchall())
    for position, item in enumerate(items, start=1):
        item.position = position
    db.execute("DELETE FROM issue_items WHERE issue_id = ?", [issue.id])
    for item in items:
        if item.article_id is not None and item.article_id not in canonical:
            row = db.execute("SELECT canonical_url FROM articles WHERE id = ?", [item.article_id]).fetchone()
            if row:
                canonical[item.article_id] = row[0]
    _insert_items(db, issue.id, items, canonical)
    now = iso(utcnow())
    db.execute("UPDATE issues SET headline = ?, updated_at = ?, edited_at = ?, version = version + 1 WHERE id = ?",
               [headline_for(issue.date, top_titles(items)), now, now, issue.id])
    return get_issue(db, issue.date)


def drop_item(db: sqlite_utils.Database, day: date, n: int, expected_version: int | None = None) -> Issue:
    with immediate(db):
        issue = _draft(db, day, expected_version)
        dropped = _item(issue, n)
        _label(db, "drop", issue, dropped)
        return _save(db, issue, [item for item in issue.items if item is not dropped])


def move_item(db: sqlite_utils.Database, day: date, n: int, m: int, expected_version: int | None = None) -> Issue:
    with immediate(db):
        issue = _draft(db, day, expected_version)
        moved = _item(issue, n)
        target = _item(issue, m)
        if moved is target:
            return issue
        _label(db, "move", issue, moved)
        if target.section:
            moved.section = target.section
        items = [item for item in issue.items if item is not moved]
        items.insert(m - 1, moved)
        return _save(db, issue, items)


def edit_item(db: sqlite_utils.Database, day: date, n: int, *, title: str | None = None,
              summary: str | None = None, expected_version: int | None = None) -> Issue:
    if title is None and summary is None:
        raise IssueError("nothing to change: give --title and/or --summary")
    if title is not None and not title.strip():
        raise IssueError("an item's title cannot be empty")
    with immediate(db):
        issue = _draft(db, day, expected_version)
        item = _item(issue, n)
        if title is not None:
            item.title = " ".join(title.split())
        if summary is not None:
            item.summary = "\n".join(line.strip() for line in summary.replace("\\n", "\n").splitlines() if line.strip())
        _label(db, "edit", issue, item)
        return _save(db, issue, issue.items)


def add_item(db: sqlite_utils.Database, day: date, url: str, settings: EditorialSettings,
             expected_version: int | None = None) -> tuple[Issue, int]:
    """Add a stored article to the draft, at the end of its section; returns the issue and
    the new item's position."""

    try:
        key = canonical_url(url)
    except ValueError as exc:
        raise IssueError(str(exc)) from None
    with immediate(db):
        issue = _draft(db, day, expected_version)
        row = db.execute("SELECT id, url, source_id, title, text, summary, images, topics, cluster_id FROM articles"
                         " WHERE canonical_url = ?", [key]).fetchone()
        if row is None:
            raise IssueError(f"{url} is not in the archive; fetch it first (aibrief refetch {url})")
        article_id, article_url, source_id, title, text, summary, images, topics, cluster_id = row
        cluster_id = cluster_id or article_id
        for item in issue.items:
            if item.article_id is None:
                continue
            other = db.execute("SELECT coalesce(cluster_id, id) FROM articles WHERE id = ?", [item.article_id]).fetchone()
            if item.article_id == article_id or (other and other[0] == cluster_id):
                raise IssueError(f"item {item.position} ({item.title[:30]}) is this story already")
        topic_list = json.loads(topics) if topics else classify(title or "", text, settings).topics
        names = source_names(db)
        alternates = [{"url": strip_tracking(u), "source": source_name(names, s, u), "title": t or ""}
                      for u, s, t in db.execute("SELECT url, source_id, title FROM articles WHERE cluster_id = ?"
                                                " AND id != ? ORDER BY published, id", [cluster_id, article_id])]
        section = settings.section_of(topic_list)
        new = IssueItem(position=0, title=title or article_url, url=strip_tracking(article_url), summary=summary,
                        links=_shown_links(db, article_id), article_id=article_id, section=section,
                        topics=topic_list, source=source_name(names, source_id, article_url),
                        image=(json.loads(images or "[]") or [None])[0], alternates=alternates,
                        rank=max((i.rank or 0 for i in issue.items), default=0) + 1)
        _label(db, "add", issue, new)
        items = list(issue.items)
        items.insert(_insert_at(items, section, settings.sections), new)
        saved = _save(db, issue, items)
    return saved, items.index(new) + 1


def set_section(db: sqlite_utils.Database, day: date, n: int, section: str, settings: EditorialSettings,
                expected_version: int | None = None) -> Issue:
    """File item N under ``section``: it goes to the end of that section (or where the
    section's place in ``settings.sections`` puts it), the way an added item does. Kept
    as a "move" label: the editor wanted the item, elsewhere."""
    section = " ".join(section.split())
    if not section:
        raise IssueError("a section name cannot be empty")
    with immediate(db):
        issue = _draft(db, day, expected_version)
        item = _item(issue, n)
        if item.section == section:
            return issue
        item.section = section
        _label(db, "move", issue, item)
        items = [other for other in issue.items if other is not item]
        items.insert(_insert_at(items, section, settings.sections), item)
        return _save(db, issue, items)


def decline_article(db: sqlite_utils.Database, day: date, url: str) -> None:
    """The editor's "not for this issue" of a stored article that is no item of the draft
    of ``day``: kept as a "drop" label, as dropping it from the draft would be. The draft
    does not change (nor its version)."""
    try:
        key = canonical_url(url)
    except ValueError as exc:
        raise IssueError(str(exc)) from None
    with immediate(db):
        issue = _draft(db, day)
        row = db.execute("SELECT id, url, title, summary FROM articles WHERE canonical_url = ?", [key]).fetchone()
        if row is None:
            raise IssueError(f"{url} is not in the archive")
        article_id, article_url, title, summary = row
        if any(item.article_id == article_id for item in issue.items):
            raise IssueError(f"{url} is an item of the draft; drop the item instead")
        record_label(db, "drop", issue.date, url=article_url, title=title or article_url, text=summary or "",
                     article_id=article_id)


def _label(db: sqlite_utils.Database, action: str, issue: Issue, item: IssueItem) -> None:
    record_label(db, action, issue.date, url=item.url, title=item.title, text=item.summary or "",
                 article_id=item.article_id)


def _insert_at(items: list[IssueItem], section: str, order: tuple[str, ...]) -> int:
    """Where an item of ``section`` goes: after the last item of its section, else before
    the first item of a later section, else at the end."""
    same = [n for n, item in enumerate(items) if item.section == section]
    if same:
        return same[-1] + 1
    rank = {name: n for n, name in enumerate(order)}
    mine = rank.get(section, len(rank))
    for n, item in enumerate(items):
        if rank.get(item.section or "", len(rank)) > mine:
            return n
    return len(items)


@dataclass(slots=True)
class Explanation:
    """Why a stored article is (not) relevant, scored against the current taxonomy, and
    where its story stands."""

    title: str | None
    classification: Classification
    stored_score: float | None  # as the archive has it (an older taxonomy's, maybe)
    stored_topics: list[str]
    cluster_id: int
    copies: list[tuple[str, str | None, str]]  # (url, source id, published) of the story's other articles
    issues: list[tuple[str, str, int]]  # (date, status, position) of the issues citing it
    model: ModelInfo | None = None  # the trained scorer's record, when there is one

    @property
    def stale(self) -> bool:
        """The stored score or topics are not what the taxonomy gives now."""
        return self.stored_score is not None and (abs(self.stored_score - self.classification.score) > 1e-6
                                                  or self.stored_topics != self.classification.topics)


def explain_article(db: sqlite_utils.Database, url: str, settings: EditorialSettings) -> Explanation:
    """The :class:`Explanation` of the stored article at ``url``; IssueError when there is
    none, ValueError when ``url`` is no http(s) URL."""
    key = canonical_url(url)
    row = db.execute("SELECT id, title, text, relevance, topics, coalesce(cluster_id, id) FROM articles"
                     " WHERE canonical_url = ?", [key]).fetchone()
    if row is None:
        raise IssueError(f"{url} is not in the archive (aibrief search finds stored articles)")
    article_id, title, text, stored_score, stored_topics, cluster_id = row
    copies = db.execute("SELECT url, source_id, published FROM articles WHERE cluster_id = ? AND id != ?"
                        " ORDER BY published, id", [cluster_id, article_id]).fetchall()
    issues = db.execute("SELECT i.date, i.status, ii.position FROM issue_items ii JOIN issues i"
                        " ON i.id = ii.issue_id WHERE ii.article_id = ? ORDER BY i.date", [article_id]).fetchall()
    model = scorer_for(settings)
    return Explanation(title, classify(title or "", text, settings), stored_score, json.loads(stored_topics or "[]"),
                       cluster_id, [tuple(c) for c in copies], [tuple(i) for i in issues],
                       model.info if model is not None else None)


def reclassify(db: sqlite_utils.Database, settings: EditorialSettings, everything: bool) -> tuple[int, int, int]:
    """Score stored articles (every one, or the unclassified) against the taxonomy again,
    clustering those stored before stories were; returns (looked at, changed, relevant in
    the archive)."""
    where = "" if everything else " WHERE relevance IS NULL"
    ids = [row[0] for row in db.execute(f"SELECT id FROM articles{where} ORDER BY id")]
    changed = 0
    for start in range(0, len(ids), RECLASSIFY_BATCH):
        with immediate(db):
            for article_id in ids[start:start + RECLASSIFY_BATCH]:
                title, text, score, topics, cluster_id = db.execute(
                    "SELECT title, text, relevance, topics, cluster_id FROM articles WHERE id = ?",
                    [article_id]).fetchone()
                result = classify(title or "", text, settings)
                if cluster_id is None:  # stored before stories were clustered
                    assign_cluster(db, article_id, fingerprint(title, text), title, text)
                new_topics = json.dumps(result.topics, ensure_ascii=False)
                if score != result.score or topics != new_topics:
                    changed += 1
                    db.execute("UPDATE articles SET relevance = ?, topics = ? WHERE id = ?",
                               [result.score, new_topics, article_id])
    relevant = db.execute("SELECT count(*) FROM articles WHERE relevance >= ?", [settings.threshold]).fetchone()[0]
    return len(ids), changed, relevant
