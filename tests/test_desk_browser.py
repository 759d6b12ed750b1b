"""The desk in a real browser: Debian's headless Chromium (the shared ``page`` fixture)
against the desk under uvicorn on a loopback port, over a real archive holding the
fixture week. An editor drops two candidates, reorders three items, edits a summary and
publishes; the database and the exported Markdown then say so. Another session reloads
half-way and finds every change kept, meets a stale tab's refusal, and copies a preview.

Screenshots of the candidates and draft pages go to ``$AIBRIEF_SCREENSHOTS`` (else the
test's temporary folder)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import rows, run_cli
from desk_support import DAY, HOSTILE_TITLE, make_desk, serving
from playwright.sync_api import expect


@pytest.fixture
def served(tmp_path):
    db_path, config = make_desk(tmp_path)
    with serving(config) as url:
        yield url, db_path, config


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("AIBRIEF_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def item_urls(db_path: Path) -> list[str]:
    return [url for (url,) in rows(db_path, "SELECT url FROM issue_items ORDER BY position")]


def export(db_path: Path, config, *args: str) -> str:
    result = run_cli("--config", str(config.path), "--db", str(db_path), "export", DAY.isoformat(), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_editor_drops_reorders_edits_and_publishes_in_the_browser(page, served, shots):
    url, db_path, config = served
    page.goto(f"{url}/candidates?date={DAY}")
    stories = page.locator("article.story")
    expect(stories.first).to_be_visible()
    shown = int(page.locator("strong.shown").inner_text())
    assert shown == stories.count() > 30
    # The hostile title is text on the page, and none of its scripts ran.
    expect(page.locator("article.story a.title", has_text="<script>window.pwned=1</script>")).to_have_count(1)
    assert page.locator("article.story a.title", has_text=HOSTILE_TITLE[:6]).count() >= 1
    assert page.evaluate("window.pwned === undefined")
    stories.first.locator("details summary").click()  # the explain reasons, fetched when opened
    expect(stories.first.locator(".why table.terms")).to_be_visible()
    page.screenshot(path=str(shots / "desk-candidates.png"))

    kept = page.locator("article.story.kept")
    in_draft = kept.count()
    dropped: list[str] = []
    for n in (1, 2):
        story = kept.nth(1)  # the second kept story each time
        dropped.append(story.locator("a.title").get_attribute("href"))
        story.locator("button.drop").click()
        expect(kept).to_have_count(in_draft - n)
        expect(page.locator("p[role=status]")).to_contain_text("dropped item")

    page.locator("nav a", has_text="Draft").click()
    titles = page.locator("li.item a.title")
    expect(titles).to_have_count(in_draft - 2)
    order = [titles.nth(i).get_attribute("href") for i in range(titles.count())]
    assert not set(dropped) & set(order)
    for n, direction in ((4, "up"), (1, "down"), (6, "up")):
        page.locator(f"#item-{n} button.{direction}").click()
        m = n - 1 if direction == "up" else n + 1
        order.insert(m - 1, order.pop(n - 1))
        expect(page.locator(f"#item-{m} a.title")).to_have_attribute("href", order[m - 1])
        expect(page.locator("p[role=status]")).to_have_text(f"moved item {n} to {m}")
    assert [titles.nth(i).get_attribute("href") for i in range(titles.count())] == order

    summary = "编辑改写的摘要：两家公司成立合资企业，专注端侧 AI 芯片。"
    page.locator("#item-2 textarea[name=summary]").fill(summary)
    page.locator("#item-2 button.save").click()
    expect(page.locator("p[role=status]")).to_have_text("item 2 saved")
    expect(page.locator("#item-2 textarea[name=summary]")).to_have_value(summary)
    page.screenshot(path=str(shots / "desk-draft.png"), full_page=True)

    page.locator("button.publish").click()
    expect(page.locator("p[role=status]")).to_contain_text("published")
    expect(page.locator("small.status")).to_contain_text("published")
    assert page.errors == []

    assert rows(db_path, "SELECT status FROM issues WHERE date = ?", [DAY.isoformat()]) == [("published",)]
    assert item_urls(db_path) == order
    assert rows(db_path, "SELECT summary FROM issue_items WHERE position = 2") == [(summary,)]
    assert [a for (a,) in rows(db_path, "SELECT action FROM editor_labels ORDER BY id")] == [
        "drop", "drop", "move", "move", "move", "edit"]
    markdown = export(db_path, config)
    assert summary in markdown
    places = [markdown.index(item) for item in order]
    assert places == sorted(places)
    assert not any(gone in markdown for gone in dropped)


def test_changes_survive_a_reload_a_stale_tab_is_refused_and_a_preview_copies(page, served):
    url, db_path, config = served
    page.goto(f"{url}/draft?date={DAY}")
    items = page.locator("li.item")
    before = items.count()
    third = page.locator("#item-3 a.title").get_attribute("href")
    page.locator("#item-3 button.drop").click()
    expect(items).to_have_count(before - 1)
    page.locator("#item-1 input[name=title]").fill("编辑改过的标题")
    page.locator("#item-1 button.save").click()
    expect(page.locator("p[role=status]")).to_have_text("item 1 saved")

    page.reload()
    expect(items).to_have_count(before - 1)
    expect(page.locator("#item-1 input[name=title]")).to_have_value("编辑改过的标题")
    assert third not in [page.locator("li.item a.title").nth(i).get_attribute("href") for i in range(before - 1)]
    assert rows(db_path, "SELECT title FROM issue_items WHERE position = 1") == [("编辑改过的标题",)]

    other = page.context.new_page()
    other.goto(f"{url}/draft?date={DAY}")
    other.locator("#item-1 button.down").click()
    expect(other.locator("p[role=status]")).to_have_text("moved item 1 to 2")
    after_other = item_urls(db_path)
    page.locator("#item-2 button.drop").click()  # this tab still shows the version before the move
    expect(page.locator("p.error")).to_contain_text("changed since this view")
    expect(page.locator("p.error")).to_contain_text("reload")
    assert item_urls(db_path) == after_other
    other.close()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page.goto(f"{url}/preview?date={DAY}")
    expect(page.locator("section.preview")).to_have_count(3)
    page.locator("button.copy[data-target=preview-editor]").click()
    expect(page.locator("button.copy[data-target=preview-editor]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == export(db_path, config, "--layout", "editor")
    assert re.match(r"^# 🤖 AI 早报", page.locator("#preview-daily").inner_text())
    # The refused change's answer, and nothing else, shows in the console.
    assert page.errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]
