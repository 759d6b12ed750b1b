"""Authors and dates from whole pages of our own: an author only from a place that names
one (precision first: a wrong author counts against it), the date nearest the headline."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.extract import extract_article

FIXTURES = Path(__file__).parent / "fixtures" / "metadata"
NOW = datetime(2022, 10, 20, tzinfo=timezone.utc)
BODY = ("<p>一家初创公司推出了面向门铃和扫地机的低功耗视觉芯片，可在本地运行目标检测模型，待机功耗不到一毫瓦。"
        "公司称芯片已通过车规认证，将在年底前向首批客户供货，并开放软件开发包。</p>"
        "<p>分析人士指出，端侧视觉芯片的价格在过去两年下降了近一半，更多家电厂商开始在产品中加入本地识别功能，"
        "而不必把画面上传到云端处理。</p>")


def page(title: str, info: str = "", head: str = "", tail: str = "", before: str = "") -> bytes:
    return (f"<html><head><title>{title}</title>{head}</head><body>{before}<h1>{title}</h1>"
            f"<div class='meta'>{info}</div><div class='content'>{BODY}</div>{tail}"
            "<div class='copyright'>版权所有</div></body></html>").encode("utf-8")


BYLINES = json.loads((FIXTURES / "bylines.json").read_text("utf-8"))


def _author(case: dict) -> str | None:
    article = extract_article(page("低功耗视觉芯片开始供货", case.get("info", ""), case.get("head", ""),
                                   case.get("tail", "")), f"https://news.example.test/a/{case['id']}.html", now=NOW)
    return article.author


@pytest.mark.parametrize("case", BYLINES, ids=[c["id"] for c in BYLINES])
def test_bylines(case):
    assert _author(case) == case["author"]


def test_author_precision_and_recall_over_the_labelled_set():
    """Measured apart: precision (of the authors given, the share right; a wrong one counts
    against it) must be 1.0; recall (of the pages that name one, the share found)."""
    given = right = named = found = 0
    for case in BYLINES:
        got = _author(case)
        named += case["author"] is not None
        if got is not None:
            given += 1
            right += got == case["author"]
            found += got == case["author"] and case["author"] is not None
    assert given and right / given == 1.0
    assert found / named == 1.0


RELATED = ("<ul class='related'>" + "".join(
    f"<li><a href='/a/{n}.html'>旧闻{n}</a> <time datetime='2021-0{n}-01T08:00:00+08:00'>2021-0{n}-01</time></li>"
    for n in range(1, 5)) + "</ul>")


@pytest.mark.parametrize("name, kwargs, expected", [
    ("meta and the visible line disagree: the line under the headline",
     dict(head="<meta property='article:published_time' content='2022-10-01T00:00:00+08:00'>",
          info="2022年10月14日 09:30 来源：海港晨报"), "2022-10-14T01:30:00+00:00"),
    ("meta and the visible line agree on the day: the meta's instant",
     dict(head="<meta property='article:published_time' content='2022-10-14T09:30:12+08:00'>",
          info="2022-10-14"), "2022-10-14T01:30:12+00:00"),
    ("a related-articles list before the headline does not date the page",
     dict(before=RELATED, info="发布时间：2022年10月13日 18:00"), "2022-10-13T10:00:00+00:00"),
    ("only a related list has dates: no date",
     dict(tail=RELATED), None),
    ("a relative date under the headline resolves against the fetch time",
     dict(info="半小时前 来源：海港晨报"), "2022-10-19T23:30:00+00:00"),
    ("a half-day word before the hour",
     dict(info="2016年9月14日晚8:00"), "2016-09-14T12:00:00+00:00"),
])
def test_dates_nearest_the_headline(name, kwargs, expected):
    article = extract_article(page("低功耗视觉芯片开始供货", **kwargs), "https://news.example.test/a/1.html", now=NOW)
    got = article.published.astimezone(timezone.utc).isoformat() if article.published else None
    assert got == expected, name


def test_an_english_page_without_metadata_is_dated_by_htmldate_from_its_url():
    """Our rule: the page's own metadata first; for a non-Chinese page that states none,
    htmldate's original date (no extensive search), here from the date in the URL."""
    text = ("<p>A startup has shipped a low-power vision chip that runs object detection on the device, "
            "drawing under a milliwatt while idle, and plans to open its software kit to developers.</p>") * 3
    body = f"<html lang='en'><head><title>Vision chip ships</title></head><body><h1>Vision chip ships</h1>{text}</body></html>"
    article = extract_article(body.encode(), "https://blog.example.test/2022/03/03/vision-chip-ships.html", now=NOW)
    assert article.published is not None and article.published.date().isoformat() == "2022-03-03"
    chinese = page("低功耗视觉芯片开始供货")
    assert extract_article(chinese, "https://news.example.test/2022/03/03/x.html", now=NOW).published is None
