"""Canonical URLs: one string per article however the link to it was dressed up.

Two layers. w3lib's ``canonicalize_url`` settles what RFC 3986 says is the same address:
percent escapes in one case and unreserved characters unescaped (``%7e`` is ``~``,
``%c3`` is ``%C3``; bytes that are no UTF-8, such as Latin-1 escapes, stay escaped rather
than becoming U+FFFD), dot segments resolved, IPv6 hosts kept in their brackets,
internationalised hosts in IDNA, the query sorted. On top of it, this project's policy,
all of it in the constants below: tracking parameters, empty parameters and fragments go;
http and https name the same article; default ports, repeated and trailing slashes go;
WeChat articles keep only the parameters that identify them, and every arXiv URL form
becomes the abstract page of one paper id. The canonical URL is an identity key (a change
here changes stored keys: see ``pipelines.archive.db._v8``); pages are fetched and cited
by the URL they were found under.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3lib_canonical

logger = logging.getLogger(__name__)

# --- the policy ------------------------------------------------------------------------
# Query parameters that say who shared a link or how it was clicked, never which page it
# is: names from links cited in real issues and the feeds we read, and the click ids and
# campaign names that ad and analytics platforms add (courlan strips the same families).
TRACKING_PARAMS = frozenset({
    "from", "spm", "refer", "referer", "ref", "ref_src", "ref_url", "tbkt", "share_token",
    "fbclid", "gclid", "yclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "isappinstalled", "scene", "srcid", "clicktime", "enterid", "sharer_shareid",
    "sharer_sharetime", "_hsenc", "_hsmi", "mkt_tok", "wt.mc_id", "cmpid",
    "trk", "s_channel", "shareid", "sub_channel", "chksm", "sessionid", "subscene",
    "s_cid", "clickid", "fb_ref", "fb_source", "fb_action_ids", "fb_action_types", "aff", "affiliate",
    "xtor", "ncid", "ocid", "icid", "guccounter", "_ga", "_gl", "gclsrc", "twclid", "ttclid",
    "wbraid", "gbraid", "partnerid", "igsh",
})
TRACKING_PREFIXES = ("utm_", "sharer_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci", "mtm_", "pk_", "ga_", "itm_",
                     "vero_", "oly_", "ads_")
# Endings that mark a campaign or referrer name whatever comes first (aftr_source, nl_medium).
TRACKING_SUFFIXES = ("_source", "_medium", "_campaign", "_ref", "_cid", "clickid")
# A WeChat article is named by these four; everything else on its URL is session noise.
WECHAT_IDENTITY = ("__biz", "mid", "idx", "sn")
ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
ARXIV_PATH = re.compile(r"^/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
                        r"(?:v\d+)?(?:\.pdf)?/?$")
DEFAULT_PORTS = (80, 443)


def arxiv_id(url: str) -> str | None:
    """The paper id an arXiv abs, pdf or html URL names (versions dropped), else None."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in ARXIV_HOSTS:
        return None
    match = ARXIV_PATH.match(parts.path)
    return match["id"] if match else None


def canonical_url(url: str) -> str:
    """The identity key of the page at ``url``; ValueError if it is not an http(s) URL."""
    if not isinstance(url, str):
        raise ValueError(f"not an http(s) URL: {url!r}")
    url = url.strip()
    try:
        first = urlsplit(url)
        if first.scheme.lower() not in ("http", "https") or not first.hostname:
            raise ValueError
        paper = arxiv_id(url)
        if paper:
            return f"https://arxiv.org/abs/{paper}"
        parts = urlsplit(w3lib_canonical(url, keep_fragments=False))
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except (ValueError, UnicodeError):
        raise ValueError(f"not an http(s) URL: {url[:200]!r}") from None
    if not host:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    if ":" in host:  # IPv6: the brackets belong to the address
        host = f"[{host}]"
    netloc = host if port in (None, *DEFAULT_PORTS) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    # The query as w3lib wrote it (escapes normalised, sorted): pairs are kept as written,
    # never decoded and encoded again, so no byte of a value changes.
    pairs = [pair.partition("=") for pair in parts.query.split("&") if pair]
    pairs = [(name, value) for name, _, value in pairs if value]
    if host == "mp.weixin.qq.com" and path in ("/s", "/mp/appmsg/show"):
        wanted = [(k, v) for k, v in pairs if unquote_plus(k) in WECHAT_IDENTITY]
        pairs = wanted if len(wanted) == len(WECHAT_IDENTITY) else pairs
        path = "/s" if wanted else path
    query = "&".join(f"{k}={v}" for k, v in pairs if not _is_tracking(unquote_plus(k)))
    return urlunsplit(("https", netloc, path, query, ""))


def strip_tracking(url: str) -> str:
    """``url`` as a reader should see it: tracking parameters and the fragment gone,
    everything else as it was."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
    if (parts.hostname or "").lower() == "mp.weixin.qq.com":
        identity = [(k, v) for k, v in kept if k in WECHAT_IDENTITY]
        kept = identity if len(identity) == len(WECHAT_IDENTITY) else kept
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return (lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)
            or lowered.endswith(TRACKING_SUFFIXES))
