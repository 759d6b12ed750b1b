"""What a spider hands to the pipelines: one fetched page and what is known about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True, repr=False)
class PageItem:
    url: str  # the URL asked for
    final_url: str  # the URL the page was served from, after redirects
    source_id: str | None
    body: bytes  # the bytes as served: extraction decodes them itself
    content_type: str | None
    fetched_at: datetime
    # What the feed or listing said about the page: title, published (aware datetime),
    # author. Used where the page itself does not say.
    hints: dict[str, Any] = field(default_factory=dict)
    # The frontier row of the URL asked for (its canonical form).
    frontier_key: str | None = None
    # Filled in by the pipelines, in order.
    canonical_url: str | None = None
    article: Any = None
    summary: str | None = None
    classification: Any = None  # pipelines.analysis.classify.Classification
    fingerprint: Any = None  # pipelines.analysis.dedupe.Fingerprint

    def __repr__(self) -> str:
        # Scrapy logs dropped items; keep the page bytes out of the log.
        return f"<PageItem {self.final_url} source={self.source_id} {len(self.body)} bytes>"
