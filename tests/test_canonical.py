"""One article, one canonical URL, however the link to it was dressed up."""
from __future__ import annotations

import pytest

from pipelines.analysis.urls import arxiv_id, canonical_url, strip_tracking

BASE = "https://36kr.com/p/1931939259730306"


@pytest.mark.parametrize("variant", [
    "https://36kr.com/p/1931939259730306?utm_source=wechat&utm_medium=social",
    "https://36kr.com/p/1931939259730306?from=timeline",
    "https://36kr.com/p/1931939259730306#comments",
    "https://36KR.com/p/1931939259730306",
    "http://36kr.com/p/1931939259730306",
    "https://36kr.com/p/1931939259730306/",
    "https://36kr.com:443/p/1931939259730306?spm=a2c4g.1",
    "  https://36kr.com/p/1931939259730306  ",
])
def test_tracking_case_scheme_and_slash_variants_are_one(variant):
    assert canonical_url(variant) == BASE


def test_argument_order_does_not_matter_and_real_parameters_stay():
    assert canonical_url("https://a.test/x?b=2&a=1") == canonical_url("https://a.test/x?a=1&b=2")
    assert canonical_url("https://app.myzaker.com/news/article.php?pk=63476be18e9f0903ac797c80") == \
        "https://app.myzaker.com/news/article.php?pk=63476be18e9f0903ac797c80"
    assert canonical_url("https://a.test/x?page=2") != canonical_url("https://a.test/x?page=3")


def test_tencent_share_parameters_go():
    assert canonical_url("https://view.inews.qq.com/a/20221014A00Q4500?tbkt=D&uid=&refer=wx_hot") == \
        "https://view.inews.qq.com/a/20221014A00Q4500"


def test_wechat_keeps_only_its_identity():
    long = ("https://mp.weixin.qq.com/s?__biz=MzA3MzI4MjgzMw==&mid=2650856040&idx=1&sn=4a2f"
            "&chksm=84e5&scene=21&sessionid=9#wechat_redirect")
    short = "https://mp.weixin.qq.com/s?sn=4a2f&idx=1&mid=2650856040&__biz=MzA3MzI4MjgzMw=="
    assert canonical_url(long) == canonical_url(short)
    assert canonical_url("https://mp.weixin.qq.com/s/qDwVdgPJCkArDOL4azvX1A?scene=1") == \
        "https://mp.weixin.qq.com/s/qDwVdgPJCkArDOL4azvX1A"


@pytest.mark.parametrize("url", [
    "https://arxiv.org/abs/2210.03142", "https://arxiv.org/abs/2210.03142v2",
    "http://arxiv.org/pdf/2210.03142.pdf", "https://arxiv.org/pdf/2210.03142v1",
    "https://export.arxiv.org/abs/2210.03142", "https://www.arxiv.org/html/2210.03142v3",
])
def test_every_arxiv_form_is_one_paper(url):
    assert arxiv_id(url) == "2210.03142"
    assert canonical_url(url) == "https://arxiv.org/abs/2210.03142"


def test_old_style_arxiv_ids_and_non_papers():
    assert arxiv_id("https://arxiv.org/abs/cs/0112017") == "cs/0112017"
    assert arxiv_id("https://arxiv.org/list/cs.AI/recent") is None
    assert arxiv_id("https://example.com/abs/2210.03142") is None


@pytest.mark.parametrize("url", ["ftp://a.test/x", "file:///etc/passwd", "javascript:alert(1)",
                                 "data:text/html,x", "not a url"])
def test_non_http_urls_are_refused(url):
    with pytest.raises(ValueError):
        canonical_url(url)


def test_strip_tracking_keeps_the_address_readers_know():
    assert strip_tracking("http://A.test/p/1?utm_source=rss&id=3#top") == "http://A.test/p/1?id=3"
    assert strip_tracking("https://a.test/x?a=%2F") == "https://a.test/x?a=%2F"
