"""Delivery on publish, against real servers on 127.0.0.1: every channel's request in its
vendor's documented format (the signatures computed here from the vendors' published
algorithms, apart from the code under test), e-mail through STARTTLS and AUTH, the
failures (a 500, a timeout, a 429 with Retry-After, a refused login), results stored with
the issue, and no delivery sent twice."""
from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import textwrap
import time
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from conftest import rows, run_cli
from publishing_servers import (
    RETRY_AFTER,
    SMTP_PASSWORD,
    SMTP_USER,
    WECHAT_ARTICLE,
    sample_items,
    start_recording_server,
    start_smtp_server,
    store_issue,
)

from crawler.config import load_config
from pipelines.archive.db import connect
from pipelines.editorial.publishing.deliver import publish_and_deliver

DAY = dt.date(2026, 8, 22)
FEISHU_SECRET = "feishu-signing-secret"
DINGTALK_SECRET = "SECdingtalk0123456789"
BOT_TOKEN = "123456:ABC-token"
SITE = "https://brief.example.org/"


@pytest.fixture(scope="module")
def hooks():
    state, server = start_recording_server()
    yield state
    server.shutdown()


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    controller, mailbox, cert = start_smtp_server(tmp_path_factory.mktemp("smtp"))
    yield controller, mailbox, cert
    controller.stop()


def publish_config(path: Path, outputs: str, **publish) -> Path:
    settings = {"site_url": SITE, "timeout": 0.3, "retries": 2, "backoff": 0.0, "max_retry_wait": 10.0, **publish}
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    path.write_text(f'timezone = "Asia/Shanghai"\n\n[publish]\n{lines}\n\n{textwrap.dedent(outputs)}\n', "utf-8")
    return path


def outputs_toml(*tables: dict) -> str:
    """``[[publish.outputs]]`` tables, their values written as TOML."""
    return "\n".join("[[publish.outputs]]\n" + "".join(
        f"{key} = {json.dumps(str(value) if isinstance(value, Path) else value, ensure_ascii=False)}\n"
        for key, value in table.items()) for table in tables)


def all_channels(hooks, cert: Path, port: int) -> str:
    return outputs_toml(
        {"name": "hook", "channel": "webhook", "sends": "issue", "url": hooks.url("/ok/webhook/in")},
        {"name": "feishu", "channel": "feishu", "url_env": "AIBRIEF_TEST_FEISHU_URL",
         "secret_env": "AIBRIEF_TEST_FEISHU_SECRET"},
        {"name": "dingtalk", "channel": "dingtalk", "url": hooks.url("/ok/dingtalk/robot/send?access_token=tok"),
         "secret": DINGTALK_SECRET, "top": 2},
        {"name": "wecom", "channel": "wecom", "url": hooks.url("/ok/wecom/webhook/send?key=k1"), "sends": "issue"},
        {"name": "slack", "channel": "slack", "url": hooks.url("/ok/slack/services/T0/B0/X")},
        {"name": "telegram", "channel": "telegram", "token_env": "AIBRIEF_TEST_BOT", "chat_id": "-1001234",
         "api": hooks.url("/ok/telegram")},
        {"name": "mail", "channel": "email", "sends": "issue", "host": "127.0.0.1", "port": port,
         "username": SMTP_USER, "password_env": "AIBRIEF_TEST_SMTP", "sender": "brief@example.org",
         "to": ["team@example.org", "lead@example.org"], "ca_file": cert},
    )


def secrets_env(hooks) -> dict[str, str]:
    return {"AIBRIEF_TEST_FEISHU_URL": hooks.url("/ok/feishu/open-apis/bot/v2/hook/abc"),
            "AIBRIEF_TEST_FEISHU_SECRET": FEISHU_SECRET, "AIBRIEF_TEST_BOT": BOT_TOKEN,
            "AIBRIEF_TEST_SMTP": SMTP_PASSWORD}


