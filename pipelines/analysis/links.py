"""The links an article cites, each with the role it plays in a digest item.

``paper``: arXiv (abs, pdf, html), OpenReview, ACL Anthology and PDF files (the
``論文地址`` line of an issue); ``code``: a GitHub or GitLab repository; ``article``: the post or
release the article reports on, recognised by the label before it (``文章链接``,
``原文链接``, ``博客``, ``blog``, ``官方``: the ``文章鏈接`` line); ``other`` for the rest.
WeChat articles cannot hold external links, so URLs written as plain text count as well.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from pipelines.analysis.urls import arxiv_id

# "discussion": a forum thread about the article (its Hacker News story), kept by the
# source that found it, never read from the page.
ROLES = ("paper", "article", "code", "other", "discussion")
PAPER_HOSTS = ("openreview.net", "aclanthology.org", "www.aclweb.org", "proceedings.mlr.press",
               "papers.nips.cc", "proceedings.neurips.cc", "openaccess.thecvf.com", "dl.acm.org",
               "ieeexplore.ieee.org", "www.semanticscholar.org", "paperswithcode.com")
CODE_HOSTS = ("github.com", "gitlab.com", "gitee.com")
# A label just before a URL saying "this is the post the item is about".
ARTICLE_LABEL = re.compile(r"(文章链接|文章鏈接|原文链接|原文鏈接|原文地址|阅读原文|閱讀原文|博客|blog|官方|官网|官網|新闻稿|press release)",
                           re.IGNORECASE)
TEXT_URL = re.compile(r"https?://[^\s<>\"'，。；、）】」》]+", re.IGNORECASE)
# Repository pages, not a user's profile or GitHub's own pages.
_REPO_PATH = re.compile(r"^/(?!features|topics|about|pricing|login|orgs|settings|marketplace|sponsors)"
                        r"[\w.-]+/[\w.-]+/?")
# Share buttons, ad and tracking redirects: links on every page, cited by none.
NOT_CITED = re.compile(r"^https?://(?:[^/]*\.)?(?:service\.weibo\.com/share|connect\.qq\.com|sns\.qzone\.qq\.com|"
                       r"facebook\.com/sharer|twitter\.com/(?:intent|share)|x\.com/intent|linkedin\.com/share|"
                       r"addthis\.com|sharethis\.com|doubleclick\.net|googleadservices\.com|googlesyndication\.com|"
                       r"pos\.baidu\.com|cpro\.baidu\.com|e\.so\.com|mail\.qq\.com/cgi-bin/qm_share|"
                       r"res\.wx\.qq\.com|mp\.weixin\.qq\.com/mp/(?:profile_ext|qrcode|homepage))", re.IGNORECASE)
_LABEL_WINDOW = 24  # characters before a URL read as its label: "论文地址：" and a little more


@dataclass(slots=True, frozen=True)
class Link:
    url: str
    role: str
    label: str = ""


def link_role(url: str, label: str = "") -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.lower()
    if arxiv_id(url) or (host in PAPER_HOSTS and len(path.strip("/")) > 0) or path.endswith(".pdf"):
        return "paper"
    if host in CODE_HOSTS and _REPO_PATH.match(parts.path):
        return "code"
    if label and ARTICLE_LABEL.search(label):
        return "article"
    return "other"


def clean_url(raw: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL, trailing punctuation dropped; None for anything else."""
    raw = raw.strip().rstrip(".,;:!?)]}'\"")
    try:
        url = urljoin(base, raw) if base else raw
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return url


def cited_links(anchors: list[tuple[str, str]], text: str, page_url: str | None,
                base: str | None = None) -> list[Link]:
    """Links cited in an article body.

    ``anchors`` are (href, words before and inside the anchor) from the extracted body,
    relative hrefs resolved against ``base`` (the page's ``<base href>``; by default its
    URL); ``text`` is the body text, searched for URLs written out as text.
    """
    found: dict[str, Link] = {}
    page = (page_url or "").split("#")[0]

    def add(url: str | None, label: str) -> None:
        if not url or url.split("#")[0] == page or NOT_CITED.match(url):
            return
        label = " ".join(label.split())[-_LABEL_WINDOW:]
        role = link_role(url, label)
        known = found.get(url)
        if known is None or (known.role == "other" and role != "other"):
            found[url] = Link(url=url, role=role, label=label)

    for href, label in anchors:
        add(clean_url(href, base or page_url), label)
    for line in text.splitlines():
        # A URL holds "://": the test skips most lines, where the pattern (case-blind, so
        # with no first character to skip ahead to) would be tried at every position.
        for match in TEXT_URL.finditer(line) if "://" in line else ():
            add(clean_url(match.group(0)), line[: match.start()])
    return list(found.values())
