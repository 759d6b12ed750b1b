"""ZAKER articles (``app.myzaker.com/news/article.php?pk=<id>``, ``www.myzaker.com/article/<id>``).

ZAKER republishes media accounts. Only its channel pages carry JSON state
(``window.WinPageData``, a list of cards); an article page is server-rendered HTML: the
headline in ``.article_header h1``, the account (our author) in ``span.auther`` (sic), the
body in ``#content`` inside ``.article_content`` with lazy images (``data-original``), and
the date in ``span.time``. That date is written short, "10-13" or "3小时前", so a full date
in the page's metadata comes first; a month and day is read as the latest such day that is
not in the future, a relative time against ``page.now``; anything else gives no date rather
than a guess. A removed article is a 404 page with one notice.
"""
from __future__ import annotations

import re
from datetime import datetime

from pipelines.analysis.dates import parse_date
from pipelines.analysis.sites.base import (
    Page,
    SiteFields,
    block_text,
    first,
    first_text,
    host_in,
    images_in,
    meta_content,
)

NAME = "zaker"
HOSTS = ("myzaker.com",)
BODY = ('//*[@id="content"]', '//*[contains(concat(" ", normalize-space(@class), " "), " article_content ")]')
TITLE = ('//*[contains(@class, "article_header")]//h1', '//h1')
ACCOUNT = ('//*[contains(@class, "article_tips")]//*[contains(@class, "auther")]', '//span[contains(@class, "auther")]',
           '//*[contains(@class, "article_tips")]//*[contains(@class, "author")]')
TIME = ('//*[contains(@class, "article_tips")]//*[contains(@class, "time")]', '//span[contains(@class, "time")]')
# Full dates a page may state in its metadata, before the short one it shows.
DATE_META = ("article:published_time", "og:release_date")
SHORT_DATE = re.compile(r"^(?P<m>\d{1,2})-(?P<d>\d{1,2})(?P<clock>\s+\d{1,2}:\d{2})?$")
SITE_SUFFIX = re.compile(r"\s*[_|-]\s*ZAKER新闻\s*$")
# The notices ZAKER shows instead of an article, and the reason each gives.
NOTICES = (("页面不存在", "not found"), ("页面找不到", "not found"), ("404", "not found"),
           ("原文已被删除", "deleted"), ("文章已被删除", "deleted"), ("已下线", "offline"))


def matches(page: Page) -> bool:
    # Saved copies keep ZAKER's misspelt byline class and its name.
    return host_in(page, HOSTS) or ('class="auther"' in page.html and "ZAKER" in page.html)


def extract(page: Page) -> SiteFields:
    body = first(page.tree, *BODY)
    if body is None or not block_text(body):
        text = " ".join(page.tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]"))
        reason = next((why for notice, why in NOTICES if notice in text), None)
        return SiteFields(not_article=f"zaker: {reason}") if reason else SiteFields()
    account = first_text(page.tree, *ACCOUNT)
    return SiteFields(
        title=first_text(page.tree, *TITLE) or _title(page),
        authors=[account] if account else [],
        published=_published(page),
        text=block_text(body),
        body=body,
        description=meta_content(page.tree, "description"),
        images=images_in(body, page.url),
    )


def _title(page: Page) -> str | None:
    title = meta_content(page.tree, "og:title") or first_text(page.tree, "//title") or ""
    return SITE_SUFFIX.sub("", title) or None


def _published(page: Page) -> datetime | None:
    for name in DATE_META:
        moment = parse_date(meta_content(page.tree, name), page.tz, page.now, with_year=True)
        if moment:
            return moment
    shown = first_text(page.tree, *TIME)
    if not shown:
        return None
    short = SHORT_DATE.match(shown)
    if short:  # "10-13": parse_date reads month and day only when written 10月13日
        shown = f"{int(short['m'])}月{int(short['d'])}日{short['clock'] or ''}"
    return parse_date(shown, page.tz, page.now)
