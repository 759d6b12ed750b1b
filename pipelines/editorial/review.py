"""The candidates of an issue as an editor reviews them: every story of the issue's period
that an issue build could pick, grouped (the article an item would cite and the story's
other copies with their sources), each with where it stands: its item in the draft, and
whether the editor has decided about it for this issue yet.

The stories are the ones :func:`pipelines.editorial.compose.candidates` finds over the
period :func:`pipelines.editorial.compose.period_start` gives (the due rule's day or
week), best first, and each is cited as :func:`pipelines.editorial.compose.cite` cites it:
the desk shows what a build would choose from, by the build's own rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

import sqlite_utils

from pipelines.analysis.settings import EditorialSettings
from pipelines.archive.db import immediate, parse_iso
from pipelines.editorial.compose import candidates, cite, period_end, period_start, source_name, source_names

# Stories listed at most: a week of the shipped sources gives a few hundred.
REVIEW_POOL = 2000


@dataclass(slots=True)
class Story:
    """One candidate story: the article an item would cite, and the others."""

    cluster_id: int
    article_id: int  # the cited article
    url: str
    title: str
    summary: str
    source_id: str | None
    source: str  # the source's name, as an item shows it
    language: str | None
    published: datetime
    score: float  # the best article's relevance
    topics: list[str]
    sources: int  # distinct sources reporting it
    primary: bool  # its cluster holds the vendor's or lab's own announcement
    points: int  # Hacker News points of its best-discussed copy
    copies: list[dict[str, str]] = field(default_factory=list)  # [{"url", "source", "title"}]
    position: int | None = None  # its item in the draft, if there is one
    reviewed: bool = False  # the editor kept, dropped, moved or edited it for this issue


@dataclass(slots=True, frozen=True)
class StoryFilter:
    """What the editor narrows the list to; empty fields keep every story."""

    topic: str = ""
    source: str = ""  # a source id, of the cited article or of any copy
    language: str = ""
    min_score: float | None = None
    unreviewed: bool = False

    def keeps(self, story: Story, copy_sources: set[str]) -> bool:
        return ((not self.topic or self.topic in story.topics)
                and (not self.source or self.source == story.source_id or self.source in copy_sources)
                and (not self.language or (story.language or "") == self.language)
                and (self.min_score is None or story.score >= self.min_score)
                and not (self.unreviewed and story.reviewed))


@dataclass(slots=True)
class Review:
    """The candidates of one issue's period, and what the filters can choose from."""

    day: date
    since: datetime | None  # None: no bound before the first issue
    stories: list[Story]
    total: int  # stories before filtering
    topics: list[str]
    sources: list[str]
    languages: list[str]


def review_candidates(db: sqlite_utils.Database, day: date, *, tz: tzinfo, daily: bool, settings: EditorialSettings,
                      wanted: StoryFilter | None = None) -> Review:
    """The candidate stories of the issue of ``day`` (by its due rule: ``daily`` or not),
    best first, narrowed by ``wanted``."""
    wanted = wanted or StoryFilter()
    since = period_start(db, day, tz, daily=daily)
    day_end = period_end(day, tz)
    # A write transaction: the scan classifies and clusters articles stored unanalysed, as a build does.
    with immediate(db):
        found = candidates(db, day_end, settings, REVIEW_POOL, since)
    # The rest only reads: crawls and edits go on meanwhile.
    names = source_names(db)
    cited = [cite(db, candidate, day_end, settings, names) for candidate in found]
    in_draft = _draft_positions(db, day)
    decided = _decided_clusters(db, day)
    details = _article_details(db, [article["id"] for article, _ in cited])
    stories: list[Story] = []
    copy_ids: list[set[str]] = []
    for candidate, (article, alternates) in zip(found, cited):
        language, copy_sources = details.get(article["id"], (None, set()))
        hints = candidate.hints
        stories.append(Story(
            cluster_id=candidate.cluster_id, article_id=article["id"], url=article["url"],
            title=article["title"] or article["url"], summary=article["summary"], source_id=article["source_id"],
            source=source_name(names, article["source_id"], article["url"]), language=language,
            published=parse_iso(article["published"]), score=candidate.relevance, topics=candidate.topics,
            sources=hints.sources if hints else 1, primary=bool(hints and hints.primary_id is not None),
            points=hints.points if hints else 0, copies=alternates,
            position=in_draft.get(candidate.cluster_id), reviewed=candidate.cluster_id in decided))
        copy_ids.append(copy_sources)
    kept = [story for story, sources in zip(stories, copy_ids) if wanted.keeps(story, sources)]
    return Review(day=day, since=since, stories=kept, total=len(stories),
                  topics=sorted({topic for story in stories for topic in story.topics}),
                  sources=sorted({story.source_id for story in stories if story.source_id}),
                  languages=sorted({story.language for story in stories if story.language}))


def _draft_positions(db: sqlite_utils.Database, day: date) -> dict[int, int]:
    """Story (cluster) -> its item's position in the issue of ``day``."""
    return dict(db.execute(
        "SELECT coalesce(a.cluster_id, a.id), ii.position FROM issue_items ii JOIN issues i ON i.id = ii.issue_id"
        " JOIN articles a ON a.id = ii.article_id WHERE i.date = ?", [day.isoformat()]).fetchall())


def _decided_clusters(db: sqlite_utils.Database, day: date) -> set[int]:
    """Stories the editor decided about for the issue of ``day`` (any label)."""
    return {row[0] for row in db.execute(
        "SELECT DISTINCT coalesce(a.cluster_id, a.id) FROM editor_labels l JOIN articles a ON a.id = l.article_id"
        " WHERE l.issue_date = ?", [day.isoformat()])}


def _article_details(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, tuple[str | None, set[str]]]:
    """Each cited article's language and the source ids of its story's other copies."""
    details: dict[int, tuple[str | None, set[str]]] = {}
    for start in range(0, len(article_ids), 500):  # SQLite's bound-parameter limit is far above this
        chunk = article_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for article_id, language, copies in db.execute(
                f"SELECT a.id, a.language, (SELECT group_concat(DISTINCT c.source_id) FROM articles c"
                f" WHERE c.cluster_id = coalesce(a.cluster_id, a.id) AND c.id != a.id)"
                f" FROM articles a WHERE a.id IN ({marks})", chunk):
            details[article_id] = (language, set(copies.split(",")) if copies else set())
    return details
