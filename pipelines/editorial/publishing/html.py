"""An outline as HTML, in one structure for two looks: the WeChat article's inline
styles with numbered references (:mod:`.wechat`) and the archive's classes and links
(:mod:`.site`).

Every word from the archive is escaped, and only http(s) addresses become links or
references (:mod:`.outline` drops the rest), so a page's hostile title stays text.
"""
from __future__ import annotations

from html import escape
from typing import Protocol

from pipelines.editorial.publishing.outline import INSIGHTS_HEADING, MOMENTS_HEADING, Entry, Outline


class Look(Protocol):
    def attrs(self, role: str) -> str:
        """The attributes (a style, or a class) of an element of ``role``, with a leading space."""

    def link(self, label_html: str, url: str) -> str:
        """``label_html`` pointing at ``url``."""


def render_outline_html(outline: Outline, look: Look, images: dict[str, str] | None = None) -> str:
    """The outline's body; an entry's image appears only when ``images`` maps its URL to
    the copy to show."""
    a = look.attrs
    out = [f"<h1{a('title')}>{escape(outline.title)}</h1>"]
    if outline.section:
        out.append(f"<p{a('column')}>{escape(outline.section)}</p>")
    if outline.headline:
        out.append(f"<p{a('headline')}>{escape(outline.headline)}</p>")
    for section in outline.sections:
        if section.name:
            out.append(f"<h2{a('section')}>{escape(section.name)}</h2>")
        out += [_entry(entry, look, images or {}) for entry in section.entries]
    if outline.insights:
        out.append(f"<h2{a('section')}>{escape(INSIGHTS_HEADING)}</h2>")
        out.append(f"<ol{a('insights')}>" + "".join(f"<li{a('insight')}>{escape(text)}</li>"
                                                   for text in outline.insights) + "</ol>")
    if outline.moments:
        out.append(f"<h2{a('section')}>{escape(MOMENTS_HEADING)}</h2>")
        out.append(f"<p{a('moments')}>" + "<br>".join(escape(line) for line in outline.moments) + "</p>")
    return "\n".join(out)


def _entry(entry: Entry, look: Look, images: dict[str, str]) -> str:
    a = look.attrs
    number = entry.mark or f"{entry.number}."
    parts = [f"<section{a('item')}>",
             f"<h3{a('item-title')}><span{a('number')}>{escape(number)}</span> {escape(entry.title)}</h3>"]
    if entry.image and entry.image in images:
        parts.append(f"<p{a('figure')}><img{a('image')} src=\"{escape(images[entry.image])}\" alt=\"\"></p>")
    if entry.links:
        cited = f"<span{a('separator')}> · </span>".join(look.link(escape(label), url) for label, url in entry.links)
        parts.append(f"<p{a('source')}>{cited}</p>")
    if entry.summary:
        parts.append(f"<blockquote{a('summary')}>"
                     + "".join(f"<p{a('summary-text')}>{escape(p)}</p>" for p in entry.summary) + "</blockquote>")
    parts.append("</section>")
    return "".join(parts)
