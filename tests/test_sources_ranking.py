"""Source-aware ranking hints: several sources, the primary copy, Hacker News points; and
the Hacker News API answers read from bytes (broken ones in one line)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from crawler.discovery import DiscoveryError
from crawler.discovery.hackernews import post_text, read_item, read_top_stories, story_article
from pipelines.analysis.links import Link
from pipelines.archive.articles import ArticleRecord, SourceRow, store_article, sync_sources
from pipelines.archive.db import connect
from pipelines.archive.discussions import Discussion, record_discussions
from pipelines.editorial.compose import MAX_SOURCES, POINTS_CAP, hint_bonus, story_hints

DAY_END = datetime(2022, 10, 14, 16, 0, tzinfo=timezone.utc)


def test_hints_prefer_more_sources_the_primary_copy_and_points_with_caps():
    assert hint_bonus(1, False, 0) == 0
    assert hint_bonus(2, False, 0) == pytest.approx(math.log(2))  # as if twice as relevant
    assert hint_bonus(MAX_SOURCES + 5, False, 0) == hint_bonus(MAX_SOURCES, False, 0)
    assert hint_bonus(1, True, 0) > 0
    assert 0 < hint_bonus(1, False, 100) < hint_bonus(1, False, 400) < hint_bonus(1, False, POINTS_CAP)
    assert hint_bonus(1, False, POINTS_CAP * 10) == hint_bonus(1, False, POINTS_CAP)


def record(db, url: str, source_id: str, hours: int, links: list[Link] | None = None) -> int:
    return store_article(db, ArticleRecord(canonical_url=url, url=url, source_id=source_id, text="text " + url,
                                           summary="", published=DAY_END - timedelta(hours=hours),
                                           published_from="page", fetched_at=DAY_END, title=url,
                                           links=links or []))


def test_story_hints_count_sources_find_the_primary_copy_and_take_the_points(tmp_path):
    db = connect(tmp_path / "a.db")
    sync_sources(db, [SourceRow("vendor", "feed", "Vendor", None, True, primary=True),
                      SourceRow("press", "feed", "Press", None, True), SourceRow("wire", "feed", "Wire", None, True)])
    report = record(db, "https://press.test/a", "press", 10)
    announcement = record(db, "https://vendor.test/news", "vendor", 5)
    record(db, "https://wire.test/b", "wire", 2, [Link("https://press.test/a", "article", "")])
    db.execute("UPDATE articles SET cluster_id = ?", [report])
    record_discussions(db, [Discussion("https://vendor.test/news", "https://news.ycombinator.com/item?id=1",
                                       "Hacker News", 250, 40)])
    hints = story_hints(db, report, report, DAY_END)
    assert (hints.sources, hints.primary_id, hints.points) == (3, announcement, 250)
    # Without a primary source, the copy another copy links to is the primary one.
    db.execute("UPDATE sources SET is_primary = 0")
    assert story_hints(db, report, report, DAY_END).primary_id == report
    # Copies published after the issue day do not count.
    early = story_hints(db, report, report, DAY_END - timedelta(hours=3))
    assert (early.sources, early.points) == (2, 250)
    # The discussion found after the page was stored is linked from it.
    assert db.execute("SELECT url, role FROM article_links WHERE article_id = ?", [announcement]).fetchall() == [
        ("https://news.ycombinator.com/item?id=1", "discussion")]


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"<html>rate limited</html>", "not JSON"),
    (b'{"error": "Permission denied"}', "not a list of story ids (a JSON dict)"),
    (b"[]", "the answer lists no stories"),
])
def test_a_broken_story_list_is_one_line(body, message):
    with pytest.raises(DiscoveryError) as error:
        read_top_stories(body)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_items_that_are_no_story_are_none_and_a_story_without_title_is_an_error():
    assert read_item(b"null") is None
    assert read_item(b'{"id": 5, "type": "comment", "text": "x"}') is None
    assert read_item(b'{"id": 6, "type": "story", "deleted": true}') is None
    with pytest.raises(DiscoveryError, match="without its id or title"):
        read_item(b'{"id": 7, "type": "story", "score": 300}')
    story = read_item(b'{"id": 8, "type": "story", "title": "Show HN: A &amp; B", "score": 120,'
                      b' "time": 1665680400, "text": "First.<p>Second <i>line</i>."}')
    assert (story.title, story.url, story.points, story.published.isoformat()) == (
        "Show HN: A & B", None, 120, "2022-10-13T17:00:00+00:00")
    article = story_article(story)
    assert article.text == "First.\nSecond line."
    assert article.links == [Link("https://news.ycombinator.com/item?id=8", "discussion", "Hacker News")]
    assert post_text("") == ""
