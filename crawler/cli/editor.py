"""Editor commands: why an article is (not) in an issue, and hand edits to a draft.

    aibrief explain URL                 the taxonomy terms and the trained model's score, and the story's copies
    aibrief issue drop|move|add|edit|section   change a draft issue; numbering stays dense
    aibrief refetch URL ...             fetch stored articles again and update their rows
    aibrief reclassify                  score the archive again after the taxonomy changed
"""
from __future__ import annotations

import sys

import click

from crawler.cli.common import EXIT_USAGE, App, Failure, day_argument, handled, if_version_option
from crawler.cli.issues import issue
from pipelines.analysis.urls import canonical_url
from pipelines.archive.articles import pending_refetches, request_refetches, stored_canonical_urls
from pipelines.editorial.editor import (
    add_item,
    drop_item,
    edit_item,
    explain_article,
    move_item,
    reclassify,
    set_section,
)
from pipelines.editorial.issues import Issue
from pipelines.editorial.writer.write import writer_notes
from schedules.lock import run_lock
from schedules.runner import crawl_urls

# Terms listed by `aibrief explain` (the rest are summed up in one line).
EXPLAIN_TERMS = 15


def _echo_issue(found: Issue, note: str) -> None:
    click.echo(f"{note}; {found.title} ({found.status}, version {found.version}), {len(found.items)} items")
    click.echo(found.headline)
    section = None
    for item in found.items:
        if item.section != section and item.section:
            section = item.section
            click.echo(f"# {section}")
        click.echo(f"  {item.position}. {item.title}")


@click.command()
@click.argument("url")
@click.pass_obj
@handled
def explain(app: App, url):
    """Show why a stored article is relevant or not: its score, topics and the terms that
    decided, the trained model's score when there is a model, and the other copies of its story.

    \b
    Example:
        aibrief explain https://36kr.com/p/1931939259730306
    """
    config = app.config
    db = app.db()
    try:
        found = explain_article(db, url, config.editorial)
        writer = writer_notes(db, canonical_url(url), config.writer)
    except ValueError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    finally:
        db.close()
    result = found.classification
    verdict = "relevant" if result.relevant else "not relevant"
    click.echo(f"{found.title or '(untitled)'}\n{url}")
    click.echo(f"score {result.score:.2f} (threshold {result.threshold:g}): {verdict}")
    if found.model is None:
        click.echo("model: none (the taxonomy alone; aibrief relevance train makes one)")
    else:
        info = found.model
        how = ("combined with the taxonomy" if result.model_used
               else "not used: it did not beat the taxonomy on held-back weeks")
        click.echo(f"model: probability {result.model_score:.3f} that the editor picks it; taxonomy score "
                   f"{result.taxonomy_score:.2f} ({how}; trained {info.trained_at[:10]} on {info.items} items)")
    ranked = sorted(result.topic_scores.items(), key=lambda kv: -kv[1])
    click.echo("topics: " + (", ".join(f"{name} {value:.2f}{' *' if name in result.topics else ''}"
                                       for name, value in ranked) or "none"))
    if result.terms:
        click.echo(f"terms (title counts x{config.editorial.title_weight:g}; text: its first part):")
        for hit in result.terms[:EXPLAIN_TERMS]:
            where = ", ".join(part for part in (f"title {hit.title}" if hit.title else "",
                                                 f"text {hit.body}" if hit.body else "") if part)
            click.echo(f"  {hit.points:+7.2f}  {hit.term:<20} {hit.topic:<12} weight {hit.weight:g}; {where}")
        if len(result.terms) > EXPLAIN_TERMS:
            rest = sum(hit.points for hit in result.terms[EXPLAIN_TERMS:])
            click.echo(f"  {rest:+7.2f}  ({len(result.terms) - EXPLAIN_TERMS} more terms)")
    else:
        click.echo("terms: none of the taxonomy's terms occur")
    if found.stale:
        click.echo(f"stored: score {found.stored_score:.2f}, topics {', '.join(found.stored_topics) or 'none'}"
                   " (classified with an older taxonomy; aibrief reclassify updates it)")
    click.echo(f"story: cluster {found.cluster_id}, {len(found.copies) + 1} article{'s' if found.copies else ''}")
    for copy_url, source_id, published in found.copies:
        click.echo(f"  also {copy_url} ({source_id or 'by URL'}, {published[:10]})")
    for day, status, position in found.issues:
        click.echo(f"in the {status} issue of {day} as item {position}")
    if writer:
        click.echo(f"writer: {writer}")


