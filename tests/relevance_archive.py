"""A synthetic archive of 30 weekly published issues for the relevance scorer's training
path, built from the templates in ``fixtures/relevance/archive.json`` (text of our own).

Each week holds articles of four kinds: chip and edge-inference news that the editor picks
(the taxonomy knows it), sensor news that the editor also picks (the taxonomy does not know
it), stock-market stories about AI companies that the editor never picks (the taxonomy
scores them relevant) and general news. The week's issue carries the picked ones; the rest
stay in the archive unpicked. Fixed seeds make it the same archive on every run.
"""
from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import ArticleRecord, store_article
from pipelines.editorial.issues import IssueItem, store_published

TEMPLATES = json.loads((Path(__file__).parent / "fixtures" / "relevance" / "archive.json").read_text("utf-8"))
FIRST_ISSUE = date(2024, 1, 5)
WEEKS = 30
# Per week: (kind, how many, picked by the editor)
WEEK = (("picked_core", 4, True), ("picked_hidden", 2, True), ("market", 2, False), ("noise", 4, False))


def _fill(template: dict, rng: random.Random) -> tuple[str, str]:
    values = {slot: rng.choice(options) for slot, options in TEMPLATES["slots"].items()}
    return template["title"].format(**values), template["text"].format(**values)


def build(db, weeks: int = WEEKS, seed: int = 17) -> list[date]:
    """Store ``weeks`` weeks of articles and publish one issue a week; returns the issue days."""
    rng = random.Random(seed)
    days = []
    for week in range(weeks):
        day = FIRST_ISSUE + timedelta(weeks=week)
        items: list[IssueItem] = []
        n = 0
        for kind, count, picked in WEEK:
            for _ in range(count):
                title, text = _fill(rng.choice(TEMPLATES[kind]), rng)
                n += 1
                url = f"https://news.example.test/{day:%Y%m%d}/{kind}-{n}"
                published = datetime.combine(day - timedelta(days=rng.randint(0, 5)), time(2 + n, 0), tzinfo=timezone.utc)
                store_article(db, ArticleRecord(canonical_url=canonical_url(url), url=url, source_id=None, text=text,
                                                summary=text, published=published, published_from="page",
                                                fetched_at=published, title=title))
                if picked:
                    items.append(IssueItem(position=len(items) + 1, title=title, url=url, summary=text))
        store_published(db, day, title=f"AI 簡報 {day:%Y%m%d} 期", section="嵌入式 AI",
                        headline=f"【AI簡報{day:%Y%m%d}】", items=items)
        days.append(day)
    return days


def main() -> None:
    """``python tests/relevance_archive.py DB [WEEKS]``: write the synthetic archive to DB
    (for measuring ``aibrief relevance train`` and ``eval`` by hand; 420 weeks are 5,040 items)."""
    import sys

    from pipelines.archive import db as storage

    database = storage.connect(sys.argv[1])
    try:
        days = build(database, int(sys.argv[2]) if len(sys.argv) > 2 else WEEKS)
    finally:
        database.close()
    print(f"{len(days)} weekly issues, {len(days) * sum(count for _, count, _ in WEEK)} articles in {sys.argv[1]}")


if __name__ == "__main__":
    main()
