"""arXiv as a source: one query to the arXiv API for the newest papers of some categories.

The API (info.arxiv.org/help/api/user-manual.html) answers Atom with each paper's title,
authors, abstract, first submission and last update, so a paper becomes an article
straight from the answer, without fetching its abstract page. Its terms ask for no more
than one request every three seconds (info.arxiv.org/help/api/tou.html): the spider
paces the API's host to that. A paper cross-listed to several asked-for categories is
one paper: one entry in an answer, one article in the archive (its canonical URL is the
abstract page of its id).
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from crawler.discovery import DiscoveryError
from pipelines.analysis.extract import Article
from pipelines.analysis.links import Link
from pipelines.analysis.sites.arxiv import ApiEntry, api_entries

# info.arxiv.org/help/api/tou.html: "no more than one request every three seconds".
API_INTERVAL = 3.0
# One answer holds the newest papers; a day of cs.AI, cs.LG and cs.CV together is a few
# hundred, and the API serves at most 2,000 in one answer (user manual, 3.1.1).
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 2000
DEFAULT_DAYS = 7


def query_url(base: str, categories: list[str], query: str | None = None,
              max_results: int = DEFAULT_MAX_RESULTS) -> str:
    """The API request for the newest papers in ``categories`` (and matching ``query``,
    in the API's search syntax, e.g. ``abs:"edge inference"``), newest submission first."""
    search = " OR ".join(f"cat:{category}" for category in categories)
    if len(categories) > 1:
        search = f"({search})"
    if query:
        search = f"{search} AND ({query})"
    params = {"search_query": search, "sortBy": "submittedDate", "sortOrder": "descending",
              "start": 0, "max_results": min(max_results, MAX_RESULTS)}
    return f"{base}?{urlencode(params)}"


def read_answer(body: bytes) -> list[ApiEntry]:
    """The papers of an API answer, one per id; DiscoveryError when there are none.

    The API answers an empty feed when it is overloaded as well as when nothing matches:
    either way the source yielded nothing, and it is asked again next run.
    """
    try:
        entries = api_entries(body)
    except ValueError as exc:
        raise DiscoveryError(str(exc).removeprefix("arXiv API: ")) from None
    if not entries:
        raise DiscoveryError("the answer holds no papers")
    unique: dict[str, ApiEntry] = {}
    for entry in entries:
        unique.setdefault(entry.arxiv_id, entry)
    return list(unique.values())


def paper_article(entry: ApiEntry) -> Article:
    """The article for one paper: its abstract is the text, its abs and PDF pages its links."""
    return Article(
        title=entry.title,
        author=", ".join(entry.authors) or None,
        authors=list(entry.authors),
        published=entry.published,  # the first version's submission (v1)
        published_from="adapter",
        language="en",
        text=entry.summary,
        links=[Link(entry.abs_url, "paper", "abstract"), Link(entry.pdf_url, "paper", "PDF")],
        description=entry.summary,
        site="arxiv",
        canonical_url=entry.abs_url,
    )


def hints(entry: ApiEntry) -> dict:
    """What the frontier keeps of a paper (a crawl killed before storing it fetches the
    abstract page instead, which the arXiv adapter reads the same way)."""
    return {"title": entry.title, "published": entry.published, "author": ", ".join(entry.authors) or None,
            "updated": entry.updated.isoformat(), "categories": entry.categories}


def in_window(entry: ApiEntry, since: datetime | None) -> bool:
    """Papers announced lately: updated (a new version counts) since the window's start."""
    return since is None or max(entry.published, entry.updated) >= since
