"""36Kr articles (``36kr.com/p/<id>``, also on www. and m.) and newsflashes (``/newsflashes/<id>``).

The pages are built from ``window.initialState``: an article under
``articleDetail.articleDetailData.data`` (``widgetTitle``, ``author``, ``publishTime`` in
milliseconds, ``summary``, ``widgetContent`` as HTML), a newsflash under
``newsflashDetail.detailData.data`` (the same names; ``widgetContent`` is plain text and
``sourceUrlRoute`` holds the report it is based on). The HTML around it can be a bare shell,
so the state is read first. A newsflash page also carries the next flash
(``newsflashDetail.detailNextData``), which is never part of this one. Pages whose state is
missing or encrypted (``{"state": "...", "isEncrypt": true}``) are read from the rendered
HTML. A deleted article has no data and one short notice.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from pipelines.analysis.dates import from_timestamp, parse_date
from pipelines.analysis.links import Link, clean_url, link_role
from pipelines.analysis.sites.base import (
    Page,
    SiteFields,
    block_text,
    clean,
    dig,
    first,
    first_text,
    fragment,
    host_in,
    images_in,
    meta_content,
    script_json,
    split_authors,
)

NAME = "kr36"
HOSTS = ("36kr.com",)
STATE = "window.initialState="
ARTICLE = ("articleDetail", "articleDetailData", "data")
NEWSFLASH = ("newsflashDetail", "detailData", "data")
# The rendered page, for when the state cannot be read.
BODY = ('//*[contains(concat(" ", normalize-space(@class), " "), " articleDetailContent ")]',
        '//*[contains(concat(" ", normalize-space(@class), " "), " pre-item-des ")]')
TITLE = ('//h1[contains(@class, "article-title")]', '//*[contains(@class, "newsflash-detail")]//*[contains(@class, "item-title")]',
         '//h1')
AUTHOR = ('//*[contains(@class, "article-title-icon")]//a[contains(@class, "item-a")]',)
TIME = ('//*[contains(@class, "article-title-icon")]//*[contains(@class, "item-time")]',
        '//*[contains(@class, "newsflash-detail")]//*[contains(@class, "time")]')
SOURCE_LABEL = "原文链接"
# The notices 36Kr shows instead of an article, and the reason each gives.
NOTICES = (("文章不存在", "not found"), ("内容不存在", "not found"), ("页面不存在", "not found"),
           ("已被删除", "deleted"), ("已下线", "offline"))
# Co-authors are written "张三 李四"; split_authors keeps spaces (Latin names have them).
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def matches(page: Page) -> bool:
    return host_in(page, HOSTS) or (STATE in page.html and ('"articleDetail"' in page.html
                                                            or '"newsflashDetail"' in page.html))


def extract(page: Page) -> SiteFields:
    state = script_json(page.html, STATE)
    for path in (NEWSFLASH, ARTICLE) if "/newsflashes/" in (page.url or "") else (ARTICLE, NEWSFLASH):
        item = dig(state, *path)
        if isinstance(item, dict) and isinstance(item.get("widgetContent"), str):
            fields = _from_state(page, item)
            if fields.text:
                return fields
    return _from_html(page)


def _from_state(page: Page, item: dict) -> SiteFields:
    body = fragment(item["widgetContent"])
    fields = SiteFields(
        title=clean(item.get("widgetTitle")),
        authors=_authors(item.get("author")),
        published=from_timestamp(item.get("publishTime")),
        description=clean(item.get("summary")),
        links=_source_link(item.get("sourceUrlRoute")),
    )
    if body is not None:
        fields.body, fields.text, fields.images = body, block_text(body), images_in(body, page.url)
    return fields


def _from_html(page: Page) -> SiteFields:
    body = first(page.tree, *BODY)
    if body is None or not block_text(body):
        text = " ".join(page.tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]"))
        reason = next((why for notice, why in NOTICES if notice in text), None)
        # No notice: a listing or a page of another kind, for the generic extraction.
        return SiteFields(not_article=f"kr36: {reason}") if reason else SiteFields()
    shown = first_text(page.tree, *TIME)
    return SiteFields(
        title=first_text(page.tree, *TITLE),
        authors=_authors(first_text(page.tree, *AUTHOR)),
        published=parse_date(shown, page.tz, page.now, with_year=True) if shown else None,
        text=block_text(body),
        body=body,
        description=meta_content(page.tree, "description"),
        images=images_in(body, page.url),
    )


def _authors(name: object) -> list[str]:
    return split_authors(_CJK_SPACE.sub("、", name)) if isinstance(name, str) else []


def _source_link(route: object) -> list[Link]:
    """The report a newsflash is based on: ``sourceUrlRoute`` is ``detail_web?url=<quoted URL>``."""
    if not isinstance(route, str) or "url=" not in route:
        return []
    raw = (parse_qs(urlsplit(f"https://36kr.com/{route.lstrip('/')}").query).get("url") or [""])[0]
    url = clean_url(raw)
    return [Link(url=url, role=link_role(url, SOURCE_LABEL), label=SOURCE_LABEL)] if url else []
