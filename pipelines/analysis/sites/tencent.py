"""Tencent News articles (``new.qq.com/rain/a/<id>``, ``new.qq.com/omn/<id>``,
``view.inews.qq.com/a/<id>`` and ``/k/<id>``).

Article pages declare ``window.DATA = {...}``: ``title``, ``media`` (the account that
published the piece: our author), ``pubtime`` (naive Beijing time, "2022-10-14 08:30:12"),
``abstract``, and on pages whose body the browser builds, ``originContent.text``: the body
HTML, its images left as ``<!--IMG_0-->`` comments that ``originAttribute`` resolves. The
app-share pages on view.inews.qq.com carry the article in ``window.initData.content``
instead: ``cnt_html`` with the same comments resolved by ``cnt_attr``, ``src`` (the account),
``pub_time``. A server-rendered body (``.content-article``, the older
``#Cnt-Main-Article-QQ``) is read when it has text, as the page shows it. A deleted article
is one short notice and no body.
"""
from __future__ import annotations

import re
from datetime import datetime
from html import escape

from pipelines.analysis.dates import from_timestamp, parse_date
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
)

NAME = "tencent"
HOSTS = ("new.qq.com", "inews.qq.com", "news.qq.com")
DATA = "window.DATA"
INIT_DATA = ("window.initData", "window.__initData")
# Where each state keeps the body HTML and the images its comments stand for.
DATA_BODY, DATA_IMAGES = (("originContent", "text"),), "originAttribute"
INIT_BODY, INIT_IMAGES = (("cnt_html",), ("content", "text")), "cnt_attr"
BODY = ('//*[contains(concat(" ", normalize-space(@class), " "), " content-article ")]',
        '//*[@id="Cnt-Main-Article-QQ"]', '//*[contains(@class, "qq_article")]//*[contains(@class, "content")]')
TITLE = ('//*[contains(@class, "LEFT")]//h1', '//*[contains(@class, "qq_article")]//h1', '//h1')
ACCOUNT = ('//*[contains(@class, "media-name")]', '//a[contains(@class, "author")]')
IMAGE_SLOT = re.compile(r"<!--\s*(IMG_\d+)\s*-->")
# The notices Tencent shows instead of an article, and the reason each gives.
NOTICES = (("内容已删除", "deleted"), ("文章已被删除", "deleted"), ("该文章已删除", "deleted"),
           ("内容不存在", "not found"), ("页面不存在", "not found"), ("已下线", "offline"))


def matches(page: Page) -> bool:
    html = page.html
    return host_in(page, HOSTS) or (DATA in html and '"pubtime"' in html and '"media"' in html)


def extract(page: Page) -> SiteFields:
    data = _state(page, (DATA,))
    content = dig(_state(page, INIT_DATA), "content")
    content = content if isinstance(content, dict) else {}
    fields = SiteFields(
        title=clean(data.get("title")) or clean(content.get("title")) or first_text(page.tree, *TITLE),
        published=_published(page, data, content),
        description=clean(data.get("abstract")) or clean(content.get("abstract")) or meta_content(page.tree, "description"),
    )
    account = (clean(data.get("media")) or clean(content.get("src")) or clean(content.get("source"))
               or clean(dig(content, "cardInfo", "chlname")) or first_text(page.tree, *ACCOUNT))
    fields.authors = [account] if account else []
    body = first(page.tree, *BODY)
    if body is None or not block_text(body):
        body = fragment(_body_html(data, DATA_BODY, DATA_IMAGES) or _body_html(content, INIT_BODY, INIT_IMAGES) or "")
    if body is None or not block_text(body):
        text = " ".join(page.tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]"))
        reason = next((why for notice, why in NOTICES if notice in text), None)
        # No notice and no body (a video page, say): the metadata, and trafilatura for the rest.
        return SiteFields(not_article=f"tencent: {reason}") if reason else fields
    fields.body, fields.text, fields.images = body, block_text(body), images_in(body, page.url)
    return fields


def _state(page: Page, markers: tuple[str, ...]) -> dict:
    for marker in markers:
        found = script_json(page.html, marker)
        if isinstance(found, dict):
            return found
    return {}


def _body_html(state: dict, paths: tuple[tuple[str, ...], ...], images: str) -> str | None:
    """The body HTML at the first of the paths that has one, image comments made ``<img>``."""
    html = next((found for path in paths if isinstance(found := dig(state, *path), str) and found.strip()), None)
    if html is None:
        return None
    slots = state.get(images)
    slots = slots if isinstance(slots, dict) else {}

    def image(match: re.Match) -> str:
        url = _first_url(slots.get(match[1]))
        return f'<img src="{escape(url)}">' if url else ""

    return IMAGE_SLOT.sub(image, html)


def _first_url(value: object) -> str | None:
    """The first image address in an attribute entry (``imgurl0``, ``img.imgurl1000.imgurl``...)."""
    if isinstance(value, str):
        return value if value.startswith(("https://", "http://", "//")) else None
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return next((url for url in map(_first_url, value) if url), None)
    return None


def _published(page: Page, data: dict, content: dict) -> datetime | None:
    for value in (data.get("pubtime"), content.get("pub_time"), content.get("pubtime")):
        moment = parse_date(value, page.tz, page.now) if isinstance(value, str) else None
        if moment:
            return moment
    return from_timestamp(content.get("time"))
