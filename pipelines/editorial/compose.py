"""Choosing an issue's items as an editor would: relevant, one per story, fresh, varied.

The candidates are the relevant articles published by the end of the issue day whose
story (cluster) is in no published issue. Each story is ranked by its best article's

    ln(min(relevance, RELEVANCE_CAP_FACTOR * threshold)) - age * ln 2 / half_life

that is relevance times a freshness that halves every ``editorial.half_life``, in log
form so that old articles never underflow to a tie. Stories are taken best first, no
topic above ``editorial.max_topic_share`` of the items while stories of other topics
are left (then the rest fill the places). Each story is cited by its original publisher:
the copy that is no aggregator re-host and carries no "转载自" line, earliest first; the
others are its alternates. Items are grouped by section in the configured order, best
first within a section; the headline names the two top-ranked stories.

Source-aware hints add to a story's key (:func:`story_hints`, :func:`hint_bonus`): a story
that several sources report (its cluster's distinct sources), one whose cluster holds the
primary source (a vendor's or lab's own announcement: a source marked ``primary``, or the
copy another copy links to), and one with a Hacker News discussion (its points) rank
higher. The primary copy is the one the item cites, its reports follow as alternates.

Articles are scanned newest first and the scan stops once no older article could rank
among the best ``POOL_FACTOR * max_items`` stories, so building an issue over a large
archive reads a few hundred rows, not all of them. Articles stored before classification
existed (relevance NULL) are classified and clustered when the scan reaches them.
"""
from __future__ import annotations

import heapq
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlsplit

import sqlite_utils

from pipelines.analysis.classify import classify
from pipelines.analysis.dedupe import fingerprint, is_rehost
from pipelines.analysis.settings import EditorialSettings
from pipelines.analysis.urls import strip_tracking
from pipelines.archive.clusters import assign_cluster
from pipelines.archive.db import iso, parse_iso
from pipelines.archive.discussions import points_by_url

logger = logging.getLogger(__name__)

# Relevance beyond this many times the threshold adds nothing to the rank. Full articles
# on topic score 8 to 120 in the fixture week and demo (long texts collect more terms);
# past the cap "more on topic" stops mattering and freshness decides.
RELEVANCE_CAP_FACTOR = 10.0
# Stories kept as candidates per place in the issue: room for the topic cap to skip some.
POOL_FACTOR = 4
SCAN_BATCH = 500
# Source-aware hints, in the rank key's log units (ln 2: as if twice as relevant, or one
# half-life fresher). Set so that on the fixture day (tests/test_sources_day.py) a story
# two sources report outranks an equally relevant story of one source published a day
# later, while three or more reports stop adding (MAX_SOURCES): wire copies of one press
# release are not three times the news.
SOURCES_WEIGHT = 1.0  # times ln(distinct sources)
MAX_SOURCES = 3
PRIMARY_BONUS = math.log(1.5)  # the story's own announcement is in the archive
# Hacker News points: ln(1 + points / POINTS_SCALE) times POINTS_WEIGHT, points capped.
# 100 points (the shipped threshold) is worth about a tenth of a relevance doubling and
# a front-page story of 400 points about half of one.
POINTS_WEIGHT = 0.5
POINTS_SCALE = 300
POINTS_CAP = 1200
MAX_HINT_BONUS = (SOURCES_WEIGHT * math.log(MAX_SOURCES) + PRIMARY_BONUS
                  + POINTS_WEIGHT * math.log(1 + POINTS_CAP / POINTS_SCALE))


@dataclass(slots=True)
class Candidate:
    article_id: int
    cluster_id: int
    key: float  # the rank key above: higher is better
    relevance: float
    topics: list[str]
    published: datetime
    hints: StoryHints | None = None


@dataclass(slots=True)
class StoryHints:
    """What the story's sources say about its weight, as of the issue day."""

    sources: int = 1  # distinct sources (source ids; a host for pages of no source)
    primary_id: int | None = None  # the primary copy's article id, if the cluster holds one
    points: int = 0  # the most Hacker News points of any copy

    @property
    def bonus(self) -> float:
        return hint_bonus(self.sources, self.primary_id is not None, self.points)


def hint_bonus(sources: int, primary: bool, points: int) -> float:
    """What the hints add to a story's rank key (see the constants above)."""
    return (SOURCES_WEIGHT * math.log(max(1, min(sources, MAX_SOURCES)))
            + (PRIMARY_BONUS if primary else 0.0)
            + POINTS_WEIGHT * math.log(1 + min(max(points, 0), POINTS_CAP) / POINTS_SCALE))


