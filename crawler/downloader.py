"""Scrapy's downloader, holding every host to its concurrency limit.

Under the asyncio reactor, Scrapy 2.19 hands each request it takes from a host's queue to a
task that only counts it as in transfer once the task starts. Until then the slot still
looks free, so with no download delay set a host with several queued requests (all of them
released together when its robots.txt arrives, say) gets them all at once: six at a time
against a limit of one, in ``tests/test_reliability.py``. Counting the request at the
moment it is handed over keeps the limit; the download itself adds it again (a set, so no
double count) and removes it when done.
"""
from __future__ import annotations

from scrapy.core.downloader import Downloader


class SlotLimitDownloader(Downloader):
    def _wait_for_download(self, slot, request, queue_dfd):
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
