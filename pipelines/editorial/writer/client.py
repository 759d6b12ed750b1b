"""One request to an OpenAI-compatible Chat Completions endpoint, answered as a JSON object.

Async over httpx so that a run keeps ``concurrency`` requests in flight from one thread,
outside the crawl's reactor and the extraction workers. A 429 or a 5xx, a timeout or a
refused connection is retried after a back-off (a ``Retry-After`` header overrides it, up
to ``max_retry_wait``); any other status, and an answer that is not the JSON object asked
for, is a failure at once: asking again would cost the same tokens for the same answer.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pipelines.archive import clock
from pipelines.editorial.writer.settings import WriterSettings

logger = logging.getLogger(__name__)

# Statuses worth asking again after a wait (RFC 9110 §15.5.20 / RFC 6585 §4, and the 5xx).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# For estimates only: Chinese takes one to two characters a token on these models'
# tokenizers, English about four; two over-counts English, which errs on the budget's side.
CHARS_PER_TOKEN = 2
# Some models wrap the JSON they were asked for in a Markdown code fence.
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class AnswerError(Exception):
    """A request that gave no usable answer; the message is one line (the reason counted).
    An answer of the wrong shape still cost the tokens the server reports."""

    def __init__(self, message: str, tokens_in: int = 0, tokens_out: int = 0) -> None:
        super().__init__(message)
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out


@dataclass(slots=True)
class Answer:
    fields: dict[str, Any]
    tokens_in: int
    tokens_out: int


def endpoint(settings: WriterSettings) -> str:
    return settings.base_url.rstrip("/") + "/chat/completions"


def request_body(settings: WriterSettings, system: str, user: str) -> dict[str, Any]:
    """The Chat Completions request: the instructions as the system message, the data as
    the user's; a JSON object asked for."""
    return {
        "model": settings.model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "max_tokens": settings.max_tokens,
        "temperature": 0.2,  # summaries, not fiction
        "response_format": {"type": "json_object"},
    }


def new_client(settings: WriterSettings) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    return httpx.AsyncClient(timeout=settings.timeout, headers=headers,
                             limits=httpx.Limits(max_connections=settings.concurrency,
                                                 max_keepalive_connections=settings.concurrency))


async def ask(client: httpx.AsyncClient, settings: WriterSettings, body: dict[str, Any],
              counts: dict[str, int]) -> Answer:
    """Send ``body`` until an answer or the retries are spent; AnswerError otherwise.
    Every request sent is counted in ``counts["requests"]``, each retry in ``"retries"``."""
    url = endpoint(settings)
    for attempt in range(settings.retries + 1):
        last = attempt == settings.retries
        counts["requests"] += 1
        try:
            response = await client.post(url, json=body)
        except httpx.TimeoutException:
            reason, wait = f"timeout after {settings.timeout:g} s", None
        except httpx.TransportError as exc:
            reason, wait = f"connection failed: {exc.__class__.__name__}", None
        else:
            if response.status_code == 200:
                return _with_usage(parse_answer(response), body)
            if response.status_code not in RETRY_STATUSES:
                raise AnswerError(f"HTTP {response.status_code} from {url}")
            reason, wait = f"HTTP {response.status_code}", retry_after(response.headers.get("retry-after"))
        if last:
            break
        delay = settings.backoff * 2 ** attempt if wait is None else wait
        if delay > settings.max_retry_wait:
            raise AnswerError(f"{reason}; Retry-After {delay:g} s is more than writer.max_retry_wait")
        logger.info("writer: %s from %s; retrying in %.1f s", reason, url, delay)
        counts["retries"] += 1
        await asyncio.sleep(delay)
    raise AnswerError(f"{reason} ({settings.retries} retries)")


def _with_usage(answer: Answer, body: dict[str, Any]) -> Answer:
    """A server that reports no usage (some local ones): the tokens estimated from the
    characters, so that the budgets still hold."""
    if not answer.tokens_in and not answer.tokens_out:
        answer.tokens_in = sum(len(m["content"]) for m in body["messages"]) // CHARS_PER_TOKEN
        answer.tokens_out = len(json.dumps(answer.fields, ensure_ascii=False)) // CHARS_PER_TOKEN
    return answer


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date
    (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - clock.now()).total_seconds())


def parse_answer(response: httpx.Response) -> Answer:
    """The JSON object in the first choice's message, with the usage the server reports."""
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise AnswerError("malformed answer: not a Chat Completions response") from None
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tokens = (_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))
    if not isinstance(content, str) or not content.strip():
        raise AnswerError("empty answer", *tokens)
    fenced = _FENCE.match(content)
    try:
        fields = json.loads(fenced[1] if fenced else content)
    except ValueError:
        raise AnswerError("malformed answer: the message is not JSON", *tokens) from None
    if not isinstance(fields, dict):
        raise AnswerError("malformed answer: the message is not a JSON object", *tokens)
    return Answer(fields, *tokens)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
