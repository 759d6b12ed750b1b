"""The ``hackernews`` spider: the front page's stories, through HN's JSON API.

    scrapy crawl hackernews                      # every enabled hackernews source
    scrapy crawl hackernews -a source=hackernews

One request for the front page's story ids, then one per story (the first
``max_entries``, default 30: what the front page shows). A story with at least
``options.min_points`` points (default 100) leads to its linked page, fetched as an
article of this source; its discussion (URL, points, comments) is kept whether or not
the page is new, and the article links to it with role ``discussion``. A story without a
link (Ask HN) is stored as an article of its own text. A broken item answer is counted
(``hackernews/bad_item``) and the others go on; a broken story list fails the source.
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.hackernews import (
    DEFAULT_MAX_STORIES,
    DEFAULT_MIN_POINTS,
    DISCUSSION_LABEL,
    item_url,
    read_item,
    read_top_stories,
    story_article,
    top_stories_url,
)
from crawler.spiders import describe_failure
from crawler.spiders.discovering import DiscoverySpider
from pipelines.analysis.urls import canonical_url
from pipelines.archive.discussions import Discussion

logger = logging.getLogger(__name__)


class HackerNewsSpider(DiscoverySpider):
    name = "hackernews"
    kind = "hackernews"

    def discovery_requests(self, source: Source):
        yield self.discovery_request(source, top_stories_url(source.url), self.parse_top_stories)

    def parse_top_stories(self, response):
        source = self.source_of(response)
        try:
            ids = read_top_stories(response.body)
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        ids = ids[: source.max_entries or DEFAULT_MAX_STORIES]
        self.source_ok(source.id, 0)  # entries: the stories taken, counted as their items arrive
        for story_id in ids:
            request = self.discovery_request(source, item_url(source.url, story_id), self.parse_item)
            request.errback = self.item_failed
            yield request

    def parse_item(self, response):
        source = self.source_of(response)
        try:
            story = read_item(response.body)
        except DiscoveryError as exc:
            self.item_skipped(response.url, str(exc))
            return
        if story is None:
            self.count("hackernews/not_a_story")
            return
        if story.points < source.option("min_points", DEFAULT_MIN_POINTS):
            self.count("hackernews/below_points")
            return
        self.count(f"source/{source.id}/entries")
        if story.url is None:
            self.count("hackernews/text_post")
            item = self.direct_item(story.discussion_url, source.id, story_article(story), story.hints())
            if item is not None:
                yield item
            return
        try:
            discussed = canonical_url(story.url)
        except ValueError:
            self.count("skipped/bad_url")
            logger.info("not fetched, not a URL we can read: %r (source %s)", story.url, source.id)
            return
        self.archive.record_discussions([Discussion(discussed, story.discussion_url, DISCUSSION_LABEL,
                                                    story.points, story.comments)])
        request = self.page_request(story.url, source.id, story.hints())
        if request is not None:
            yield request

    def item_failed(self, failure) -> None:
        self.item_skipped(failure.request.url, describe_failure(failure))

    def item_skipped(self, url: str, reason: str) -> None:
        """One story that could not be read: counted, the others go on."""
        self.count("hackernews/bad_item")
        logger.warning("story skipped: %s: %s", url, reason)
