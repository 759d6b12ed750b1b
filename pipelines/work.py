"""Everything about one page that needs no database, as a worker process does it.

Extraction is most of a page's cost, and the summary, the classification and the dedupe
fingerprint after it are the rest: together in a worker, they leave the crawl process only
fetching and storing (measured with ``aibrief bench``: on the shared corpus, summary,
jieba and MinHash in the crawl process held the pool to a fraction of its workers). With
extraction inline (no pool), the same steps run in their own pipeline stages instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pipelines.extract import Extraction, extract

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PageWork:
    extraction: Extraction
    summary: str | None = None
    classification: object | None = None  # pipelines.classify.Classification
    fingerprint: object | None = None  # pipelines.dedupe.Fingerprint


# Set once per worker process by init_worker: what the configuration says.
_EDITORIAL: list = []


def init_worker(editorial, summary_chars: int) -> None:
    """Pool initializer: keep the settings, load jieba's dictionary and the taxonomy now."""
    from pipelines.classify import taxonomy_for, _tokenizer
    from pipelines.dedupe import _permutations

    _EDITORIAL[:] = [editorial, summary_chars]
    _tokenizer()
    taxonomy_for(editorial)
    _permutations()


def page_job(body: bytes, url: str | None, content_type: str | None, tz: str, now: datetime,
             hint_title: str | None = None) -> PageWork:
    from pipelines.classify import classify
    from pipelines.dedupe import fingerprint
    from pipelines.enrich import summarize_or_lead

    work = PageWork(extract(body, url, content_type=content_type, tz=ZoneInfo(tz), now=now))
    article = work.extraction.article
    if article is None or not _EDITORIAL:
        return work
    editorial, summary_chars = _EDITORIAL
    title = article.title or hint_title
    work.summary = summarize_or_lead(editorial.summarizer, article.title, article.text, summary_chars, url)
    work.classification = classify(title or "", article.text, editorial)
    work.fingerprint = fingerprint(title, article.text)
    return work
