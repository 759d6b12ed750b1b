"""What analysing a page needs to know of the configuration: the ``[editorial]`` table
(the relevance taxonomy, and how issues are ranked and written out) and the summary length.

Plain records, built by the configuration loader (:mod:`crawler.config`) and passed down;
nothing below reads a file or the environment. Their values come from the configuration
file, whose shipped copy holds every default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(slots=True, frozen=True)
class Topic:
    name: str
    section: str
    terms: tuple[tuple[str, float], ...]  # (term, weight), as configured


@dataclass(slots=True, frozen=True)
class EditorialSettings:
    threshold: float
    title_weight: float
    topic_min: float
    max_topic_share: float
    half_life: timedelta
    sections: tuple[str, ...]
    default_section: str
    script: str  # a key of pipelines.analysis.text.SCRIPTS
    summarizer: str  # a key of pipelines.analysis.summary.SUMMARIZERS
    aggregators: tuple[str, ...]
    topics: tuple[Topic, ...]
    # The trained relevance scorer's file (pipelines.analysis.relevance), absolute, as the
    # configuration loader resolved ``editorial.model``; empty: the taxonomy alone. Where the
    # model is kept follows the database, not the editorial rules: left out of comparisons
    # (and of the taxonomy's cache key).
    model: str = field(compare=False)

    def section_of(self, topics: list[str] | tuple[str, ...]) -> str:
        """The section an item with these topics (best first) files under."""
        by_name = {topic.name: topic.section for topic in self.topics}
        for name in topics:
            if name in by_name:
                return by_name[name]
        return self.default_section


@dataclass(slots=True, frozen=True)
class AnalysisSettings:
    """Everything :func:`pipelines.analysis.page.analyse_page` is configured by."""

    editorial: EditorialSettings
    summary_chars: int  # about this many characters of Chinese per summary (issue.summary_chars)
