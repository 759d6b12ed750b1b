"""Importing past issues in every layout: the fixture forms, the bi-weekly archive under
../shared, the round trip export -> import, and the ``aibrief import`` command."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from crawler.config import load_config
from pipelines.archive import db as storage
from pipelines.editorial.export import daily_groups, render_daily_markdown, render_editor_markdown, render_markdown
from pipelines.editorial.importer import parse_issue, read_issue_file, store_parsed
from pipelines.editorial.issues import get_issue
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "import"
BIWEEKLY = Path(__file__).resolve().parents[2] / "shared" / "digests" / "embedded-ai-biweekly"
RULES = load_config(None).issue

# What each fixture says, written from the files by hand: (title, url, section, links) per item.
EXPECTED = {
    "weekly-20201120.md": dict(layout="weekly", date=date(2020, 11, 20), items=[
        ("端侧大模型推理框架发布新版本", "https://news.example.test/a/1", "AI",
         [("code", "https://github.com/example/edge-infer")]),
        ("一款面向可穿戴设备的语音唤醒芯片", "https://news.example.test/a/2", "AI",
         [("paper", "https://arxiv.org/abs/2011.00002")]),
        ("国产 NPU 完成流片", "https://news.example.test/a/3", "AI", []),
        ("轻量检测网络刷新移动端纪录", "https://news.example.test/a/4", "AI",
         [("code", "https://github.com/example/lite-det"), ("paper", "https://arxiv.org/abs/2011.00004")]),
        ("机器人公司发布新一代灵巧手", "https://news.example.test/b/1", "Other", []),
        ("未编号的一条新闻", "https://news.example.test/b/2", "Other", []),
        ("一条没有链接的旧闻", "", "Other", []),
        ("边缘盒子出货量创新高", "https://news.example.test/b/4", "Other", []),
    ], extras=["https://blog.example.test/list", "https://github.com/example/quant-papers"], warnings=2),
    "weekly-lists-20210108.md": dict(layout="weekly", date=date(2021, 1, 8), items=[
        ("存算一体芯片进入量产", "https://news.example.test/c/1", "AI 芯片", []),
        ("手机 SoC 集成新一代 NPU", "https://news.example.test/c/2", "AI 芯片", []),
    ], extras=["https://github.com/example/deploy-kit", "https://video.example.test/replay",
               "https://blog.example.test/intro"], warnings=0),
    "daily-20260822.md": dict(layout="daily", date=date(2026, 8, 22), items=[
        ("Waymo 自研自动驾驶芯片", "https://the-decoder.example.test/waymo-chip", "今日精选",
         [("article", "https://verge.example.test/waymo")]),
        ("Arm 发布面向可穿戴设备的新 NPU", "https://newsroom.example.test/arm-npu", "国际动态", []),
        ("Qualcomm 展示手机端 7B 模型", "https://anandtech.example.test/qc-7b", "国际动态", []),
        ("地平线 新一代征程芯片量产", "https://36kr.example.test/p/1001", "中文圈", []),
        ("example/tiny-llm", "https://github.com/example/tiny-llm", "GitHub 今日趋势（AI）", []),
        ("example/npu-bench", "https://github.com/example/npu-bench", "GitHub 今日趋势（AI）", []),
    ], extras=[], warnings=0),
    "daily-early-20260521.md": dict(layout="daily", date=date(2026, 5, 21), items=[
        ("A startup ships a 1-bit speech model", "https://techcrunch.example.test/1bit", "今日精选", []),
        ("国产端侧多模态模型开源", "https://jiqizhixin.example.test/mm", "今日精选", []),
    ], extras=[], warnings=0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_form_imports_with_every_item_title_section_and_link(name):
    expected = EXPECTED[name]
    parsed = read_issue_file(FIXTURES / name)
    assert parsed.layout == expected["layout"] and parsed.date == expected["date"]
    assert [(i.title, i.url, i.section, [(link["role"], link["url"]) for link in i.links]) for i in parsed.items] == \
        expected["items"]
    assert [extra["url"] for extra in parsed.extras] == expected["extras"]
    assert len(parsed.warnings) == expected["warnings"]


def test_daily_fixture_keeps_priorities_sources_stars_insights_and_the_short_version():
    parsed = read_issue_file(FIXTURES / "daily-20260822.md")
    assert parsed.headline == "端侧芯片与开源模型同日发力。"
    assert [i.priority for i in parsed.items[:4]] == ["top", "normal", "normal", "normal"]
    assert [s["name"] for s in parsed.items[0].sources] == ["The Decoder", "The Verge"]
    assert [i.stars for i in parsed.items[4:]] == [2858, 912]
    assert parsed.insights == ["车企自研芯片的趋势仍在加速。", "端侧大模型的瓶颈正从算力转向内存带宽。"]
    assert parsed.moments.splitlines() == ["1. Waymo 自研自动驾驶芯片", "2. Arm 新 NPU 面向可穿戴"]


def test_weekly_bodies_keep_images_code_lists_and_tables_out_of_the_items():
    parsed = read_issue_file(FIXTURES / "weekly-20201120.md")
    third = parsed.items[2]
    assert third.topics == ["芯片"] and third.source == "半导体周刊"
    assert "make flash" not in third.summary and "第一点" in third.summary
    assert parsed.items[0].image == "https://img.example.test/cover1.png"
    assert any("https://:80/broken" in w and "line 66" in w for w in parsed.warnings)


def test_a_master_without_a_date_takes_the_file_name_then_date_then_fails(tmp_path):
    text = "# 1. [一条新闻](https://news.example.test/x)\n\n说明。\n"
    named = tmp_path / "ai-brief-20201204.md"
    named.write_text(text, encoding="utf-8")
    assert read_issue_file(named).date == date(2020, 12, 4)
    plain = tmp_path / "notes.md"
    plain.write_text(text, encoding="utf-8")
    assert read_issue_file(plain, date(2020, 12, 11)).date == date(2020, 12, 11)
    with pytest.raises(Exception, match="no --date was given"):
        read_issue_file(plain)


@pytest.mark.skipif(not BIWEEKLY.is_dir(), reason="../shared/digests is not here")
def test_every_biweekly_issue_imports_with_all_its_linked_items(tmp_path):
    for path in sorted(BIWEEKLY.glob("*.md")):
        text = path.read_text("utf-8")
        body = text.split("往期回顾")[0]
        sections = body.split("\n## ", 1)[1] if "\n## " in body else ""
        # Linked items counted apart from the parser: top-level bullets opening with a link.
        linked = len(re.findall(r"^- (?:\[[^\]]*\]\s*)*\[[^\]]+\]\(", sections, re.MULTILINE))
        parsed = parse_issue(text)
        assert parsed.layout == "biweekly" and parsed.date == date.fromisoformat(path.stem), path.name
        assert len(parsed.items) == linked, path.name
        # Two real issues link an item to "()": the item stays, without a URL, with a warning.
        assert sum(not item.url.startswith("http") for item in parsed.items) == \
            sum("not an http(s) URL: ''" in warning for warning in parsed.warnings), path.name


# --- round trip: export in each layout, import the file -----------------------------------

@pytest.fixture
def stored(tmp_path):
    database = storage.connect(tmp_path / "a.db")
    store_parsed(database, read_issue_file(FIXTURES / "weekly-20201120.md"), rules=RULES, replace=False)
    yield get_issue(database, date(2020, 11, 20))
    database.close()


@pytest.mark.parametrize("layout", ["reference", "editor", "daily"])
def test_each_layout_round_trips_what_it_can_express(stored, layout, tmp_path):
    stored.items = [i for i in stored.items if i.url]  # the layouts cite every item by its URL
    for n, item in enumerate(stored.items, start=1):
        item.position = n
    if layout == "reference":
        text, expected = render_markdown(stored), stored.items
        def shown(i):
            return (i.title, i.url, [link for link in i.links if link["role"] in ("paper", "article", "code")])
    elif layout == "editor":
        text, expected = render_editor_markdown(stored), stored.items
        def shown(i):
            return (i.title, i.url, i.links, i.section, i.source)
    else:
        groups = daily_groups(stored)
        text = render_daily_markdown(stored, RULES.moments_chars)
        expected = [item for _, items in groups for item in items]
        sections = {id(item): name for name, items in groups for item in items}
        for item in expected:
            item.section = sections[id(item)]
        def shown(i):
            return (i.title, i.url, i.section)
    back = parse_issue(text, markdown=True)
    assert back.date == stored.date
    assert [shown(i) for i in back.items] == [shown(i) for i in expected]
    database = storage.connect(tmp_path / f"{layout}.db")
    assert store_parsed(database, back, rules=RULES, replace=False)
    assert [i.url for i in get_issue(database, stored.date).items] == [i.url for i in expected]
    database.close()


def test_daily_export_of_an_imported_daily_is_the_same_layout_again(tmp_path):
    database = storage.connect(tmp_path / "d.db")
    store_parsed(database, read_issue_file(FIXTURES / "daily-20260822.md"), rules=RULES, replace=False)
    issue = get_issue(database, date(2026, 8, 22))
    text = render_daily_markdown(issue, RULES.moments_chars)
    assert text.startswith("# 🤖 AI 早报 | 2026.08.22（周六）\n")
    assert "| [example/tiny-llm](https://github.com/example/tiny-llm) | 在单片机上跑的小语言模型 | 2,858 |" in text
    assert "## 💡 今日洞察" in text and "**朋友圈版 ↓**" in text
    back = parse_issue(text)
    assert [(i.title, i.url, i.section, i.links, i.priority, i.stars) for i in back.items] == \
        [(i.title, i.url, i.section, i.links, i.priority, i.stars) for i in issue.items]
    assert back.insights == issue.insights and back.moments == issue.moments
    database.close()


# --- the command ----------------------------------------------------------------------------

def test_import_of_a_folder_prints_one_summary_and_stores_known_articles(tmp_path):
    folder = tmp_path / "archive"
    shutil.copytree(FIXTURES, folder)
    (folder / "notes.txt").write_text("购物清单\n牛奶\n", encoding="utf-8")
    db_path = tmp_path / "i.db"
    result = run_cli("--db", str(db_path), "import", str(folder))
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == ("imported 5 files: 4 issues, 18 items, 10 links, 2 warnings; skipped 1: "
                                     "notes.txt (no issue title such as 'AI 簡報 20221014 期' found: no 导读 line "
                                     "names the issue, the file name holds no date, and no --date was given)")
    assert "line 66" in result.stderr
    conn = sqlite3.connect(db_path)
    urls = {u for (u,) in conn.execute("SELECT canonical_url FROM articles WHERE published_from = 'issue'")}
    assert "https://news.example.test/a/3" in urls and "https://github.com/example/tiny-llm" in urls
    assert len(urls) == 17  # every item with a URL; the one without stays an item without an article
    assert conn.execute("SELECT count(*) FROM issue_items WHERE article_id IS NULL").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM frontier WHERE state = 'stored'").fetchone()[0] == 17
    links = json.loads(conn.execute("SELECT links FROM issues WHERE date = '2020-11-20'").fetchone()[0])
    assert [link["url"] for link in links] == EXPECTED["weekly-20201120.md"]["extras"]
    before = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    (folder / "notes.txt").unlink()
    again = run_cli("--db", str(db_path), "import", str(folder))
    assert again.returncode == 0 and again.stdout.strip().endswith("0 warnings, 4 unchanged") is False
    assert "0 issues, 0 items" in again.stdout and "4 unchanged" in again.stdout
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == before
    conn.close()


def test_a_different_issue_of_the_same_date_needs_replace(tmp_path):
    db_path = tmp_path / "r.db"
    first = tmp_path / "2021-01-08.md"
    shutil.copy(FIXTURES / "weekly-lists-20210108.md", first)
    assert run_cli("--db", str(db_path), "import", str(first)).returncode == 0
    other = tmp_path / "other.md"
    other.write_text((FIXTURES / "weekly-lists-20210108.md").read_text("utf-8").replace("存算一体", "光计算"),
                     encoding="utf-8")
    refused = run_cli("--db", str(db_path), "import", str(other))
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("is published already with other items; it is not changed "
                                           "(import with --replace to replace it)")
    assert refused.stderr.count("\n") == 1
    replaced = run_cli("--db", str(db_path), "import", str(other), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    shown = run_cli("--db", str(db_path), "issue", "show", "2021-01-08").stdout
    assert "光计算芯片进入量产" in shown and "存算一体" not in shown


def test_import_and_export_help_show_an_example_of_each_layout():
    imported = run_cli("import", "--help").stdout
    exported = run_cli("export", "--help").stdout
    for marker in ("AI 簡報 20221014 期", "导读", "嵌入式AI简报", "AI 早报"):
        assert marker in imported
    for layout in ("reference", "--layout editor", "--layout daily"):
        assert layout in exported
