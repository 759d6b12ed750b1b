"""Editor commands: why an article is (not) in an issue, and hand edits to a draft.

    aibrief explain URL                 the taxonomy terms that decided, and the story's copies
    aibrief issue drop|move|add|edit    change a draft issue; numbering stays dense
    aibrief refetch URL ...             fetch stored articles again and update their rows
    aibrief reclassify                  score the archive again after the taxonomy changed

Registered on the groups of :mod:`crawler.cli` when that module imports this one.
"""
from __future__ import annotations

import json
import sys

import click

from crawler.cli import App, Failure, cli, day_argument, handled, issue

# Terms listed by `aibrief explain` (the rest are summed up in one line).
EXPLAIN_TERMS = 15


def _echo_issue(found, note: str) -> None:
    click.echo(f"{note}; {found.title} ({found.status}), {len(found.items)} items")
    click.echo(found.headline)
    section = None
    for item in found.items:
        if item.section != section and item.section:
            section = item.section
            click.echo(f"# {section}")
        click.echo(f"  {item.position}. {item.title}")


@cli.command()
@click.argument("url")
@click.pass_obj
@handled
def explain(app: App, url):
    """Show why a stored article is relevant or not: its score, topics and the terms that
    decided, and the other copies of its story.

    \b
    Example:
        aibrief explain https://36kr.com/p/1931939259730306
    """
    from pipelines.canonical import canonical_url
    from pipelines.classify import classify

    try:
        key = canonical_url(url)
    except ValueError as exc:
        raise Failure(str(exc), 2) from None
    config = app.config
    db = app.db()
    try:
        row = db.execute("SELECT id, title, text, relevance, topics, coalesce(cluster_id, id) FROM articles"
                         " WHERE canonical_url = ?", [key]).fetchone()
        if row is None:
            raise Failure(f"{url} is not in the archive (aibrief search finds stored articles)")
        article_id, title, text, stored_score, stored_topics, cluster_id = row
        copies = db.execute("SELECT id, url, source_id, published FROM articles WHERE cluster_id = ? AND id != ?"
                            " ORDER BY published, id", [cluster_id, article_id]).fetchall()
        issues = db.execute("SELECT i.date, i.status, ii.position FROM issue_items ii JOIN issues i"
                            " ON i.id = ii.issue_id WHERE ii.article_id = ? ORDER BY i.date", [article_id]).fetchall()
    finally:
        db.close()
    result = classify(title or "", text, config.editorial)
    verdict = "relevant" if result.relevant else "not relevant"
    click.echo(f"{title or '(untitled)'}\n{url}")
    click.echo(f"score {result.score:.2f} (threshold {result.threshold:g}): {verdict}")
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
    if stored_score is not None and (abs(stored_score - result.score) > 1e-6
                                     or json.loads(stored_topics or "[]") != result.topics):
        click.echo(f"stored: score {stored_score:.2f}, topics {', '.join(json.loads(stored_topics or '[]')) or 'none'}"
                   " (classified with an older taxonomy; aibrief reclassify updates it)")
    click.echo(f"story: cluster {cluster_id}, {len(copies) + 1} article{'s' if copies else ''}")
    for _, copy_url, source_id, published in copies:
        click.echo(f"  also {copy_url} ({source_id or 'by URL'}, {published[:10]})")
    for day, status, position in issues:
        click.echo(f"in the {status} issue of {day} as item {position}")


@issue.command("drop")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.pass_obj
@handled
def issue_drop(app: App, day, n):
    """Take item N out of a draft issue; the items after it move up.

    \b
    Example:
        aibrief issue drop 2022-10-14 3
    """
    from pipelines.editor import drop_item

    db = app.db()
    try:
        found = drop_item(db, day, n)
    finally:
        db.close()
    _echo_issue(found, f"dropped item {n}")


@issue.command("move")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.argument("m", type=click.IntRange(min=1))
@click.pass_obj
@handled
def issue_move(app: App, day, n, m):
    """Move item N of a draft issue to position M (it joins the section found there).

    \b
    Example:
        aibrief issue move 2022-10-14 5 1
    """
    from pipelines.editor import move_item

    db = app.db()
    try:
        found = move_item(db, day, n, m)
    finally:
        db.close()
    _echo_issue(found, f"moved item {n} to {m}")


