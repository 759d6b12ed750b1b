"""The ``github`` spider: GitHub Trending repositories, for an issue's open-source section.

    scrapy crawl github                          # every enabled github-trending source
    scrapy crawl github -a source=github-trending-cpp

Each repository on a source's Trending page (``options.since``: daily, weekly or
monthly; ``options.language``) becomes an article with role ``code``. Its repository
page is fetched for the README excerpt (``options.readme = false`` skips that, and
the article is made from what Trending shows); a repository stored once is not again.
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.github import read_trending, readme_excerpt, repo_article, trending_url
from crawler.spiders.discovering import DiscoverySpider

logger = logging.getLogger(__name__)


class GithubTrendingSpider(DiscoverySpider):
    name = "github"
    kind = "github-trending"

    def discovery_requests(self, source: Source):
        url = trending_url(source.url, source.option("since", "daily"), source.option("language"))
        yield self.discovery_request(source, url, self.parse_trending)

    def parse_trending(self, response):
        source = self.source_of(response)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            repos = read_trending(response.body, response.url, content_type)
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        if not repos:
            self.count("github-trending/nothing_trending")
        repos = repos[: source.max_entries] if source.max_entries else repos
        self.source_ok(source.id, len(repos))
        for repo in repos:
            repo_hints = repo.hints(source.option("since", "daily"))
            if source.option("readme", True):
                next_step = self.page_request(repo.url, source.id, repo_hints)
            else:
                next_step = self.direct_item(repo.url, source.id, repo_article(repo.url, repo_hints, None),
                                             repo_hints)
            if next_step is not None:
                yield next_step

    def parse_page(self, response):
        """A repository page (fetched now, or resumed from an earlier crawl): the article is
        what Trending said of it (the hints) and the opening of its README."""
        for item in super().parse_page(response):
            item.article = repo_article(item.final_url, item.hints, readme_excerpt(item.body, item.content_type))
            item.body = b""  # read: the extract stage passes the item through
            yield item
