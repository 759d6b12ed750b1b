"""The editor's desk: a Starlette application over the archive, one page per task.

    /candidates   the stories of the issue's period, with filters and full-text search
    /draft        the draft: keep, drop, reorder, edit, file under a section, add a URL
    /preview      the draft in each export layout, each with a copy button
    /sources      source health and the latest runs; a crawl of one source

Every change is a form posted with the desk's CSRF token and, for changes to a draft,
the version of the draft the page showed; each goes through the library function the
matching command uses (:mod:`pipelines.editorial.editor`, publishing and its deliveries through
:func:`crawler.desk.publishing.publish_from_desk`), so the rules, the labels and the
version check are the command line's. A change that succeeds answers with a redirect to
the page it came from (reloading never posts it again); one that fails shows that page
as it is now with the one-line reason. Pages work as plain forms; htmx (vendored in
``static/``) only saves full page loads.

Each request opens its own connection in Starlette's thread pool: SQLite in WAL mode
lets the desk read while a crawl writes, and every write is one ``BEGIN IMMEDIATE``.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import sqlite_utils
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crawler.desk.guard import TokenGuard, new_csrf_token, same_secret
from crawler.desk.jobs import Jobs
from crawler.desk.publishing import publish_from_desk
from pipelines.analysis.urls import canonical_url
from pipelines.archive import clock
from pipelines.archive.articles import stored_canonical_urls, sync_sources
from pipelines.archive.db import StorageError, connect
from pipelines.archive.health import source_table
from pipelines.archive.runs import latest_runs
from pipelines.archive.search import search
from pipelines.editorial.editor import (
    add_item,
    decline_article,
    drop_item,
    edit_item,
    explain_article,
    move_item,
    set_section,
)
from pipelines.editorial.export import convert_issue, render_layout
from pipelines.editorial.issues import (
    EmptyPeriod,
    IssueError,
    StaleDraft,
    build_configured_issue,
    check_version,
    get_issue,
    list_issues,
    parse_day,
)
from pipelines.editorial.pending import pending_urls, queue_url
from pipelines.editorial.review import StoryFilter, review_candidates
from pipelines.editorial.settings import LAYOUTS
from schedules.lock import LockHeld
from schedules.runner import UnknownSource
from schedules.settings import Config

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
NOTE_COOKIE = "aibrief_desk_note"
SEARCH_LIMIT = 30
RUNS_SHOWN = 20


class BadInput(Exception):
    """A form or address value the desk cannot use; the message is one line."""


@dataclass(slots=True)
class Change:
    """A change asked for by a posted form: the issue day and the version it names."""

    db: sqlite_utils.Database
    day: date
    version: int | None  # the draft's version the page showed; None: not checked
    form: dict[str, str]

    def number(self, field: str, name: str) -> int:
        return _integer(self.form.get(field, ""), name)


class Desk:
    """The pages and changes of one desk, over one configuration's archive."""

    def __init__(self, config: Config, jobs: Jobs) -> None:
        self.config = config
        self.jobs = jobs
        self.csrf = new_csrf_token()
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["href"] = safe_href
        # Each page's view, by its address; its template is named for the address.
        self.pages: dict[str, Callable[[sqlite_utils.Database, dict[str, str]], dict]] = {
            "/candidates": self.candidates, "/draft": self.draft, "/preview": self.preview, "/sources": self.sources}

    # --- reading -------------------------------------------------------------------------

    def day(self, db, params: dict[str, str]) -> date:
        """The issue the page is about: ``date``, else the draft in progress (one built at
        or after the last due time), else the issue that falls due next."""
        if params.get("date"):
            try:
                return parse_day(params["date"])
            except ValueError as exc:
                raise BadInput(f"date: {exc}") from None
        now = clock.now().astimezone(self.config.tz)
        since = self.config.schedule.due.last_due(now).date()
        drafts = [issue.date for issue, _ in list_issues(db) if issue.status == "draft" and issue.date >= since]
        return min(drafts) if drafts else self.config.schedule.due.next_due(now).date()

    def candidates(self, db, params: dict[str, str]) -> dict:
        day = self.day(db, params)
        wanted = StoryFilter(topic=params.get("topic", ""), source=params.get("source", ""),
                             language=params.get("language", ""),
                             min_score=_number(params.get("min_score", ""), "min_score"),
                             unreviewed=bool(params.get("unreviewed")))
        review = review_candidates(db, day, tz=self.config.tz, daily=self.config.daily_issues,
                                   settings=self.config.editorial, wanted=wanted)
        query = " ".join(params.get("q", "").split())
        hits = search(db, query, SEARCH_LIMIT) if query else []
        issue = get_issue(db, day)
        return {"page": "candidates", "day": day, "issue": issue, "review": review, "wanted": wanted,
                "query": query, "hits": hits, "in_draft": stored_in_draft(issue), "params": params,
                "here": _here("/candidates", params, day)}

    def draft(self, db, params: dict[str, str]) -> dict:
        day = self.day(db, params)
        return {"page": "draft", "day": day, "issue": get_issue(db, day), "pending": pending_urls(db, day),
                "sections": self.config.editorial.sections, "params": params, "here": _here("/draft", params, day)}

    def preview(self, db, params: dict[str, str]) -> dict:
        day = self.day(db, params)
        issue = get_issue(db, day)
        previews = []
        if issue is not None and issue.items:
            shown = convert_issue(issue, self.config.editorial.script)
            previews = [(layout, render_layout(shown, layout, self.config.issue.moments_chars)) for layout in LAYOUTS]
        return {"page": "preview", "day": day, "issue": issue, "previews": previews, "params": params,
                "here": _here("/preview", params, day)}

    def sources(self, db, params: dict[str, str]) -> dict:
        day = self.day(db, params)
        active = {source.id for source in self.config.active_sources()}
        return {"page": "sources", "day": day, "issue": get_issue(db, day),
                "table": source_table(db, clock.now()), "active": active,
                "runs": latest_runs(db, RUNS_SHOWN), "params": params, "here": _here("/sources", params, day)}

    def explain(self, db, params: dict[str, str]) -> dict:
        url = params.get("url", "")
        try:
            found = explain_article(db, url, self.config.editorial)
        except ValueError as exc:
            raise BadInput(f"url: {exc}") from None
        return {"found": found, "url": url, "title_weight": self.config.editorial.title_weight}

    # --- changing ------------------------------------------------------------------------

    def change(self, db, path: str, form: dict[str, str]) -> str:
        """Make the change ``path`` names (one of :data:`CHANGES`); returns the note to show."""
        asked = Change(db, self.day(db, form), _integer(form.get("version", ""), "version", required=False), form)
        return getattr(self, CHANGES[path])(asked)

    def build(self, asked: Change) -> str:
        built = build_configured_issue(asked.db, self.config, asked.day, force=bool(asked.form.get("force")))
        return f"draft of {asked.day} built: {len(built.items)} items"

    def drop(self, asked: Change) -> str:
        n = asked.number("n", "item")
        drop_item(asked.db, asked.day, n, asked.version)
        return f"dropped item {n}"

    def move(self, asked: Change) -> str:
        n, to = asked.number("n", "item"), asked.number("to", "to")
        move_item(asked.db, asked.day, n, to, asked.version)
        return f"moved item {n} to {to}"

    def edit(self, asked: Change) -> str:
        n = asked.number("n", "item")
        edit_item(asked.db, asked.day, n, title=asked.form.get("title"), summary=asked.form.get("summary"),
                  expected_version=asked.version)
        return f"item {n} saved"

    def file_under(self, asked: Change) -> str:
        n, section = asked.number("n", "item"), asked.form.get("section", "")
        set_section(asked.db, asked.day, n, section, self.config.editorial, asked.version)
        return f"item {n} filed under {section.strip()}"

    def decline(self, asked: Change) -> str:
        decline_article(asked.db, asked.day, asked.form.get("url", ""))
        return "marked: not for this issue"

    def publish(self, asked: Change) -> str:
        return publish_from_desk(asked.db, self.config, asked.day, asked.version)

    def crawl(self, asked: Change) -> str:
        source_id = asked.form.get("source", "")
        self.jobs.crawl_source(source_id)
        return f"crawl of {source_id} started; it shows in the runs below"

    def add(self, asked: Change) -> str:
        """Add a stored article now; a URL the archive lacks waits while it is fetched."""
        db, day, url = asked.db, asked.day, asked.form.get("url", "").strip()
        if not url:
            raise BadInput("url: give the address of a page to add")
        try:
            key = canonical_url(url)
        except ValueError as exc:
            raise BadInput(f"url: {exc}") from None
        if stored_canonical_urls(db, [key]):
            _, position = add_item(db, day, url, self.config.editorial, asked.version)
            return f"added as item {position}"
        issue = get_issue(db, day)
        if issue is None or issue.status != "draft":
            raise IssueError(f"no draft for {day} to add to")
        check_version(issue, asked.version)
        queue_url(db, day, url)
        self.jobs.fetch_waiting()
        return f"{url} is being fetched; it joins the draft when it lands"

    # --- HTTP ----------------------------------------------------------------------------

    def render(self, template: str, context: dict, *, status: int = 200, error: str = "", note: str = "") -> Response:
        html = self.templates.get_template(template).render(
            **context, csrf=self.csrf, error=error, note=note, config=self.config, layouts=LAYOUTS)
        return HTMLResponse(html, status_code=status)

    def page(self, path: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            params = dict(request.query_params)
            note = unquote(request.cookies.get(NOTE_COOKIE, ""))
            response = await run_in_threadpool(self._page, path, params, note)
            if note:
                response.delete_cookie(NOTE_COOKIE)
            return response
        return endpoint

    def _page(self, path: str, params: dict[str, str], note: str) -> Response:
        try:
            with closing(connect(self.config.database)) as db:
                return self.render(_template(path), self.pages[path](db, params), note=note)
        except (BadInput, IssueError) as exc:
            return self.render("problem.html", {"page": "", "params": params}, status=400, error=_one_line(exc))
        except (StorageError, sqlite3.DatabaseError) as exc:
            return self.render("problem.html", {"page": "", "params": params}, status=500,
                               error=f"database: {_one_line(exc)}")

    async def explain_endpoint(self, request: Request) -> Response:
        params = dict(request.query_params)

        def answer() -> Response:
            try:
                with closing(connect(self.config.database)) as db:
                    return self.render("explain.html", self.explain(db, params))
            except (BadInput, IssueError) as exc:
                return HTMLResponse(f'<p class="error">{escape(str(exc))}</p>', status_code=400)
        return await run_in_threadpool(answer)

    async def pending_endpoint(self, request: Request) -> Response:
        """The draft's waiting URLs, polled while some wait; a draft that changed meanwhile
        (a URL landed) has the page reload."""
        params = dict(request.query_params)

        def answer() -> Response:
            with closing(connect(self.config.database)) as db:
                context = self.draft(db, params)
            issue = context["issue"]
            if issue is not None and str(issue.version) != params.get("version"):
                return Response(status_code=204, headers={"HX-Refresh": "true"})
            return self.render("pending.html", context)
        try:
            return await run_in_threadpool(answer)
        except BadInput as exc:
            return HTMLResponse(f'<p class="error">{escape(str(exc))}</p>', status_code=400)

    def post(self, path: str) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint of one change: the CSRF token checked first, then the change, then
        a redirect back (or the page it came from with the reason it failed)."""
        async def endpoint(request: Request) -> Response:
            try:
                form = {key: value for key, value in (await request.form()).multi_items() if isinstance(value, str)}
            except (ValueError, KeyError, AssertionError) as exc:  # a malformed body
                return HTMLResponse(f"aibrief desk: the form could not be read: {escape(str(exc))}", status_code=400)
            if not same_secret(form.get("csrf"), self.csrf):
                return self.render("problem.html", {"page": "", "params": {}}, status=403,
                                   error="this page is older than the desk (its CSRF token is not the desk's): "
                                         "reload it and make the change again")
            back = _local_path(form.get("back", ""), default=f"/draft?{urlencode({'date': form.get('date', '')})}")
            return await run_in_threadpool(self._post, path, form, back)
        return endpoint

    def _post(self, path: str, form: dict[str, str], back: str) -> Response:
        try:
            with closing(connect(self.config.database)) as db:
                note = self.change(db, path, form)
        except StaleDraft as exc:
            return self._back(back, str(exc), 409)
        except BadInput as exc:
            return self._back(back, str(exc), 400)
        except (EmptyPeriod, IssueError, LockHeld, UnknownSource) as exc:
            return self._back(back, _one_line(exc), 409)
        except (StorageError, sqlite3.DatabaseError) as exc:
            return self._back(back, f"database: {_one_line(exc)}", 500)
        response = RedirectResponse(back, status_code=303)
        response.set_cookie(NOTE_COOKIE, quote(note), samesite="strict", httponly=True)
        return response

    def _back(self, back: str, error: str, status: int) -> Response:
        """The page a failed change came from, as it is now, with the reason."""
        parts = urlsplit(back)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path not in self.pages:
            return self.render("problem.html", {"page": "", "params": params}, status=status, error=error)
        try:
            with closing(connect(self.config.database)) as db:
                context = self.pages[parts.path](db, params)
        except (BadInput, IssueError) as exc:
            return self.render("problem.html", {"page": "", "params": params}, status=status,
                               error=f"{error}; {_one_line(exc)}")
        return self.render(_template(parts.path), context, status=status, error=error)


def stored_in_draft(issue) -> set[int]:
    """The article ids the draft cites."""
    return {item.article_id for item in issue.items if item.article_id} if issue else set()


# Each change the desk makes: its address, and the Desk method that makes it.
CHANGES = {"/draft/build": "build", "/draft/drop": "drop", "/draft/move": "move", "/draft/edit": "edit",
           "/draft/section": "file_under", "/draft/add": "add", "/draft/publish": "publish",
           "/candidates/decline": "decline", "/sources/crawl": "crawl"}


def create_app(config: Config, *, token: str = "", log_level: str = "WARNING") -> Starlette:
    """The desk over ``config``'s archive. With ``token``, every request must carry it;
    without, only loopback host names are served."""
    with closing(connect(config.database)) as db:
        sync_sources(db, config.source_rows())  # once: the configuration is the desk's for its life
    jobs = Jobs(config, log_level)
    desk = Desk(config, jobs)
    routes = [
        Route("/", _home),
        *(Route(path, desk.page(path)) for path in desk.pages),
        Route("/explain", desk.explain_endpoint),
        Route("/draft/pending", desk.pending_endpoint),
        *(Route(path, desk.post(path), methods=["POST"]) for path in CHANGES),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        jobs.fetch_waiting()  # URLs left waiting when the desk last stopped
        yield

    app = Starlette(routes=routes, middleware=[Middleware(TokenGuard, token=token)], lifespan=lifespan)
    app.state.desk = desk
    return app


async def _home(request: Request) -> Response:
    return RedirectResponse("/candidates", status_code=303)


def _template(path: str) -> str:
    return f"{path.strip('/')}.html"


def _here(path: str, params: dict[str, str], day: date) -> str:
    """This page's address with its issue day fixed: where its changes come back to."""
    return f"{path}?{urlencode({**params, 'date': day.isoformat()})}"


def safe_href(url: str) -> str:
    """An http(s) address for a link; anything else (``javascript:``, say) becomes ``#``."""
    return url if urlsplit(url or "").scheme.lower() in ("http", "https") else "#"


def _integer(text: str, name: str, required: bool = True) -> int | None:
    if not text.strip() and not required:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise BadInput(f"{name}: {text.strip()[:40]!r} is not a whole number") from None
    if value < 0 or value > 1_000_000:
        raise BadInput(f"{name}: {value} is out of range")
    return value


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise BadInput(f"{name}: {text.strip()[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadInput(f"{name}: {text.strip()[:40]!r} is not a number")
    return value


def _local_path(text: str, default: str) -> str:
    """``text`` if it is a path of this desk (never another site's address), else ``default``."""
    parts = urlsplit(text)
    if text.startswith("/") and not text.startswith("//") and not parts.scheme and not parts.netloc \
            and "\\" not in text:
        return text
    return default


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__

