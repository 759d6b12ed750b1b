"""Dated issues: ``issue build|list|show|publish``, ``export`` and ``import``. The editor's
changes to a draft (``issue drop|move|add|edit``) are in :mod:`crawler.cli.editor`."""
from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.common import App, day_argument, day_option, handled
from pipelines.analysis.text import SCRIPTS
from pipelines.editorial.export import (convert_issue, render_editor_markdown, render_json, render_markdown,
                                        write_whole)
from pipelines.editorial.importer import read_issue_file
from pipelines.editorial.issues import build_configured_issue, list_issues, publish_issue, store_published


@click.group()
def issue():
    """Build, list, show and publish dated issues.

    \b
    Example:
        aibrief issue build --date 2022-10-14 && aibrief issue publish 2022-10-14
    """


@issue.command("build")
@day_option
@click.option("--max", "max_items", type=click.IntRange(min=1), help="Most items (default: issue.max_items).")
@click.pass_obj
@handled
def issue_build(app: App, day, max_items):
    """Build (or rebuild) the draft issue of a day from articles in no published issue.

    \b
    Example:
        aibrief issue build --date 2022-10-14 --max 9
    """
    config = app.config
    day = day or app.today()
    db = app.db()
    try:
        built = build_configured_issue(db, config, day, max_items)
    finally:
        db.close()
    click.echo(f"draft {built.title}: {len(built.items)} items")
    for item in built.items:
        click.echo(f"  {item.position}. {item.title}")


@issue.command("list")
@click.pass_obj
@handled
def issue_list(app: App):
    """List the issues, newest first.

    \b
    Example:
        aibrief issue list
    """
    db = app.db()
    try:
        rows = list_issues(db)
    finally:
        db.close()
    for found, count in rows:
        click.echo(f"{found.date}  {found.status:9}  {count:2} items  {found.title}")
    if not rows:
        click.echo("no issues yet (aibrief issue build)", err=True)


@issue.command("show")
@day_argument
@click.pass_obj
@handled
def issue_show(app: App, day):
    """Show an issue's items and their URLs.

    \b
    Example:
        aibrief issue show 2022-10-14
    """
    found = app.issue(day)
    click.echo(f"{found.title} ({found.status})\n{found.headline}")
    for item in found.items:
        click.echo(f"{item.position}. {item.title}\n   {item.url}")
        for link in item.links:
            click.echo(f"   {link['role']}: {link['url']}")


@issue.command("publish")
@day_argument
@click.pass_obj
@handled
def issue_publish(app: App, day):
    """Mark a draft issue published; it is never changed afterwards.

    \b
    Example:
        aibrief issue publish 2022-10-14
    """
    db = app.db()
    try:
        published = publish_issue(db, day)
    finally:
        db.close()
    click.echo(f"published {published.title} ({len(published.items)} items)")


@click.command()
@day_argument
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (whole, atomically).")
@click.option("--layout", type=click.Choice(["reference", "editor"]), default="reference", show_default=True,
              help="Markdown layout: the published one, or the editor's master copy (sections, sources).")
@click.option("--script", type=click.Choice(list(SCRIPTS)), help="Chinese script of the text (default: editorial.script).")
@click.pass_obj
@handled
def export(app: App, day, fmt, output, layout, script):
    """Export an issue as Markdown (the reference layout, or --layout editor) or JSON.

    \b
    Example:
        aibrief export 2022-10-14 -o ai-brief-20221014.md
        aibrief export 2022-10-14 --layout editor --script traditional
    """
    found = convert_issue(app.issue(day), script or app.config.editorial.script)
    if fmt == "json":
        text = render_json(found)
    else:
        text = render_editor_markdown(found) if layout == "editor" else render_markdown(found)
    if output:
        write_whole(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@handled
def import_issue(app: App, file):
    """Import an issue in the reference plain-text layout (or our Markdown) as published.

    \b
    Example:
        aibrief import ai-brief-20221014.txt
    """
    parsed = read_issue_file(file)
    db = app.db()
    try:
        stored, changed = store_published(db, parsed.date, title=parsed.title, section=parsed.section,
                                          headline=parsed.headline, items=parsed.items)
    finally:
        db.close()
    if changed:
        click.echo(f"imported {stored.title}: {len(stored.items)} items, published")
    else:
        click.echo(f"{stored.title} is imported already; nothing changed")


COMMANDS = (issue, export, import_issue)
