"""The ``[publish]`` table: where the archive is read, and the outputs an issue is sent to
when it is published.

Plain records, built by the configuration loader (:mod:`crawler.config`), which also reads
the secrets from the environment variables an output names; the shipped ``aibrief.toml``
holds every default.
"""
from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("webhook", "feishu", "dingtalk", "wecom", "slack", "telegram", "email")
SENDS = ("issue", "summary")  # the whole issue, or the headline, the top items and a link


@dataclass(slots=True, frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    sender: str
    to: tuple[str, ...]
    starttls: bool
    ca_file: str  # a CA bundle to trust besides the system's (a private mail relay); "" for none


@dataclass(slots=True, frozen=True)
class Output:
    """One place an issue goes to on publish."""

    name: str
    channel: str  # one of CHANNELS
    sends: str  # one of SENDS
    top: int  # items in a summary
    url: str  # the webhook (or, for Telegram, the Bot API's base URL)
    secret: str  # Feishu's and DingTalk's signing secret; "" for none
    token: str  # Telegram's bot token
    chat_id: str  # Telegram's chat
    smtp: SmtpSettings | None
    # Why the output cannot be sent (a secret's environment variable is empty), or "":
    # recorded as its failure rather than refusing the whole configuration.
    missing: str


@dataclass(slots=True, frozen=True)
class PublishSettings:
    site_url: str  # where `aibrief site` output is served, for links to an issue's page; "" for none
    site_dir: str  # the archive's folder, rebuilt on publish (an absolute path); "" for none
    timeout: float  # seconds for one request or SMTP session
    retries: int  # tries after the first, per message
    backoff: float  # seconds before the first retry, doubled after each
    max_retry_wait: float  # a longer Retry-After is a failure (publishing again retries it)
    outputs: tuple[Output, ...]

    def page_url(self, relative: str) -> str:
        """The archive's page ``relative`` (``issues/2022-10-14.html``) as a link, or ""."""
        return self.site_url.rstrip("/") + "/" + relative if self.site_url else ""
