"""Hacker News as a source of links: the front page's stories, through HN's public JSON API.

The API (github.com/HackerNews/API) answers ``/v0/topstories.json`` with the ids of the
front page's stories, best first (up to 500), and ``/v0/item/<id>.json`` with one item:
``{"id", "type": "story", "by", "time": <Unix seconds>, "title", "url", "score",
"descendants", "kids"}``. A story with no ``url`` (Ask HN, most Show HN posts) carries
its own ``text`` as HTML instead; jobs, polls, and dead or deleted items are not stories
a digest cites.

Each story above the source's points threshold leads to its linked page, which the
crawl fetches as an article; the story's discussion page on news.ycombinator.com travels
with it as a link of role ``discussion``, and its points as a hint that ranking may use.
A story without a link is an article of its own text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from html import unescape
from urllib.parse import urljoin

from lxml import html as lxml_html

from crawler.discovery import DiscoveryError, Found, one_line
from pipelines.analysis.extract import Article
from pipelines.analysis.links import Link, clean_url

# Where HN shows a story's discussion; the API's host is not a page anyone reads.
DISCUSSION_URL = "https://news.ycombinator.com/item?id={id}"
DISCUSSION_LABEL = "Hacker News"
# Stories below this many points are left: the front page's long tail holds stories of a
# few points that no editor of the daily picked. 100 is about where a story stays on the
# front page for a few hours (HN's own "best" list starts there); a setting per source.
DEFAULT_MIN_POINTS = 100
# Items asked for per crawl: the front page shows 30 stories.
DEFAULT_MAX_STORIES = 30


@dataclass(slots=True)
class Story:
    id: int
    title: str
    url: str | None  # the linked page; None for Ask HN and text posts
    points: int
    comments: int
    by: str | None
    published: datetime | None
    text: str | None  # the post's own text (HTML as the API gives it), for stories without a link

    @property
    def discussion_url(self) -> str:
        return DISCUSSION_URL.format(id=self.id)

    def hints(self) -> dict:
        """What travels with the linked page's request (and stays in the frontier)."""
        return {"title": self.title, "published": self.published, "author": None, "points": self.points,
                "comments": self.comments, "discussion": self.discussion_url}

    def found(self) -> Found:
        return Found(self.url or self.discussion_url, self.title, self.published)


def top_stories_url(base: str) -> str:
    """``https://hacker-news.firebaseio.com/v0/topstories.json`` from the API's base."""
    return urljoin(base.rstrip("/") + "/", "topstories.json")


def item_url(base: str, item_id: int) -> str:
    return urljoin(base.rstrip("/") + "/", f"item/{item_id}.json")


def read_top_stories(body: bytes) -> list[int]:
    """The story ids of a topstories answer, in its order; DiscoveryError when it is no
    list of ids or an empty one."""
    data = _json(body)
    if not isinstance(data, list):
        raise DiscoveryError(f"not a list of story ids (a JSON {type(data).__name__})")
    ids = [n for n in data if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    if not ids:
        raise DiscoveryError("the answer lists no stories")
    return ids


def read_item(body: bytes) -> Story | None:
    """The story of an item answer; None for an item that is no live story (a job, a poll,
    a comment, dead, deleted, or ``null`` for an id the API does not know). DiscoveryError
    when the answer is not JSON or a story lacks its id or title."""
    data = _json(body)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DiscoveryError(f"not an item (a JSON {type(data).__name__})")
    if data.get("type") != "story" or data.get("dead") or data.get("deleted"):
        return None
    item_id, title = data.get("id"), data.get("title")
    if not isinstance(item_id, int) or not isinstance(title, str) or not title.strip():
        raise DiscoveryError("a story without its id or title")
    url = clean_url(data["url"]) if isinstance(data.get("url"), str) and data["url"].strip() else None
    moment = data.get("time")
    published = (datetime.fromtimestamp(moment, timezone.utc)
                 if isinstance(moment, (int, float)) and not isinstance(moment, bool) and moment > 0 else None)
    return Story(id=item_id, title=" ".join(unescape(title).split()), url=url,
                 points=_count(data.get("score")), comments=_count(data.get("descendants")),
                 by=data.get("by") if isinstance(data.get("by"), str) else None, published=published,
                 text=data.get("text") if isinstance(data.get("text"), str) else None)


def story_article(story: Story) -> Article:
    """The article of a story without a link (Ask HN): its title and its own text, at its
    discussion URL."""
    text = post_text(story.text) or story.title
    return Article(
        title=story.title,
        author=story.by,
        authors=[story.by] if story.by else [],
        published=story.published,
        published_from="adapter" if story.published else None,
        language="en",
        text=text,
        links=[Link(story.discussion_url, "discussion", DISCUSSION_LABEL)],
        description=None,
        site="hackernews",
        canonical_url=story.discussion_url,
    )


def post_text(fragment: str | None) -> str:
    """A post's HTML (``<p>`` between paragraphs, links, ``<i>``) as plain paragraphs."""
    if not fragment or not fragment.strip():
        return ""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for p in root.iter("p"):
        p.text = "\n" + (p.text or "")
    return "\n".join(" ".join(line.split()) for line in root.text_content().splitlines() if line.strip())


def _json(body: bytes):
    if not body.strip():
        raise DiscoveryError("empty body")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DiscoveryError(f"not JSON ({one_line(exc, 80)})") from None


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