@issue.command("drop")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@if_version_option
@click.pass_obj
@handled
def issue_drop(app: App, day, n, expected_version):
    """Take item N out of a draft issue; the items after it move up.

    \b
    Example:
        aibrief issue drop 2022-10-14 3
    """
    db = app.db()
    try:
        found = drop_item(db, day, n, expected_version)
    finally:
        db.close()
    _echo_issue(found, f"dropped item {n}")


@issue.command("move")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.argument("m", type=click.IntRange(min=1))
@if_version_option
@click.pass_obj
@handled
def issue_move(app: App, day, n, m, expected_version):
    """Move item N of a draft issue to position M (it joins the section found there).

    \b
    Example:
        aibrief issue move 2022-10-14 5 1
    """
    db = app.db()
    try:
        found = move_item(db, day, n, m, expected_version)
    finally:
        db.close()
    _echo_issue(found, f"moved item {n} to {m}")


@issue.command("add")
@day_argument
@click.argument("url")
@if_version_option
@click.pass_obj
@handled
def issue_add(app: App, day, url, expected_version):
    """Add a stored article to a draft issue, at the end of its section.

    The article need not be relevant by the taxonomy (the editor decides); a story the
    issue has already is refused.

    \b
    Example:
        aibrief issue add 2022-10-14 https://36kr.com/p/1931939259730306
    """
    db = app.db()
    try:
        found, position = add_item(db, day, url, app.config.editorial, expected_version)
    finally:
        db.close()
    _echo_issue(found, f"added as item {position}")


@issue.command("edit")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.option("--title", help="The item's new title.")
@click.option("--summary", help="The item's new summary (\\n or new lines between paragraphs).")
@if_version_option
@click.pass_obj
@handled
def issue_edit(app: App, day, n, title, summary, expected_version):
    """Change the title and/or summary of item N of a draft issue.

    \b
    Example:
        aibrief issue edit 2022-10-14 2 --title "大众与地平线成立合资企业"
    """
    db = app.db()
    try:
        found = edit_item(db, day, n, title=title, summary=summary, expected_version=expected_version)
    finally:
        db.close()
    _echo_issue(found, f"edited item {n}")


@issue.command("section")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.argument("section")
@if_version_option
@click.pass_obj
@handled
def issue_section(app: App, day, n, section, expected_version):
    """File item N of a draft issue under SECTION (it goes to the end of that section).

    \b
    Example:
        aibrief issue section 2022-10-14 4 自动驾驶
    """
    db = app.db()
    try:
        found = set_section(db, day, n, section, app.config.editorial, expected_version)
    finally:
        db.close()
    _echo_issue(found, f"item {n} filed under {section}")


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL ...")
@click.option("--queue", is_flag=True, help="Only ask for the re-fetch; the next crawl does it.")
@click.pass_obj
@handled
def refetch(app: App, urls, queue):
    """Fetch articles again and update their stored rows (an article that changed).

    Stored articles are otherwise never fetched twice. The article keeps its id, its
    story and its place in any issue; what a published issue says does not change.

    \b
    Example:
        aibrief refetch https://36kr.com/p/1931939259730306
    """
    config = app.config
    keys: dict[str, str] = {}
    for url in urls:
        try:
            keys[canonical_url(url)] = url
        except ValueError as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
    db = app.db()
    try:
        stored = request_refetches(db, keys)
    finally:
        db.close()
    if queue:
        click.echo(f"{len(stored)} re-fetches asked for; the next crawl does them")
        return
    with run_lock(config.database, "aibrief refetch") as lease:
        code = crawl_urls(config, list(keys.values()), lease=lease, log_level=app.log_level)
    db = app.db()
    try:
        waiting = pending_refetches(db) & stored
        now_stored = stored_canonical_urls(db, list(keys))
    finally:
        db.close()
    updated = len(stored - waiting)
    new = len(now_stored - stored)
    click.echo(f"refetch: {updated} updated, {new} new, {len(keys) - updated - new} not fetched")
    if code != 0 or updated + new < len(keys):
        sys.exit(1)


@click.command("reclassify")
@click.option("--all", "everything", is_flag=True, help="Every article, not only the unclassified ones.")
@click.pass_obj
@handled
def reclassify_command(app: App, everything):
    """Score stored articles against the configured taxonomy again (after editing it).

    \b
    Example:
        aibrief reclassify --all
    """
    db = app.db()
    try:
        total, changed, relevant = reclassify(db, app.config.editorial, everything)
    finally:
        db.close()
    click.echo(f"reclassified {total} articles, {changed} changed; {relevant} relevant in the archive")


COMMANDS = (explain, refetch, reclassify_command)
