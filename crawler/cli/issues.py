"""Dated issues: ``issue build|list|show|publish``, ``export`` and ``import``. The editor's
changes to a draft (``issue drop|move|add|edit``) are in :mod:`crawler.cli.editor`."""
from __future__ import annotations

from pathlib import Path

import click

from crawler import user_agent
from crawler.addresses import policy_for
from crawler.cli.common import App, Failure, _day_callback, day_argument, day_option, handled, if_version_option
from crawler.discovery.check import FetchError, fetch_once
from pipelines.analysis.text import SCRIPTS
from pipelines.editorial.export import convert_issue, render_json, render_layout, write_whole
from pipelines.editorial.importer import import_paths, issue_files
from pipelines.editorial.issues import build_configured_issue, list_issues
from pipelines.editorial.publishing.deliver import publish_and_deliver
from pipelines.editorial.publishing.outline import outline
from pipelines.editorial.publishing.wechat import Fetch, ImageFetchError, download_images, render_wechat
from pipelines.editorial.settings import LAYOUTS


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
@click.option("--force", is_flag=True, help="Rebuild a draft the editor changed by hand (its changes are lost).")
@click.pass_obj
@handled
def issue_build(app: App, day, max_items, force):
    """Build (or rebuild) the draft issue of a day from articles in no published issue.

    A draft changed with drop, move, add or edit is not rebuilt without --force.

    With the writer enabled ([writer] in the configuration), the items take the model's
    checked summaries and Chinese titles, and the issue its headline, insights and Moments
    version; what is not written yet is asked for first (see aibrief write).

    \b
    Example:
        aibrief issue build --date 2022-10-14 --max 9
    """
    config = app.config
    day = day or app.today()
    db = app.db()
    try:
        built = build_configured_issue(db, config, day, max_items, force=force)
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
    click.echo(f"{found.title} ({found.status}, version {found.version})\n{found.headline}")
    for item in found.items:
        click.echo(f"{item.position}. {item.title}\n   {item.url}")
        for link in item.links:
            click.echo(f"   {link['role']}: {link['url']}")


@issue.command("publish")
@day_argument
@click.option("--retry-failed", is_flag=True, help="Send again the deliveries that failed before.")
@if_version_option
@click.pass_obj
@handled
def issue_publish(app: App, day, retry_failed, expected_version):
    """Mark a draft issue published (it is never changed afterwards), then deliver it to
    each output of [[publish.outputs]] not delivered yet.

    A delivery that fails keeps its reason and never holds up the others; --retry-failed
    tries the failed ones again. A delivered one is never sent twice.

    \b
    Examples:
        aibrief issue publish 2022-10-14
        aibrief issue publish 2022-10-14 --retry-failed
    """
    db = app.db()
    try:
        done = publish_and_deliver(db, app.config, day, retry_failed=retry_failed, expected_version=expected_version)
    finally:
        db.close()
    click.echo(f"published {done.issue.title} ({len(done.issue.items)} items)")
    if done.site is not None:
        click.echo(f"  archive {app.config.publish.site_dir}: {done.site.line()}")
    for result in done.deliveries:
        line = f"  {result.output} ({result.channel}): {result.status}"
        if result.messages > 1:
            line += f", {result.messages} messages"
        click.echo(line + (f": {result.reason}" if result.reason else ""))
    if done.failed:
        raise Failure(f"{len(done.failed)} of {len(done.deliveries)} deliveries failed "
                      f"(aibrief issue publish {day.isoformat()} --retry-failed tries them again)")


@click.command()
@day_argument
@click.option("--format", "fmt", type=click.Choice(["md", "json", "wechat"]), default="md", show_default=True,
              help="md (in --layout), json, or wechat: an HTML fragment for the Official Account editor.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (whole, atomically).")
@click.option("--layout", type=click.Choice(list(LAYOUTS)),
              help="Markdown layout: reference (as published), editor (the master copy, with sections and "
                   "sources) or daily (the 早报). Default: issue.layout.")
@click.option("--by-topic", is_flag=True, help="Daily layout: sections by editorial.sections topics, not by region.")
@click.option("--script", type=click.Choice(list(SCRIPTS)), help="Chinese script of the text (default: editorial.script).")
@click.option("--images", is_flag=True, help="wechat: download the items' images (with -o) into a folder beside the "
                                             "file and show the copies; without it images are left out.")
