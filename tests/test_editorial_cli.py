"""Editorial behaviour through real crawls and the command line (RELIABILITY.md scenario 18):
one story under several URLs, sites and scripts is one cluster with alternates; a re-fetched,
updated article updates its row while issue membership stays as it was."""
from __future__ import annotations

import json
import subprocess
import sys

import opencc
import pytest
from conftest import ROOT, MockSite, rows, run_cli, scrapy_crawl

PARAGRAPHS = [
    "10月13日，大众汽车集团宣布旗下软件公司CARIAD将与地平线成立合资企业，并持有合资企业60%股份。据悉，大众汽车计划为本次合作投资约24亿欧元，交易预计在明年上半年完成。",
    "合资企业将开发高度优化的全栈式高级驾驶辅助系统和自动驾驶解决方案，在单颗芯片上集成多种功能，提高系统稳定性并降低能耗。",
    "业内人士认为，合资品牌电动车在智能座舱和智能驾驶上与新势力存在差距，此次合作以合资而非采购的方式进行，将加速大众旗下车型在中国市场的智能化升级。",
]
TITLE = "大众汽车与地平线成立合资企业，投资24亿欧元发力智能驾驶"
LLM_CHIP_TITLE = "端侧大模型推理芯片发布"
LLM_CHIP = [
    "一家成立三年的芯片公司昨日发布了面向手机和笔记本电脑的推理芯片，宣称可在本地运行七十亿参数的语言模型。",
    "这款芯片采用六纳米工艺，内置专用的矩阵运算单元和大容量片上缓存，整机功耗控制在五瓦以内，首批样片已交付客户。",
    "公司表示，明年将推出面向汽车座舱的版本，并开放配套的编译工具链，帮助开发者把模型压缩后部署到终端。",
]
ORIGINAL = "http://auto.fixture.test/news/vw-horizon.html"
CANONICAL = "https://auto.fixture.test/news/vw-horizon.html"


def page(title: str, paragraphs: list[str], published: str) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f"<article><h1>{title}</h1>{body}</article></body></html>")


@pytest.fixture
def story_site(tmp_path):
    """A loopback server of our own over a folder we can change between crawls."""
    root = tmp_path / "sites"
    files = {
        "auto.fixture.test/news/vw-horizon.html": page(TITLE, PARAGRAPHS, "2022-10-13T21:10:00+08:00"),
        "mirror.fixture.test/news/vw-horizon.html": page(TITLE, PARAGRAPHS, "2022-10-13T21:10:00+08:00"),
        "portal.fixture.test/p/901.html": page(
            "牵手地平线补齐短板，大众汽车投资24亿欧元发力智能驾驶",
            ["本文转载自微信公众号“汽车观察”，经授权发布。", *PARAGRAPHS], "2022-10-14T07:30:00+08:00"),
        "tw.fixture.test/a/vw.html": page(
            opencc.OpenCC("s2twp").convert(TITLE), [opencc.OpenCC("s2twp").convert(p) for p in PARAGRAPHS],
            "2022-10-14T09:00:00+08:00"),
        # One story whose title shares words with its copy's only when both are segmented
        # with the taxonomy's terms (端侧, 大模型, 推理芯片; jieba alone gives 推理, 模型, 芯片).
        "chip.fixture.test/a/llm-chip.html": page(LLM_CHIP_TITLE, LLM_CHIP, "2022-10-13T10:00:00+08:00"),
        "copy.fixture.test/p/77.html": page(LLM_CHIP_TITLE, ["本文转载自微信公众号“芯事”，经授权发布。", *LLM_CHIP],
                                            "2022-10-13T18:00:00+08:00"),
        "other.fixture.test/a/chip.html": page(
            "国产RISC-V AI芯片流片成功，端侧算力8TOPS",
            ["成立于2020年的芯片初创公司澜芯科技，其首款端侧AI芯片澜芯L1已于近日完成流片，并顺利点亮。",
             "这是一款面向智能摄像头、服务机器人和AR眼镜的SoC，采用12纳米工艺，集成四核RISC-V处理器和自研NPU。"],
            "2022-10-13T15:40:00+08:00"),
    }
    for relative, html in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(root), "--log", str(log)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = process.stdout.readline()
    assert line.startswith("port "), line
    yield MockSite(int(line.split()[1]), log), root
    process.terminate()
    process.wait(timeout=10)


