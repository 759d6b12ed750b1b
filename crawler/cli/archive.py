"""Looking into the archive: ``search``, ``sources`` (health, and ``sources check`` in
:mod:`crawler.cli.discovery`) and ``runs``."""
from __future__ import annotations

import click

from crawler.cli.common import App, handled, run_line
from pipelines.archive import clock
from pipelines.archive.articles import sync_sources
from pipelines.archive.db import parse_iso
from pipelines.archive.health import source_table
from pipelines.archive.runs import latest_runs
from pipelines.archive.search import search as run_search


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, help="Most hits to show.")
@click.pass_obj
@handled
def search(app: App, query, limit):
    """Full-text search of the stored articles (every word must match).

    \b
    Example:
        aibrief search 地平线 自动驾驶
    """
    db = app.db()
    try:
        hits = run_search(db, " ".join(query), limit)
    finally:
        db.close()
    for hit in hits:
        click.echo(f"{hit.published[:10]}  {hit.title or '(untitled)'}\n  {hit.url}\n  {hit.snippet}")
    if not hits:
        click.echo("no matches", err=True)


@click.group(invoke_without_command=True)
@click.pass_context
def sources(ctx):
    """Show each source's health: last success, failures in a row, items, the share of its
    last 30 days' articles that reached an issue, last error.

    \b
    Example:
        aibrief sources
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(sources_table)


@sources.command("list")
@click.pass_obj
@handled
def sources_table(app: App):
    """The source health table (what plain `aibrief sources` shows).

    \b
    Example:
        aibrief sources list
    """
    config = app.config
    db = app.db()
    try:
        sync_sources(db, config.source_rows())
        table = source_table(db, clock.now())
    finally:
        db.close()
    active = {s.id for s in config.active_sources()}
    click.echo(f"{'source':24} {'state':8} {'last success':20} {'fails':>5} {'items':>5} {'in issues (30d)':>16}"
               "  last error")
    for row in table:
        state = "on" if row["id"] in active else "off"
        share = (f"{row['in_issue']}/{row['stored']} {row['issue_share']:4.0%}" if row["stored"] else "-")
        click.echo(f"{row['id']:24} {state:8} {(row['last_success'] or 'never')[:19]:20} "
                   f"{row['consecutive_failures']:>5} {row['items_last'] if row['items_last'] is not None else '-':>5}"
                   f" {share:>16}  {row['last_error'] or ''}")


@click.command()
@click.option("--limit", default=20, show_default=True, help="Most runs to show.")
@click.pass_obj
@handled
def runs(app: App, limit):
    """List the latest crawl runs with their status, duration and counts.

    \b
    Example:
        aibrief runs --limit 5
    """
    db = app.db()
    try:
        rows = latest_runs(db, limit)
    finally:
        db.close()
    for found in rows:
        took = "running"
        if found.ended_at:
            took = f"{(parse_iso(found.ended_at) - parse_iso(found.started_at)).total_seconds():.0f}s"
        click.echo(f"{found.started_at[:19]}  {took:>7}  {run_line(found)}  [{found.command}]")
    if not rows:
        click.echo("no runs yet (aibrief crawl)", err=True)


COMMANDS = (search, sources, runs)