def story_hints(db: sqlite_utils.Database, cluster_id: int, article_id: int, day_end: datetime) -> StoryHints:
    """The hints of one story from its copies published by ``day_end``.

    The primary copy: one from a source marked primary (the earliest such), else one that
    another copy links to (the report cites the announcement).
    """
    members = db.execute(
        "SELECT a.id, a.canonical_url, a.url, a.source_id, coalesce(s.is_primary, 0) FROM articles a"
        " LEFT JOIN sources s ON s.id = a.source_id WHERE (a.cluster_id = ? OR a.id = ?) AND a.published < ?"
        " ORDER BY a.published, a.id", [cluster_id, article_id, iso(day_end)]).fetchall()
    if not members:
        return StoryHints()
    sources = {source_id or (urlsplit(url).hostname or "").lower() for _, _, url, source_id, _ in members}
    primary = next((m[0] for m in members if m[4]), None)
    if primary is None and len(members) > 1:
        ids = [m[0] for m in members]
        marks = ",".join("?" * len(ids))
        cited = db.execute(f"SELECT article_id, url FROM article_links WHERE article_id IN ({marks})", ids).fetchall()
        for member_id, canonical, url, _, _ in members:
            if any(citer != member_id and target in (canonical, url) for citer, target in cited):
                primary = member_id
                break
    points = max(points_by_url(db, [m[1] for m in members]).values(), default=0)
    return StoryHints(len(sources), primary, points)


@dataclass(slots=True)
class Pick:
    """One chosen story: its best-ranked article and the article the item cites."""

    candidate: Candidate
    section: str
    rank: int = 0
    cited: dict = field(default_factory=dict)  # the articles row cited
    alternates: list[dict] = field(default_factory=list)


def rank_key(relevance: float, published: datetime, day_end: datetime, threshold: float, half_life_days: float) -> float:
    age_days = max((day_end - published).total_seconds(), 0.0) / 86400
    capped = min(max(relevance, 1e-9), RELEVANCE_CAP_FACTOR * threshold)
    return math.log(capped) - age_days * math.log(2) / half_life_days


def covered(db: sqlite_utils.Database) -> tuple[set[int], set[str]]:
    """Stories (cluster ids) and canonical URLs that a published issue carried."""
    clusters: set[int] = set()
    urls: set[str] = set()
    for cluster_id, article_id, url in db.execute(
            "SELECT a.cluster_id, a.id, ii.canonical_url FROM issue_items ii JOIN issues i ON i.id = ii.issue_id"
            " LEFT JOIN articles a ON a.id = ii.article_id WHERE i.status = 'published'"):
        urls.add(url)
        if article_id is not None:
            clusters.add(cluster_id or article_id)
    return clusters, urls


def candidates(db: sqlite_utils.Database, day_end: datetime, settings: EditorialSettings, pool: int,
               since: datetime | None = None) -> list[Candidate]:
    """The best story candidates published in [``since``, ``day_end``), at most ``pool`` of
    them, best first (no lower bound without ``since``)."""
    threshold = settings.threshold
    half_life = settings.half_life.total_seconds() / 86400
    ceiling = math.log(RELEVANCE_CAP_FACTOR * threshold) + MAX_HINT_BONUS
    done_clusters, done_urls = covered(db)
    best: dict[int, Candidate] = {}
    hints: dict[int, StoryHints] = {}
    cursor: tuple[str, int] | None = None
    end = iso(day_end)
    while True:
        params: list = [end, threshold]
        sql = ("SELECT id, cluster_id, canonical_url, published, relevance, topics FROM articles"
               " WHERE published < ? AND (relevance IS NULL OR relevance >= ?)")
        if since is not None:
            sql += " AND published >= ?"
            params.append(iso(since))
        if cursor is not None:
            sql += " AND (published < ? OR (published = ? AND id < ?))"
            params += [cursor[0], cursor[0], cursor[1]]
        rows = db.execute(sql + " ORDER BY published DESC, id DESC LIMIT ?", [*params, SCAN_BATCH]).fetchall()
        if not rows:
            break
        for article_id, cluster_id, canonical, published_text, relevance, topics in rows:
            cursor = (published_text, article_id)
            published = parse_iso(published_text)
            if relevance is None:
                relevance, topics, cluster_id = classify_stored(db, article_id, settings)
                if relevance < threshold:
                    continue
                topics = json.dumps(topics)
            cluster = cluster_id or article_id
            if cluster in done_clusters or canonical in done_urls:
                continue
            if cluster not in hints:
                hints[cluster] = story_hints(db, cluster, article_id, day_end)
            key = rank_key(relevance, published, day_end, threshold, half_life) + hints[cluster].bonus
            if cluster not in best or key > best[cluster].key:
                best[cluster] = Candidate(article_id, cluster, key, relevance, json.loads(topics or "[]"), published,
                                          hints[cluster])
        if len(best) >= pool:
            kth = heapq.nlargest(pool, (c.key for c in best.values()))[-1]
            oldest = parse_iso(cursor[0])
            bound = ceiling - max((day_end - oldest).total_seconds(), 0.0) / 86400 * math.log(2) / half_life
            if bound < kth:
                break  # no older article can rank among the best `pool`
    return sorted(best.values(), key=lambda c: (-c.key, -c.article_id))[:pool]


