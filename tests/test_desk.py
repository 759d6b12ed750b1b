"""The editor's desk over HTTP (``aibrief serve``), served by a real uvicorn server on a
loopback port over a real archive: its guards (token, CSRF, host names), the version
check shared with the command line, one-line errors for bad values, escaping, filters,
and the crawls it starts under the run lock. The browser tests are in
``test_desk_browser.py``."""
from __future__ import annotations

import dataclasses
import html
import json
import re
import socket
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import AIBRIEF, env_for, rows, run_cli, write_config
from desk_support import DAY, HOSTILE_URL, make_desk, serving
from publishing_servers import start_recording_server

from crawler.config import ConfigError, load_config
from crawler.desk.app import CHANGES, safe_href
from pipelines.archive.db import connect
from pipelines.archive.search import search
from pipelines.editorial.issues import get_issue
from pipelines.editorial.pending import queue_url
from pipelines.editorial.review import StoryFilter, review_candidates
from schedules.lock import run_lock
from schedules.settings import Config, DeskSettings

PAGE_URL = "http://pages.fixture.test/a/undated-1.html"  # a sample-site page the archive lacks
FEED_SOURCE = '[[sources]]\nid = "recovered"\nurl = "http://feeds.fixture.test/recovered.xml"\n'


@dataclass
class Desk:
    client: httpx.Client
    db: Path
    config: Config

    def csrf(self) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.client.get(f"/draft?date={DAY}").text)[1]

    def version(self) -> int:
        return rows(self.db, "SELECT version FROM issues WHERE date = ?", [DAY.isoformat()])[0][0]

    def post(self, path: str, **fields: str | int) -> httpx.Response:
        """A change as a page's form posts it: the CSRF token, the day and the version the
        draft has now, unless given."""
        data = {"csrf": self.csrf(), "date": DAY.isoformat(), "version": self.version(), "back": f"/draft?date={DAY}"}
        data.update(fields)
        return self.client.post(path, data={k: str(v) for k, v in data.items()})

    def titles(self) -> list[str]:
        return [title for (title,) in rows(self.db, "SELECT title FROM issue_items ORDER BY position")]

    def cli(self, *args: str):
        return run_cli("--config", str(self.config.path), "--db", str(self.db), *args)


@pytest.fixture
def desk(tmp_path):
    db_path, config = make_desk(tmp_path)
    with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
        yield Desk(client, db_path, config)


