"""The issue as one HTML fragment for the WeChat Official Account editor.

The editor keeps inline ``style`` attributes and drops ``<style>``, classes and scripts, so
every element carries its look; fonts are the reader's system fonts. An article cannot link
outside WeChat: every other address becomes a numbered reference (``[1]``) listed at the
end, and only ``mp.weixin.qq.com`` links stay links. Images are left out unless copies were
downloaded (:func:`download_images`): WeChat's own image hosts refuse hot-linking without
their Referer, so the article points at local copies the editor uploads with it.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.editorial.export import write_whole
from pipelines.editorial.publishing.html import render_outline_html
from pipelines.editorial.publishing.outline import Outline

logger = logging.getLogger(__name__)

WECHAT_HOSTS = ("mp.weixin.qq.com",)
_TEXT = "color:#333333;font-size:15px;line-height:1.75;letter-spacing:0.5px;"
# One look per element; system font stacks only (the editor loads no web fonts).
STYLES = {
    "article": "font-family:-apple-system,BlinkMacSystemFont,'PingFang SC','Hiragino Sans GB','Microsoft YaHei',"
               "sans-serif;" + _TEXT + "padding:0 4px;",
    "title": "font-size:22px;font-weight:bold;color:#1a1a1a;line-height:1.4;margin:0 0 12px;",
    "column": "font-size:13px;color:#8c8c8c;margin:0 0 8px;",
    "headline": "font-size:15px;color:#555555;background-color:#f6f8fa;padding:10px 12px;margin:0 0 16px;"
                "border-radius:4px;",
    "section": "font-size:18px;font-weight:bold;color:#0b5cad;border-left:4px solid #0b5cad;padding-left:8px;"
               "margin:24px 0 12px;",
    "item": "margin:0 0 18px;",
    "item-title": "font-size:16px;font-weight:bold;color:#1a1a1a;line-height:1.5;margin:0 0 6px;",
    "number": "color:#0b5cad;",
    "figure": "margin:8px 0;text-align:center;",
    "image": "max-width:100%;height:auto;",
    "source": "font-size:13px;color:#8c8c8c;margin:0 0 6px;",
    "separator": "color:#c0c0c0;",
    "summary": "margin:0;padding:8px 12px;border-left:3px solid #d0d7de;background-color:#fafafa;color:#555555;",
    "summary-text": "font-size:15px;line-height:1.75;margin:0;",
    "insights": "padding-left:20px;margin:0 0 12px;",
    "insight": "margin:0 0 6px;",
    "moments": "font-size:15px;color:#555555;margin:0;",
    "link": "color:#576b95;text-decoration:none;",
    "ref": "font-size:12px;color:#576b95;",
    "references": "font-size:18px;font-weight:bold;color:#0b5cad;margin:28px 0 8px;",
    "reference": "font-size:12px;color:#8c8c8c;line-height:1.6;margin:0 0 4px;word-break:break-all;",
}


class _WechatLook:
    """Inline styles; links outside WeChat become numbered references."""

    def __init__(self) -> None:
        self.references: dict[str, int] = {}

    def attrs(self, role: str) -> str:
        return f' style="{STYLES[role]}"' if role in STYLES else ""

    def link(self, label_html: str, url: str) -> str:
        if (urlsplit(url).hostname or "").lower() in WECHAT_HOSTS:
            return f'<a href="{escape(url)}"{self.attrs("link")}>{label_html}</a>'
        number = self.references.setdefault(url, len(self.references) + 1)
        return f"{label_html}<sup{self.attrs('ref')}>[{number}]</sup>"


def render_wechat(outline: Outline, images: dict[str, str] | None = None) -> str:
    """The fragment: the article, then its references."""
    look = _WechatLook()
    body = render_outline_html(outline, look, images)
    lines = [f"<section{look.attrs('article')}>", body]
    if look.references:
        lines.append(f"<p{look.attrs('references')}>参考链接</p>")
        lines += [f"<p{look.attrs('reference')}>[{n}] {escape(url)}</p>" for url, n in look.references.items()]
    lines.append("</section>")
    return "\n".join(lines) + "\n"


# --- images --------------------------------------------------------------------------------

class ImageFetchError(Exception):
    """An image that could not be fetched; the message is one line."""


# (url, referer) -> (body, content type); the caller's fetch keeps to the address policy.
Fetch = Callable[[str, str], tuple[bytes, str]]
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def download_images(outline: Outline, folder: Path, fetch: Fetch) -> tuple[dict[str, str], list[str]]:
    """Each entry's image into ``folder``, fetched with its article's page as Referer.

    Returns what :func:`render_wechat` takes (image URL -> the copy's path relative to the
    folder's parent, where the article is written) and one warning per image left out.
    """
    found: dict[str, str] = {}
    warnings: list[str] = []
    for entry in outline.entries:
        if not entry.image or entry.image in found:
            continue
        try:
            body, content_type = fetch(entry.image, entry.url)
        except ImageFetchError as exc:
            warnings.append(f"image of item {entry.number} left out: {entry.image}: {exc}")
            continue
        kind = IMAGE_TYPES.get(content_type.split(";")[0].strip().lower())
        if kind is None:
            warnings.append(f"image of item {entry.number} left out: {entry.image}: not an image ({content_type or 'no type'})")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{hashlib.sha256(entry.image.encode()).hexdigest()[:16]}.{kind}"
        write_whole(folder / name, body)
        found[entry.image] = f"{folder.name}/{name}"
    for warning in warnings:
        logger.info("%s", warning)
    return found, warnings
