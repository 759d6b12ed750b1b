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

from pipelines.analysis.encoding import decode_html
from pipelines.extract import SHIPPED_TIMEZONE, extract_article

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
     None, "2022-10-12T14:23:51+00:00", {}, "America/New_York"),
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


def news_page(title: str, date_line: str = "", body: str | None = None, extra: str = "", head: str = "") -> str:
    body = body or ("<p>某芯片公司今日发布了一款面向端侧推理的神经网络处理器，采用七纳米工艺，算力达到每秒十六万亿次运算，"
                    "功耗仅为三瓦。该芯片支持八位和四位量化模型，并提供完整的编译工具链。</p>"
                    "<p>公司表示，新芯片将首先用于智能摄像头和车载前装市场，明年一季度量产。业内人士认为，端侧推理芯片的"
                    "竞争将进一步加剧，价格也会随之下降，开发者的选择会越来越多。</p>")
    return (f"<html><head><title>{title}_测试新闻网</title>{head}</head><body><div class='nav'><a href='/'>首页</a>"
            f"<a href='/tech'>科技</a></div><h1>{title}</h1><div class='info'>{date_line}</div>"
            f"<div class='article'>{body}</div>{extra}<div class='footer'>关于我们 | 联系方式</div></body></html>")


@pytest.mark.parametrize("encoding, header", [
    ("big5", None), ("gb18030", None), ("gbk", "text/html; charset=iso-8859-1"),
    ("gbk", "text/html; charset=utf-8"), ("big5", "text/html; charset=gbk"),
])
def test_legacy_chinese_encodings_with_missing_or_lying_charsets(encoding, header):
    """Scenarios 10-11: GBK, GB18030 and Big5 with no charset or a wrong one."""
    title = "國產推理晶片完成適配" if encoding == "big5" else "国产推理芯片完成适配𠀀" if encoding == "gb18030" else "国产推理芯片完成适配"
    html = news_page(title)
    if encoding == "big5":
        html = html.replace("某芯片公司今日发布了一款面向端侧推理的神经网络处理器", "某晶片公司今日發布了一款面向端側推理的神經網路處理器")
        html = html.replace("首页", "首頁").replace("科技", "科技")
    body = html.encode(encoding, errors="ignore")
    article = extract_article(body, "http://news.test/a/1.html", content_type=header, now=NOW)
    assert article is not None
    assert article.title == title.replace("𠀀", "𠀀")
    assert not any(marker in article.text + article.title for marker in ("\ufffd", "锟斤拷", "Ã", "â€"))
    assert ("端側推理" if encoding == "big5" else "端侧推理") in article.text


@pytest.mark.parametrize("date_line, expected", [
    ("发布时间：2022年10月14日", "2022-10-14T00:00:00+08:00"),
    ("<time>2022年01月05日</time>", "2022-01-05T00:00:00+08:00"),
    ("10月14日 10:30", "2022-10-14T10:30:00+08:00"),
    ("二〇二二年十月十四日", "2022-10-14T00:00:00+08:00"),
    ("2022年10月14日 08:30 来源：新锐汽车", "2022-10-14T08:30:00+08:00"),
    ("", None),
])
def test_chinese_dates_in_pages(date_line, expected):
    """Scenario 12: the right date or none, never 2022-01-01 from 2022年10月14日."""
    article = extract_article(news_page("端侧芯片发布", date_line).encode(), "http://news.test/a/2.html", now=NOW)
    assert article.published == (datetime.fromisoformat(expected) if expected else None)
    assert article.published_from == ("page" if expected else None)


def test_a_date_in_a_cited_link_is_not_the_pages_date():
    body = news_page("端侧芯片发布", "", extra="<p>参考：<a href='https://x.test/2021/03/05/old.html'>"
                                            "https://x.test/2021/03/05/old.html</a></p>")
    assert extract_article(body.encode(), "http://news.test/a/3.html", now=NOW).published is None


def test_a_timestamp_in_a_script_counts_only_at_a_word_start():
    """``var ct = "…"`` (WeChat's publication time) dates a page; the same words inside a
    longer name (``xcreate_time``) do not."""
    script = '<script>window.xcreate_time = 1600000000; var ct = "1665709920";</script>'
    article = extract_article(news_page("端侧芯片发布", "", extra=script).encode(), "http://news.test/a/4.html", now=NOW)
    assert article.published == datetime(2022, 10, 14, 1, 12, tzinfo=timezone.utc)
    assert article.published_from == "page"


@pytest.mark.parametrize("text, names", [
    ("某芯片公司今日发布新品。本报讯（记者 胡晓蓉）该公司表示明年量产。", ["胡晓蓉"]),
    ("他在接受记者采访时表示，明年量产。这是一段足够长的正文内容。", None),  # running text, no label
    ("由 海风 张贴 @ 2005-06-10 端侧推理芯片的一些想法，写在这里。", ["海风"]),
    ("这就是理由 海风 张贴的帖子写在这里，内容足够长了。", None),  # 由 inside a word
])
def test_labels_count_at_the_start_of_the_text_or_after_a_break(text, names):
    """"记者" and the forum's "由 … 张贴" are bylines at the text's start or after a space or an
    opening bracket, not inside running words."""
    from pipelines.analysis.authors import find_byline

    found = find_byline(text, None, text, None)
    assert (found[1] if found else None) == names