def error_line(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
    assert found, response.text[:500]
    return html.unescape(found[1])


def shown_titles(response: httpx.Response) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<a class="title" [^>]*>(.*?)</a>', response.text, re.S)]


def test_every_change_needs_the_desks_csrf_token(desk):
    before = (desk.version(), desk.titles(), rows(desk.db, "SELECT count(*) FROM editor_labels"))
    for path in CHANGES:
        fields = {"date": DAY.isoformat(), "version": str(desk.version()), "n": "1", "to": "2", "url": HOSTILE_URL,
                  "title": "x", "summary": "y", "section": "x", "source": "x"}
        for csrf in ({}, {"csrf": "not-the-token"}):
            refused = desk.client.post(path, data={**fields, **csrf})
            assert refused.status_code == 403, path
            assert "CSRF token" in error_line(refused)
    assert (desk.version(), desk.titles(), rows(desk.db, "SELECT count(*) FROM editor_labels")) == before


def test_a_change_on_a_stale_version_is_refused_by_the_desk_and_the_command_line(desk):
    """Another tab, the command line and a rebuild all move the version on: a change made
    on the older view is refused with a reload message, and nothing changes."""
    seen = desk.version()
    assert desk.post("/draft/drop", n=1, version=seen).status_code == 303
    after_drop = desk.titles()
    stale = desk.post("/draft/move", n=2, to=1, version=seen)  # the other tab still shows `seen`
    assert stale.status_code == 409
    assert "changed since this view" in error_line(stale) and "reload" in error_line(stale)
    assert desk.titles() == after_drop

    refused = desk.cli("issue", "drop", DAY.isoformat(), "1", "--if-version", str(seen))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(f"aibrief: error: the issue of {DAY} changed since this view")
    current = desk.version()
    assert desk.cli("issue", "edit", DAY.isoformat(), "1", "--title", "命令行改的标题",
                    "--if-version", str(current)).returncode == 0
    assert "命令行改的标题" in desk.titles()
    assert desk.post("/draft/drop", n=1, version=current).status_code == 409  # the CLI's edit came first

    before_rebuild = desk.version()
    assert desk.cli("issue", "build", "--date", DAY.isoformat(), "--force").returncode == 0
    assert desk.post("/draft/publish", version=before_rebuild).status_code == 409
    assert rows(desk.db, "SELECT status FROM issues") == [("draft",)]


def test_changes_go_through_the_editors_functions_and_are_labelled(desk):
    with closing(connect(desk.db)) as db:
        candidates = review_candidates(db, DAY, tz=desk.config.tz, daily=False, settings=desk.config.editorial)
    outside = [story for story in candidates.stories if story.position is None]
    (dropped_id,) = rows(desk.db, "SELECT article_id FROM issue_items WHERE position = 2")[0]
    dropped = desk.post("/draft/drop", n=2)
    assert dropped.status_code == 303 and dropped.headers["location"] == f"/draft?date={DAY}"
    assert '<p class="note" role="status">dropped item 2</p>' in desk.client.get(dropped.headers["location"]).text
    assert desk.post("/draft/move", n=3, to=1).status_code == 303
    assert desk.post("/draft/edit", n=1, title="新标题", summary="第一段。\n第二段。").status_code == 303
    sections = desk.config.editorial.sections
    target = next(name for name in sections if name != rows(desk.db, "SELECT section FROM issue_items"
                                                                      " WHERE position = 2")[0][0])
    assert desk.post("/draft/section", n=2, section=target).status_code == 303
    assert desk.post("/draft/add", url=outside[0].url).status_code == 303
    assert desk.post("/candidates/decline", url=outside[1].url).status_code == 303

    with closing(connect(desk.db)) as db:
        issue = get_issue(db, DAY)
    assert dropped_id not in [item.article_id for item in issue.items]
    assert issue.items[0].title == "新标题" and issue.items[0].summary == "第一段。\n第二段。"
    assert any(item.section == target for item in issue.items)
    assert outside[0].article_id in [item.article_id for item in issue.items]
    assert outside[1].article_id not in [item.article_id for item in issue.items]
    assert [action for (action,) in rows(desk.db, "SELECT action FROM editor_labels ORDER BY id")] == [
        "drop", "move", "edit", "move", "add", "drop"]


@pytest.mark.parametrize("method, path, fields, status, message", [
    ("post", "/draft/drop", {"n": "two"}, 400, "item: 'two' is not a whole number"),
    ("post", "/draft/drop", {"n": "99"}, 409, "has no item 99"),
    ("post", "/draft/move", {"n": "1", "to": "-3"}, 400, "to: -3 is out of range"),
    ("post", "/draft/edit", {"n": "1", "title": "   "}, 409, "an item's title cannot be empty"),
    ("post", "/draft/drop", {"n": "1", "version": "v7"}, 400, "version: 'v7' is not a whole number"),
    ("post", "/draft/drop", {"n": "1", "date": "2022-13-45"}, 400, "date: '2022-13-45' is not a date"),
    ("post", "/draft/add", {"url": "ftp://example.org/x"}, 400, "url: "),
    ("post", "/draft/add", {"url": ""}, 400, "url: give the address"),
    ("post", "/draft/drop", {"n": "1", "date": "2022-10-21"}, 409, "no issue for 2022-10-21"),
    ("post", "/draft/section", {"n": "1", "section": " "}, 409, "a section name cannot be empty"),
    ("post", "/sources/crawl", {"source": "nowhere"}, 409, "unknown source 'nowhere'"),
    ("get", "/candidates", {"date": "yesterday"}, 400, "date: 'yesterday' is not a date"),
    ("get", "/candidates", {"date": DAY.isoformat(), "min_score": "lots"}, 400, "min_score: 'lots' is not a number"),
    ("get", "/candidates", {"date": DAY.isoformat(), "min_score": "nan"}, 400, "min_score: 'nan' is not a number"),
])
def test_bad_values_are_one_line_errors_and_change_nothing(desk, method, path, fields, status, message):
    before = (desk.version(), desk.titles())
    if method == "post":
        answer = desk.post(path, **fields)
    else:
        answer = desk.client.get(path, params=fields)
    assert answer.status_code == status
    assert message in error_line(answer) and "\n" not in error_line(answer)
    assert "Traceback" not in answer.text
    assert (desk.version(), desk.titles()) == before


def test_explain_of_an_unknown_url_is_one_line(desk):
    answer = desk.client.get("/explain", params={"url": "https://nowhere.test/x"})
    assert answer.status_code == 400 and "is not in the archive" in answer.text and "Traceback" not in answer.text
    known = desk.client.get("/explain", params={"url": HOSTILE_URL})
    assert known.status_code == 200 and "threshold" in known.text


def test_hostile_titles_and_summaries_are_escaped_everywhere(desk):
    assert rows(desk.db, "SELECT count(*) FROM issue_items WHERE url = ?", [HOSTILE_URL]) == [(1,)]  # built in
    pages = {path: desk.client.get(path, params={"date": DAY.isoformat()}).text
             for path in ("/candidates", "/draft", "/preview")}
    pages["/explain"] = desk.client.get("/explain", params={"url": HOSTILE_URL}).text
    for path, text in pages.items():
        assert "<script>window.pwned" not in text and "<img src=x" not in text and "<b onmouseover" not in text, path
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in pages["/candidates"]
    assert "&lt;/textarea&gt;&lt;script&gt;window.pwned=3" in pages["/draft"]  # the summary, inside its textarea
    assert safe_href("javascript:alert(1)") == "#" and safe_href("https://a.test/x") == "https://a.test/x"


def test_filters_narrow_the_stories_as_the_library_does(desk):
    with closing(connect(desk.db)) as db:
        everything = review_candidates(db, DAY, tz=desk.config.tz, daily=False, settings=desk.config.editorial)
        topic = everything.topics[0]
        by_topic = review_candidates(db, DAY, tz=desk.config.tz, daily=False, settings=desk.config.editorial,
                                     wanted=StoryFilter(topic=topic, min_score=20.0))
        hits = search(db, "地平线", 30)
    assert 0 < len(by_topic.stories) < len(everything.stories)
    assert all(topic in story.topics and story.score >= 20 for story in by_topic.stories)
    page = desk.client.get("/candidates", params={"date": DAY.isoformat(), "topic": topic, "min_score": "20"})
    assert shown_titles(page) == [story.title for story in by_topic.stories]

    declined = next(story for story in everything.stories if story.position is None)
    assert desk.post("/candidates/decline", url=declined.url).status_code == 303
    unreviewed = desk.client.get("/candidates", params={"date": DAY.isoformat(), "unreviewed": "1"})
    assert declined.title not in shown_titles(unreviewed)
    assert len(shown_titles(unreviewed)) == len(everything.stories) - 1

    found = desk.client.get("/candidates", params={"date": DAY.isoformat(), "q": "地平线"})
    listed = re.findall(r'<li class="hit"><a [^>]*>(.*?)</a>', found.text, re.S)
    assert hits and [html.unescape(t) for t in listed] == [hit.title for hit in hits]


def test_a_token_is_asked_on_every_request_when_there_is_one(tmp_path):
    db_path, config = make_desk(tmp_path)
    token = "s3cret-desk-token"
    with serving(config, token=token) as url, httpx.Client(base_url=url, trust_env=False) as client:
        for path in ("/candidates", "/static/htmx.min.js", f"/?token=wrong-{token}"):
            assert client.get(path).status_code == 401, path
        assert client.post("/draft/drop", data={"n": "1"}).status_code == 401
        opened = client.get(f"/candidates?date={DAY}&token={token}")
        assert opened.status_code == 303 and opened.headers["location"] == f"/candidates?date={DAY}"
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert client.get(f"/candidates?date={DAY}").status_code == 200  # the cookie now
        with httpx.Client(base_url=url, trust_env=False, headers={"Authorization": f"Bearer {token}"}) as scripted:
            assert scripted.get(f"/draft?date={DAY}").status_code == 200


def test_without_a_token_only_loopback_names_are_served(desk):
    rebound = desk.client.get(f"/draft?date={DAY}", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 421
    assert desk.client.get(f"/draft?date={DAY}", headers={"Host": "localhost:8000"}).status_code == 200


def test_serve_needs_a_token_for_any_address_but_loopback(tmp_path):
    config = write_config(tmp_path / "aibrief.toml")
    refused = run_cli("--config", str(config), "--db", str(tmp_path / "x.db"), "serve", "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert refused.stderr == ("aibrief: error: listening on 0.0.0.0 needs a token (--token or desk.token): anyone"
                              " who can reach it could change and publish issues\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[desk]\nport = 70000\n", "utf-8")
    with pytest.raises(ConfigError, match=r"desk.port: 70000 is no TCP port"):
        load_config(bad)
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(DeskSettings))
    assert load_config(config).desk == DeskSettings(host="127.0.0.1", port=8000, token="")


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def test_a_url_added_while_a_run_holds_the_lock_waits_then_lands(site, tmp_path, monkeypatch):
    """The fetch of an added page waits for the run lock (the page says so) and the page
    joins the draft once it is stored."""
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, site.proxy)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    db_path, config = make_desk(tmp_path)
    other_run = run_lock(db_path, "aibrief crawl").acquire()
    with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
        desk = Desk(client, db_path, config)
        seen = desk.version()
        asked = desk.post("/draft/add", url=PAGE_URL)
        assert asked.status_code == 303
        wait_for(lambda: rows(db_path, "SELECT 1 FROM desk_pending WHERE note LIKE 'waiting for the run lock%'"),
                 10, "the fetcher to find the lock held")
        page = client.get(f"/draft?date={DAY}").text
        assert '<li class="pending waiting">' in page and "another run holds the lock: aibrief crawl" in page
        assert rows(db_path, "SELECT count(*) FROM articles WHERE url = ?", [PAGE_URL]) == [(0,)]
        other_run.release()
        state, note = wait_for(lambda: rows(db_path, "SELECT state, note FROM desk_pending WHERE state != 'waiting'"),
                               90, "the page to land")[0]
        (position,) = rows(db_path, "SELECT ii.position FROM issue_items ii JOIN articles a ON a.id = ii.article_id"
                                    " WHERE a.url = ?", [PAGE_URL])
        assert (state, note) == ("added", f"added as item {position[0]}")
        assert rows(db_path, "SELECT action FROM editor_labels") == [("add",)]
        assert '<li class="pending added">' in client.get(f"/draft?date={DAY}").text
        # A page polling since before the landing is told to reload; a current one is not.
        polled = client.get("/draft/pending", params={"date": DAY.isoformat(), "version": seen})
        assert polled.status_code == 204 and polled.headers["HX-Refresh"] == "true"
        current = client.get("/draft/pending", params={"date": DAY.isoformat(), "version": desk.version()})
        assert current.status_code == 200 and "HX-Refresh" not in current.headers