def deliveries(db: Path) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in rows(db, "SELECT output, status, reason, parts_sent, attempts"
                                                " FROM publish_deliveries ORDER BY output")}


def test_publish_delivers_to_every_channel_in_its_documented_format(tmp_path, db_path, hooks, smtp):
    controller, mailbox, cert = smtp
    store_issue(db_path, DAY)
    config = publish_config(tmp_path / "aibrief.toml", all_channels(hooks, cert, controller.port))
    before = len(hooks.requests)
    started = int(time.time())
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat(),
                     **secrets_env(hooks))
    assert result.returncode == 0, result.stderr
    assert "published AI 簡報 20260822 期 (3 items)" in result.stdout
    stored = deliveries(db_path)
    assert {name: row[0] for name, row in stored.items()} == dict.fromkeys(
        ["dingtalk", "feishu", "hook", "mail", "slack", "telegram", "wecom"], "delivered")
    assert rows(db_path, "SELECT status FROM issues WHERE date = ?", [DAY.isoformat()]) == [("published",)]
    sent = hooks.requests[before:]
    archive = SITE + "issues/2026-08-22.html"

    (feishu,) = [r for r in sent if "/feishu/" in r.path]
    body = feishu.json()
    # Feishu: HMAC-SHA256 keyed with "timestamp\nsecret" over nothing, base64.
    key = f"{body['timestamp']}\n{FEISHU_SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert started - 5 <= int(body["timestamp"]) <= time.time() + 5
    post = body["content"]["post"]["zh_cn"]
    assert body["msg_type"] == "post" and post["title"] == "AI 簡報 20260822 期"
    flat = [element for paragraph in post["content"] for element in paragraph]
    assert {"tag": "a", "text": archive, "href": archive} in flat
    assert {"tag": "a", "text": "Qwen 小模型跑在手机上", "href": WECHAT_ARTICLE} in flat

    (ding,) = [r for r in sent if "/dingtalk/" in r.path]
    # DingTalk: HMAC-SHA256 keyed with the secret over "timestamp\nsecret", base64, URL-encoded.
    timestamp = ding.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert ding.query["sign"] == [expected] and ding.query["access_token"] == ["tok"]
    assert started * 1000 - 5000 <= int(timestamp) <= time.time() * 1000 + 5000
    markdown = ding.json()
    assert markdown["msgtype"] == "markdown" and markdown["markdown"]["title"] == "AI 簡報 20260822 期"
    text = markdown["markdown"]["text"]
    assert "1. [地平线发布征程 6 芯片 ＜b＞旗舰＜/b＞](https://news.example.com/j6?id=1&x=2)" in text
    assert "2. [Qwen 小模型跑在手机上]" in text and "TinyML" not in text  # top = 2
    assert text.endswith(f"在存档中阅读全文：[{archive}]({archive})")

    (wecom,) = [r for r in sent if "/wecom/" in r.path]
    content = wecom.json()["markdown"]["content"]
    assert wecom.json()["msgtype"] == "markdown" and wecom.query["key"] == ["k1"]
    assert "> 第二段：量产时间定在明年。" in content and "### 端侧与嵌入式 AI" in content  # the whole issue

    (slack,) = [r for r in sent if "/slack/" in r.path]
    assert "<https://news.example.com/j6?id=1&amp;x=2|地平线发布征程 6 芯片 &lt;b&gt;旗舰&lt;/b&gt;>" in slack.json()["text"]

    (telegram,) = [r for r in sent if "/telegram/" in r.path]
    assert telegram.path == f"/ok/telegram/bot{BOT_TOKEN}/sendMessage"
    message = telegram.json()
    assert message["chat_id"] == "-1001234" and message["parse_mode"] == "HTML"
    assert '<a href="https://news.example.com/j6?id=1&amp;x=2">地平线发布征程 6 芯片 &lt;b&gt;旗舰&lt;/b&gt;</a>' in message["text"]

    (hook,) = [r for r in sent if r.path.startswith("/ok/webhook/")]
    data = hook.json()
    assert hook.headers["Content-Type"].startswith("application/json")
    assert (data["date"], data["title"], data["url"], data["sends"]) == ("2026-08-22", "AI 簡報 20260822 期", archive,
                                                                         "issue")
    assert "Keyword spotting in 20 KB of RAM." in data["text"]

    (mail,) = mailbox.messages[-1:]
    assert mail["tls"] and mail["from"] == "brief@example.org"
    assert mail["to"] == ["team@example.org", "lead@example.org"]
    assert (SMTP_USER, True) in mailbox.logins
    parsed = email.message_from_bytes(mail["data"], policy=email.policy.default)
    assert parsed["Subject"] == "AI 簡報 20260822 期" and parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "第二段：量产时间定在明年。" in plain and f"存档：{archive}" in plain
    assert '<a href="https://news.example.com/j6?id=1&amp;x=2">' in html and "&lt;b&gt;旗舰" in html

    Path(tmp_path / "bodies.txt").write_text("\n\n".join(f"{r.path}?{r.query}\n{r.body.decode()}" for r in sent))

    # Publishing again sends nothing: every output is delivered.
    count = len(hooks.requests)
    again = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat(), "--retry-failed",
                    **secrets_env(hooks))
    assert again.returncode == 0, again.stderr
    assert len(hooks.requests) == count and len(mailbox.messages) == 1 + mailbox.messages.index(mail)
    assert again.stdout.count(": skipped") == 7


