"""The ``[writer]`` table: which OpenAI-compatible model writes, how much it may spend, and
what it is asked.

A plain record built by the configuration loader (:mod:`crawler.config`) from the
configuration file, whose shipped copy holds every default. The API key is read from the
environment variable the file names, by the loader, never from the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class WriterSettings:
    enabled: bool
    base_url: str  # the API root, e.g. "https://api.deepseek.com/v1": /chat/completions is appended
    model: str
    api_key_env: str  # the name of the environment variable holding the key; "" for none
    api_key: str = field(repr=False)  # that variable's value, read by the loader ("" when unset)
    timeout: float  # seconds per request
    concurrency: int  # requests in flight at most
    retries: int  # further attempts after a 429, a 5xx, a timeout or a refused connection
    backoff: float  # seconds before the first retry, doubled each time (unless Retry-After says)
    max_retry_wait: float  # the longest Retry-After honoured; longer ones count as a failure
    max_tokens: int  # the most tokens one answer may take
    tokens_per_run: int  # a run stops asking once its requests used this many tokens
    tokens_per_day: int  # ... or once the day's runs did (the day in the configured zone)
    summary_chars: int  # the one-sentence Chinese summary the daily layout shows
    paragraph_chars: int  # the paragraph summary of the weekly layouts (issue.summary_chars)
    moments_chars: int  # the short version for WeChat Moments (issue.moments_chars)
    prompt_version: str  # part of the cache key: change it when a prompt changes
    article_prompt: str  # the instructions for one article ({summary_chars}, {paragraph_chars})
    issue_prompt: str  # the instructions for the issue ({moments_chars})
