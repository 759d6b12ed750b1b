"""Writing runs: per article a Chinese one-sentence summary, a Chinese title for articles in
other languages and a paragraph summary; per issue the headline of the day, three insights
and the short version for WeChat Moments.

Never twice: every answer is stored (``writer_outputs``) under the hash of what was sent,
the model and the prompt version, and looked up before asking. Never over budget: a run
stops asking once its own tokens, or the day's, reach the configured budgets, and says so.
Every run is recorded (``writer_runs``): requests, tokens in and out, cache hits, failures,
flagged answers, articles skipped for the budget. The article goes in as JSON data after
the instructions, so that nothing in it can close the data and speak as the instructions.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from pipelines.analysis.settings import EditorialSettings
from pipelines.archive.db import immediate, iso, utcnow
from pipelines.editorial.compose import compose, period_end, period_start
from pipelines.editorial.writer.checks import unsupported
from pipelines.editorial.writer.client import AnswerError, ask, new_client, request_body
from pipelines.editorial.writer.settings import WriterSettings

logger = logging.getLogger(__name__)

# The most characters of an article's text sent: the lead carries what a summary says, and
# a long page would otherwise cost ten times the tokens for the same two sentences.
MAX_TEXT_CHARS = 6000
ARTICLE_KEYS = ("summary", "title_zh", "paragraph")
INSIGHTS = 3
# The numbers of a numbered list ("1. ", "2、") state nothing the check should look for.
_LIST_MARKS = re.compile(r"^\s*\d{1,2}[.、)）]\s*", re.MULTILINE)


@dataclass(slots=True)
class RunReport:
    """What a writing run did, as its ``writer_runs`` row records it."""

    id: int
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cache_hits: int = 0
    failures: int = 0
    flagged: int = 0
    skipped: int = 0
    written: int = 0
    retries: int = 0
    stopped: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)  # failure reasons, counted

    def line(self) -> str:
        text = (f"writer run {self.id}: {self.written} written, {self.cache_hits} cached, {self.flagged} flagged, "
                f"{self.failures} failed; {self.requests} requests, {self.tokens_in} tokens in, "
                f"{self.tokens_out} out")
        if self.skipped:
            text += f"; {self.skipped} not asked"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        if self.reasons:
            text += "; failures: " + ", ".join(f"{reason} x{n}" for reason, n in sorted(self.reasons.items()))
        return text


@dataclass(slots=True)
class Written:
    """A stored answer for an article, and why it is not to be used (if it is not)."""

    summary: str
    title_zh: str
    paragraph: str
    flags: list[str]

    @property
    def usable(self) -> bool:
        return not self.flags


@dataclass(slots=True)
class IssueWriting:
    headline: str
    insights: list[str]  # each with the items it draws on: "…（条目 1、3）"
    moments: str
    flags: list[str]

    @property
    def usable(self) -> bool:
        return not self.flags


@dataclass(slots=True)
class ItemInput:
    """An issue item as the issue prompt sees it, with the text it was written from."""

    n: int
    title: str
    summary: str
    source_text: str


@dataclass(slots=True)
class _Job:
    key: str
    article_id: int | None
    system: str
    user: str
    source: str  # what the answer is checked against


# --- articles -------------------------------------------------------------------------------

def text_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _article_source(row: dict) -> tuple[str, str]:
    """(what is hashed and checked against, the JSON data sent) of an article row."""
    title, text = row["title"] or "", (row["text"] or "")[:MAX_TEXT_CHARS]
    data = json.dumps({"title": title, "language": row["language"] or "", "text": text}, ensure_ascii=False)
    return f"{title}\n{text}", data


def article_system_prompt(settings: WriterSettings) -> str:
    return settings.article_prompt.format(summary_chars=settings.summary_chars,
                                          paragraph_chars=settings.paragraph_chars)


def write_articles(db: sqlite_utils.Database, article_ids: list[int], settings: WriterSettings, *, tz: ZoneInfo,
                   command: str) -> RunReport:
    """Write what is not written yet for these articles; the run's report."""
    report = _start_run(db, settings, command)
    jobs: list[_Job] = []
    seen: set[str] = set()
    system = article_system_prompt(settings)
    for article_id in dict.fromkeys(article_ids):
        rows = list(db.query("SELECT id, title, text, language FROM articles WHERE id = ?", [article_id]))
        if not rows:
            continue
        source, data = _article_source(rows[0])
        key = text_hash("article", source)
        if key in seen or _stored(db, key, settings):
            report.cache_hits += 1
            continue
        seen.add(key)
        jobs.append(_Job(key, article_id, system, "文章数据（JSON）：\n" + data, source))
    try:
        asyncio.run(_run_jobs(db, jobs, settings, report, tz, "article", _check_article))
    finally:
        _end_run(db, report)
    return report


