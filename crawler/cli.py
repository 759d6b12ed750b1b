"""The ``aibrief`` command: a thin shell over the library.

Errors a user can fix (a bad config, an unknown source, a date with no issue, a held
lock) print one line and exit non-zero: 2 for bad configuration or arguments, 3 when
another run holds the lock, 1 for the rest.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import sys
from contextlib import ExitStack
from datetime import date
from importlib import resources
from pathlib import Path

import click

from crawler import __version__
from crawler.config import DEFAULT_CONFIG_NAME, Config, ConfigError, default_config_text, load_config
from pipelines import clock
from pipelines.db import StorageError, connect
from pipelines.importer import IssueFormatError
from pipelines.issues import IssueError, parse_day
from schedules.lock import LockHeld
from schedules.runner import UnknownSource

logger = logging.getLogger("aibrief")

EXIT_USAGE = 2
EXIT_LOCKED = 3
DEMO_DB = "aibrief-demo.db"


class App:
    """What the group's options decide, handed to every command."""

    def __init__(self, config_path: str | None, db_path: str | None, verbose: bool = False) -> None:
        self.config_path = config_path
        self.db_path = db_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, self.db_path)
        return self._config

    def db(self):
        return connect(self.config.database)


class Failure(click.ClickException):
    """A handled error: one line on stderr, then the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"aibrief: error: {self.format_message()}", err=True)


def handled(func):
    """Turn the library's one-line errors into exit statuses."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ConfigError, UnknownSource) as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except LockHeld as exc:
            raise Failure(str(exc), EXIT_LOCKED) from None
        except (StorageError, IssueError) as exc:
            raise Failure(str(exc)) from None
        except BrokenPipeError:
            raise
        except sqlite3.DatabaseError as exc:
            raise Failure(f"database: {exc}") from None
        except OSError as exc:
            raise Failure(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    return wrapper


def day_option(func):
    return click.option("--date", "day", metavar="YYYY-MM-DD", callback=_day_callback,
                        help="Issue day (default: today in the configured time zone).")(func)


def _day_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def day_argument(func):
    return click.argument("day", metavar="DATE", callback=_day_callback)(func)


def today(config: Config) -> date:
    return clock.now().astimezone(config.tz).date()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="AIBRIEF_CONFIG",
              help="Configuration file (default: ./aibrief.toml, else the built-in one). Env: AIBRIEF_CONFIG.")
@click.option("--db", "db_path", metavar="PATH", envvar="AIBRIEF_DB",
              help="SQLite database (default: from the config, else ./aibrief.db). Env: AIBRIEF_DB.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, not only problems.")