@issue.command("add")
@day_argument
@click.argument("url")
@click.pass_obj
@handled
def issue_add(app: App, day, url):
    """Add a stored article to a draft issue, at the end of its section.

    The article need not be relevant by the taxonomy (the editor decides); a story the
    issue has already is refused.

    \b
    Example:
        aibrief issue add 2022-10-14 https://36kr.com/p/1931939259730306
    """
    from pipelines.editor import add_item

    db = app.db()
    try:
        found, position = add_item(db, day, url, app.config.editorial)
    finally:
        db.close()
    _echo_issue(found, f"added as item {position}")


@issue.command("edit")
@day_argument
@click.argument("n", type=click.IntRange(min=1))
@click.option("--title", help="The item's new title.")
@click.option("--summary", help="The item's new summary (\\n or new lines between paragraphs).")
@click.pass_obj
@handled
def issue_edit(app: App, day, n, title, summary):
    """Change the title and/or summary of item N of a draft issue.

    \b
    Example:
        aibrief issue edit 2022-10-14 2 --title "大众与地平线成立合资企业"
    """
    from pipelines.editor import edit_item

    db = app.db()
    try:
        found = edit_item(db, day, n, title=title, summary=summary)
    finally:
        db.close()
    _echo_issue(found, f"edited item {n}")


@cli.command()
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
    import subprocess

    from pipelines.canonical import canonical_url
    from pipelines.store import request_refetch, stored_canonical_urls
    from schedules.lock import run_lock
    from schedules.runner import _wait, child_environment

    config = app.config
    keys: dict[str, str] = {}
    for url in urls:
        try:
            keys[canonical_url(url)] = url
        except ValueError as exc:
            raise Failure(str(exc), 2) from None
    db = app.db()
    try:
        stored = stored_canonical_urls(db, list(keys))
        for key in stored:
            request_refetch(db, key, keys[key])
    finally:
        db.close()
    if queue:
        click.echo(f"{len(stored)} re-fetches asked for; the next crawl does them")
        return
    with run_lock(config.database, "aibrief refetch") as lease:
        argv = [sys.executable, "-m", "scrapy", "crawl", "urls", "-a", "urls=" + ",".join(keys.values()),
                "-s", f"LOG_LEVEL={'INFO' if app.verbose else 'WARNING'}"]
        code = _wait(subprocess.Popen(argv, env=child_environment(config)), lease)
    db = app.db()
    try:
        waiting = {row[0] for row in db.execute("SELECT canonical_url FROM refetch_requests")} & stored
        now_stored = stored_canonical_urls(db, list(keys))
    finally:
        db.close()
    updated = len(stored - waiting)
    new = len(now_stored - stored)
    click.echo(f"refetch: {updated} updated, {new} new, {len(keys) - updated - new} not fetched")
    if code != 0 or updated + new < len(keys):
        sys.exit(1)


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Every article, not only the unclassified ones.")
@click.pass_obj
@handled
def reclassify(app: App, everything):
    """Score stored articles against the configured taxonomy again (after editing it).

    \b
    Example:
        aibrief reclassify --all
    """
    from pipelines.classify import classify
    from pipelines.db import immediate
    from pipelines.dedupe import assign_cluster, fingerprint

    settings = app.config.editorial
    db = app.db()
    changed = total = 0
    try:
        where = "" if everything else " WHERE relevance IS NULL"
        ids = [row[0] for row in db.execute(f"SELECT id FROM articles{where} ORDER BY id")]
        for start in range(0, len(ids), 200):
            with immediate(db):
                for article_id in ids[start:start + 200]:
                    title, text, score, topics, cluster_id = db.execute(
                        "SELECT title, text, relevance, topics, cluster_id FROM articles WHERE id = ?",
                        [article_id]).fetchone()
                    result = classify(title or "", text, settings)
                    if cluster_id is None:  # stored before stories were clustered
                        assign_cluster(db, article_id, fingerprint(title, text), title, text)
                    new_topics = json.dumps(result.topics, ensure_ascii=False)
                    total += 1
                    if score != result.score or topics != new_topics:
                        changed += 1
                        db.execute("UPDATE articles SET relevance = ?, topics = ? WHERE id = ?",
                                   [result.score, new_topics, article_id])
        relevant = db.execute("SELECT count(*) FROM articles WHERE relevance >= ?", [settings.threshold]).fetchone()[0]
    finally:
        db.close()
    click.echo(f"reclassified {total} articles, {changed} changed; {relevant} relevant in the archive")
