"""The configuration: defaults, overrides, and one-line errors for bad files."""
from __future__ import annotations

import pytest
from conftest import run_cli

from crawler.config import ConfigError, load_config


def test_default_config_is_valid_and_real(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIBRIEF_CONFIG", raising=False)
    monkeypatch.delenv("AIBRIEF_DB", raising=False)
    config = load_config()
    assert config.path is None
    assert config.timezone == "Asia/Shanghai"
    assert config.database == tmp_path / "aibrief.db"
    assert config.issue.title_for(__import__("datetime").date(2022, 10, 14)) == "AI 簡報 20221014 期"
    ids = {s.id for s in config.sources}
    assert {"arxiv-cs-ai", "arxiv-cs-lg", "arxiv-cs-ar", "google-research", "36kr", "huggingface",
            "ieee-spectrum-ai", "wechat-jiqizhixin", "wechat-qbitai"} <= ids
    # WeChat accounts go through the RSSHub route and stay off until a bridge is set.
    active = {s.id for s in config.active_sources()}
    assert "wechat-jiqizhixin" not in active and "36kr" in active


def test_rsshub_base_turns_bridge_routes_on(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[crawl]\nrsshub = "https://rsshub.example.org/"\n[[sources]]\nid = "w"\nroute = "/wechat/x"\n')
    config = load_config(path)
    assert config.source("w").feed_url(config.crawl.rsshub) == "https://rsshub.example.org/wechat/x"
    assert [s.id for s in config.active_sources()] == ["w"]


def test_overrides_file_then_environment_then_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aibrief.toml").write_text('database = "data/archive.db"\n')
    assert load_config().database == tmp_path / "data" / "archive.db"  # relative to the file
    other = tmp_path / "elsewhere" / "x.toml"
    other.parent.mkdir()
    other.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("AIBRIEF_CONFIG", str(other))
    monkeypatch.setenv("AIBRIEF_DB", str(tmp_path / "env.db"))
    config = load_config()
    assert config.timezone == "UTC" and config.database == tmp_path / "env.db"
    assert load_config(other, tmp_path / "arg.db").database == tmp_path / "arg.db"


@pytest.mark.parametrize("text, key, problem", [
    ('colour = "blue"\n', "colour", "unknown key"),
    ('[crawl]\ndelay = "soon"\n', "crawl.delay", "must be a number"),
    ('[issue]\nmax_items = "nine"\n', "issue.max_items", "must be an integer"),
    ('[issue]\nmax_items = 0\n', "issue.max_items", "must be positive"),
    ('[crawl]\nstore_batch = 0\n', "crawl.store_batch", "must be positive"),
    ('[crawl]\nstore_flush = -1.0\n', "crawl.store_flush", "must be zero or more"),
    ('timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
    ('[issue]\ndue = "someday"\n', "issue.due", "is not a due rule"),
    ('[issue]\ntitle = "AI {when}"\n', "issue.title", "bad template"),
    ('[[sources]]\nid = "a"\nurl = "ftp://x.test/feed"\n', "sources[a].url", "is not an http(s) URL"),
    ('[[sources]]\nid = "a"\nurl = "https://x.test/f"\n[[sources]]\nid = "a"\nurl = "https://y.test/f"\n',
     "sources[1].id", "duplicate source id 'a'"),
    ('[[sources]]\nid = "a"\nkind = "carrier-pigeon"\nurl = "https://x.test/f"\n', "sources[a].kind", "unknown kind"),
    ('[[sources]]\nid = "a"\n', "sources[a].url", "give exactly one of url or route"),
    ('[[sources]]\nid = "Bad Id"\nurl = "https://x.test/f"\n', "sources[0].id", "must be lower-case"),
    ('[[sources]]\nid = "a"\nurl = "https://x.test/f"\noptions = { timezone = "Nowhere" }\n',
     "sources[a].options.timezone", "unknown time zone"),
    ('[crawl\n', "", "not valid TOML"),
])
def test_bad_config_is_one_line_naming_file_key_and_problem(tmp_path, text, key, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}") and problem in message and "\n" not in message
    result = run_cli("--config", str(path), "issue", "list")
    assert result.returncode == 2
    assert result.stderr == f"aibrief: error: {message}\n"


def test_missing_config_file_is_one_line(tmp_path):
    result = run_cli("--config", str(tmp_path / "nope.toml"), "issue", "list")
    assert result.returncode == 2
    assert result.stderr.strip() == f"aibrief: error: {tmp_path / 'nope.toml'}: no such file"


def test_init_writes_an_editable_copy_and_keeps_an_existing_one(tmp_path):
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0
    written = tmp_path / "aibrief.toml"
    assert "[[sources]]" in written.read_text() and "# aibrief configuration" in written.read_text()
    assert load_config(written).sources  # the copy loads
    written.write_text("# mine\n")
    again = run_cli("init", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    assert written.read_text() == "# mine\n"
    assert run_cli("init", "--force", cwd=tmp_path).returncode == 0
    assert "[[sources]]" in written.read_text()


def test_the_stable_extraction_entry_point_reads_dates_in_the_shipped_time_zone():
    from pipelines.extract import SHIPPED_TIMEZONE

    assert SHIPPED_TIMEZONE.key == load_config(None).timezone


def test_every_user_default_is_in_the_shipped_file_once():
    """A configuration of nothing but its own tables gets the shipped file's values: the
    settings records carry no defaults of their own for these."""
    import dataclasses

    from pipelines.analysis.settings import EditorialSettings
    from pipelines.editorial.publishing.settings import Output, PublishSettings, SmtpSettings
    from pipelines.editorial.settings import IssueRules
    from schedules.settings import CrawlSettings, ScheduleSettings

    for record in (CrawlSettings, IssueRules, ScheduleSettings, EditorialSettings, PublishSettings, Output, SmtpSettings):
        assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   for f in dataclasses.fields(record)), record


@pytest.mark.parametrize("text, key", [
    ("[crawl]\ndelay = nan\n", "crawl.delay"),
    ("[crawl]\ntimeout = inf\n", "crawl.timeout"),
    ("max_size_mb = nan\n", "max_size_mb"),
    ("max_size_mb = -5.0\n", "max_size_mb"),
    ("[editorial]\nthreshold = -inf\n", "editorial.threshold"),
])
def test_numbers_that_are_no_numbers_are_one_line_errors(tmp_path, text, key):
    path = tmp_path / "aibrief.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {key}: ") and "\n" not in message
