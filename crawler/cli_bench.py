"""``aibrief bench``: the throughput benchmark (see crawler/bench.py)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli import cli, handled
from pipelines.pool import default_workers


@cli.command()
@click.option("--pages", default=2000, show_default=True, help="Pages in the bench site.")
@click.option("--workers", default=default_workers(), show_default=True, help="Extraction workers for the pool run.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Build the site from the pages in this folder (*.html, *.html.gz), e.g. ../shared/corpus.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@handled
def bench(pages, workers, corpus, json_path):
    """Measure throughput: bare trafilatura, the crawl inline, the crawl with the pool.

    All three over the same pages, served from loopback by a separate process. The last
    line gives pool/inline and pool/(cores x bare).

    \b
    Example:
        aibrief bench --pages 2000 --json bench.json
    """
    from crawler.bench import report, run

    result = run(pages, workers, corpus, echo=lambda line: click.echo(line, err=True))
    for line in report(result):
        click.echo(line)
    if json_path:
        from pipelines.export import write_whole

        write_whole(json_path, json.dumps(result, indent=2) + "\n")
