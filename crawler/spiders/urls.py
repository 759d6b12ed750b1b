"""The ``urls`` spider: article pages named directly.

    scrapy crawl urls -a urls=https://36kr.com/p/1931939259730306,https://...
    scrapy crawl urls -a file=links.txt          # one URL a line; '#' starts a comment
    scrapy crawl urls -a issue=20221014          # every URL the stored issue cites

``-a source=ID`` files the pages under a configured source.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from crawler.spiders import AibriefSpider
from pipelines.editorial.issues import get_issue, parse_day

# URLs recorded in the frontier per transaction; Scrapy takes requests from start() as it
# has room for them.
URLS_AT_ONCE = 100
_SPLIT = re.compile(r",\s*(?=https?://)|\s+")


class UrlsSpider(AibriefSpider):
    name = "urls"

    def __init__(self, urls: str | None = None, file: str | None = None, issue: str | None = None,
                 source: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.urls_arg, self.file_arg, self.issue_arg, self.source_arg = urls, file, issue, source

    def wanted_urls(self) -> list[str]:
        urls: list[str] = []
        if self.urls_arg:
            urls += [u for u in _SPLIT.split(self.urls_arg) if u]
        if self.file_arg:
            try:
                lines = Path(self.file_arg).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                self.fail_arguments(f"cannot read URL file {self.file_arg}: {exc}")
            urls += [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
        if self.issue_arg:
            try:
                day = parse_day(self.issue_arg)
            except ValueError:
                self.fail_arguments(f"issue={self.issue_arg!r} is not a date such as 20221014")
            urls += self.issue_urls(day)
        if not (self.urls_arg or self.file_arg or self.issue_arg):
            self.fail_arguments("give -a urls=URL,URL, -a file=PATH or -a issue=YYYYMMDD")
        return list(dict.fromkeys(urls))

    def issue_urls(self, day: date) -> list[str]:
        found = get_issue(self.archive.db, day)
        if found is None:
            self.fail_arguments(f"no stored issue for {day.isoformat()}")
        return found.cited_urls()

    async def start(self):
        if self.source_arg and self.config.source(self.source_arg) is None:
            self.fail_arguments(f"unknown source {self.source_arg!r}")
        self.source_ids = [self.source_arg] if self.source_arg else []
        urls = self.wanted_urls()
        for start in range(0, len(urls), URLS_AT_ONCE):
            chunk = urls[start:start + URLS_AT_ONCE]
            for request in self.page_requests([(url, self.source_arg, None) for url in chunk]):
                yield request