def test_a_copy_is_found_by_title_words_segmented_as_the_workers_segment_them(story_site, tmp_path, db_path):
    """With the extraction pool, a candidate's title words are the ones kept when it was
    stored, made in a worker with the taxonomy's terms like the new article's: made again
    in the crawl process without them, these two titles shared no word, and the copy was
    a story of its own."""
    site, _ = story_site
    config = tmp_path / "aibrief.toml"
    config.write_text('timezone = "Asia/Shanghai"\n[crawl]\ndelay = 0.0\ntimeout = 5.0\nretries = 0\n', "utf-8")
    urls = ["http://chip.fixture.test/a/llm-chip.html", "http://copy.fixture.test/p/77.html"]
    crawl = scrapy_crawl("urls", "-a", "urls=" + ",".join(urls), "-s", "AIBRIEF_EXTRACT_WORKERS=2",
                         config=config, db=db_path, site=site)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    stored = rows(db_path, "SELECT coalesce(cluster_id, id), title_words FROM articles")
    assert len(stored) == 2 and len({story for story, _ in stored}) == 1
    assert all({"端侧", "大模型", "推理芯片"} <= set(words.split()) for _, words in stored)


def test_one_story_under_many_urls_then_an_updated_refetch(story_site, tmp_path, db_path):
    """Scenario 18: the same story under two URLs, a syndicated copy, a mirror and a
    Traditional repost is one cluster, the others remembered as alternates; a re-fetched,
    updated article updates its row and the issue that cites it stays as it was."""
    site, root = story_site
    config = tmp_path / "aibrief.toml"
    config.write_text('timezone = "Asia/Shanghai"\n[crawl]\ndelay = 0.0\ntimeout = 5.0\nretries = 0\n', "utf-8")
    urls = [ORIGINAL, ORIGINAL + "?utm_source=wechat&from=timeline", "http://mirror.fixture.test/news/vw-horizon.html",
            "http://portal.fixture.test/p/901.html", "http://tw.fixture.test/a/vw.html",
            "http://other.fixture.test/a/chip.html"]
    crawl = scrapy_crawl("urls", "-a", "urls=" + ",".join(urls), config=config, db=db_path, site=site)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    # (Either of the original's two URLs may be fetched first: rows are looked up by canonical URL.)
    stored = dict(rows(db_path, "SELECT canonical_url, coalesce(cluster_id, id) FROM articles"))
    assert len(stored) == 5  # the tracking-parameter URL is the original's row
    assert len({stored[u] for u in stored if "chip" not in u}) == 1  # one story, one cluster
    assert stored["https://other.fixture.test/a/chip.html"] != stored[CANONICAL]

    base = ("--config", str(config), "--db", str(db_path))
    built = run_cli(*base, "issue", "build", "--date", "2022-10-14")
    assert built.returncode == 0 and "2 items" in built.stdout, built.stderr
    data = json.loads(run_cli(*base, "export", "2022-10-14", "--format", "json").stdout)
    story = next(item for item in data["items"] if "地平线" in item["title"])
    # The original publisher, not the re-host (its 转载 line) or the later repost; a mirror is
    # the same page at the same time, and either of the two may be cited.
    mirror = "http://mirror.fixture.test/news/vw-horizon.html"
    assert story["url"] in (ORIGINAL, mirror)
    assert sorted(alt["url"] for alt in story["alternates"]) == sorted(
        {ORIGINAL, mirror} - {story["url"]} | {"http://portal.fixture.test/p/901.html", "http://tw.fixture.test/a/vw.html"})
    assert story["section"] == "自动驾驶" and "自动驾驶" in story["topics"]
    explained = run_cli(*base, "explain", ORIGINAL)
    assert explained.returncode == 0 and "relevant" in explained.stdout and "智能驾驶" in explained.stdout
    assert "story: cluster" in explained.stdout and "4 articles" in explained.stdout
    assert run_cli(*base, "issue", "publish", "2022-10-14").returncode == 0
    (article_id, summary_before), = rows(db_path, "SELECT id, summary FROM articles WHERE canonical_url = ?",
                                        [CANONICAL])
    item_before = rows(db_path, "SELECT position, article_id, title, summary FROM issue_items")

    # The publisher corrects the article; a crawl never fetches what it has ...
    (root / "auto.fixture.test/news/vw-horizon.html").write_text(page(
        TITLE + "（更新）", [PARAGRAPHS[0].replace("24亿欧元", "24.1亿欧元"), *PARAGRAPHS[1:],
                          "更正：投资金额为24.1亿欧元。"], "2022-10-13T21:10:00+08:00"), "utf-8")
    site.clear()
    again = scrapy_crawl("urls", "-a", f"urls={ORIGINAL}", config=config, db=db_path, site=site)
    assert again.returncode == 0 and site.fetched("auto.fixture.test") == []
    # ... until an editor asks for a re-fetch: the row is updated in place.
    refetched = run_cli(*base, "refetch", ORIGINAL, site=site)
    assert refetched.returncode == 0, refetched.stderr
    assert refetched.stdout.strip() == "refetch: 1 updated, 0 new, 0 not fetched"
    (new_id, title, text, cluster), = rows(db_path, "SELECT id, title, text, coalesce(cluster_id, id) FROM articles"
                                                    " WHERE canonical_url = ?", [CANONICAL])
    assert new_id == article_id and title.endswith("（更新）") and "24.1亿欧元" in text
    assert cluster == stored[CANONICAL]  # same story
    assert rows(db_path, "SELECT count(*) FROM articles") == [(5,)]
    assert rows(db_path, "SELECT position, article_id, title, summary FROM issue_items") == item_before
    assert rows(db_path, "SELECT count(*) FROM refetch_requests") == [(0,)]
    assert rows(db_path, "SELECT state FROM frontier WHERE canonical_url = ?", [CANONICAL]) == [("stored",)]


