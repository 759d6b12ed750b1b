"""Extraction on pages shaped like the sources the digest cites (our own sample pages)."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import DEMO_SITES, ROOT, SHARED, TEST_SITES
from pipelines.encoding import decode_html
from pipelines.extract import extract_article

# (file under the sample sites, URL, title, author, published UTC, cited links {url: role},
#  the source's time zone for a date written without one)
PAGES = [
    ("mp.weixin.demo.test/s/Xq3vK8mZr2TfLp9aWd-4Nb", "http://mp.weixin.demo.test/s/Xq3vK8mZr2TfLp9aWd-4Nb",
     "4比特也能跑得准：新研究让视觉Transformer在手机NPU上提速3倍", None, "2022-10-14T01:12:00+00:00",
     {"https://arxiv.org/abs/2210.03142": "paper"}),
    ("mp.weixin.demo.test/s/hT7_pR2cYwE5mQ0sUv8kLg", "http://mp.weixin.demo.test/s/hT7_pR2cYwE5mQ0sUv8kLg",
     "把策略网络量化到INT8，谷歌让分布式强化学习训练提速1.7倍", None, "2022-10-13T12:30:00+00:00",
     {"http://research.demo.test/2022/10/int8-actors-for-faster-rl.html": "article"}),
    ("mp.weixin.demo.test/s/9bN-fJ4xKa1oZs6DqW3eRt", "http://mp.weixin.demo.test/s/9bN-fJ4xKa1oZs6DqW3eRt",
     "只有300KB的端侧推理运行时开源了，一套代码适配十余款NPU", None, "2022-10-12T09:45:00+00:00",
     {"https://github.com/example-org/tiny-npu-runtime": "code"}),
    # A cited URL carries 2022/09/28: the date must still be the page's own.
    ("mp.weixin.demo.test/s/Lm2Vx_8Qp5RzT0yHc7NaJw", "http://mp.weixin.demo.test/s/Lm2Vx_8Qp5RzT0yHc7NaJw",
     "单芯片跑通城市NOA？远途汽车新一代智驾域控制器首次曝光", None, "2022-10-14T04:05:00+00:00",
     {"https://auto.example.com/2022/09/28/qiming-m1-roadmap": "other"}),
    ("36kr.demo.test/p/1931939259730306", "http://36kr.demo.test/p/1931939259730306",
     "36氪首发｜边缘AI芯片公司「芯瞰科技」完成数亿元B轮融资，车规级NPU明年量产", "沈拓",
     "2022-10-13T10:05:00+00:00", {}),
    ("news.demo.test/a/20221014A00Q4500.html", "http://news.demo.test/a/20221014A00Q4500.html",
     "北辰汽车与智核半导体成立自动驾驶合资公司 首款计算平台计划2024年量产", "王晓明",
     "2022-10-14T00:30:00+00:00", {}),
    ("arxiv.demo.test/abs/2210.01234", "http://arxiv.demo.test/abs/2210.01234",
     "MixQ-MCU: Hardware-Aware Mixed-Precision Quantization for Deep Neural Networks on Microcontrollers",
     None, "2022-10-12T04:00:00+00:00", {}, "America/New_York"),
    ("research.demo.test/2022/10/int8-actors-for-faster-rl.html",
     "http://research.demo.test/2022/10/int8-actors-for-faster-rl.html",
     "Int8 Actors: Faster Distributed Reinforcement Learning with Quantized Policies", None,
     "2022-10-11T07:00:00+00:00", {}, "America/Los_Angeles"),
]
PAGES = [page if len(page) == 7 else (*page, "Asia/Shanghai") for page in PAGES]
NOW = datetime(2022, 10, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize("path, url, title, author, published, links, zone", PAGES, ids=[p[0] for p in PAGES])
def test_sample_pages(path, url, title, author, published, links, zone):
    article = extract_article((DEMO_SITES / path).read_bytes(), url, tz=ZoneInfo(zone), now=NOW)
    assert article is not None
    assert article.title == title
    if author:
        assert article.author == author
    assert article.published == datetime.fromisoformat(published)
    got = {link.url: link.role for link in article.links}
    for link, role in links.items():
        assert got.get(link) == role, (link, got)
    assert "\ufffd" not in article.text and len(article.text) > 300
    assert article.language in ("zh", "en")


def test_gbk_page_without_any_charset():
    body = (DEMO_SITES / "news.demo.test/a/20221014A00Q4500.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert b"charset" not in body.lower()
    article = extract_article(body, None, now=NOW)
    assert "合资协议" in article.text and article.encoding == "gb18030"


def test_lying_utf8_header_over_gbk_bytes():
    body = (TEST_SITES / "pages.fixture.test/a/lying-charset.html").read_bytes()
    article = extract_article(body, None, content_type="text/html; charset=utf-8", now=NOW)
    assert article.title == "国产推理芯片完成适配" and "国产加速卡" in article.text
    assert "\ufffd" not in article.text


def test_utf8_with_one_broken_byte_stays_utf8():
    good = "<html><head><meta charset='utf-8'></head><body><p>" + "端侧推理芯片的竞争正在加剧。" * 20 + "</p></body></html>"
    body = good.encode("utf-8")
    body = body[:200] + b"\xff" + body[200:]
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert encoding == "utf-8" and text.count("端侧推理芯片") == 20


@pytest.mark.parametrize("body", [b"", b"   ", (TEST_SITES / "pages.fixture.test/a/app-shell.html").read_bytes()])
def test_pages_without_an_article(body):
    assert extract_article(body, "http://x.test/") is None


def test_same_page_same_result_every_time():
    body = (DEMO_SITES / "36kr.demo.test/p/1931939259730311").read_bytes()
    results = {repr(extract_article(body, "http://36kr.demo.test/p/1931939259730311", now=NOW)) for _ in range(5)}
    assert len(results) == 1


def test_xhtml_with_an_encoding_declaration():
    body = ('<?xml version="1.0" encoding="gbk"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>量化</title>'
            "</head><body><h1>模型量化进展</h1><p>" + "研究人员把模型量化到四比特并保持了精度。" * 10 + "</p></body></html>").encode("gbk")
    article = extract_article(body, None, now=NOW)
    assert article is not None and "四比特" in article.text


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason="../shared/corpus is not here")
def test_eval_extract_runs_clean_on_the_shared_corpus():
    result = subprocess.run([sys.executable, str(SHARED / "tools" / "eval_extract.py"), str(SHARED / "corpus")],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.strip().startswith("errors")]
    assert errors and all(line.split()[2] == "0" for line in errors), errors


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason="../shared/corpus is not here")
def test_no_date_that_is_a_silent_january_first_on_the_shared_corpus():
    """Across the Chinese corpus, a date we return is the gold day, or we return none."""
    wrong = []
    for meta_path in sorted((SHARED / "corpus" / "zh-pages").glob("*.json")):
        meta = json.loads(meta_path.read_text())
        body = gzip.decompress((meta_path.parent / f"{meta_path.stem}.html.gz").read_bytes())
        article = extract_article(body, meta["url"])
        if article and article.published and (article.published.month, article.published.day) == (1, 1):
            if not (meta.get("published") or "").endswith("-01-01"):
                wrong.append(meta_path.stem)
    assert not wrong
