"""``scrapy crawl`` with an exit status that tells: 2 when the spider's arguments were bad.

Scrapy's own command exits 0 whenever the crawl got going, even when the spider closed at
once because ``-a source=`` named no configured source. A spider name that is not one, or
an extraction worker count that is no count, is a one-line usage error here, not a
traceback. The command also starts the extraction pool's fork server before Scrapy sets up
the crawl (:func:`pipelines.analysis.pool.start_fork_server`).
"""
from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from pipelines.analysis.pool import extract_workers, start_fork_server


class Command(ScrapyCrawl):
    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)  # (the -s settings are in from here on)
        try:
            workers = extract_workers(self.settings)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
        if workers > 0:
            # The fork server's imports (about a second) then overlap Scrapy's set-up of the
            # crawl, which takes about as long, instead of holding up the first page.
            start_fork_server()

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name (scrapy list shows them)")
        if args[0] not in self.crawler_process.spider_loader.list():
            raise UsageError(f"no spider is named {args[0]!r} (scrapy list shows them)", print_help=False)
        crawler = self._create_crawler(args[0])
        # Scrapy filters by LOG_LEVEL in its handler and leaves every logger open, so each
        # page's debug lines ("Crawled", "Scraped from") were built and then thrown away.
        if self.settings.get("LOG_LEVEL"):
            logging.root.setLevel(self.settings.get("LOG_LEVEL"))
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif getattr(crawler.spider, "finish_reason", None) == "bad_arguments":
            self.exitcode = 2