def test_failures_are_recorded_never_block_the_others_and_are_retried(tmp_path, db_path, hooks, smtp):
    """A 500 on every try, a timeout, a refused SMTP login and a missing secret each fail
    with their reason; the outputs that work are delivered all the same; --retry-failed
    sends the failed ones again and nothing that went out."""
    controller, mailbox, cert = smtp
    store_issue(db_path, DAY)
    outputs = outputs_toml(
        {"name": "broken", "channel": "slack", "url": hooks.url('/500/slack/a')},
        {"name": "slow", "channel": "wecom", "url": hooks.url('/slow/wecom/b')},
        {"name": "flaky", "channel": "webhook", "url": hooks.url(f'/flaky/webhook/{tmp_path.name}')},
        {"name": "fine", "channel": "slack", "url": hooks.url(f'/ok/slack/{tmp_path.name}')},
        {"name": "mail", "channel": "email", "host": "127.0.0.1", "port": controller.port, "username": SMTP_USER,
         "password": "wrong-password", "sender": "brief@example.org", "to": ["team@example.org"], "ca_file": cert},
        {"name": "nosecret", "channel": "feishu", "url_env": "AIBRIEF_TEST_UNSET_HOOK"},
    )
    config = publish_config(tmp_path / "aibrief.toml", outputs, retries=1)
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert result.returncode == 1
    assert result.stderr == (f"aibrief: error: 5 of 6 deliveries failed (aibrief issue publish {DAY} --retry-failed "
                             "tries them again)\n")
    stored = deliveries(db_path)
    assert stored["fine"][:2] == ("delivered", None)
    assert stored["broken"] == ("failed", "HTTP 500 (after 2 tries)", 0, 2)
    assert stored["slow"][:2] == ("failed", "no answer within 0.3s (after 2 tries)")
    assert stored["flaky"][:2] == ("failed", "HTTP 500 (after 2 tries)")
    assert stored["mail"][0] == "failed" and stored["mail"][1].startswith("SMTP login refused: 535")
    assert stored["nosecret"][:2] == ("failed", "environment variable AIBRIEF_TEST_UNSET_HOOK (url) is not set")
    assert ("digest", False) in mailbox.logins
    assert len(hooks.to("/500/slack/a")) >= 2 and len(hooks.to(f"/ok/slack/{tmp_path.name}")) == 1
    assert rows(db_path, "SELECT status FROM issues") == [("published",)]

    # Without --retry-failed nothing is sent again; with it, the flaky hook gets through.
    count = len(hooks.requests)
    quiet = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert quiet.returncode == 0 and len(hooks.requests) == count
    retried = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat(),
                      "--retry-failed")
    assert retried.returncode == 1
    stored = deliveries(db_path)
    assert stored["flaky"][:2] == ("delivered", None) and len(hooks.to(f"/flaky/webhook/{tmp_path.name}")) == 3
    assert len(hooks.to(f"/ok/slack/{tmp_path.name}")) == 1  # delivered before: never sent twice
    assert "  fine (slack): skipped" in retried.stdout and "  flaky (webhook): delivered" in retried.stdout