@click.version_option(__version__, prog_name="aibrief")
@click.pass_context
def cli(ctx, config_path, db_path, verbose):
    """Crawl embedded-AI news and build the dated AI 簡報 digest.

    \b
    Example:
        aibrief demo
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = App(config_path, db_path, verbose)


@cli.command()
@click.argument("path", default=DEFAULT_CONFIG_NAME, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@handled
def init(path, force):
    """Write an editable copy of the default configuration.

    \b
    Example:
        aibrief init && $EDITOR aibrief.toml
    """
    target = Path(path)
    if target.exists() and not force:
        raise Failure(f"{target} exists; use --force to overwrite it")
    from pipelines.export import write_whole

    write_whole(target, default_config_text())
    click.echo(f"wrote {target}")


@cli.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE ...]")
@click.pass_obj
@handled
def crawl(app: App, sources):
    """Crawl the enabled sources, or the ones named, and record the run.

    Each crawl runs as a `scrapy crawl` subprocess writing to the same database.

    \b
    Example:
        aibrief crawl 36kr arxiv-cs-ar
    """
    from schedules.lock import run_lock
    from schedules.runner import crawl as run_crawl

    config = app.config
    with run_lock(config.database, "aibrief crawl") as lease:
        run = run_crawl(config, list(sources) or None, lease=lease, log_level=_log_level(app))
    click.echo(_run_line(run))
    if run.status == "failed":
        sys.exit(1)


@cli.command()
@click.pass_obj
@handled
def run(app: App):
    """Crawl every enabled source, then build the issue if it is due. For cron.

    One summary line is printed; the exit status is 1 when the crawl failed and 3 when
    another run holds the lock.

    \b
    Example (crontab, hourly):
        0 * * * *  cd /srv/aibrief && .venv/bin/aibrief run >> aibrief.log 2>&1
    """
    from pipelines.issues import build_configured_issue, get_issue
    from schedules.lock import run_lock
    from schedules.runner import crawl as run_crawl

    config = app.config
    with run_lock(config.database, "aibrief run") as lease:
        crawl_run = run_crawl(config, None, command="aibrief run", lease=lease, log_level=_log_level(app))
        due_day = config.issue.due.last_due(clock.now().astimezone(config.tz)).date()
        db = app.db()
        try:
            if get_issue(db, due_day) is None:
                issue = build_configured_issue(db, config, due_day)
                issue_note = f"issue {due_day} built ({len(issue.items)} items)"
            else:
                issue_note = f"issue {due_day} exists"
        finally:
            db.close()
    click.echo(f"{_run_line(crawl_run)}; {issue_note}")
    if crawl_run.status == "failed":
        sys.exit(1)


@cli.command()
@click.option("--once", is_flag=True, help="Run whatever is due now, then exit.")
@click.pass_obj
@handled
def schedule(app: App, once):
    """Run the crawl groups and the issue build on their schedule, in the foreground.

    Crawls run as subprocesses on each group's interval; the issue is built on the due
    rule in the configured time zone, late if the scheduler was down, but once. SIGTERM
    or Ctrl-C stops it between jobs.

    \b
    Example:
        aibrief schedule            # under systemd or tmux
        aibrief schedule --once     # from cron: what is due, then exit
    """
    from schedules.scheduler import run_scheduler

    sys.exit(run_scheduler(app.config, once=once, log_level=_log_level(app)))


@cli.command()
@click.option("--db", "demo_db", metavar="PATH",
              help=f"Database for the demo (default: ./{DEMO_DB}; never the main archive).")
@click.pass_obj
@handled
def demo(app: App, demo_db):
    """Crawl the bundled sample site offline and print today's issue.

    A local server on 127.0.0.1 serves sample sites (feeds, WeChat-, 36kr-, arXiv- and
    research-blog-shaped pages); the real spiders, pipelines and database do the rest.
    Running it again stores nothing twice.

    \b
    Example:
        aibrief demo --db /tmp/demo.db
    """
    from crawler.sampleserver import serve_in_thread
    from pipelines.export import render_markdown
    from pipelines.issues import build_configured_issue, get_issue
    from schedules.lock import run_lock
    from schedules.runner import crawl as run_crawl

    with ExitStack() as stack:
        sites = stack.enter_context(resources.as_file(resources.files("crawler") / "demo" / "sites"))
        demo_config = stack.enter_context(resources.as_file(resources.files("crawler") / "demo" / "demo.toml"))
        # Never the archive named by --db or AIBRIEF_DB: the demo must not mix its sample
        # articles into a real archive.
        config = load_config(demo_config, demo_db or Path.cwd() / DEMO_DB)
        server = serve_in_thread([sites])
        stack.callback(server.shutdown)
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        click.echo(f"demo: sample sites on {proxy}, database {config.database}", err=True)
        with run_lock(config.database, "aibrief demo") as lease:
            run_ = run_crawl(config, None, command="aibrief demo", lease=lease, log_level=_log_level(app),
                             env={"http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""})
        click.echo(f"demo: {_run_line(run_)}", err=True)
        day = today(config)
        db = connect(config.database)
        try:
            issue = get_issue(db, day)
            if issue is None or issue.status == "draft":
                issue = build_configured_issue(db, config, day)
        finally:
            db.close()
    click.echo(render_markdown(issue), nl=False)
    if run_.status == "failed":
        sys.exit(1)


@cli.command()
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
    from pipelines.search import search as run_search

    db = app.db()
    try:
        hits = run_search(db, " ".join(query), limit)
    finally:
        db.close()
    for hit in hits:
        click.echo(f"{hit.published[:10]}  {hit.title or '(untitled)'}\n  {hit.url}\n  {hit.snippet}")
    if not hits:
        click.echo("no matches", err=True)


@cli.group(invoke_without_command=True)
@click.pass_context
def sources(ctx):
    """Show each source's health: last success, failures in a row, items, last error.

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
    from pipelines.store import sync_sources
    from schedules.health import source_table

    config = app.config
    db = app.db()
    try:
        sync_sources(db, config)
        table = source_table(db)
    finally:
        db.close()
    active = {s.id for s in config.active_sources()}
    click.echo(f"{'source':24} {'state':8} {'last success':20} {'fails':>5} {'items':>5}  last error")
    for row in table:
        state = "on" if row["id"] in active else "off"
        click.echo(f"{row['id']:24} {state:8} {(row['last_success'] or 'never')[:19]:20} "
                   f"{row['consecutive_failures']:>5} {row['items_last'] if row['items_last'] is not None else '-':>5}"
                   f"  {row['last_error'] or ''}")


