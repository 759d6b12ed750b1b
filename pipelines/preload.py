"""Imported once by the extraction pool's fork server (multiprocessing's preload list), so
that every worker forked from it starts with the extraction code, jieba's dictionary and
the MinHash permutations in memory instead of loading them itself: about a second of CPU
per worker, paid again for each worker that replaces a crashed or hung one."""
from __future__ import annotations

import logging

from pipelines import extract, work  # noqa: F401  (loaded here, shared by every worker)
from pipelines.classify import _tokenizer
from pipelines.dedupe import _permutations

try:
    _tokenizer()
    _permutations()
except Exception as exc:  # each worker loads them again itself, and fails there with the reason
    logging.getLogger(__name__).warning("extraction workers start unprepared: %s: %s", type(exc).__name__, exc)