def test_a_429_waits_as_long_as_retry_after_says(tmp_path, db_path, hooks):
    """The wait between tries is the server's Retry-After, not the back-off; a Retry-After
    beyond max_retry_wait fails the delivery with that reason (publishing again retries)."""
    store_issue(db_path, DAY)
    outputs = outputs_toml(
        {"name": "limited", "channel": "dingtalk", "url": hooks.url(f'/429/dingtalk/{tmp_path.name}?access_token=t')},
    )
    config = load_config(publish_config(tmp_path / "aibrief.toml", outputs, backoff=0.5), db_path)
    waits: list[float] = []
    db = connect(db_path)
    try:
        done = publish_and_deliver(db, config, DAY, sleep=waits.append)
    finally:
        db.close()
    assert [(d.output, d.status, d.attempts) for d in done.deliveries] == [("limited", "delivered", 2)]
    assert waits == [float(RETRY_AFTER)]
    assert deliveries(db_path)["limited"] == ("delivered", None, 1, 2)

    other_day = DAY + dt.timedelta(days=1)
    store_issue(db_path, other_day)
    impatient = load_config(publish_config(tmp_path / "impatient.toml", outputs.replace("/429/", "/429/x/"),
                                           max_retry_wait=1.0), db_path)
    db = connect(db_path)
    try:
        (result,) = publish_and_deliver(db, impatient, other_day, sleep=waits.append).deliveries
    finally:
        db.close()
    assert result.status == "failed" and waits == [float(RETRY_AFTER)]
    assert result.reason == f"HTTP 429; asked to wait {RETRY_AFTER}s, more than publish.max_retry_wait"


def test_long_messages_are_split_or_trimmed_by_the_channels_limit(tmp_path, db_path, hooks):
    """WeCom takes 4096 bytes of Markdown: the whole issue goes in numbered parts at entry
    boundaries, each within the limit; a summary is cut, items from the end, to what fits
    with the archive link."""
    store_issue(db_path, DAY, items=sample_items(summary_repeat=40))
    outputs = outputs_toml(
        {"name": "whole", "channel": "wecom", "sends": "issue", "url": hooks.url(f'/ok/wecom/whole-{tmp_path.name}')},
        {"name": "brief", "channel": "telegram", "sends": "summary", "top": 3, "token": "1:x", "chat_id": "42",
         "api": hooks.url(f'/ok/telegram/brief-{tmp_path.name}')},
    )
    config = publish_config(tmp_path / "aibrief.toml", outputs)
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    parts = [r.json()["markdown"]["content"] for r in hooks.to(f"/ok/wecom/whole-{tmp_path.name}")]
    assert len(parts) > 1 and all(len(p.encode()) <= 4096 for p in parts)
    assert f"whole (wecom): delivered, {len(parts)} messages" in result.stdout
    assert parts[0].startswith("### AI 簡報 20260822 期")
    assert parts[-1].endswith(f"存档：[{SITE}issues/2026-08-22.html]({SITE}issues/2026-08-22.html)")
    assert deliveries(db_path)["whole"][2] == len(parts)
    plain = "\n\n".join(parts).translate(str.maketrans("＜＞＊【】", "<>*[]"))  # as the Markdown shows them
    assert all(item.title in plain and item.summary.splitlines()[0].strip() in plain for item in sample_items(summary_repeat=40))
    (brief,) = hooks.to(f"/ok/telegram/brief-{tmp_path.name}")
    assert "TinyML on a microcontroller" in brief.json()["text"] and len(brief.json()["text"]) <= 4096


