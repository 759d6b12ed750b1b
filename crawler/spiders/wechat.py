"""The ``wechat`` spider: WeChat public accounts through a WeChat-to-RSS bridge.

    scrapy crawl wechat                          # every account, once a bridge is set
    scrapy crawl wechat -a source=wechat-jiqizhixin

A source names its account by ``options.id`` on the bridge of ``crawl.wechat_bridge``
(default: RSSHub's wechat2rss route on ``crawl.rsshub``), or gives the feed's ``url`` or
RSSHub ``route`` itself. Entries lead to ``mp.weixin.qq.com`` articles, which the WeChat
site adapter reads; an entry that gives its WeChat address only in its guid or content is
followed there, and one with none at all is followed where it points, and counted.
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import DiscoveryError
from crawler.discovery.feeds import is_wechat, read_feed
from crawler.spiders.discovering import DiscoverySpider
from pipelines import clock, fetch_state

logger = logging.getLogger(__name__)


class WechatSpider(DiscoverySpider):
    name = "wechat"
    kind = "wechat"

    def discovery_requests(self, source: Source):
        url = source.feed_url(self.config.crawl.rsshub)
        # Bridges are polled hourly; an unchanged feed answers 304 (RFC 9110, 13.1).
        yield self.discovery_request(source, url, self.parse_feed,
                                     headers=fetch_state.conditional_headers(self.archive.db, url),
                                     handle_httpstatus_list=[304])

    def parse_feed(self, response):
        source = self.source_of(response)
        if response.status == 304:
            self.count("wechat/not_modified")
            self.source_ok(source.id, 0)
            return
        fetch_state.remember(self.archive.db, response.url, response.headers.get("ETag"),
                             response.headers.get("Last-Modified"))
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            found = read_feed(response.body, response.url, content_type, self.tz(source), clock.now(), wechat=True)
        except DiscoveryError as exc:
            self.source_failed(source.id, response.url, str(exc))
            return
        found = found[: source.max_entries] if source.max_entries else found
        self.source_ok(source.id, len(found))
        for entry in found:
            if not is_wechat(entry.url):
                self.count("wechat/not_wechat_link")
                logger.info("source %s: entry leads off WeChat: %s", source.id, entry.url)
            request = self.page_request(entry.url, source.id, entry.hints(), base=response.url)
            if request is not None:
                yield request