@cli.command()
@click.option("--limit", default=20, show_default=True, help="Most runs to show.")
@click.pass_obj
@handled
def runs(app: App, limit):
    """List the latest crawl runs with their status, duration and counts.

    \b
    Example:
        aibrief runs --limit 5
    """
    from pipelines.db import parse_iso
    from schedules.runs import Run

    db = app.db()
    try:
        rows = [Run.from_row(row) for row in db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT ?", [limit])]
    finally:
        db.close()
    for found in rows:
        took = "running"
        if found.ended_at:
            took = f"{(parse_iso(found.ended_at) - parse_iso(found.started_at)).total_seconds():.0f}s"
        click.echo(f"{found.started_at[:19]}  {took:>7}  {_run_line(found)}  [{found.command}]")
    if not rows:
        click.echo("no runs yet (aibrief crawl)", err=True)


@cli.group()
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
    from pipelines.issues import build_configured_issue

    config = app.config
    day = day or today(config)
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
    from pipelines.issues import list_issues

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
    found = _load_issue(app, day)
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
    from pipelines.issues import publish_issue

    db = app.db()
    try:
        published = publish_issue(db, day)
    finally:
        db.close()
    click.echo(f"published {published.title} ({len(published.items)} items)")


@cli.command()
@day_argument
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (whole, atomically).")
@click.option("--layout", type=click.Choice(["reference", "editor"]), default="reference", show_default=True,
              help="Markdown layout: the published one, or the editor's master copy (sections, sources).")
@click.option("--script", type=click.Choice(["fetched", "simplified", "traditional", "taiwan"]),
              help="Chinese script of the text (default: editorial.script).")
@click.pass_obj
@handled
def export(app: App, day, fmt, output, layout, script):
    """Export an issue as Markdown (the reference layout, or --layout editor) or JSON.

    \b
    Example:
        aibrief export 2022-10-14 -o ai-brief-20221014.md
        aibrief export 2022-10-14 --layout editor --script traditional
    """
    from pipelines.export import render_editor_markdown, render_json, render_markdown, write_whole
    from pipelines.script import convert_issue

    found = convert_issue(_load_issue(app, day), script or app.config.editorial.script)
    if fmt == "json":
        text = render_json(found)
    else:
        text = render_editor_markdown(found) if layout == "editor" else render_markdown(found)
    if output:
        write_whole(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
@handled
def import_issue(app: App, file):
    """Import an issue in the reference plain-text layout (or our Markdown) as published.

    \b
    Example:
        aibrief import ai-brief-20221014.txt
    """
    from pipelines.importer import parse_issue
    from pipelines.issues import store_published

    try:
        text = Path(file).read_text("utf-8")
    except UnicodeDecodeError:
        raise Failure(f"{file}: not UTF-8 text") from None
    markdown = file.lower().endswith((".md", ".markdown")) or text.lstrip("\ufeff").lstrip().startswith("# ")
    try:
        parsed = parse_issue(text, markdown=markdown)
    except IssueFormatError as exc:
        raise Failure(f"{file}: {exc}") from None
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


@cli.command("extract")
@click.argument("source", metavar="FILE|URL")
@click.option("--url", "page_url", metavar="URL", help="The address a saved FILE was served from.")
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
@click.pass_obj
@handled
def extract_command(app: App, source, page_url, fmt):
    """Show what the pipeline would store for one page (for checking a site adapter).

    Reads a saved page, or fetches a URL once; prints the extracted article, or why the
    page is no article (exit status 1).

    \b
    Example:
        aibrief extract saved.html --url https://mp.weixin.qq.com/s/qDwVdgPJCkArDOL4azvX1A
    """
    from pipelines.extract import extract
    from pipelines.summary import lead_summary

    config = app.config
    content_type = None
    if Path(source).is_file():
        body = Path(source).read_bytes()
    elif source.startswith(("http://", "https://")):
        body, page_url, content_type = _fetch(source, config)
    else:
        raise Failure(f"{source}: no such file, and not an http(s) URL", EXIT_USAGE)
    result = extract(body, page_url, content_type=content_type, tz=config.tz)
    if result.article is None:
        raise Failure(f"not an article: {result.reason}")
    article = result.article
    summary = lead_summary(article.text, config.issue.summary_chars, article.title)
    if fmt == "json":
        data = {"url": page_url, "site": article.site, "title": article.title, "author": article.author,
                "authors": article.authors,
                "published": article.published.isoformat() if article.published else None,
                "published_from": article.published_from, "language": article.language,
                "canonical_url": article.canonical_url,
                "links": [{"role": link.role, "url": link.url, "label": link.label} for link in article.links],
                "images": article.images, "summary": summary, "text": article.text}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        from pipelines.export import render_markdown
        from pipelines.issues import Issue, IssueItem

        item = IssueItem(position=1, title=article.title or "", url=page_url or "", summary=summary,
                         links=[{"role": link.role, "url": link.url} for link in article.links
                                if link.role in ("paper", "article", "code")])
        when = article.published.isoformat() if article.published else "no date"
        click.echo(f"<!-- {article.site or 'generic'} | {article.author or 'no author'} | {when} -->")
        click.echo(render_markdown(Issue(0, today(config), "", "", "", "draft", "", "", None, [item]))
                   .split("\n", 6)[-1], nl=False)


def _fetch(url: str, config: Config) -> tuple[bytes, str, str | None]:
    """One polite GET: our user agent, the configured timeout, the crawl's size limit."""
    from crawler.discovery.check import FetchError, fetch_once
    from crawler.settings import DOWNLOAD_MAXSIZE
    from crawler.spiders import user_agent

    try:
        return fetch_once(url, user_agent(config.crawl.contact), config.crawl.timeout, DOWNLOAD_MAXSIZE)
    except FetchError as exc:
        raise Failure(f"{url}: {exc}") from None


def _load_issue(app: App, day: date):
    from pipelines.issues import get_issue

    db = app.db()
    try:
        found = get_issue(db, day)
    finally:
        db.close()
    if found is None:
        raise Failure(f"no issue for {day.isoformat()} (aibrief issue list shows the issues)")
    return found


def _log_level(app: App) -> str:
    return "INFO" if app.verbose else "WARNING"


def _run_line(run) -> str:
    counts = run.counts
    failed_sources = sorted({key.split("/")[1] for key in counts
                             if key.startswith("source/") and key.endswith("/failed")})
    known = counts.get("dropped/known", 0) + counts.get("skipped/known", 0)
    skipped = counts.get("dropped/not_article", 0) + sum(
        value for key, value in counts.items() if key.startswith("skipped/") and key != "skipped/known")
    line = (f"run {run.id} {run.status}: {len(run.sources)} sources, {counts.get('pages', 0)} pages, "
            f"{counts.get('stored', 0)} stored, {known} known, {skipped} skipped, "
            f"{counts.get('failed', 0)} failed")
    if failed_sources:
        line += f"; failed sources: {', '.join(failed_sources)}"
    if run.error:
        line += f"; {run.error}"
    return line


# Commands in modules of their own (crawler/cli_*.py) register themselves on the groups
# above when imported here, one line each.
from crawler import cli_bench  # noqa: E402,F401
from crawler import cli_discovery  # noqa: E402,F401
from crawler import cli_editor  # noqa: E402,F401


def main() -> None:
    try:
        cli(prog_name="aibrief")
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
