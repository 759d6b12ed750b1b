"""The ``wechat`` spider: WeChat public accounts through a WeChat-to-RSS bridge.

    scrapy crawl wechat                          # every account, once a bridge is set
    scrapy crawl wechat -a source=wechat-jiqizhixin

A source names its account by ``options.id`` on the bridge of ``crawl.wechat_bridge``
(default: RSSHub's wechat2rss route on ``crawl.rsshub``), or gives the feed's ``url`` or
RSSHub ``route`` itself. Entries lead to ``mp.weixin.qq.com`` articles, which the WeChat
site adapter reads; an entry that gives its WeChat address only in its guid or content is
followed there, and one with none at all is followed where it points, and counted. Bridges
are polled hourly; an unchanged feed answers 304.
"""
from __future__ import annotations

import logging

from crawler.config import Source
from crawler.discovery import Found
from crawler.discovery.feeds import is_wechat
from crawler.spiders.feed import FeedSpider

logger = logging.getLogger(__name__)


class WechatSpider(FeedSpider):
    name = "wechat"
    kind = "wechat"
    wechat_links = True

    def entry_found(self, source: Source, entry: Found) -> None:
        if not is_wechat(entry.url):
            self.count("wechat/not_wechat_link")
            logger.info("source %s: entry leads off WeChat: %s", source.id, entry.url)