def test_editor_commands_and_the_editor_layout_round_trip(story_site, tmp_path, db_path):
    site, _ = story_site
    config = tmp_path / "aibrief.toml"
    config.write_text('timezone = "Asia/Shanghai"\n[crawl]\ndelay = 0.0\ntimeout = 5.0\nretries = 0\n', "utf-8")
    urls = [ORIGINAL, "http://other.fixture.test/a/chip.html", "http://portal.fixture.test/p/901.html"]
    assert scrapy_crawl("urls", "-a", "urls=" + ",".join(urls), config=config, db=db_path, site=site).returncode == 0
    base = ("--config", str(config), "--db", str(db_path))
    assert run_cli(*base, "issue", "build", "--date", "2022-10-14").returncode == 0
    moved = run_cli(*base, "issue", "move", "2022-10-14", "2", "1")
    assert moved.returncode == 0 and moved.stdout.startswith("moved item 2 to 1;")
    edited = run_cli(*base, "issue", "edit", "2022-10-14", "1", "--title", "大众与地平线成立合资企业")
    assert edited.returncode == 0 and "  1. 大众与地平线成立合资企业" in edited.stdout
    refused = run_cli(*base, "issue", "add", "2022-10-14", "http://portal.fixture.test/p/901.html")
    assert refused.returncode == 1 and "is this story already" in refused.stderr and refused.stderr.count("\n") == 1
    dropped = run_cli(*base, "issue", "drop", "2022-10-14", "2")
    assert dropped.returncode == 0 and "1 items" in dropped.stdout
    bad = run_cli(*base, "issue", "drop", "2022-10-14", "5")
    assert bad.returncode == 1 and bad.stderr == "aibrief: error: the issue of 2022-10-14 has no item 5 (it has 1 item)\n"

    editor = tmp_path / "master.md"
    assert run_cli(*base, "export", "2022-10-14", "--layout", "editor", "--script", "traditional",
                   "-o", str(editor)).returncode == 0
    text = editor.read_text("utf-8")
    # The layout's own words (导读, 原文) are fixed; the text is in the script asked for.
    assert text.startswith("> 导读：嵌入式 AI · AI 簡報 20221014 期\n") and "## 1. [大衆與地平線成立合資企業]" in text
    assert "> 原文：http://auto.fixture.test/news/vw-horizon.html" in text and "智能駕駛" in text
    other_db = tmp_path / "other.db"
    imported = run_cli("--db", str(other_db), "import", str(editor))
    assert imported.returncode == 0 and imported.stdout == "imported AI 簡報 20221014 期: 1 items, published\n"
    assert run_cli("--db", str(other_db), "export", "2022-10-14", "--layout", "editor").stdout == text


def test_a_refetch_crawled_inline_is_scored_against_the_configured_taxonomy(story_site, tmp_path, db_path):
    """Crawled inline (no pool), a re-fetched article is scored against the configured
    topics, as every page is: the store used to classify a re-fetch itself, against the
    shipped taxonomy (自动驾驶 for this story), whatever the configuration said."""
    site, _ = story_site
    config = tmp_path / "aibrief.toml"
    config.write_text('timezone = "Asia/Shanghai"\n[crawl]\ndelay = 0.0\ntimeout = 5.0\nretries = 0\n'
                      '[editorial]\nthreshold = 1.0\n[[editorial.topics]]\nname = "资本合作"\n'
                      '[editorial.topics.terms]\n"合资企业" = 5\n', "utf-8")
    inline = ("urls", "-a", f"urls={ORIGINAL}", "-s", "AIBRIEF_EXTRACT_WORKERS=0")
    first = scrapy_crawl(*inline, config=config, db=db_path, site=site)
    assert first.returncode == 0, first.stderr[-2000:]
    assert rows(db_path, "SELECT topics FROM articles") == [('["资本合作"]',)]
    queued = run_cli("--config", str(config), "--db", str(db_path), "refetch", "--queue", ORIGINAL)
    assert queued.returncode == 0 and queued.stdout.startswith("1 re-fetches asked for"), queued.stderr
    again = scrapy_crawl(*inline, config=config, db=db_path, site=site)
    assert again.returncode == 0, again.stderr[-2000:]
    assert rows(db_path, "SELECT count(*) FROM refetch_requests") == [(0,)]  # it was fetched again
    assert rows(db_path, "SELECT topics FROM articles") == [('["资本合作"]',)]
