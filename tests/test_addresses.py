"""Nothing is fetched from inside the network aibrief runs in (RELIABILITY.md scenario 28):
the address policy on its own, then real crawls that meet a loopback entry in a feed, a
redirect to loopback, credentials in a URL and a name that resolves to loopback."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, MockSite, last_run, rows, run_cli, scrapy_crawl, write_config

from crawler.addresses import AddressPolicy, refused_address
from crawler.resolver import static_hosts

STRICT = AddressPolicy()


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:8080/a", "loopback"),
    ("http://127.9.9.9/", "loopback"),
    ("http://[::1]/a", "loopback"),
    ("http://localhost:9000/", "loopback"),
    ("http://api.localhost/", "loopback"),
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as inet_aton reads a bare number
    ("http://0x7f000001/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://10.1.2.3/", "private"),
    ("http://192.168.0.10/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),  # IPv4-mapped
    ("http://[2002:a00:1::]/", "private"),  # 6to4 of 10.0.0.1
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://100.100.100.200/", "cloud metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.251/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "not global"),  # carrier-grade NAT
])
def test_refused_addresses_name_their_reason(url, reason):
    assert STRICT.refuse_url(url) == f"private address ({reason})"


@pytest.mark.parametrize("url", ["https://36kr.com/p/1", "http://93.184.216.34/", "http://[2606:4700::1111]/",
                                 "http://123abc.example/", "http://8.8.8.8:53/"])
def test_public_hosts_and_names_pass(url):
    assert STRICT.refuse_url(url) is None


def test_credentials_are_refused_and_the_settings_open_what_they_name():
    assert STRICT.refuse_url("http://user:secret@example.com/") == "credentials in the URL"
    assert STRICT.refuse_url("http://token@example.com/") == "credentials in the URL"
    named = AddressPolicy(allow_hosts=frozenset({"rsshub.lan"}))
    assert named.refuse_url("http://rsshub.lan/feed") is None
    assert named.refuse_resolved("rsshub.lan", "192.168.1.5") is None
    assert named.refuse_resolved("other.lan", "192.168.1.5") == "private address (other.lan is 192.168.1.5, private)"
    assert AddressPolicy(allow_private=True).refuse_url("http://10.0.0.1/") is None
    assert AddressPolicy(allow_private=True).refuse_url("http://u:p@10.0.0.1/") == "credentials in the URL"
    assert refused_address("example.com") is None  # a name: judged once it resolves


def test_static_hosts_are_read_and_checked():
    assert static_hosts("a.test=127.0.0.1, B.test = 10.0.0.1") == {"a.test": "127.0.0.1", "b.test": "10.0.0.1"}
    with pytest.raises(ValueError, match="not name=address"):
        static_hosts("a.test")


@pytest.fixture
def feed_site(tmp_path):
    """A site of our own whose feed names a loopback page, a redirect to loopback, a URL
    with credentials, and one ordinary article."""
    root = tmp_path / "sites"
    process = subprocess.Popen([sys.executable, "-m", "crawler.sampleserver", str(root), str(ROOT / "tests" / "sites"),
                                "--log", str(tmp_path / "requests.jsonl")], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    port = int(process.stdout.readline().split()[1])
    loopback = f"http://127.0.0.1:{port}/pages.fixture.test/a/undated-1.html"
    to_loopback = f"http://feeds.fixture.test/_fault/goto/http/127.0.0.1:{port}/pages.fixture.test/a/undated-2.html"
    entries = [loopback, to_loopback, "http://reader:secret@pages.fixture.test/a/undated-3.html",
               "http://feeds.fixture.test/news/ok.html"]
    items = "".join(f"<item><title>条目{n}</title><link>{url}</link><pubDate>Fri, 14 Oct 2022 08:00:00 +0800</pubDate>"
                    f"</item>" for n, url in enumerate(entries))
    (root / "feeds.fixture.test" / "news").mkdir(parents=True)
    (root / "feeds.fixture.test" / "feed.xml").write_text(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>'
        f"<link>http://feeds.fixture.test/</link><description>d</description>{items}</channel></rss>", "utf-8")
    (root / "feeds.fixture.test" / "news" / "ok.html").write_text(
        '<html lang="zh-CN"><head><meta charset="utf-8"><title>边缘芯片出货</title></head><body><article>'
        "<h1>边缘芯片出货</h1><p>一家芯片公司宣布，其面向边缘设备的推理芯片本季度出货量翻了一番，主要客户来自安防和工业相机。</p>"
        "<p>公司表示，下一代产品将把能效再提高一倍，并支持更大的视觉模型在本地运行。</p></article></body></html>",
        "utf-8")
    yield MockSite(port, tmp_path / "requests.jsonl")
    process.terminate()
    process.wait(timeout=10)


def test_a_default_crawl_refuses_loopback_entries_redirects_and_credentials(feed_site, tmp_path, db_path):
    config = write_config(tmp_path / "aibrief.toml", """
        [[sources]]
        id = "feeds"
        kind = "feed"
        url = "http://feeds.fixture.test/feed.xml"
    """)
    result = scrapy_crawl("feed", config=config, db=db_path, site=feed_site)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    run = last_run(db_path)
    assert run["status"] == "ok" and run["counts"]["skipped/private_address"] == 3
    assert run["counts"]["stored"] == 1 and "failed" not in run["counts"]
    assert rows(db_path, "SELECT url FROM articles") == [("http://feeds.fixture.test/news/ok.html",)]
    assert "private address (loopback)" in result.stderr and "127.0.0.1" in result.stderr
    fetched = feed_site.fetched()
    assert not any(path.startswith("pages.fixture.test") for path in fetched), fetched  # never asked for
    assert any("/_fault/goto/" in path for path in fetched)  # the redirect was: its hop was refused
    states = dict(rows(db_path, "SELECT url, state FROM frontier"))
    assert list(states.values()).count("skipped") == 3


def test_a_name_resolving_to_loopback_is_refused_unless_allowed(mock_site, tmp_path, db_path):
    """No proxy: the crawl resolves the name itself (pinned to 127.0.0.1 here, as curl's
    --resolve does), and the resolver refuses it; allow_hosts lets it through."""
    mock_site.clear()
    url = f"http://pages.fixture.test:{mock_site.port}/a/undated-1.html"
    pin = ("-s", "AIBRIEF_STATIC_HOSTS=pages.fixture.test=127.0.0.1")
    strict = write_config(tmp_path / "strict.toml")
    refused = scrapy_crawl("urls", "-a", f"urls={url}", *pin, config=strict, db=db_path)
    assert refused.returncode == 0, refused.stderr[-2000:]
    counts = last_run(db_path)["counts"]
    assert counts["skipped/private_address"] == 1 and counts.get("stored", 0) == 0 and counts["retries"] == 0
    assert "pages.fixture.test is 127.0.0.1, loopback" in refused.stderr
    assert mock_site.fetched() == []

    allowed = write_config(tmp_path / "allowed.toml", allow_hosts=["pages.fixture.test"])
    fetched = scrapy_crawl("urls", "-a", f"urls={url}", *pin, config=allowed, db=tmp_path / "other.db")
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert rows(tmp_path / "other.db", "SELECT count(*) FROM articles") == [(1,)]
    assert "pages.fixture.test/a/undated-1.html" in mock_site.fetched()


def test_one_off_fetches_keep_to_the_policy(site, tmp_path):
    config = write_config(tmp_path / "aibrief.toml")
    base = ("--config", str(config), "--db", str(tmp_path / "x.db"))
    direct = run_cli(*base, "extract", f"http://127.0.0.1:{site.port}/pages.fixture.test/a/undated-1.html")
    assert direct.returncode == 1 and direct.stderr.count("\n") == 1
    assert "not fetched, private address (loopback)" in direct.stderr
    hop = run_cli(*base, "extract", f"http://pages.fixture.test/_fault/goto/http/127.0.0.1:{site.port}/x", site=site)
    assert hop.returncode == 1 and "(a redirect), private address (loopback)" in hop.stderr
    assert not any(r["path"].startswith("/x") for r in site.requests())


def test_the_config_keys_are_checked(tmp_path):
    from crawler.config import ConfigError, load_config

    for bad, problem in ((["ok.example", "not a host/"], "is not a host name"), ("yes", "must be an array")):
        path = tmp_path / "c.toml"
        path.write_text(f"[crawl]\nallow_hosts = {json.dumps(bad)}\n", "utf-8")
        with pytest.raises(ConfigError, match=problem):
            load_config(path)


def test_a_page_cannot_close_the_comment_extract_writes(tmp_path):
    hostile = ('<html><head><meta charset="utf-8"><meta name="author" content="x --> <script>alert(1)</script> <!--">'
               "<title>端侧芯片发布</title></head><body><article><h1>端侧芯片发布</h1>"
               "<p>一家公司发布了新的端侧推理芯片，能效比上一代提高一倍，首批样片已交付客户测试。</p>"
               "<p>公司表示，芯片支持主流框架导出的模型，开发者无需修改代码即可部署。</p></article></body></html>")
    page = tmp_path / "page.html"
    page.write_text(hostile, "utf-8")
    result = run_cli("--db", str(tmp_path / "x.db"), "extract", str(page), "--url", "https://news.example/a/1",
                     "--format", "md")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("<!-- ") and first.endswith(" -->") and first.count("-->") == 1
    assert "<script>" not in result.stdout and "&lt;script&gt;" in first
