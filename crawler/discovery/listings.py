"""Listing pages: a channel, newsflash or blog index read with per-source link rules.

Rules come from a source's ``options`` in the configuration:

- ``format = "html"`` (the default): ``item`` selects each entry of the list (optional:
  without it every ``link`` match is an entry of its own); ``link`` selects the entry's
  link within it (default ``a[href]``, or the entry itself when it is a link); ``title``
  and ``date`` select the text shown with the link, within the entry (defaults: the link's
  own text, and no date); ``next_page`` selects the link to the next page. A selector is
  CSS unless it starts with ``/``, ``./`` or ``(``: then it is XPath (inside an entry,
  start it with ``./``).
- ``format = "json"``: the page is JSON (an API answer), or ``script`` is a regular
  expression whose first group captures JSON embedded in the page (``window.DATA = {...}``).
  ``item`` is the dotted path to the list of entries (``data.list``); ``link``, ``title``
  and ``date`` are dotted paths within an entry, and ``link`` may be a template such as
  ``https://36kr.com/newsflashes/{itemId}``.

``url_pattern`` (a regular expression) keeps only the links that match it. The title and
date shown on the listing travel with each link as hints. A rule that matches nothing is
an error (the site changed its layout), never an empty listing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from cssselect import SelectorError
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from crawler.discovery import DiscoveryError, Found, one_line
from pipelines.analysis.dates import from_timestamp, parse_date
from pipelines.analysis.encoding import decode_html
from pipelines.analysis.links import clean_url

FORMATS = ("html", "json")
DEFAULT_LINK = "a[href]"
XPATH_STARTS = ("/", "./", "(")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclass(slots=True, frozen=True)
class ListingRules:
    format: str = "html"
    item: str | None = None
    link: str | None = None
    title: str | None = None
    date: str | None = None
    next_page: str | None = None
    script: str | None = None
    url_pattern: str | None = None
    max_pages: int = 1

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ListingRules:
        """The rules in a source's options; ValueError ``"KEY: problem"`` when they are wrong."""
        rules = cls(**{key: options[key] for key in cls.__slots__ if key in options})
        if rules.format not in FORMATS:
            raise ValueError(f"format: {rules.format!r} is not one of {', '.join(FORMATS)}")
        if rules.format == "html":
            if not (rules.item or rules.link):
                raise ValueError("link: missing (give link, or item and link, as CSS or XPath)")
            if rules.script:
                raise ValueError("script: only for format = \"json\"")
            for key in ("item", "link", "title", "date", "next_page"):
                if getattr(rules, key):
                    check_selector(getattr(rules, key), key)
        else:
            for key in ("item", "link"):
                if not getattr(rules, key):
                    raise ValueError(f"{key}: missing (a dotted path into the JSON, such as data.list)")
            if rules.next_page:
                raise ValueError("next_page: not available for format = \"json\"")
        return rules


def is_xpath(selector: str) -> bool:
    return selector.lstrip().startswith(XPATH_STARTS)


def check_selector(selector: str, key: str = "selector") -> None:
    """ValueError ``"KEY: problem"`` when ``selector`` is neither valid CSS nor valid XPath."""
    try:
        if is_xpath(selector):
            etree.XPath(selector)
        else:
            HTMLTranslator().css_to_xpath(selector)
    except (etree.XPathSyntaxError, SelectorError) as exc:
        language = "XPath" if is_xpath(selector) else "CSS"
        raise ValueError(f"{key}: {selector!r} is not a valid {language} selector ({one_line(exc)})") from None


@dataclass(slots=True)
class Listing:
    found: list[Found]
    next_page: str | None = None
    entries: int = 0  # entries the rules matched
    filtered: int = 0  # links left out: not http(s), or not matching url_pattern


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def read_listing(body: bytes, url: str, content_type: str | None, rules: ListingRules, tz: tzinfo,
                 now: datetime | None = None) -> Listing:
    """The article links on one listing page, with their hints; DiscoveryError when the
    rules find none."""
    text, _ = decode_html(body, content_type)
    text = _CONTROL.sub("", text)  # (lxml refuses them in attribute values)
    if not text.strip():
        raise DiscoveryError("empty page")
    pattern = re.compile(rules.url_pattern) if rules.url_pattern else None
    if rules.format == "json":
        raw = _json_entries(text, rules, tz, now)
        next_page = None
    else:
        raw, next_page = _html_entries(text, url, rules, tz, now)
    listing = Listing(found=[], next_page=next_page, entries=len(raw))
    seen: set[str] = set()
    for href, title, published in raw:
        absolute = clean_url(href, url) if href else None
        if absolute is None or (pattern is not None and not pattern.search(absolute)):
            listing.filtered += 1
            continue
        if absolute not in seen:
            seen.add(absolute)
            listing.found.append(Found(absolute, title=title, published=published))
    if not listing.found:
        if pattern is not None and listing.entries:
            raise DiscoveryError(f"none of the {listing.entries} links matches url_pattern {rules.url_pattern!r}")
        raise DiscoveryError(f"{listing.entries} entries matched, but none holds an http(s) link")
    return listing