@pytest.mark.parametrize("html, reason", [
    (news_page("安全验证", body="<p>请输入验证码以继续访问。</p><img src='/captcha.png'>"), "captcha or verification page"),
    ("<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before accessing</h1>"
     "<p>This process is automatic. Your browser will redirect to your requested content shortly.</p></body></html>",
     "captcha or verification page"),
    (news_page("页面不存在", body="<p>抱歉，您访问的页面不存在或已被删除，请返回首页继续浏览。</p>"), "soft 404"),
    ("<html><head><title>科技频道</title></head><body>" + "".join(
        f"<li><a href='/a/{n}.html'>第{n}条新闻标题在这里</a></li>" for n in range(60)) + "</body></html>", "listing page"),
])
def test_pages_that_are_not_articles_say_why(html, reason):
    from pipelines.analysis.extract import extract

    result = extract(html.encode(), "http://news.test/x", tz=SHIPPED_TIMEZONE, now=NOW)
    assert result.article is None and result.reason == reason


def test_a_news_flash_is_kept_whole():
    flash = "36氪获悉，边缘AI芯片公司芯瞰科技完成数亿元B轮融资，本轮由一家产业资本领投，资金将主要用于车规级NPU芯片的量产导入和工具链研发。"
    article = extract_article(news_page("芯瞰科技完成B轮融资", body=f"<p>{flash}</p>").encode(), "http://news.test/f/1", now=NOW)
    assert article is not None and flash in article.text


def _passes(monkeypatch) -> list[bool]:
    """The trafilatura passes extraction makes (True: the fast one), each really run."""
    from pipelines.analysis import extract as module

    passes: list[bool] = []
    real = module._trafilatura

    def counted(tree, fast):
        passes.append(fast)
        return real(tree, fast)

    monkeypatch.setattr(module, "_trafilatura", counted)
    return passes


def test_a_short_story_that_is_the_whole_page_is_read_once(monkeypatch):
    passes = _passes(monkeypatch)
    flash = "36氪获悉，边缘AI芯片公司芯瞰科技完成数亿元B轮融资，本轮由一家产业资本领投，资金将主要用于车规级NPU芯片的量产导入和工具链研发。"
    article = extract_article(news_page("芯瞰科技完成B轮融资", body=f"<p>{flash}</p>").encode(), "http://news.test/f/2", now=NOW)
    assert article is not None and flash in article.text
    assert passes == [True]


def test_a_menu_for_an_article_asks_the_full_pass(monkeypatch):
    from pipelines.analysis.extract import _reads_as_menu

    assert _reads_as_menu("首页\n市情概况\n信息公开\n政务服务\n新征程催人奋进，新使命激荡人心。")
    assert not _reads_as_menu("芯瞰科技完成数亿元B轮融资。\n本轮由一家产业资本领投。\n图：芯片")
    passes = _passes(monkeypatch)
    # The fast pass finds nothing in a page of bare text lines: the full pass is asked.
    page = "<html><head><title>通知</title></head><body>" + "<br>".join(["首页", "新闻", "公告"] * 3) + "</body></html>"
    extract_article(page.encode(), "http://news.test/f/3", now=NOW)
    assert passes[:1] == [True] and False in passes


def test_share_and_navigation_links_are_not_cited():
    body = news_page("端侧芯片发布", extra=(
        "<p>项目地址：<a href='https://github.com/example/npu'>https://github.com/example/npu</a>"
        " 分享到：<a href='http://service.weibo.com/share/share.php?url=x'>微博</a>"
        "<a href='https://www.facebook.com/sharer/sharer.php?u=x'>Facebook</a></p>"))
    links = {link.url: link.role for link in extract_article(body.encode(), "http://news.test/a/4.html", now=NOW).links}
    assert links == {"https://github.com/example/npu": "code"}


def test_bylines_chinese_names_and_several_authors():
    for line, author, names in [
        ("来源：新锐汽车 作者：王晓明 评论", "王晓明", ["王晓明"]),
        ("作者：宋怡 杨志华 我要说说", "宋怡 杨志华", ["宋怡", "杨志华"]),
        ("文｜沈拓 编辑｜苏航", "沈拓", ["沈拓"]),
        ("编辑：山石 相关报道", "山石", ["山石"]),
        ("By Ann Lee and Bo Chen", "Ann Lee and Bo Chen", ["Ann Lee", "Bo Chen"]),
    ]:
        article = extract_article(news_page("端侧芯片发布", line).encode(), "http://news.test/a/5.html", now=NOW)
        assert (article.author, article.authors) == (author, names), line
    site_meta = news_page("端侧芯片发布", head="<meta name='author' content='www.example.com, 某某日报报业集团'>")
    assert extract_article(site_meta.encode(), "http://news.test/a/6.html", now=NOW).author is None


def test_relative_links_are_resolved_against_the_page_or_its_base():
    paragraphs = [f"<p>第{i}段：这颗边缘推理芯片以很低的功耗运行 int8 模型，团队给出了在开发板上实测的能效数据和延迟。</p>"
                  for i in range(6)]
    cites = ("<p>研究团队在发表于本周的<a href='files/npu.pdf'>论文</a>中详细介绍了这颗芯片的架构设计和量化方案，"
             "配套的编译器代码已经放在<a href='../code/npu'>项目仓库</a>里，在开发板上跑过的全部基准测试脚本也一并公开了。</p>")
    body = "".join(paragraphs[:3]) + cites + "".join(paragraphs[3:])
    url = "https://lab.test/news/2022/npu.html"
    links = {link.url: link.role for link in extract_article(news_page("边缘NPU论文发布", body=body).encode(), url, now=NOW).links}
    assert links == {"https://lab.test/news/2022/files/npu.pdf": "paper", "https://lab.test/news/code/npu": "other"}

    based = news_page("边缘NPU论文发布", body=body, head="<base href='https://static.lab.test/papers/'>")
    links = {link.url for link in extract_article(based.encode(), url, now=NOW).links}
    assert links == {"https://static.lab.test/papers/files/npu.pdf", "https://static.lab.test/code/npu"}