def test_crawling_one_source_is_a_recorded_run_and_a_second_is_busy(site, tmp_path, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, site.proxy)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    db_path, config = make_desk(tmp_path, FEED_SOURCE)
    with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
        desk = Desk(client, db_path, config)
        started = desk.post("/sources/crawl", source="recovered", back=f"/sources?date={DAY}")
        assert started.status_code == 303
        busy = desk.post("/sources/crawl", source="recovered", back=f"/sources?date={DAY}")
        assert busy.status_code == 409
        assert "another run holds the lock: aibrief serve, crawl of recovered" in error_line(busy)
        wait_for(lambda: rows(db_path, "SELECT 1 FROM crawl_runs WHERE status != 'running'"), 120, "the crawl")
        assert rows(db_path, "SELECT command, sources, status FROM crawl_runs") == [
            ("aibrief serve, crawl of recovered", '["recovered"]', "ok")]
        shown = client.get(f"/sources?date={DAY}").text
        assert "aibrief serve, crawl of recovered" in shown
        assert rows(db_path, "SELECT consecutive_failures, last_success IS NOT NULL FROM sources"
                             " WHERE id = 'recovered'") == [(0, 1)]


def test_the_section_command_files_an_item_and_issue_show_prints_the_version(desk):
    version = desk.version()
    shown = desk.cli("issue", "show", DAY.isoformat())
    assert f"(draft, version {version})" in shown.stdout
    current = rows(desk.db, "SELECT section FROM issue_items WHERE position = 2")[0][0]
    target = next(name for name in desk.config.editorial.sections if name != current)
    filed = desk.cli("issue", "section", DAY.isoformat(), "2", target, "--if-version", str(version))
    assert filed.returncode == 0, filed.stderr
    assert f"item 2 filed under {target}; " in filed.stdout and f"version {version + 1}" in filed.stdout
    assert target in [s for (s,) in rows(desk.db, "SELECT section FROM issue_items")]
    assert rows(desk.db, "SELECT action FROM editor_labels") == [("move",)]


