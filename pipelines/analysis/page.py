"""One page's analysis: extraction, summary, classification and the dedupe fingerprint.

:func:`analyse_page` is the one path every page takes, whether it runs in an extraction
worker (:mod:`pipelines.analysis.pool`) or in the crawl process (no pool): nothing about a
page that needs no database is done anywhere else. A page whose article came whole from a
discovery answer (the arXiv API, GitHub Trending) skips extraction and takes the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from threadpoolctl import threadpool_limits

from pipelines.analysis.classify import Classification, classify, scorer_for, taxonomy_for
from pipelines.analysis.dedupe import Fingerprint, fingerprint, minhash_permutations
from pipelines.analysis.extract import Article, Extraction, extract
from pipelines.analysis.settings import AnalysisSettings
from pipelines.analysis.summary import summarize_or_lead, summarizer_for
from pipelines.analysis.text import PageText, tokenizer


@dataclass(slots=True)
class PageAnalysis:
    extraction: Extraction  # the article, or why there is none
    summary: str | None = None
    summary_failed: bool = False  # the lead stands in for a summarizer that failed
    classification: Classification | None = None
    fingerprint: Fingerprint | None = None


def analyse_page(body: bytes, url: str | None, settings: AnalysisSettings, *, content_type: str | None,
                 tz: str, now: datetime, hint_title: str | None = None,
                 article: Article | None = None) -> PageAnalysis:
    """Everything about one page that needs no database. ``tz``: the zone naive dates of
    its source are read in; ``hint_title``: the feed's title, for a page without one;
    ``article``: the page's article when it is known already (then ``body`` is not read)."""
    extraction = Extraction(article) if article is not None else \
        extract(body, url, content_type=content_type, tz=ZoneInfo(tz), now=now)
    found = extraction.article
    if found is None:
        return PageAnalysis(extraction)
    title = found.title or hint_title
    summary, failed = summarize_or_lead(summarizer_for(settings.editorial.summarizer), found.title, found.text,
                                        settings.summary_chars, url)
    # Title and text normalised once, for classification and the fingerprint both.
    text = PageText(title, found.text)
    return PageAnalysis(extraction, summary, failed, classify(title or "", found.text, settings.editorial, text),
                        fingerprint(title, found.text, text))


def prepare(settings: AnalysisSettings) -> None:
    """Load what analysing pages needs (jieba's dictionary with the taxonomy's terms, the
    trained relevance scorer if there is one, the MinHash permutations: a few tenths of a
    second) before the first page: once per process, each pool worker included.

    NumPy's BLAS is held to the calling thread. Its helper threads split the summary's
    small matrix product and then spin waiting for more: 5 ms of CPU a page here, taken
    from the other extraction worker on a busy machine."""
    threadpool_limits(1, user_api="blas")
    tokenizer()
    taxonomy_for(settings.editorial)
    scorer_for(settings.editorial)
    minhash_permutations()
