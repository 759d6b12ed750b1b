"""The static archive: ``site``. (Export for WeChat and delivery on publish are in
:mod:`crawler.cli.issues`.)"""
from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.common import App, handled
from pipelines.editorial.publishing.site import build_site, site_options


@click.command()
@click.option("-o", "--output", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The archive's folder (created when missing).")
@click.option("--title", help="The archive's name (default: the issue title's words before the date).")
@click.pass_obj
@handled
def site(app: App, folder: Path, title: str | None):
    """Write the static archive of published issues: an index (newest first), a page per
    issue with its Markdown, JSON and WeChat exports, a page per month, and an Atom feed.

    Only files whose content changed are written, each whole, the index and the feed last:
    run it after every publish, or set [publish] site_dir and publishing does. Serve the folder
    as it is; [publish] site_url says where.

    \b
    Example:
        aibrief site -o public/ && rsync -a public/ web:/srv/brief/
    """
    db = app.db()
    try:
        report = build_site(db, folder, site_options(app.config, title))
    finally:
        db.close()
    click.echo(f"{folder}: {report.line()}")


COMMANDS = (site,)
