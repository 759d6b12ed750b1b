"""The ``aibrief`` command: a thin shell over the library.

Each command is its options, one or two library calls, and the library's one-line errors
mapped to exit statuses (:mod:`crawler.cli.common`); the commands live in one module per
group: running the job (:mod:`~crawler.cli.run`), cluster mode's worker and archive writer
(:mod:`~crawler.cli.cluster`), the archive (:mod:`~crawler.cli.archive`,
:mod:`~crawler.cli.discovery`), issues (:mod:`~crawler.cli.issues`), the editor's commands
(:mod:`~crawler.cli.editor`), the relevance scorer (:mod:`~crawler.cli.relevance`), the optional
writer (:mod:`~crawler.cli.writer`), the static archive (:mod:`~crawler.cli.publishing`), single
pages (:mod:`~crawler.cli.pages`), the benchmark (:mod:`~crawler.cli.bench`) and the editor's desk
in a browser (:mod:`~crawler.cli.desk`).
"""
from __future__ import annotations

import logging
import os
import sys

import click

from crawler import __version__
from crawler.cli import (
    archive,
    bench,
    cluster,
    desk,
    discovery,
    editor,
    issues,
    pages,
    publishing,
    relevance,
    run,
    writer,
)
from crawler.cli.common import App


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


for _module in (run, cluster, writer, archive, discovery, issues, publishing, editor, pages, relevance, bench, desk):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


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
