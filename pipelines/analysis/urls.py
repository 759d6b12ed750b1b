"""Canonical URLs: one string per article however the link to it was dressed up.

Tracking parameters and fragments go, scheme and host case are normalised (http and https
name the same article), the query is sorted, a trailing slash is dropped; WeChat articles
keep only the parameters that identify them and every arXiv URL form becomes the abstract
page of one paper id. The canonical URL is an identity key: pages are fetched and cited by
the URL they were found under.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

logger = logging.getLogger(__name__)

# Query parameters that say who shared a link or how it was clicked, never which page it
# is. The exact names come from links cited in real issues and from the feeds we read.
TRACKING_PARAMS = frozenset({
    "from", "spm", "refer", "referer", "ref", "ref_src", "ref_url", "tbkt", "share_token",
    "fbclid", "gclid", "yclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "isappinstalled", "scene", "srcid", "clicktime", "enterid", "sharer_shareid",
    "sharer_sharetime", "_hsenc", "_hsmi", "mkt_tok", "wt.mc_id", "cmpid",
    "trk", "s_channel", "shareid", "sub_channel", "chksm", "sessionid", "subscene",
})
TRACKING_PREFIXES = ("utm_", "sharer_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
# A WeChat article is named by these four; everything else on its URL is session noise.
WECHAT_IDENTITY = ("__biz", "mid", "idx", "sn")
ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
ARXIV_PATH = re.compile(r"^/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
                        r"(?:v\d+)?(?:\.pdf)?/?$")


def arxiv_id(url: str) -> str | None:
    """The paper id an arXiv abs, pdf or html URL names (versions dropped), else None."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in ARXIV_HOSTS:
        return None
    match = ARXIV_PATH.match(parts.path)
    return match["id"] if match else None


def canonical_url(url: str) -> str:
    """The identity key of the page at ``url``; ValueError if it is not an http(s) URL."""
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL: {url!r}")
    paper = arxiv_id(url)
    if paper:
        return f"https://arxiv.org/abs/{paper}"
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = parse_qsl(parts.query, keep_blank_values=False)
    if host == "mp.weixin.qq.com" and path in ("/s", "/mp/appmsg/show"):
        wanted = [(k, v) for k, v in query if k in WECHAT_IDENTITY]
        query = wanted if len(wanted) == len(WECHAT_IDENTITY) else query
        path = "/s" if wanted else path
    query = sorted((k, v) for k, v in query if not _is_tracking(k))
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


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
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)
