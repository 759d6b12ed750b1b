"""``aibrief serve``: the editor's desk in a browser (:mod:`crawler.desk`)."""
from __future__ import annotations

import click
import uvicorn

from crawler.cli.common import EXIT_USAGE, App, Failure, handled
from crawler.desk.app import create_app
from crawler.desk.guard import is_loopback


@click.command()
@click.option("--host", help="Address to listen on (default: desk.host, 127.0.0.1). Any other than loopback needs a token.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: desk.port, 8000).")
@click.option("--token", help="A secret every request must carry (default: desk.token); open the desk once as /?token=...")
@click.pass_obj
@handled
def serve(app: App, host, port, token):
    """Serve the editor's desk: review the candidates, shape the draft, publish.

    The desk works on the same archive with the same library calls as the editor's
    commands (issue drop, move, add, edit, section, publish): every change is recorded
    the same way, and a change made on a page older than the draft is refused. It listens
    on 127.0.0.1 unless told otherwise; another address needs a token.

    \b
    Example:
        aibrief serve --port 8000          # then open http://127.0.0.1:8000/
        aibrief serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
    """
    config = app.config
    host = host or config.desk.host
    port = port or config.desk.port
    token = (token if token is not None else config.desk.token).strip()
    if not is_loopback(host) and not token:
        raise Failure(f"listening on {host} needs a token (--token or desk.token): anyone who can reach it "
                      "could change and publish issues", EXIT_USAGE)
    desk = create_app(config, token=token, log_level=app.log_level)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"aibrief desk on http://{shown}:{port}/{'?token=' + token if token else ''}"
               f" (database {config.database}); Ctrl-C stops it", err=True)
    uvicorn.run(desk, host=host, port=port, log_level="info" if app.verbose else "warning")


COMMANDS = (serve,)
