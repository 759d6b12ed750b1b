"""What every command shares: the group's options as an :class:`App`, the mapping of the
library's one-line errors to exit statuses, date options, and run lines.

Exit statuses: 2 for bad configuration or arguments, 3 when another run holds the lock,
1 for the rest.
"""
from __future__ import annotations

import functools
import sqlite3
from datetime import date

import click

from crawler.config import ConfigError, load_config
from pipelines.archive import clock
from pipelines.archive.db import StorageError, connect
from pipelines.archive.runs import Run
from pipelines.cluster import RedisGone
from pipelines.editorial.importer import IssueFormatError
from pipelines.editorial.issues import Issue, IssueError, get_issue, parse_day
from schedules.cluster import NoClusterRun
from schedules.lock import ClusterLockHeld, LockHeld
from schedules.runner import UnknownSource
from schedules.settings import Config

EXIT_USAGE = 2
EXIT_LOCKED = 3


class App:
    """What the group's options decide, handed to every command."""

    def __init__(self, config_path: str | None, db_path: str | None, verbose: bool = False) -> None:
        self.config_path = config_path
        self.db_path = db_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, self.db_path)
        return self._config

    def db(self):
        return connect(self.config.database)

    @property
    def log_level(self) -> str:
        """The log level of the crawl processes a command starts."""
        return "INFO" if self.verbose else "WARNING"

    def today(self) -> date:
        """Today in the configured time zone."""
        return clock.now().astimezone(self.config.tz).date()

    def issue(self, day: date) -> Issue:
        """The stored issue of ``day``; a one-line failure when there is none."""
        db = self.db()
        try:
            found = get_issue(db, day)
        finally:
            db.close()
        if found is None:
            raise Failure(f"no issue for {day.isoformat()} (aibrief issue list shows the issues)")
        return found


class Failure(click.ClickException):
    """A handled error: one line on stderr, then the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"aibrief: error: {self.format_message()}", err=True)


def handled(func):
    """Turn the library's one-line errors into exit statuses."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ConfigError, UnknownSource) as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except (LockHeld, ClusterLockHeld) as exc:
            raise Failure(str(exc), EXIT_LOCKED) from None
        except (RedisGone, NoClusterRun) as exc:
            raise Failure(str(exc)) from None
        except (StorageError, IssueError, IssueFormatError) as exc:
            raise Failure(str(exc)) from None
        except BrokenPipeError:
            raise
        except sqlite3.DatabaseError as exc:
            raise Failure(f"database: {exc}") from None
        except OSError as exc:
            raise Failure(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    return wrapper


def _day_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def day_option(func):
    return click.option("--date", "day", metavar="YYYY-MM-DD", callback=_day_callback,
                        help="Issue day (default: today in the configured time zone).")(func)


def day_argument(func):
    return click.argument("day", metavar="DATE", callback=_day_callback)(func)


def if_version_option(func):
    """``--if-version N``: change the issue only if it is still at version N (as ``issue
    show`` printed it), so that a change made meanwhile elsewhere is not built on blindly."""
    return click.option("--if-version", "expected_version", type=click.IntRange(min=0), metavar="N",
                        help="Refuse the change unless the issue is at this version (issue show prints it).")(func)


def run_line(run: Run) -> str:
    """One line saying what a crawl run did."""
    counts = run.counts
    failed_sources = sorted({key.split("/")[1] for key in counts
                             if key.startswith("source/") and key.endswith("/failed")})
    known = counts.get("dropped/known", 0) + counts.get("skipped/known", 0)
    skipped = counts.get("dropped/not_article", 0) + sum(
        value for key, value in counts.items() if key.startswith("skipped/") and key != "skipped/known")
    line = (f"run {run.id} {run.status}: {len(run.sources)} sources, {counts.get('pages', 0)} pages, "
            f"{counts.get('stored', 0)} stored, {known} known, {skipped} skipped, "
            f"{counts.get('failed', 0)} failed")
    if failed_sources:
        line += f"; failed sources: {', '.join(failed_sources)}"
    if run.error:
        line += f"; {run.error}"
    return line