def write_for_day(db: sqlite_utils.Database, day: date, settings: WriterSettings, *, editorial: EditorialSettings,
                  max_items: int, tz: ZoneInfo, daily: bool, command: str) -> RunReport:
    """Write for the articles the issue of ``day`` would pick now, of its period
    (:func:`pipelines.editorial.compose.period_start`; ``aibrief write``, and the scheduler
    and ``aibrief run`` between a crawl and the issue build), so that the build finds them
    written."""
    day_end = period_end(day, tz)
    with immediate(db):  # composing classifies articles stored without their analysis
        picks = compose(db, day_end, editorial, max_items, period_start(db, day, tz, daily))
    return write_articles(db, [pick.cited["id"] for pick in picks], settings, tz=tz, command=command)


def _check_article(fields: dict[str, Any], source: str) -> tuple[dict[str, str], list[str]]:
    missing = [key for key in ("summary", "paragraph") if not isinstance(fields.get(key), str)
               or not fields[key].strip()]
    if missing:
        raise AnswerError(f"malformed answer: no {', '.join(missing)}")
    kept = {key: (fields.get(key) or "").strip() if isinstance(fields.get(key), str) else "" for key in ARTICLE_KEYS}
    flags = [f"{key}: {reason}" for key in ARTICLE_KEYS for reason in unsupported(kept[key], source)]
    return kept, flags


def article_writing(db: sqlite_utils.Database, article_id: int, settings: WriterSettings) -> Written | None:
    """The stored answer for the article as it stands now (its current text, the model and
    prompt version configured); None when there is none."""
    rows = list(db.query("SELECT id, title, text, language FROM articles WHERE id = ?", [article_id]))
    if not rows:
        return None
    source, _ = _article_source(rows[0])
    found = _stored(db, text_hash("article", source), settings)
    if found is None:
        return None
    output, flags = found
    # A Chinese title is asked for articles in other languages; one given for a Chinese
    # article would replace its own title, so it is not taken.
    chinese = (rows[0]["language"] or "").lower().startswith("zh")
    return Written(output.get("summary", ""), "" if chinese else output.get("title_zh", ""),
                   output.get("paragraph", ""), flags)


def writer_notes(db: sqlite_utils.Database, canonical: str, settings: WriterSettings) -> str:
    """What ``aibrief explain`` says of the writer's answer for the article at ``canonical``:
    used, or not used and why; empty when there is none."""
    row = db.execute("SELECT id FROM articles WHERE canonical_url = ?", [canonical]).fetchone()
    if row is None:
        return ""
    written = article_writing(db, row[0], settings)
    if written is not None:
        state = "used" if written.usable else "not used, the extractive summary stands: " + "; ".join(written.flags)
        return f"{settings.model}, prompt {settings.prompt_version}: {state}"
    (others,) = db.execute("SELECT count(*) FROM writer_outputs WHERE article_id = ?", [row[0]]).fetchone()
    return f"{others} answer(s) for another text, model or prompt version; none for these" if others else ""


# --- the issue --------------------------------------------------------------------------------

