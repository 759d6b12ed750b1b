"""The last stage of a cluster worker: each analysed page goes to the archive writer as an
article record (:func:`pipelines.store.article_record`, after the page's own statement of its
address, as the store stage does), in one transaction with the end of
its request's record in flight (:class:`crawler.cluster.archive.RemoteArchive`)."""
from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from crawler.cluster.worker import ClusterWorker
from pipelines.store import adopt_declared_address, article_record

logger = logging.getLogger(__name__)


class ResultPipeline:
    def __init__(self, crawler) -> None:
        self.worker = ClusterWorker.for_crawler(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        record = article_record(adopt_declared_address(item))
        self.worker.archive.send({"kind": "article", "record": record, "key": item.frontier_key}, item.frontier_key)
        if self.worker.gone:
            raise DropItem(f"not sent, Redis gone: {item.final_url}", log_level="DEBUG")
        self.stats.inc_value("aibrief/cluster/sent")
        logger.info("sent %s (%s) to the archive writer", record.url, record.title)
        return item