def test_a_summary_that_does_not_fit_drops_items_from_the_end(tmp_path, db_path, hooks):
    store_issue(db_path, DAY, headline="头条" * 620)  # the headline alone takes most of WeCom's 4096 bytes
    outputs = outputs_toml(
        {"name": "short", "channel": "wecom", "top": 3, "url": hooks.url(f'/ok/wecom/short-{tmp_path.name}')},
    )
    config = publish_config(tmp_path / "aibrief.toml", outputs)
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    (only,) = hooks.to(f"/ok/wecom/short-{tmp_path.name}")
    content = only.json()["markdown"]["content"]
    assert len(content.encode()) <= 4096 and "1. [地平线" in content and "3. [TinyML" not in content
    assert content.endswith(f"在存档中阅读全文：[{SITE}issues/2026-08-22.html]({SITE}issues/2026-08-22.html)")


@pytest.mark.parametrize("outputs, key, problem", [
    ('[[publish.outputs]]\nchannel = "pigeon"\n', "publish.outputs[0].channel", "unknown channel 'pigeon'"),
    ('[[publish.outputs]]\nchannel = "slack"\n', "publish.outputs[slack-1].url", "missing"),
    ('[[publish.outputs]]\nchannel = "slack"\nurl = "ftp://x"\n', "publish.outputs[slack-1].url", "not an http(s) URL"),
    ('[[publish.outputs]]\nchannel = "feishu"\nurl = "https://x.test/h"\nsecret = "a"\nsecret_env = "B"\n',
     "publish.outputs[feishu-1].secret", "not both"),
    ('[[publish.outputs]]\nchannel = "email"\nhost = "h"\nport = 25\nsender = "a@b"\nto = "c@d"\n',
     "publish.outputs[email-1].to", "must be an array"),
    ('[[publish.outputs]]\nchannel = "slack"\nurl = "https://x.test/h"\ncolour = 1\n', "publish.outputs[slack-1].colour",
     "unknown key"),
    ('[[publish.outputs]]\nname = "a"\nchannel = "slack"\nurl = "https://x.test/h"\n'
     '[[publish.outputs]]\nname = "a"\nchannel = "slack"\nurl = "https://x.test/h"\n',
     "publish.outputs[1].name", "duplicate output name 'a'"),
    ('outputs = "all"\n', "publish.outputs", "must be an array"),
    ('sends = "everything"\n', "publish.sends", "is not one of issue, summary"),
])
def test_malformed_outputs_are_one_line_errors_naming_the_key(tmp_path, db_path, outputs, key, problem):
    path = tmp_path / "aibrief.toml"
    path.write_text(f"[publish]\n{outputs}", "utf-8")
    store_issue(db_path, DAY)
    result = run_cli("--config", str(path), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert result.returncode == 2
    assert result.stderr.startswith(f"aibrief: error: {path}: {key}: ") and problem in result.stderr
    assert result.stderr.count("\n") == 1
    assert rows(db_path, "SELECT status FROM issues") == [("draft",)]  # nothing published on a bad config


def test_a_daily_issue_goes_out_in_the_daily_layout(tmp_path, db_path, hooks, smtp):
    """With issue.layout = "daily" the messages are the 早报's: its dated title and sections,
    and the e-mail's sender may carry a display name."""
    controller, mailbox, cert = smtp
    store_issue(db_path, DAY)
    config = publish_config(tmp_path / "aibrief.toml", outputs_toml(
        {"name": "daily", "channel": "slack", "sends": "issue", "url": hooks.url(f"/ok/slack/daily-{tmp_path.name}")},
        {"name": "mail", "channel": "email", "host": "127.0.0.1", "port": controller.port, "username": SMTP_USER,
         "password": SMTP_PASSWORD, "sender": "AI 早报 <brief@example.org>", "to": ["team@example.org"],
         "ca_file": cert}))
    config.write_text(config.read_text("utf-8") + '\n[issue]\nlayout = "daily"\n', "utf-8")
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    (daily,) = hooks.to(f"/ok/slack/daily-{tmp_path.name}")
    text = daily.json()["text"]
    assert text.startswith("*🤖 AI 早报 | 2026.08.22（周六）*") and "*🔥 今日精选*" in text and "*朋友圈版*" in text
    parsed = email.message_from_bytes(mailbox.messages[-1]["data"], policy=email.policy.default)
    assert parsed["Subject"] == "🤖 AI 早报 | 2026.08.22（周六）" and parsed["From"].addresses[0].display_name == "AI 早报"
    assert parsed["Message-ID"].endswith("@example.org>")


def test_an_unknown_date_is_one_line_and_sends_nothing(tmp_path, db_path, hooks):
    config = publish_config(tmp_path / "aibrief.toml", outputs_toml(
        {"channel": "slack", "url": hooks.url(f"/ok/slack/none-{tmp_path.name}")}))
    result = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", "2026-01-01")
    assert result.returncode == 1
    assert result.stderr == ("aibrief: error: no issue for 2026-01-01 (build it with: aibrief issue build "
                             "--date 2026-01-01)\n")
    assert hooks.to(f"/ok/slack/none-{tmp_path.name}") == []


def test_dingtalk_signature_is_url_encoded_as_documented(hooks):
    """The sign parameter decodes (unquote_plus) to the base64 signature, '+' and '/' and '='
    included."""
    from pipelines.editorial.publishing.channels import DingTalk, dingtalk_sign
    from pipelines.editorial.publishing.settings import Output

    output = Output("d", "dingtalk", "summary", 3, "https://oapi.dingtalk.com/robot/send?access_token=t", "s3", "", "",
                    None, "")
    request = DingTalk().request(output, {"msgtype": "markdown"}, 1_700_000_000.5)
    query = dict(part.split("=", 1) for part in request.url.split("?", 1)[1].split("&"))
    assert query["timestamp"] == "1700000000500"
    assert unquote_plus(query["sign"]) == dingtalk_sign("s3", 1_700_000_000_500)
    assert "+" not in query["sign"] and "/" not in query["sign"]


def test_publishing_brings_the_archive_up_to_date_before_any_message_links_to_it(tmp_path, db_path, hooks):
    """With [publish] site_dir, the issue's page is written before the delivery that links
    to it; an archive that cannot be written stops the deliveries with one line, and
    publishing again, once it can, sends them."""
    store_issue(db_path, DAY)
    hook = f"/ok/webhook/site-{tmp_path.name}"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive's folder should be")
    config = publish_config(tmp_path / "aibrief.toml", outputs_toml({"name": "hook", "channel": "webhook",
                                                                      "url": hooks.url(hook)}), site_dir="blocked")
    refused = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert f"the issue of {DAY} is published, but the archive in {blocked} could not be written" in refused.stderr
    assert hooks.to(hook) == [] and rows(db_path, "SELECT count(*) FROM publish_deliveries") == [(0,)]

    config.write_text(config.read_text("utf-8").replace('site_dir = "blocked"', 'site_dir = "public"'), "utf-8")
    done = run_cli("--config", str(config), "--db", str(db_path), "issue", "publish", DAY.isoformat())
    assert done.returncode == 0, done.stderr
    page = tmp_path / "public" / "issues" / f"{DAY}.html"
    assert "AI 簡報 20260822 期" in page.read_text("utf-8")
    assert f"  archive {tmp_path / 'public'}: " in done.stdout and "  hook (webhook): delivered" in done.stdout
    (sent,) = hooks.to(hook)
    assert sent.json()["url"] == f"{SITE}issues/{DAY}.html"