def test_the_desk_benchmark_reports_the_page_and_edit_figures(tmp_path):
    figures = tmp_path / "desk.json"
    result = run_cli("bench", "--desk", "--json", str(figures), timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["candidates page, 500 stories", "summary edit", "move"]
    measured = json.loads(figures.read_text("utf-8"))
    assert measured["stories"] == measured["candidates_shown"] == 500
    assert all(measured[key]["median"] > 0 for key in ("candidates_ms", "edit_ms", "move_ms", "candidates_http_ms"))


@pytest.mark.parametrize("now, day", [
    ("2022-10-14T10:00:00+08:00", "2022-10-14"),  # the draft built at this morning's due time
    ("2022-10-16T10:00:00+08:00", "2022-10-14"),  # still the draft in progress, days later
    ("2022-10-13T10:00:00+08:00", "2022-10-14"),  # a draft built ahead of its due day
])
def test_without_a_date_the_desk_works_on_the_draft_in_progress_or_the_next_issue(desk, monkeypatch, now, day):
    monkeypatch.setenv("AIBRIEF_NOW", now)
    assert f"Candidates of the issue of {day}" in desk.client.get("/candidates").text


def test_after_publishing_the_desk_turns_to_the_next_issue(desk, monkeypatch):
    monkeypatch.setenv("AIBRIEF_NOW", "2022-10-14T10:00:00+08:00")
    assert desk.post("/draft/publish").status_code == 303
    page = desk.client.get("/draft").text
    assert "No issue for 2022-10-21 yet" in page and "Build the draft of 2022-10-21" in page


def test_aibrief_serve_serves_the_desk_until_stopped(tmp_path):
    db_path, config = make_desk(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([str(AIBRIEF), "--config", str(config.path), "--db", str(db_path), "serve",
                                "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env_for())
    try:
        assert process.stderr.readline() == (f"aibrief desk on http://127.0.0.1:{port}/ (database {db_path});"
                                             " Ctrl-C stops it\n")
        page = wait_for(lambda: _get_or_none(f"http://127.0.0.1:{port}/draft?date={DAY}"), 20, "the desk")
        assert page.status_code == 200 and "AI 簡報 20221014 期" in page.text
    finally:
        process.terminate()
        process.wait(timeout=15)


def _get_or_none(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, trust_env=False)
    except httpx.TransportError:
        return None


def test_changes_and_waiting_urls_outlive_a_restart_of_the_desk(site, tmp_path, monkeypatch):
    """What a desk did is in the archive, not in the process: a new desk over it shows the
    changes, and fetches a URL left waiting by the one that stopped."""
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, site.proxy)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    db_path, config = make_desk(tmp_path)
    with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
        desk = Desk(client, db_path, config)
        assert desk.post("/draft/edit", n=1, title="重启前改的标题").status_code == 303
        version = desk.version()
    with closing(connect(db_path)) as db:
        queue_url(db, DAY, PAGE_URL)  # as a desk stopped while the URL waited leaves it
    with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
        page = client.get(f"/draft?date={DAY}").text
        assert 'value="重启前改的标题"' in page and f'<span class="version">{version}</span>' in page
        wait_for(lambda: rows(db_path, "SELECT 1 FROM desk_pending WHERE state = 'added'"), 90, "the waiting URL")
    assert rows(db_path, "SELECT count(*) FROM issue_items ii JOIN articles a ON a.id = ii.article_id"
                         " WHERE a.url = ?", [PAGE_URL]) == [(1,)]


def test_publishing_from_the_desk_delivers_to_the_configured_outputs(tmp_path):
    """The desk's Publish is ``aibrief issue publish``: the issue is frozen and sent to each
    ``[[publish.outputs]]`` once; the page reports the delivery."""
    hooks, server = start_recording_server()
    try:
        outputs = f'[[publish.outputs]]\nname = "team"\nchannel = "webhook"\nurl = "{hooks.url("/ok/webhook/desk")}"\n'
        db_path, config = make_desk(tmp_path, outputs)
        with serving(config) as url, httpx.Client(base_url=url, trust_env=False) as client:
            desk = Desk(client, db_path, config)
            published = desk.post("/draft/publish", back=f"/draft?date={DAY}")
            assert published.status_code == 303
            page = client.get(published.headers["location"]).text
            assert "team: delivered" in html.unescape(page)
            again = desk.cli("issue", "publish", DAY.isoformat())
        (sent,) = hooks.to("/ok/webhook/desk")
        assert sent.json()["title"] == "AI 簡報 20221014 期"
        assert again.returncode == 0 and "team (webhook): skipped" in again.stdout
        assert len(hooks.to("/ok/webhook/desk")) == 1
        assert rows(db_path, "SELECT status FROM issues WHERE date = ?", [DAY.isoformat()]) == [("published",)]
        assert rows(db_path, "SELECT output, status FROM publish_deliveries") == [("team", "delivered")]
    finally:
        server.shutdown()
