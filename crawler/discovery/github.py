"""GitHub Trending as a source: the repositories of the day (or week, or month).

Each repository on ``github.com/trending[/LANGUAGE][?since=weekly]`` becomes one article
with role ``code`` for the open-source section of an issue: owner/name, description,
language, stars gained in the period, and an excerpt of its README read from the
repository's own page. Selectors follow the Trending page's markup (``article.Box-row``
rows, as the public scrapers of it read them) and GitHub's README container.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from parsel import Selector

from crawler.discovery import DiscoveryError
from pipelines.analysis.encoding import decode_html
from pipelines.analysis.extract import Article
from pipelines.analysis.links import Link
from pipelines.analysis.sites.base import block_text
from pipelines.analysis.text import CJK

ROWS = "article.Box-row"
REPO_LINK = "h2 a[href]"
DESCRIPTION = "p"
LANGUAGE = "[itemprop=programmingLanguage]"
STARS = 'a[href$="/stargazers"]'
STARS_GAINED = "span.float-sm-right"
# The page GitHub shows for a language with nothing trending in the period.
NOTHING_TRENDING = ".blankslate"
README = "article.markdown-body, #readme article"
# Enough of a README for a summary and the topic keywords: its opening paragraphs.
README_EXCERPT_CHARS = 1500
PERIOD_WORDS = {"daily": "today", "weekly": "this week", "monthly": "this month"}
_NUMBER = re.compile(r"\d[\d,]*")
_REPO_PATH = re.compile(r"^/([\w.-]+)/([\w.-]+)/?$")


@dataclass(slots=True)
class TrendingRepo:
    owner: str
    name: str
    url: str
    description: str | None
    language: str | None
    stars: int | None
    stars_gained: int | None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def hints(self, since: str) -> dict:
        return {"title": self.full_name, "description": self.description, "language": self.language,
                "stars": self.stars, "stars_gained": self.stars_gained, "since": since}


def trending_url(base: str, since: str = "daily", language: str | None = None) -> str:
    """``https://github.com/trending/c++?since=weekly``; daily is GitHub's default period."""
    url = base.rstrip("/")
    if language:
        url += "/" + quote(language.strip().lower(), safe="")
    return url if since == "daily" else f"{url}?since={since}"


def read_trending(body: bytes, url: str, content_type: str | None = None) -> list[TrendingRepo]:
    """The repositories on a Trending page, in its order; DiscoveryError when the page has
    none and does not say that nothing is trending."""
    html, _ = decode_html(body, content_type)
    page = Selector(text=html, type="html")
    rows = page.css(ROWS)
    if not rows:
        if page.css(NOTHING_TRENDING):
            return []
        raise DiscoveryError(f"no repositories (selector {ROWS!r} matched nothing)")
    repos: list[TrendingRepo] = []
    for row in rows:
        href = row.css(REPO_LINK).attrib.get("href", "")
        match = _REPO_PATH.match(urlsplit(href).path)
        if not match:
            continue
        owner, name = match.groups()
        repos.append(TrendingRepo(
            owner=owner, name=name, url=urljoin(url, f"/{owner}/{name}"),
            description=_text(row.css(DESCRIPTION)),
            language=_text(row.css(LANGUAGE)),
            stars=_number(_text(row.css(STARS))),
            stars_gained=_number(_text(row.css(STARS_GAINED))),
        ))
    if not repos:
        raise DiscoveryError(f"{len(rows)} rows, none linking to a repository")
    return repos


def readme_excerpt(body: bytes, content_type: str | None = None, limit: int = README_EXCERPT_CHARS) -> str | None:
    """The opening of the README shown on a repository's page, whole paragraphs up to
    about ``limit`` characters; None when the page shows none."""
    html, _ = decode_html(body, content_type)
    found = Selector(text=html, type="html").css(README)
    if not found:
        return None
    text = block_text(found[0].root)
    kept: list[str] = []
    for line in text.splitlines():
        if kept and sum(map(len, kept)) + len(line) > limit:
            break
        kept.append(line[:limit])
    return "\n".join(kept) or None


def repo_article(url: str, hints: dict, readme: str | None) -> Article:
    """The article for one trending repository, from what Trending showed and its README."""
    full_name = hints.get("title") or "/".join(urlsplit(url).path.strip("/").split("/")[:2])
    description = hints.get("description")
    facts = [f"Language: {hints['language']}" if hints.get("language") else None,
             f"Stars: {hints['stars']:,}" if isinstance(hints.get("stars"), int) else None,
             (f"{hints['stars_gained']:,} stars {PERIOD_WORDS.get(hints.get('since'), 'today')}"
              if isinstance(hints.get("stars_gained"), int) else None)]
    lines = [f"{full_name}: {description}" if description else full_name,
             ". ".join(fact for fact in facts if fact)]
    text = "\n".join(line for line in lines + [readme or ""] if line)
    sample = f"{description or ''} {readme or ''}"
    return Article(
        title=f"{full_name}: {description}" if description else full_name,
        author=full_name.split("/")[0],
        authors=[full_name.split("/")[0]],
        published=None,  # Trending dates nothing: the crawl time stands in, and says so
        published_from=None,
        language="zh" if len(CJK.findall(sample)) > len(sample) * 0.15 else "en",
        text=text,
        links=[Link(url, "code", "repository")],
        description=description,
        site="github",
        canonical_url=url,
    )


def _text(found) -> str | None:
    text = " ".join(" ".join(found[0].xpath(".//text()").getall()).split()) if found else ""
    return text or None


def _number(text: str | None) -> int | None:
    match = _NUMBER.search(text or "")
    return int(match.group(0).replace(",", "")) if match else None