def write_issue(db: sqlite_utils.Database, items: list[ItemInput], settings: WriterSettings, *, tz: ZoneInfo,
                command: str) -> tuple[IssueWriting | None, RunReport]:
    """The headline of the day, the insights and the Moments version for these items (asked
    once for the same items, model and prompt); None when there is no answer."""
    report = _start_run(db, settings, command)
    data = json.dumps([{"n": item.n, "title": item.title, "summary": item.summary} for item in items],
                      ensure_ascii=False)
    source = "\n".join(f"{item.title}\n{item.summary}\n{item.source_text}" for item in items)
    key = text_hash("issue", data)
    try:
        if _stored(db, key, settings) is not None:
            report.cache_hits += 1
        else:
            job = _Job(key, None, settings.issue_prompt.format(moments_chars=settings.moments_chars),
                       "今日条目（JSON）：\n" + data, source)
            numbers = {item.n for item in items}
            asyncio.run(_run_jobs(db, [job], settings, report, tz, "issue",
                                  lambda fields, text: _check_issue(fields, text, numbers, settings.moments_chars)))
    finally:
        _end_run(db, report)
    found = _stored(db, key, settings)
    if found is None:
        return None, report
    output, flags = found
    return IssueWriting(output["headline"], output["insights"], output["moments"], flags), report


def _check_issue(fields: dict[str, Any], source: str, numbers: set[int],
                 moments_chars: int) -> tuple[dict[str, Any], list[str]]:
    headline, moments, insights = fields.get("headline"), fields.get("moments"), fields.get("insights")
    if not isinstance(headline, str) or not headline.strip() or not isinstance(insights, list) or not insights:
        raise AnswerError("malformed answer: no headline or insights")
    flags: list[str] = []
    texts: list[str] = []
    for n, insight in enumerate(insights[:INSIGHTS], start=1):
        if not isinstance(insight, dict) or not isinstance(insight.get("text"), str) or not insight["text"].strip():
            raise AnswerError("malformed answer: an insight without text")
        cited = [i for i in insight.get("items") or [] if isinstance(i, int) and not isinstance(i, bool)]
        if not cited:
            flags.append(f"insight {n}: names no item")
        if any(i not in numbers for i in cited):
            flags.append(f"insight {n}: names an item the issue does not have")
        text = insight["text"].strip()
        flags += [f"insight {n}: {reason}" for reason in unsupported(text, source)]
        texts.append(f"{text}（条目 {'、'.join(str(i) for i in cited)}）" if cited else text)
    moments = _fit_lines(moments.strip() if isinstance(moments, str) else "", moments_chars)
    flags += [f"headline: {reason}" for reason in unsupported(headline, source)]
    flags += [f"moments: {reason}" for reason in unsupported(_LIST_MARKS.sub("", moments), source)]
    return {"headline": headline.strip(), "insights": texts, "moments": moments}, flags


def _fit_lines(text: str, chars: int) -> str:
    """The whole lines of ``text`` that fit in ``chars`` characters (a model counts loosely)."""
    kept: list[str] = []
    used = 0
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        if used + len(line) > chars:
            break
        kept.append(line)
        used += len(line)
    return "\n".join(kept)


# --- requests, budgets, storage ---------------------------------------------------------------

def day_tokens(db: sqlite_utils.Database, tz: ZoneInfo) -> int:
    """Tokens the runs started today (in ``tz``) have used."""
    start = datetime.combine(utcnow().astimezone(tz).date(), time(0, 0), tzinfo=tz)
    (used,) = db.execute("SELECT coalesce(sum(tokens_in + tokens_out), 0) FROM writer_runs WHERE started_at >= ?",
                         [iso(start)]).fetchone()
    return used