def classify_stored(db: sqlite_utils.Database, article_id: int,
                    settings: EditorialSettings) -> tuple[float, list[str], int]:
    """An article stored unclassified (before classification existed, or by a tool that
    stores without analysing): classify and cluster it now."""
    title, text = db.execute("SELECT title, text FROM articles WHERE id = ?", [article_id]).fetchone()
    result = classify(title or "", text, settings)
    db.execute("UPDATE articles SET relevance = ?, topics = ? WHERE id = ?",
               [result.score, json.dumps(result.topics, ensure_ascii=False), article_id])
    match = assign_cluster(db, article_id, fingerprint(title, text), title, text)
    return result.score, result.topics, match.cluster_id if match else article_id


def choose(found: list[Candidate], settings: EditorialSettings, max_items: int) -> list[Candidate]:
    """Best first, no topic above its share while other topics have stories left."""
    cap = max(1, math.floor(settings.max_topic_share * max_items + 1e-9))
    chosen: list[Candidate] = []
    per_topic: dict[str, int] = {}
    for candidate in found:
        topic = candidate.topics[0] if candidate.topics else ""
        if per_topic.get(topic, 0) < cap and len(chosen) < max_items:
            chosen.append(candidate)
            per_topic[topic] = per_topic.get(topic, 0) + 1
    if len(chosen) < max_items:
        # Not enough stories of other topics: fill the places rather than leave them empty.
        taken = {c.cluster_id for c in chosen}
        chosen += [c for c in found if c.cluster_id not in taken][:max_items - len(chosen)]
    return sorted(chosen, key=lambda c: (-c.key, -c.article_id))


def source_names(db: sqlite_utils.Database) -> dict[str, str]:
    return dict(db.execute("SELECT id, name FROM sources").fetchall())


def source_name(names: dict[str, str], source_id: str | None, url: str) -> str:
    if source_id and source_id in names:
        return names[source_id]
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def cite(db: sqlite_utils.Database, candidate: Candidate, day_end: datetime, settings: EditorialSettings,
         names: dict[str, str]) -> tuple[dict, list[dict]]:
    """The article an item cites for a story (its primary copy, else the original
    publisher's) and the others."""
    rows = [dict(zip(("id", "url", "canonical_url", "source_id", "title", "text", "summary", "published", "images"), r))
            for r in db.execute(
                "SELECT id, url, canonical_url, source_id, title, text, summary, published, images FROM articles"
                " WHERE (cluster_id = ? OR id = ?) AND published < ?",
                [candidate.cluster_id, candidate.article_id, iso(day_end)])]
    primary = candidate.hints.primary_id if candidate.hints else None
    rows.sort(key=lambda r: (r["id"] != primary, is_rehost(r["url"], r["text"], settings.aggregators),
                             r["published"], r["id"]))
    cited, others = rows[0], rows[1:]
    alternates = [{"url": strip_tracking(r["url"]), "source": source_name(names, r["source_id"], r["url"]),
                   "title": r["title"] or ""} for r in others]
    return cited, alternates


def period_end(day: date, tz: tzinfo) -> datetime:
    """The end of the issue day ``day`` (exclusive): its candidates were published before it."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)


def period_start(db: sqlite_utils.Database, day: date, tz: tzinfo, daily: bool) -> datetime | None:
    """Where the period of the issue of ``day`` starts: for a daily issue, the day before
    (an issue built in the morning reports the day before and the night); otherwise the day
    after the latest earlier issue, or no bound before the first issue."""
    if daily:
        return datetime.combine(day - timedelta(days=1), time(0, 0), tzinfo=tz)
    row = db.execute("SELECT max(date) FROM issues WHERE date < ?", [day.isoformat()]).fetchone()
    if row is None or row[0] is None:
        return None
    return datetime.combine(date.fromisoformat(row[0]) + timedelta(days=1), time(0, 0), tzinfo=tz)


def compose(db: sqlite_utils.Database, day_end: datetime, settings: EditorialSettings, max_items: int,
            since: datetime | None = None) -> list[Pick]:
    """The items of an issue of the period [``since``, ``day_end``), in issue order, ranks set."""
    found = candidates(db, day_end, settings, max(max_items * POOL_FACTOR, max_items), since)
    chosen = choose(found, settings, max_items)
    names = source_names(db)
    picks: list[Pick] = []
    for rank, candidate in enumerate(chosen, start=1):
        cited, alternates = cite(db, candidate, day_end, settings, names)
        picks.append(Pick(candidate, settings.section_of(candidate.topics), rank, cited, alternates))
    order = {section: n for n, section in enumerate(settings.sections)}
    picks.sort(key=lambda p: (order.get(p.section, len(order)), p.rank))
    return picks
