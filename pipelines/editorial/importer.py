"""Importing past issues: files in any layout we read, stored as published issues.

Each file's layout is told by its text (:func:`detect`) and read by its module under
:mod:`pipelines.editorial.layouts`:

- ``daily``: the 早报 (``# 🤖 AI 早报 | 2026.08.22（周六）``);
- ``biweekly``: the embedded-AI bi-weekly digest (``# 嵌入式AI简报 (2020-11-30)``);
- ``reference``: the digest as published, plain text (the issue title on a line of its own);
- ``weekly``: the editor's weekly Markdown master, of which our editor layout is one form.

The Markdown layouts are read from markdown-it-py's CommonMark tokens. An import is one
transaction per file (:func:`pipelines.editorial.issues.store_published`): a file that fails
leaves nothing behind, and the same file imported again changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlite_utils

from pipelines.editorial.issues import IssueError, headline_for, store_published
from pipelines.editorial.layouts import biweekly, daily, reference, weekly
from pipelines.editorial.layouts.model import IssueFormatError, ParsedIssue, parse_yyyymmdd
from pipelines.editorial.layouts.reference import md_unescape
from pipelines.editorial.settings import IssueRules

__all__ = ["IssueFormatError", "ParsedIssue", "md_unescape", "parse_issue", "read_issue_file", "import_paths",
           "issue_files", "detect", "ImportSummary"]

SUFFIXES = (".md", ".markdown", ".txt")
_REFERENCE_TITLE = re.compile(r"^\s*(?:#\s*)?AI\s*[簡简][報报]\s*\d{8}\s*期\s*$", re.MULTILINE)
_FILE_DAY = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


def detect(text: str) -> str:
    """The layout of an issue's text: daily, biweekly, reference or weekly."""
    if daily.looks_like(text):
        return "daily"
    if biweekly.looks_like(text):
        return "biweekly"
    if _REFERENCE_TITLE.search(text) and not re.search(r"^\s{0,3}##\s", text, re.MULTILINE):
        return "reference"
    return "weekly"


def parse_issue(text: str, markdown: bool = False, fallback: date | None = None) -> ParsedIssue:
    """Parse an issue in whichever layout it is in; IssueFormatError names the line at
    fault. ``markdown``: the reference layout as our Markdown export escapes it.
    ``fallback``: the date when the text names none."""
    layout = detect(text)
    if layout == "reference":
        return reference.parse(text, markdown=markdown)
    return {"daily": daily.parse, "biweekly": biweekly.parse, "weekly": weekly.parse}[layout](text, fallback)


def file_day(path: Path) -> date | None:
    """The date in a file's name (``2020-11-20.md``, ``ai-brief-20201120.md``), if any."""
    found = _FILE_DAY.search(path.stem)
    return parse_yyyymmdd("".join(found.groups())) if found else None


def read_issue_file(path: Path, day: date | None = None) -> ParsedIssue:
    """Read and parse an issue file (UTF-8). A Markdown master that names no date takes the
    one in the file name, else ``day``; IssueFormatError names the file and what is wrong."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise IssueFormatError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise IssueFormatError(f"{path}: {exc.strerror or exc}") from None
    markdown = path.suffix.lower() in (".md", ".markdown") or text.lstrip("\ufeff").lstrip().startswith("# ")
    try:
        return parse_issue(text, markdown=markdown, fallback=file_day(path) or day)
    except IssueFormatError as exc:
        raise IssueFormatError(f"{path}: {exc}") from None


def issue_files(paths: list[Path]) -> list[Path]:
    """The files to import: each file given, and the ``*.md`` / ``*.txt`` files under each
    folder given (recursively, in name order)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


@dataclass(slots=True)
class ImportSummary:
    files: int = 0
    issues: int = 0  # issues stored (new or replaced)
    unchanged: int = 0  # issues that were imported already
    items: int = 0
    links: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # the file and why
    stored: list[tuple[str, int]] = field(default_factory=list)  # each issue stored: its title and items

    def line(self) -> str:
        text = (f"imported {self.files} files: {self.issues} issues, {self.items} items, {self.links} links, "
                f"{len(self.warnings)} warnings")
        if self.unchanged:
            text += f", {self.unchanged} unchanged"
        if self.skipped:
            text += f"; skipped {len(self.skipped)}: " + "; ".join(f"{p.name} ({why})" for p, why in self.skipped)
        return text


def import_paths(db: sqlite_utils.Database, paths: list[Path], *, rules: IssueRules, replace: bool,
                 day: date | None) -> ImportSummary:
    """Import every issue file under ``paths`` (see :func:`issue_files`); a file that cannot
    be read or stored is skipped with its reason, and the others go on."""
    summary = ImportSummary()
    for path in issue_files(paths):
        summary.files += 1
        try:
            parsed = read_issue_file(path, day)
            changed = store_parsed(db, parsed, rules=rules, replace=replace)
        except (IssueFormatError, IssueError) as exc:
            summary.skipped.append((path, str(exc).removeprefix(f"{path}: ")))
            continue
        summary.warnings += [f"{path.name}: {warning}" for warning in parsed.warnings]
        if not changed:
            summary.unchanged += 1
            continue
        summary.issues += 1
        summary.stored.append((parsed.title, len(parsed.items)))
        summary.items += len(parsed.items)
        summary.links += sum(len(item.links) for item in parsed.items) + len(parsed.extras)
    return summary


def store_parsed(db: sqlite_utils.Database, parsed: ParsedIssue, *, rules: IssueRules, replace: bool) -> bool:
    """Store one parsed issue as published; whether anything changed. A file that names no
    title gets the configured one (``issue.title``)."""
    parsed.title = title = parsed.title or rules.title_for(parsed.date)
    headline = parsed.headline or headline_for(parsed.date, [item.title for item in parsed.items])
    _, changed = store_published(db, parsed.date, title=title, section=parsed.section or rules.section,
                                 headline=headline, items=parsed.items, replace=replace, insights=parsed.insights,
                                 moments=parsed.moments, links=parsed.extras)
    return changed