# --- HTML ---------------------------------------------------------------------------------

def _select(node: Selector, selector: str):
    return node.xpath(selector) if is_xpath(selector) else node.css(selector)


def _text_of(found) -> str | None:
    """A matched element's text (an attribute or text node: its value), on one line."""
    if not found:
        return None
    first = found[0]
    if isinstance(first.root, str):
        value = first.root
    else:
        value = first.attrib.get("datetime") or " ".join(first.xpath(".//text()").getall())
    return " ".join(value.split()) or None


def _href(found) -> str | None:
    if not found:
        return None
    first = found[0]
    if isinstance(first.root, str):
        return first.root.strip() or None
    return first.attrib.get("href") or first.xpath("(.//a/@href)[1]").get()


def _html_entries(text: str, url: str, rules: ListingRules, tz: tzinfo, now: datetime | None):
    page = Selector(text=_XML_DECLARATION.sub("", text, count=1), type="html", base_url=url)
    selector = rules.item or rules.link or DEFAULT_LINK
    entries = _select(page, selector)
    if not entries:
        raise DiscoveryError(f"selector {selector!r} matched nothing")
    raw: list[tuple[str | None, str | None, datetime | None]] = []
    for entry in entries:
        if rules.item and rules.link:
            link = _select(entry, rules.link)
        elif rules.item:
            link = [entry] if getattr(entry.root, "tag", None) == "a" else entry.css(DEFAULT_LINK)
        else:
            link = [entry]
        title = _text_of(_select(entry, rules.title)) if rules.title else None
        if title is None and link and not isinstance(link[0].root, str):
            title = _text_of(link[:1]) or link[0].attrib.get("title")
        date_text = _text_of(_select(entry, rules.date)) if rules.date else None
        raw.append((_href(link), title, parse_date(date_text, tz, now) if date_text else None))
    next_page = _href(_select(page, rules.next_page)) if rules.next_page else None
    return raw, (clean_url(next_page, url) if next_page else None)


# --- JSON ---------------------------------------------------------------------------------

def _json_entries(text: str, rules: ListingRules, tz: tzinfo, now: datetime | None):
    if rules.script:
        match = re.search(rules.script, text)
        if match is None or not match.groups():
            raise DiscoveryError(f"script pattern {rules.script!r} matched nothing")
        text = match.group(1)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DiscoveryError(f"not JSON ({one_line(exc)})") from None
    entries = _path(data, rules.item)
    if not isinstance(entries, list):
        raise DiscoveryError(f"item path {rules.item!r} leads to no list")
    if not entries:
        raise DiscoveryError(f"item path {rules.item!r} holds no entries")
    raw: list[tuple[str | None, str | None, datetime | None]] = []
    for entry in entries:
        link = _template(entry, rules.link) if "{" in rules.link else _path(entry, rules.link)
        title = _path(entry, rules.title) if rules.title else None
        raw.append((link if isinstance(link, str) else None,
                    " ".join(title.split()) or None if isinstance(title, str) else None,
                    _json_date(_path(entry, rules.date), tz, now) if rules.date else None))
    return raw


def _path(data: Any, path: str | None) -> Any:
    """``a.b.0.c`` into nested objects and lists; None where the path leads nowhere."""
    for step in (path or "").split("."):
        if not step:
            continue
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def _template(entry: Any, template: str) -> str | None:
    values = {name: _path(entry, name) for name in _FIELD.findall(template)}
    if any(value in (None, "") or isinstance(value, (dict, list)) for value in values.values()):
        return None
    return _FIELD.sub(lambda m: str(values[m.group(1)]), template)


def _json_date(value: Any, tz: tzinfo, now: datetime | None) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return from_timestamp(value)
    return parse_date(str(value), tz, now) if isinstance(value, str) else None
