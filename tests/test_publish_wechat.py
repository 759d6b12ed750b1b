"""The WeChat-ready export: one HTML fragment the Official Account editor keeps as it is
(inline styles only, no classes, scripts or style sheets), links outside WeChat as numbered
references, images only when downloaded, through the address policy, with the article's
page as Referer; checked as text and as Chromium renders it."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import lxml.html
import pytest
from conftest import run_cli, write_config
from publishing_servers import PNG, WECHAT_ARTICLE, sample_items, start_recording_server, store_issue
from test_output_escaping import hostile_issue

from pipelines.editorial.publishing.outline import outline
from pipelines.editorial.publishing.site import SiteOptions, issue_html
from pipelines.editorial.publishing.wechat import render_wechat

DAY = dt.date(2026, 8, 22)


@pytest.fixture(scope="module")
def hooks():
    state, server = start_recording_server()
    yield state
    server.shutdown()


def export_wechat(db_path, *args, config=None):
    options = ["--config", str(config)] if config else []
    return run_cli(*options, "--db", str(db_path), "export", DAY.isoformat(), "--format", "wechat", *args)


def test_the_fragment_keeps_to_what_the_editor_keeps(db_path):
    store_issue(db_path, DAY, status="published")
    result = export_wechat(db_path, "--layout", "reference")
    assert result.returncode == 0, result.stderr
    fragment = lxml.html.fragment_fromstring(result.stdout)
    elements = list(fragment.iter())
    assert {e.tag for e in elements} & {"style", "script", "link", "iframe", "img", "font"} == set()
    assert [e.tag for e in elements if "class" in e.attrib or "id" in e.attrib] == []
    assert [e.tag for e in elements if not e.get("style") and e.tag != "br"] == []
    assert "@import" not in result.stdout and "url(" not in result.stdout  # no web fonts, no background images
    # Only the WeChat article is a link; every other address is a reference, numbered in order.
    assert [a.get("href") for a in fragment.iter("a")] == [WECHAT_ARTICLE]
    assert [sup.text for sup in fragment.iter("sup")] == ["[1]", "[2]", "[3]", "[4]"]
    references = [p.text_content() for p in fragment.iter("p") if p.text_content().startswith("[")]
    assert references == ["[1] https://news.example.com/j6?id=1&x=2", "[2] https://arxiv.org/abs/2401.00001",
                          "[3] https://blog.example.org/tinyml", "[4] https://github.com/example/tinyml"]
    # Headings, numbered items with their source lines, summaries in blockquotes; the
    # hostile title stays text.
    assert fragment.find(".//h1").text_content() == "AI 簡報 20260822 期"
    titles = [h.text_content() for h in fragment.iter("h3")]
    assert titles == ["1. 地平线发布征程 6 芯片 <b>旗舰</b>", "2. Qwen 小模型跑在手机上", "3. TinyML on a microcontroller"]
    assert [h.text_content() for h in fragment.iter("h2")] == ["AI 芯片", "端侧与嵌入式 AI"]
    quotes = [q.text_content() for q in fragment.iter("blockquote")]
    assert quotes[0] == "这款芯片把推理功耗降到一瓦以内，面向摄像头与机器人。第二段：量产时间定在明年。"


def test_the_daily_layout_is_the_zaobao(db_path):
    store_issue(db_path, DAY, status="published")
    result = export_wechat(db_path, "--layout", "daily")
    assert result.returncode == 0, result.stderr
    fragment = lxml.html.fragment_fromstring(result.stdout)
    assert fragment.find(".//h1").text_content() == "🤖 AI 早报 | 2026.08.22（周六）"
    sections = [h.text_content() for h in fragment.iter("h2")]
    assert sections[0] == "🔥 今日精选" and sections[-1] == "朋友圈版"
    assert fragment.find(".//h3").text_content().startswith("🔴 ")


def test_images_are_downloaded_with_the_article_as_referer_through_the_address_policy(tmp_path, db_path, hooks):
    image = hooks.url(f"/img/{tmp_path.name}.png")
    store_issue(db_path, DAY, status="published", items=sample_items(image_url=image))
    allowed = write_config(tmp_path / "allowed.toml", allow_hosts=["127.0.0.1"])
    out = tmp_path / "out" / "zaobao.html"
    out.parent.mkdir()
    result = export_wechat(db_path, "--layout", "editor", "--images", "-o", str(out), config=allowed)
    assert result.returncode == 0, result.stderr
    (fetched,) = hooks.to(urlsplit(image).path)
    assert fetched.headers["Referer"] == "https://news.example.com/j6?id=1&x=2"
    assert fetched.headers["User-Agent"].startswith("aibrief/")
    (img,) = lxml.html.fragment_fromstring(out.read_text("utf-8")).iter("img")
    assert img.get("src").startswith("zaobao_images/") and img.get("style")
    assert (out.parent / img.get("src")).read_bytes() == PNG

    # The crawl's address policy holds: a loopback image is refused unless allowed.
    refused = write_config(tmp_path / "refused.toml")
    again = export_wechat(db_path, "--images", "-o", str(tmp_path / "plain.html"), config=refused)
    assert again.returncode == 0
    assert "warning: image of item 1 left out: " in again.stderr and "private address" in again.stderr
    assert "<img" not in (tmp_path / "plain.html").read_text("utf-8")
    assert len(hooks.to(urlsplit(image).path)) == 1

    # Without --images no image is fetched or shown.
    plain = export_wechat(db_path, config=allowed)
    assert "<img" not in plain.stdout and len(hooks.to(urlsplit(image).path)) == 1


def test_images_need_an_output_file(db_path):
    store_issue(db_path, DAY, status="published")
    result = export_wechat(db_path, "--images")
    assert result.returncode == 1
    assert result.stderr == ("aibrief: error: --images goes with --format wechat and -o FILE "
                             "(the images are saved beside the file)\n")


def test_chromium_renders_the_styles_the_fragment_carries(db_path, page):
    store_issue(db_path, DAY, status="published")
    result = export_wechat(db_path, "--layout", "reference")
    page.set_content(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{result.stdout}</body></html>')

    def style(selector: str) -> dict:
        return page.eval_on_selector(selector, "e => { const s = getComputedStyle(e); return {size: s.fontSize, "
                                               "weight: s.fontWeight, color: s.color, border: s.borderLeftWidth}; }")

    assert style("h1") == {"size": "22px", "weight": "700", "color": "rgb(26, 26, 26)", "border": "0px"}
    assert style("h3") == {"size": "16px", "weight": "700", "color": "rgb(26, 26, 26)", "border": "0px"}
    assert style("blockquote") == {"size": "15px", "weight": "400", "color": "rgb(85, 85, 85)", "border": "3px"}
    assert style("sup") == {"size": "12px", "weight": "400", "color": "rgb(87, 107, 149)", "border": "0px"}
    assert page.eval_on_selector("body > section > p:last-of-type", "e => getComputedStyle(e).fontSize") == "12px"
    assert page.eval_on_selector("body > section > p:last-of-type", "e => e.textContent") == \
        "[4] https://github.com/example/tinyml"
    assert page.errors == []


@pytest.mark.parametrize("layout", ["reference", "daily"])
def test_what_a_page_said_stays_text_in_the_fragment_and_the_archive_page(layout):
    """A hostile title, summary, source or URL: no script, frame or image, no javascript:
    link or reference, in the WeChat fragment or the archive's page."""
    issue = hostile_issue()
    options = SiteOptions("AI 簡報", "", layout, 120, "fetched")
    for html in (render_wechat(outline(issue, layout, 120)), issue_html(issue, options)):
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
        assert {e.tag for e in fragment.iter()} & {"script", "iframe", "img", "b"} == set()
        assert not any(e.get("onerror") for e in fragment.iter())
        assert all(a.get("href").startswith("https://") for a in fragment.iter("a"))
        references = [p.text_content() for p in fragment.iter("p") if re.match(r"\[\d+\] ", p.text_content())]
        assert all(re.match(r"\[\d+\] https://", line) for line in references), references
        assert "芯片<script>alert(1)</script>" in fragment.text_content()
