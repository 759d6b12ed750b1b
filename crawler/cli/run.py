"""Running the job: ``init``, ``crawl``, ``run``, ``schedule`` and the offline ``demo``."""
from __future__ import annotations

import dataclasses
import sys
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import click

from crawler.cli.common import App, Failure, handled, run_line
from crawler.config import DEFAULT_CONFIG_NAME, default_config_text
from crawler.sampleserver import serve_in_thread
from pipelines.archive import clock
from pipelines.archive.db import connect
from pipelines.editorial.export import render_markdown, write_whole
from pipelines.editorial.issues import EmptyPeriod, build_configured_issue, get_issue
from pipelines.editorial.writer.write import write_for_day
from schedules.cluster import cluster_crawl, redis_url
from schedules.cluster import crawl as run_crawl
from schedules.lock import run_lock
from schedules.scheduler import run_scheduler

DEMO_DB = "aibrief-demo.db"


@click.command()
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
    write_whole(target, default_config_text())
    click.echo(f"wrote {target}")


@click.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE ...]")
@click.option("--redis", "redis", metavar="URL",
              help="Crawl as a cluster run through this Redis (default: cluster.redis_url; README, Cluster mode).")
@click.pass_obj
@handled
def crawl(app: App, sources, redis):
    """Crawl the enabled sources, or the ones named, and record the run.

    Each crawl runs as a `scrapy crawl` subprocess writing to the same database. With a
    Redis (--redis or cluster.redis_url), this process writes the archive and one worker
    beside it crawls; `aibrief worker` on other hosts joins the run.

    \b
    Example:
        aibrief crawl 36kr arxiv-cs-ar
        aibrief crawl --redis redis://10.0.0.5:6379/0
    """
    config = app.config
    problems: list[str] = []
    with run_lock(config.database, "aibrief crawl") as lease:
        if redis or config.cluster.redis_url:
            run, problems = cluster_crawl(config, redis_url(config, redis), list(sources) or None,
                                          lease=lease, log_level=app.log_level)
        else:
            run = run_crawl(config, list(sources) or None, lease=lease, log_level=app.log_level)
    for problem in problems:
        click.echo(f"aibrief: worker: {problem}", err=True)
    click.echo(run_line(run))
    if run.status == "failed":
        sys.exit(1)


@click.command()
@click.pass_obj
@handled
def run(app: App):
    """Crawl every enabled source, write (when the writer is enabled), then build the issue
    if it is due. For cron.

    One summary line is printed; the exit status is 1 when the crawl failed and 3 when
    another run holds the lock.

    \b
    Example (crontab, hourly):
        0 * * * *  cd /srv/aibrief && .venv/bin/aibrief run >> aibrief.log 2>&1
    """
    config = app.config
    with run_lock(config.database, "aibrief run") as lease:
        crawl_run = run_crawl(config, None, command="aibrief run", lease=lease, log_level=app.log_level)
        day = config.schedule.due.last_due(clock.now().astimezone(config.tz)).date()
        db = app.db()
        try:
            write_note = ""
            if config.writer.enabled:
                report = write_for_day(db, day, config.writer, editorial=config.editorial,
                                       max_items=config.issue.max_items, tz=config.tz, daily=config.daily_issues,
                                       command="aibrief run")
                write_note = f"; {report.line()}"
            if get_issue(db, day) is None:
                try:
                    issue = build_configured_issue(db, config, day)
                    issue_note = f"issue {day} built ({len(issue.items)} items)"
                except EmptyPeriod as exc:
                    issue_note = str(exc)
            else:
                issue_note = f"issue {day} exists"
        finally:
            db.close()
    click.echo(f"{run_line(crawl_run)}{write_note}; {issue_note}")
    if crawl_run.status == "failed":
        sys.exit(1)


@click.command()
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
    sys.exit(run_scheduler(app.config, once=once, log_level=app.log_level))


@click.command()
@click.option("--db", "demo_db", metavar="PATH",
              help=f"Database for the demo (default: ./{DEMO_DB}; never the main archive).")
@click.option("--writer", "writer_url", metavar="URL",
              help="An OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1) to write the summaries.")
@click.option("--model", metavar="NAME", help="The writer's model (default: writer.model).")
@click.pass_obj
@handled
def demo(app: App, demo_db, writer_url, model):
    """Crawl the bundled sample site offline and print today's issue.

    A local server on 127.0.0.1 serves sample sites (feeds, WeChat-, 36kr-, arXiv- and
    research-blog-shaped pages); the real spiders, pipelines and database do the rest.
    Running it again stores nothing twice. With --writer, the model at that endpoint writes
    the items' summaries (its key, if it needs one, in the variable writer.api_key_env names).

    \b
    Example:
        aibrief demo --db /tmp/demo.db
        aibrief demo --writer http://127.0.0.1:11434/v1 --model qwen2.5:7b
    """
    with ExitStack() as stack:
        sites = stack.enter_context(resources.as_file(resources.files("crawler") / "demo" / "sites"))
        demo_config = stack.enter_context(resources.as_file(resources.files("crawler") / "demo" / "demo.toml"))
        # Never the archive named by --db or AIBRIEF_DB: the demo must not mix its sample
        # articles into a real archive.
        app = App(str(demo_config), str(demo_db or Path.cwd() / DEMO_DB), app.verbose)
        config = app.config
        if writer_url:
            if not writer_url.startswith(("http://", "https://")):
                raise Failure(f"--writer {writer_url!r} is not an http(s) URL", 2)
            config = dataclasses.replace(config, writer=dataclasses.replace(
                config.writer, enabled=True, base_url=writer_url, model=model or config.writer.model))
        server = serve_in_thread([sites])
        stack.callback(server.shutdown)
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        click.echo(f"demo: sample sites on {proxy}, database {config.database}", err=True)
        with run_lock(config.database, "aibrief demo") as lease:
            run_ = run_crawl(config, None, command="aibrief demo", lease=lease, log_level=app.log_level,
                             env={"http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""})
        click.echo(f"demo: {run_line(run_)}", err=True)
        day = app.today()
        db = connect(config.database)
        try:
            issue = get_issue(db, day)
            if issue is None or issue.status == "draft":
                issue = build_configured_issue(db, config, day, force=True)  # (the demo's own archive)
        finally:
            db.close()
    click.echo(render_markdown(issue), nl=False)
    if run_.status == "failed":
        sys.exit(1)


COMMANDS = (init, crawl, run, schedule, demo)
