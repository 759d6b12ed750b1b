"""Live progress of a crawl on a terminal: pages fetched, stored, skipped, failed, per source.

Shown on standard error when it is a terminal (an interactive ``aibrief crawl`` or
``scrapy crawl``), one line rewritten in place every second; never in cron logs.
"""
from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

INTERVAL = 1.0


class Progress:
    def __init__(self, crawler, stream=None) -> None:
        self.stream = stream or sys.stderr
        wanted = crawler.settings.get("AIBRIEF_PROGRESS")
        if not (self.stream.isatty() if wanted is None else crawler.settings.getbool("AIBRIEF_PROGRESS")):
            raise NotConfigured
        self.stats = crawler.stats
        self.loop = task.LoopingCall(self.show)

    @classmethod
    def from_crawler(cls, crawler):
        progress = cls(crawler)
        crawler.signals.connect(progress.opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.closed, signal=signals.spider_closed)
        return progress

    def opened(self, spider) -> None:
        self.loop.start(INTERVAL, now=False)

    def closed(self, spider, reason) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show(final=True)

    def line(self) -> str:
        stats = self.stats.get_stats()
        get = lambda key: int(stats.get(f"aibrief/{key}", 0))  # noqa: E731
        skipped = sum(v for k, v in stats.items() if k.startswith("aibrief/skipped/")) + get("dropped/not_article")
        per_source = {k.split("/")[2]: v for k, v in stats.items()
                      if k.startswith("aibrief/source/") and k.endswith("/stored")}
        busiest = ", ".join(f"{s} {n}" for s, n in sorted(per_source.items(), key=lambda kv: -kv[1])[:3])
        return (f"crawl: {get('pages')} pages, {get('stored')} stored, {skipped} skipped, {get('failed')} failed"
                + (f" | {busiest}" if busiest else ""))

    def show(self, final: bool = False) -> None:
        self.stream.write("\r" + self.line().ljust(100)[:160] + ("\n" if final else ""))
        self.stream.flush()