async def _run_jobs(db: sqlite_utils.Database, jobs: list[_Job], settings: WriterSettings, report: RunReport,
                    tz: ZoneInfo, kind: str, check) -> None:
    if not jobs:
        return
    earlier = day_tokens(db, tz)  # this run's row counts nothing until it ends
    gate = asyncio.Semaphore(settings.concurrency)
    counts = {"requests": 0, "retries": 0}

    def over_budget() -> str | None:
        used = report.tokens_in + report.tokens_out
        if used >= settings.tokens_per_run:
            return f"writer.tokens_per_run ({settings.tokens_per_run}) reached"
        if earlier + used >= settings.tokens_per_day:
            return f"writer.tokens_per_day ({settings.tokens_per_day}) reached"
        return None

    async def one(client, job: _Job) -> None:
        async with gate:
            stop = over_budget()
            if stop:
                report.stopped = report.stopped or stop
                report.skipped += 1
                return
            try:
                answer = await ask(client, settings, request_body(settings, job.system, job.user), counts)
            except AnswerError as exc:
                _failed(report, db, job, exc)
                return
            finally:
                report.requests, report.retries = counts["requests"], counts["retries"]
            report.tokens_in += answer.tokens_in
            report.tokens_out += answer.tokens_out
            try:
                fields, flags = check(answer.fields, job.source)
            except AnswerError as exc:
                _failed(report, db, job, exc)
                return
            report.written += 1
            if flags:
                report.flagged += 1
                logger.info("writer: %s: not used: %s", _label(db, job), "; ".join(flags))
            _store(db, job, kind, settings, fields, flags, answer.tokens_in, answer.tokens_out)

    async with new_client(settings) as client:
        await asyncio.gather(*(one(client, job) for job in jobs))


def _failed(report: RunReport, db: sqlite_utils.Database, job: _Job, exc: AnswerError) -> None:
    report.failures += 1
    report.tokens_in += exc.tokens_in  # an answer of the wrong shape cost its tokens too
    report.tokens_out += exc.tokens_out
    reason = str(exc).split(" (")[0]
    report.reasons[reason] = report.reasons.get(reason, 0) + 1
    logger.warning("writer: %s: %s", _label(db, job), exc)


def _label(db: sqlite_utils.Database, job: _Job) -> str:
    if job.article_id is None:
        return "the issue"
    row = db.execute("SELECT url FROM articles WHERE id = ?", [job.article_id]).fetchone()
    return row[0] if row else f"article {job.article_id}"


def _stored(db: sqlite_utils.Database, key: str, settings: WriterSettings) -> tuple[dict[str, Any], list[str]] | None:
    row = db.execute("SELECT output, flags FROM writer_outputs WHERE text_hash = ? AND model = ? AND prompt_version = ?",
                     [key, settings.model, settings.prompt_version]).fetchone()
    return (json.loads(row[0]), json.loads(row[1])) if row else None


def _store(db: sqlite_utils.Database, job: _Job, kind: str, settings: WriterSettings, fields: dict[str, Any],
           flags: list[str], tokens_in: int, tokens_out: int) -> None:
    with immediate(db):
        db.execute("INSERT OR REPLACE INTO writer_outputs (text_hash, model, prompt_version, kind, article_id, output,"
                   " flags, tokens_in, tokens_out, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [job.key, settings.model, settings.prompt_version, kind, job.article_id,
                    json.dumps(fields, ensure_ascii=False), json.dumps(flags, ensure_ascii=False),
                    tokens_in, tokens_out, iso(utcnow())])


def _start_run(db: sqlite_utils.Database, settings: WriterSettings, command: str) -> RunReport:
    with immediate(db):
        run_id = db.execute("INSERT INTO writer_runs (started_at, command, model) VALUES (?, ?, ?)",
                            [iso(utcnow()), command, settings.model]).lastrowid
    return RunReport(run_id)


def _end_run(db: sqlite_utils.Database, report: RunReport) -> None:
    with immediate(db):
        db.execute("UPDATE writer_runs SET ended_at = ?, requests = ?, tokens_in = ?, tokens_out = ?, cache_hits = ?,"
                   " failures = ?, flagged = ?, skipped = ?, stopped = ? WHERE id = ?",
                   [iso(utcnow()), report.requests, report.tokens_in, report.tokens_out, report.cache_hits,
                    report.failures, report.flagged, report.skipped, report.stopped, report.id])
