"""Page bytes to text, without trusting a charset that the bytes contradict.

Chinese sites still serve GBK, GB18030 and Big5, often with no charset anywhere, and
sometimes with an HTTP header or a ``<meta>`` that names the wrong one. The order:
a byte-order mark; UTF-8 when the bytes are valid UTF-8 (other encodings of Chinese text
practically never are); the declared charsets that decode the bytes cleanly; then
charset-normalizer's guess; GB18030 with replacement as the last resort.
"""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_\-.]+)""")
# Decode Chinese legacy charsets with their supersets: a page labelled gb2312 routinely
# holds GBK characters, and big5 pages use the HKSCS extensions.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "x-gbk": "gb18030",
              "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "cp950": "big5hkscs"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def declared_charsets(body: bytes, content_type: str | None = None) -> list[str]:
    """Charsets named by the Content-Type header, an XML declaration or a <meta> tag."""
    found: list[str] = []
    if content_type:
        match = re.search(r"charset\s*=\s*[\"']?([\w\-:.]+)", content_type, re.IGNORECASE)
        if match:
            found.append(match.group(1))
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            found.append(match.group(1).decode("ascii", "ignore"))
    return found


def _codec(name: str) -> str | None:
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding used)`` for page bytes."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = declared_charsets(body, content_type)
    if any(_codec(name) == "utf-8" for name in declared):
        # A UTF-8 page with a few broken bytes (a truncated multi-byte character, one bad
        # paste) is still UTF-8; one stray byte must not send it to a charset guesser.
        text = body.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(2, len(text) // 2000):
            return text, "utf-8"
    for name in declared:
        codec = _codec(name)
        if codec and codec not in ("utf-8", "ascii"):
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                continue
    best = from_bytes(body[:65536]).best()
    if best is not None:
        codec = _codec(best.encoding)
        if codec:
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                pass
    return body.decode("gb18030", errors="replace"), "gb18030"
