"""WeChat public-account articles (``mp.weixin.qq.com/s/...``).

The body is the article container, which the page ships hidden until its scripts run;
the title is in ``#activity-name``; the account name is the author; the publish time is
only in script (``var ct = "1665709920"``), never a date from a link the article cites;
images are lazy (``data-src``, often ``mmbiz.qpic.cn/...?wx_fmt=png`` with no extension);
the 阅读原文 link is the post the article is based on. Expired, deleted, blocked and
"verify first" pages carry no container and one short notice.
"""
from __future__ import annotations

from pipelines.analysis.dates import from_timestamp
from pipelines.analysis.links import Link, clean_url, link_role
from pipelines.analysis.sites.base import (
    Page,
    SiteFields,
    block_text,
    first,
    first_text,
    host_in,
    images_in,
    meta_content,
    script_var,
)

NAME = "wechat"
HOSTS = ("mp.weixin.qq.com",)
BODY = ('//*[@id="js_content"]', '//*[contains(concat(" ", normalize-space(@class), " "), " rich_media_content ")]')
TITLE = ('//*[@id="activity-name"]', '//h1[contains(@class, "rich_media_title")]', '//h2[contains(@class, "rich_media_title")]')
ACCOUNT = ('//*[@id="js_name"]', '//*[contains(@class, "profile_nickname")]', '//*[@id="profileBt"]//a')
SOURCE_LINK = '//*[@id="js_view_source"]/@href'
# The notices WeChat shows instead of an article, and the reason each gives.
NOTICES = (
    ("链接已过期", "expired"), ("该内容已被发布者删除", "deleted"), ("此内容已被删除", "deleted"),
    ("此内容因违规无法查看", "blocked"), ("此内容被投诉且经审核涉嫌侵权", "blocked"),
    ("该公众号已迁移", "moved"), ("环境异常", "verification"), ("完成验证后即可继续访问", "verification"),
    ("请在微信客户端打开链接", "verification"), ("参数错误", "bad link"), ("内容已被删除", "deleted"),
)


def matches(page: Page) -> bool:
    return host_in(page, HOSTS) or ('id="js_content"' in page.html and "var ct" in page.html)


def extract(page: Page) -> SiteFields:
    body = first(page.tree, *BODY)
    if body is None:
        text = " ".join(" ".join(page.tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::style)]")).split())
        reason = next((why for notice, why in NOTICES if notice in text), "no article container")
        return SiteFields(not_article=f"wechat: {reason}")
    fields = SiteFields(
        title=first_text(page.tree, *TITLE) or meta_content(page.tree, "og:title") or script_var(page.html, "msg_title"),
        text=block_text(body),
        body=body,
        description=meta_content(page.tree, "og:description") or script_var(page.html, "msg_desc"),
        images=images_in(body, page.url),
        canonical_url=_long_url(page),
    )
    account = first_text(page.tree, *ACCOUNT) or script_var(page.html, "nickname")
    if account:
        fields.authors = [account]
    stamp = script_var(page.html, "ct") or script_var(page.html, "create_time")
    fields.published = from_timestamp(stamp) if stamp else None
    fields.links = _source_link(page)
    return fields


def _long_url(page: Page) -> str | None:
    """``msg_link``: the article's address by __biz, mid, idx and sn."""
    link = script_var(page.html, "msg_link")
    if link and "__biz=" in link:
        return link.replace("&amp;", "&").replace("http://", "https://", 1)
    return None


def _source_link(page: Page) -> list[Link]:
    """The 阅读原文 ("read the original") link, when the account gave one."""
    raw = script_var(page.html, "msg_source_url") or first_text(page.tree, SOURCE_LINK)
    url = clean_url(raw.replace("&amp;", "&")) if raw else None
    return [Link(url=url, role=link_role(url, "阅读原文"), label="阅读原文")] if url else []

