"""``aibrief write``: the optional writer's step between a crawl and the issue build."""
from __future__ import annotations

import click

from crawler.cli.common import App, Failure, day_option, handled
from pipelines.editorial.writer.write import write_for_day


@click.command()
@day_option
@click.option("--max", "max_items", type=click.IntRange(min=1), help="Most articles (default: issue.max_items).")
@click.pass_obj
@handled
def write(app: App, day, max_items):
    """Have the configured model write the Chinese summaries (and titles) of the articles
    the day's issue would pick now; one summary line.

    What was written once for the same text, model and prompt version is never asked again;
    a run stops asking at writer.tokens_per_run or writer.tokens_per_day. `aibrief issue
    build` then uses the answers that pass the check before use.

    \b
    Example:
        DEEPSEEK_API_KEY=... aibrief write --date 2026-01-05
    """
    config = app.config
    if not config.writer.enabled:
        raise Failure("the writer is off: set enabled = true in the configuration's [writer] table", 2)
    if config.writer.api_key_env and not config.writer.api_key:
        click.echo(f"aibrief: note: {config.writer.api_key_env} is not set; asking without an API key", err=True)
    day = day or app.today()
    db = app.db()
    try:
        report = write_for_day(db, day, config.writer, editorial=config.editorial,
                               max_items=max_items or config.issue.max_items, tz=config.tz,
                               daily=config.daily_issues, command="aibrief write")
    finally:
        db.close()
    click.echo(f"write {day}: {report.line()}")


COMMANDS = (write,)
