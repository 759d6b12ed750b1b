"""Freezing an issue and delivering it to the configured outputs.

:func:`publish_and_deliver` is the one call behind ``aibrief issue publish`` and the desk's
publish button: the issue is frozen (:func:`pipelines.editorial.issues.publish_issue`),
then each output of ``[[publish.outputs]]`` is sent it, one after another. Each delivery is
claimed in the archive before anything is sent and its result stored
(:mod:`pipelines.archive.deliveries`): a delivered output is never sent again, a failed one
keeps its reason and is tried again with ``retry_failed``, and one output's failure never
keeps the others from going out.

With ``[publish] site_dir`` set, the static archive (:mod:`.site`) is brought up to date
after the freeze and before any message goes out, so the links they carry resolve.

Each message is tried ``1 + retries`` times on a timeout, a lost connection, a 5xx or a
429; between tries the wait starts at ``backoff`` seconds and doubles, and a 429's
Retry-After (seconds or an HTTP date) replaces it, up to ``max_retry_wait``. Another 4xx,
a vendor's refusal in a 2xx answer, a refused SMTP login or a missing secret fail at once.
"""
from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path

import httpx
import sqlite_utils

from pipelines.archive.deliveries import DELIVERED, claim_delivery, finish_delivery, record_part
from pipelines.editorial.export import convert_issue
from pipelines.editorial.issues import Issue, IssueError, publish_issue
from pipelines.editorial.publishing.channels import (
    CHANNELS,
    About,
    Block,
    MessageTooLong,
    message_groups,
    split_or_trim,
)
from pipelines.editorial.publishing.outline import Outline, outline
from pipelines.editorial.publishing.settings import Output, PublishSettings
from pipelines.editorial.publishing.site import SiteReport, build_site, issue_page, site_options

logger = logging.getLogger(__name__)

SKIPPED = "skipped"  # a delivery this run left alone (delivered already, or failed and not retried)
# The title of a later part of a split message; the limit is measured with the longest.
PART_TITLE = "{title}（{part}/{parts}）"
_LONGEST_PART = "（99/99）"


class Retryable(Exception):
    """A try that may work later; ``retry_after`` is the wait the server asked for."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.tries = 0  # set when it ends the message's tries


class Refused(Exception):
    """A try that will not work by trying again; the message is one line."""

    tries = 0


@dataclass(slots=True)
class DeliveryResult:
    output: str
    channel: str
    status: str  # delivered | failed | skipped
    reason: str | None = None
    messages: int = 0  # messages sent by this run
    attempts: int = 0


@dataclass(slots=True)
class Publication:
    issue: Issue
    deliveries: list[DeliveryResult] = field(default_factory=list)
    site: SiteReport | None = None  # the archive brought up to date ([publish] site_dir)

    @property
    def failed(self) -> list[DeliveryResult]:
        return [d for d in self.deliveries if d.status == "failed"]


def publish_and_deliver(db: sqlite_utils.Database, config, day: date, *, retry_failed: bool = False,
                        expected_version: int | None = None,
                        sleep: Callable[[float], None] = time.sleep) -> Publication:
    """Freeze the issue of ``day`` (a published one stays as it is), then deliver it to each
    output of ``config.publish`` not delivered yet; failed ones again when ``retry_failed``.
    With ``expected_version``, a draft changed since that version is refused before anything
    is frozen or sent (:class:`~pipelines.editorial.issues.StaleDraft`).

    ``config`` is the whole configuration (:class:`schedules.settings.Config`): the issue's
    layout, script and Moments length come from it as for ``aibrief export``.
    """
    issue = publish_issue(db, day, expected_version)
    site = None
    if config.publish.site_dir:  # before any message links to the issue's page
        try:
            site = build_site(db, Path(config.publish.site_dir), site_options(config))
        except OSError as exc:
            raise IssueError(f"the issue of {day} is published, but the archive in {config.publish.site_dir} could"
                             f" not be written ({exc.strerror or exc}); nothing was delivered: run aibrief issue"
                             f" publish {day} again") from None
    shown = convert_issue(issue, config.editorial.script)
    laid_out = outline(shown, config.issue.layout, config.issue.moments_chars)
    results = [deliver(db, issue.id, shown.date, laid_out, output, config.publish, retry_failed=retry_failed,
                       sleep=sleep) for output in config.publish.outputs]
    return Publication(issue, results, site)


def deliver(db: sqlite_utils.Database, issue_id: int, day: date, laid_out: Outline, output: Output,
            settings: PublishSettings, *, retry_failed: bool, sleep: Callable[[float], None]) -> DeliveryResult:
    """One output's delivery of the issue, claimed, sent and recorded."""
    start = claim_delivery(db, issue_id, output.name, output.channel, retry_failed)
    if start is None:
        return DeliveryResult(output.name, output.channel, SKIPPED)
    result = DeliveryResult(output.name, output.channel, DELIVERED)
    counted = 0
    try:
        if output.missing:
            raise Refused(output.missing)
        archive_url = settings.page_url(issue_page(day))
        head, groups, tail = message_groups(laid_out, output.sends, output.top, archive_url)
        channel = CHANNELS[output.channel]
        about = About(day.isoformat(), laid_out.headline, archive_url, output.sends, 1, 1)

        def fits(blocks: list[Block]) -> bool:
            return channel.limit is None or channel.size(
                channel.payload(laid_out.title + _LONGEST_PART, blocks, about)) <= channel.limit
        messages = split_or_trim(head, groups, tail, output.sends, fits)
        for n in range(start, len(messages)):
            title = laid_out.title if len(messages) == 1 else PART_TITLE.format(
                title=laid_out.title, part=n + 1, parts=len(messages))
            about = About(day.isoformat(), laid_out.headline, archive_url, output.sends, n + 1, len(messages))
            attempts = _with_retries(lambda: _send(output, settings, title, messages[n], about), settings, sleep)
            result.attempts += attempts
            counted += attempts
            result.messages += 1
            record_part(db, issue_id, output.name, n + 1, attempts)
    except (Refused, MessageTooLong) as exc:
        result.status, result.reason = "failed", str(exc)
        result.attempts += getattr(exc, "tries", 0)
    except Retryable as exc:
        result.status, result.reason = "failed", f"{exc} (after {exc.tries} tries)"
        result.attempts += exc.tries
    if result.reason:
        logger.info("delivery %s (%s) of the issue of %s failed: %s", output.name, output.channel, day, result.reason)
    # (The tries of the messages that went out are counted already, by record_part.)
    finish_delivery(db, issue_id, output.name, reason=result.reason, attempts=result.attempts - counted)
    return result