@click.pass_obj
@handled
def export(app: App, day, fmt, output, layout, by_topic, script, images):
    """Export an issue as Markdown in one of three layouts, as JSON, or for WeChat.

    --format wechat writes one HTML fragment to paste into the WeChat Official Account
    editor: inline styles only, links outside WeChat as numbered references listed at the
    end, in the issue's layout (weekly, or daily with --layout daily).

    \b
    Examples, one per layout:
        aibrief export 2022-10-14 -o ai-brief-20221014.md          # reference: "1. title / 原文: / url"
        aibrief export 2022-10-14 --layout editor --script traditional  # editor: "## 1. [title](url) | source"
        aibrief export 2026-08-22 --layout daily -o zaobao.md      # daily: "# 🤖 AI 早报 | 2026.08.22（周六）"
        aibrief export 2026-08-22 --format wechat --images -o zaobao.html  # images in zaobao_images/
    """
    config = app.config
    if images and (fmt != "wechat" or not output):
        raise Failure("--images goes with --format wechat and -o FILE (the images are saved beside the file)")
    found = convert_issue(app.issue(day), script or config.editorial.script)
    layout = layout or config.issue.layout
    if fmt == "wechat":
        laid_out = outline(found, layout, config.issue.moments_chars)
        copies: dict[str, str] = {}
        if images:
            folder = Path(output).with_name(Path(output).stem + "_images")
            copies, warnings = download_images(laid_out, folder, _image_fetch(app))
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
        text = render_wechat(laid_out, copies)
    elif fmt == "json":
        text = render_json(found)
    else:
        text = render_layout(found, layout, config.issue.moments_chars, by_topic=by_topic)
    if output:
        write_whole(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


# The most one image download may take: the Official Account editor refuses larger images.
MAX_IMAGE_BYTES = 10 * 2**20


def _image_fetch(app: App) -> Fetch:
    """Images fetched as the crawl fetches (its user agent, timeout and address policy)."""
    crawl = app.config.crawl
    policy = policy_for(crawl)

    def fetch(url: str, referer: str) -> tuple[bytes, str]:
        try:
            body, _, content_type = fetch_once(url, user_agent(crawl.contact), crawl.timeout, MAX_IMAGE_BYTES, policy,
                                               referer=referer)
        except FetchError as exc:
            raise ImageFetchError(str(exc)) from None
        return body, content_type or ""
    return fetch


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace an existing issue of the same date (draft or published).")
@click.option("--date", "day", callback=_day_callback, metavar="DATE",
              help="The issue date for a file that names none (neither in its text nor in its file name).")
@click.pass_obj
@handled
def import_issue(app: App, paths, replace, day):
    """Import past issues (files, or folders of *.md and *.txt) as published issues.

    The layout of each file is detected: reference (the published plain text), editor
    (our master copy) or a weekly Markdown master, the embedded-AI bi-weekly digest, and
    the daily 早报. Each item's URL enters the archive as a known article. Importing a file
    again changes nothing; a different issue over one of the same date needs --replace.

    \b
    Examples, one per layout:
        aibrief import ai-brief-20221014.txt              # reference: "AI 簡報 20221014 期" then "1. title"
        aibrief import masters/                           # weekly/editor: "> 导读：本期为 AI 简报 20201120 期…"
        aibrief import 2020-11-30.md                      # bi-weekly: "# 嵌入式AI简报 (2020-11-30)"
        aibrief import zaobao-20260822.md --replace       # daily: "# 🤖 AI 早报 | 2026.08.22（周六）"
        aibrief import notes.md --date 2020-11-20         # a master whose text and name give no date
    """
    files = issue_files(list(paths))
    db = app.db()
    try:
        summary = import_paths(db, files, rules=app.config.issue, replace=replace, day=day)
    finally:
        db.close()
    if len(files) == 1 and summary.skipped:
        path, reason = summary.skipped[0]
        raise Failure(f"{path}: {reason}")
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    if len(files) == 1 and summary.unchanged:  # one file: its own line says it all
        click.echo(f"{files[0].name} is imported already; nothing changed")
    elif len(files) == 1:
        title, count = summary.stored[0]
        click.echo(f"imported {title}: {count} items, published")
    else:
        click.echo(summary.line())
    if summary.skipped:
        raise Failure(f"{len(summary.skipped)} of {summary.files} files not imported")


COMMANDS = (issue, export, import_issue)
