"""``aibrief sources check``: what each source's discovery document yields right now."""
from __future__ import annotations

import sys

import click

from crawler import user_agent
from crawler.addresses import policy_for
from crawler.cli.archive import sources
from crawler.cli.common import EXIT_USAGE, App, Failure, handled
from crawler.discovery.check import Fetcher, check_sources


@sources.command("check")
@click.argument("source_ids", nargs=-1, metavar="[ID ...]")
@click.pass_obj
@handled
def sources_check(app: App, source_ids):
    """Fetch each source's discovery page once: links found, newest date, any error.

    Checks the enabled sources, or the ones named (disabled ones too). Nothing is
    stored; the exit status is 1 when a source fails.

    \b
    Example:
        aibrief sources check 36kr-newsflashes arxiv-edge-ai
    """
    config = app.config
    if source_ids:
        unknown = [s for s in source_ids if config.source(s) is None]
        if unknown:
            known = ", ".join(s.id for s in config.sources) or "none"
            raise Failure(f"unknown source {unknown[0]!r} (configured: {known})", EXIT_USAGE)
        chosen = [config.source(s) for s in dict.fromkeys(source_ids)]
    else:
        chosen = config.active_sources()
    if not chosen:
        raise Failure("no enabled sources to check")
    fetcher = Fetcher(user_agent(config.crawl.contact), config.crawl.timeout, config.crawl.delay,
                      policy_for(config.crawl))
    failed = 0
    for result in check_sources(config, chosen, fetcher):
        click.echo(result.line(config.tz))
        failed += result.error is not None
    click.echo(f"{len(chosen)} sources checked, {failed} failed", err=True)
    if failed:
        sys.exit(1)


COMMANDS = ()  # (a subcommand of `sources`, registered on that group above)
