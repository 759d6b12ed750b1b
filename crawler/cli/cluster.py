"""Cluster mode: ``worker`` on each crawl host, ``ingest`` on the archive host."""
from __future__ import annotations

import sys

import click

from crawler.cli.common import App, handled, run_line
from schedules.cluster import redis_url, run_ingest, run_worker
from schedules.lock import run_lock


@click.command()
@click.option("--redis", "redis", metavar="URL", help="The cluster's Redis (default: cluster.redis_url).")
@click.option("--extract-workers", type=click.IntRange(min=0), metavar="N",
              help="Extraction processes of its crawls (default: one per core; 0: in the crawl process).")
@click.argument("sources", nargs=-1, metavar="[SOURCE ...]")
@click.pass_obj
@handled
def worker(app: App, redis, extract_workers, sources):
    """Crawl as one worker of the cluster run in progress, with this host's configuration.

    Waits up to a minute for the archive host (`aibrief ingest` or `aibrief crawl --redis`)
    to publish the run, then fetches and extracts from the shared queue until it has been
    empty for cluster.idle_seconds; what it finds goes to the archive host through Redis.

    \b
    Example:
        aibrief worker --redis redis://10.0.0.5:6379/0
    """
    settings = {} if extract_workers is None else {"AIBRIEF_EXTRACT_WORKERS": extract_workers}
    problems = run_worker(app.config, redis_url(app.config, redis), list(sources) or None, log_level=app.log_level,
                          settings=settings)
    for problem in problems:
        click.echo(f"aibrief: worker: {problem}", err=True)
    sys.exit(1 if problems else 0)


@click.command()
@click.option("--redis", "redis", metavar="URL", help="The cluster's Redis (default: cluster.redis_url).")
@click.pass_obj
@handled
def ingest(app: App, redis):
    """Start a cluster run and store what its workers find, in batches, in the archive.

    Publishes what workers check before fetching (stored URLs, back-off, feed validators),
    then stores their results until every worker is done and nothing is left; one cluster
    run at a time. Killed, it is simply started again: the run and its unstored results wait.

    \b
    Example:
        aibrief ingest --redis redis://127.0.0.1:6379/0 &
        aibrief worker --redis redis://127.0.0.1:6379/0
    """
    config = app.config
    with run_lock(config.database, "aibrief ingest") as lease:
        run = run_ingest(config, redis_url(config, redis), lease=lease)
    click.echo(run_line(run))
    if run.status == "failed":
        sys.exit(1)


COMMANDS = (worker, ingest)
