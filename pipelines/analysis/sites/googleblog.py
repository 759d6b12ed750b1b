"""The Google AI blog: ai.googleblog.com on Blogger, and research.google/blog since 2023.

Blogger pages carry the post in ``div.post-body``, in Google's own template twice: as HTML
inside ``<script type="text/template">`` (what the page's script renders) and again in a
``<noscript>``; a copy saved after rendering has plain HTML there. The title is the
``h2.title`` of the post, the date a bare day ("Tuesday, October 11, 2022") under it. The
research.google layout puts the day and the byline in the hero's description and the post
in ``div.blog-detail-wrapper``. Either way the byline reads "Posted by Maya Lindqvist,
Research Scientist, and Daniel Osei, Software Engineer, Google Research": names, each
followed by a job title, then the team; only the names are authors.
"""
from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime

from pipelines.analysis.dates import parse_date
from pipelines.analysis.sites.base import (
    Page,
    SiteFields,
    block_text,
    clean,
    first,
    first_text,
    fragment,
    host_in,
    images_in,
    meta_content,
)

NAME = "googleblog"
HOSTS = ("ai.googleblog.com", "googleaiblog.blogspot.com", "research.googleblog.com", "research.google")
BLOG_NAME = "Google AI Blog"  # with Blogger's generator meta: a saved or mirrored copy
BODY = ('//div[contains(concat(" ", normalize-space(@class), " "), " blog-detail-wrapper ")]',
        '//div[contains(concat(" ", normalize-space(@class), " "), " post-body ")]',
        '//div[contains(concat(" ", normalize-space(@class), " "), " rich-text ")]')
TEMPLATE = './/script[@type="text/template"]'
IMAGE_LINK = './/a[.//img and not(normalize-space(.))]'
TITLE = ('//h1[contains(@class, "headline")]', '//div[contains(@class, "post")]/h2[contains(@class, "title")]',
         '//h3[contains(@class, "post-title")]')
HERO = '//div[contains(@class, "blog-detail__description")]/p'
DATE = '//*[@itemprop="datePublished"]'
DATE_ATTRIBUTES = ("content", "datetime", "title")
DATA_DATE = '//*[@data-gt-publish-date]/@data-gt-publish-date | //*[@data-blog-publish-date]/@data-blog-publish-date'
BYLINE = ('.//*[contains(@class, "byline-author")]',
          './/*[self::p or self::span or self::em or self::i][starts-with(normalize-space(.), "Posted by")]')
POSTED_BY = re.compile(r"^\s*Posted by\s+", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<!\b[A-Z])\.\s")  # "Managers. Reviewed by", not "Ed H. Chi"
# Words of job titles and team names, which follow each author's name in the byline.
ROLE = re.compile(r"\b(scientists?|engineers?|researchers?|research|managers?|interns?|leads?|directors?|"
                  r"fellows?|students?|advocates?|designers?|developers?|programs?|products?|staff|head|vp|"
                  r"president|professors?|candidates?|postdoc\w*|members?|team|google|deepmind|brain|"
                  r"university|institute|labs?|technical|specialists?|analysts?|architects?|officers?|chief|"
                  r"partners?|consultants?|writers?|editors?|strategists?|owners?)\b", re.IGNORECASE)


def matches(page: Page) -> bool:
    if host_in(page, HOSTS):
        return page.host != "research.google" or "/blog/" in (page.url or "")
    if "blog-detail__description" in page.html:
        return True
    return BLOG_NAME in page.html and meta_content(page.tree, "generator") == "blogger"


def extract(page: Page) -> SiteFields:
    if len(page.tree.xpath(BODY[1])) > 1:
        return SiteFields(not_article="googleblog: list of posts")  # the home, label and archive pages
    body = first(page.tree, *BODY)
    if body is None:
        return SiteFields()  # another research.google page: the generic path reads it
    template = first(body, TEMPLATE)
    rendered = fragment(template.text or "") if template is not None else None
    body = rendered if rendered is not None else deepcopy(body)
    for anchor in body.xpath(IMAGE_LINK):
        anchor.drop_tag()  # Blogger links each figure to its full-size file: no link the post cites
    byline = _hero_byline(page) or first_text(body, *BYLINE)
    lines = block_text(body).splitlines()
    if lines and POSTED_BY.match(lines[0]):
        lines = lines[1:]  # the byline is read into the authors, not the text
    return SiteFields(
        title=first_text(page.tree, *TITLE) or meta_content(page.tree, "og:title"),
        authors=byline_authors(byline),
        published=_published(page),
        text="\n".join(lines),
        body=body,
        description=_description(page, byline),
        images=images_in(body, page.url),
    )


def byline_authors(byline: str | None) -> list[str]:
    """``Posted by A, Title, and B, Title, Team`` -> ["A", "B"]."""
    text = SENTENCE_END.split(POSTED_BY.sub("", byline or ""))[0]
    names: list[str] = []
    naming = True  # names run until the first job title; "and" starts the next person
    for piece in (p.strip() for p in text.split(",")):
        person = piece.startswith("and ")
        if person or (naming and not ROLE.search(piece)):
            naming = True
            for name in re.split(r"\s+and\s+|\s*&\s*", piece.removeprefix("and ")):
                name = clean(name)
                if name and name[0].isupper() and not ROLE.search(name) and len(name.split()) <= 5:
                    names.append(name)
        else:
            naming = False
    return list(dict.fromkeys(names))


def _description(page: Page, byline: str | None) -> str | None:
    """The page's summary; research.google's begins with the byline, which is no summary."""
    text = meta_content(page.tree, "og:description") or meta_content(page.tree, "description")
    if text and byline and text.startswith(byline):
        text = text[len(byline):]
    return clean(text)


def _hero_byline(page: Page) -> str | None:
    """research.google's hero: a day, then the byline (with or without "Posted by")."""
    texts = [clean("".join(p.itertext())) for p in page.tree.xpath(HERO)]
    rest = [t for t in texts if t and not parse_date(t, page.tz, page.now, with_year=True)]
    return rest[0] if rest else None


def _published(page: Page) -> datetime | None:
    """The visible day (in the page's zone) or an exact stamp in the markup, when given."""
    for element in page.tree.xpath(DATE):
        value = next((element.get(a) for a in DATE_ATTRIBUTES if element.get(a)), None)
        moment = parse_date(value or clean("".join(element.itertext())), page.tz, page.now, with_year=True)
        if moment:
            return moment
    for text in [clean("".join(p.itertext())) for p in page.tree.xpath(HERO)]:
        moment = parse_date(text, page.tz, page.now, with_year=True)
        if moment:
            return moment
    stamp = next(iter(page.tree.xpath(DATA_DATE)), "")  # "20221110", for analytics
    return parse_date(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}", page.tz, page.now) if len(stamp) == 8 else None
