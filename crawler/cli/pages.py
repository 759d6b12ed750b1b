"""``aibrief extract``: what the pipeline would store for one page."""
from __future__ import annotations

import json
import re
from pathlib import Path

import click

from crawler import user_agent
from crawler.addresses import policy_for
from crawler.cli.common import EXIT_USAGE, App, Failure, handled
from crawler.discovery.check import FetchError, fetch_once
from crawler.settings import DOWNLOAD_MAXSIZE
from pipelines.analysis.extract import extract
from pipelines.analysis.summary import lead_summary
from pipelines.editorial.export import render_item_markdown
from pipelines.editorial.issues import IssueItem


@click.command("extract")
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
    config = app.config
    content_type = None
    if Path(source).is_file():
        body = Path(source).read_bytes()
    elif source.startswith(("http://", "https://")):
        try:
            body, page_url, content_type = fetch_once(source, user_agent(config.crawl.contact), config.crawl.timeout,
                                                      DOWNLOAD_MAXSIZE, policy_for(config.crawl))
        except FetchError as exc:
            raise Failure(f"{source}: {exc}") from None
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
        item = IssueItem(position=1, title=article.title or "", url=page_url or "", summary=summary,
                         links=[{"role": link.role, "url": link.url} for link in article.links
                                if link.role in ("paper", "article", "code")])
        when = article.published.isoformat() if article.published else "no date"
        click.echo(f"<!-- {comment_text(article.site or 'generic')} | {comment_text(article.author or 'no author')}"
                   f" | {when} -->")
        click.echo(render_item_markdown(item), nl=False)


def comment_text(text: str) -> str:
    """Page text made safe inside an HTML comment: no ``--`` (which could end it, as in
    ``-->`` or ``--!>``), no angle brackets, one line."""
    return re.sub(r"-{2,}", "-", " ".join(text.split())).replace("<", "&lt;").replace(">", "&gt;")


COMMANDS = (extract_command,)