def _with_retries(send: Callable[[], None], settings: PublishSettings, sleep: Callable[[float], None]) -> int:
    """Send, trying again as the module says; the number of tries it took."""
    for attempt in range(settings.retries + 1):
        try:
            send()
            return attempt + 1
        except Refused as exc:
            exc.tries = attempt + 1
            raise
        except Retryable as exc:
            if attempt == settings.retries:
                exc.tries = attempt + 1
                raise
            wait = exc.retry_after if exc.retry_after is not None else settings.backoff * 2 ** attempt
            if wait > settings.max_retry_wait:
                refused = Refused(f"{exc}; asked to wait {wait:g}s, more than publish.max_retry_wait")
                refused.tries = attempt + 1
                raise refused from None
            logger.info("retrying in %gs: %s", wait, exc)
            sleep(wait)
    raise AssertionError("unreachable")


def _send(output: Output, settings: PublishSettings, title: str, blocks: list[Block], about: About) -> None:
    channel = CHANNELS[output.channel]
    payload = channel.payload(title, blocks, about)
    if channel.smtp:
        _send_mail(output, settings, payload)
        return
    request = channel.request(output, payload, time.time())
    try:
        with httpx.Client(timeout=settings.timeout, follow_redirects=False) as client:
            answer = client.post(request.url, content=request.body, headers=request.headers)
    except httpx.TimeoutException:
        raise Retryable(f"no answer within {settings.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise Retryable(f"cannot reach the webhook: {exc.__class__.__name__}: {exc}") from None
    if answer.status_code == 429 or answer.status_code >= 500:
        raise Retryable(f"HTTP {answer.status_code}", _retry_after(answer))
    if not 200 <= answer.status_code < 300:
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:120]}")
    refusal = channel.refused(answer.content)
    if refusal:
        raise Refused(refusal)


def _retry_after(answer: httpx.Response) -> float | None:
    """The wait a 429 (or 503) asks for: Retry-After in seconds or as an HTTP date (RFC 9110,
    10.2.3), or Telegram's ``parameters.retry_after``."""
    value = answer.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None
    try:
        wait = json.loads(answer.content).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(wait) if isinstance(wait, int | float) else None


def _send_mail(output: Output, settings: PublishSettings, payload: dict) -> None:
    smtp = output.smtp
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.to)
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=parseaddr(smtp.sender)[1].rpartition("@")[2] or None)
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=settings.timeout) as session:
            session.ehlo()
            if smtp.starttls:
                context = ssl.create_default_context(cafile=smtp.ca_file or None)
                session.starttls(context=context)
                session.ehlo()
            if smtp.username:
                session.login(smtp.username, smtp.password)
            session.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise Refused(f"SMTP login refused: {exc.smtp_code} {_smtp_text(exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise Refused(f"SMTP server: {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise Refused(f"SMTP recipients refused: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        reason = f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
        raise (Retryable(reason) if 400 <= exc.smtp_code < 500 else Refused(reason)) from None
    except ssl.SSLError as exc:
        raise Refused(f"SMTP STARTTLS failed: {exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Retryable(f"SMTP {smtp.host}:{smtp.port}: {exc.__class__.__name__}: {exc}") from None


def _smtp_text(error: bytes | str) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
