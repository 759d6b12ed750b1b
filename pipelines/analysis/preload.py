"""Imported once by the extraction pool's fork server (multiprocessing's preload list), so
that every worker forked from it starts with the analysis code, jieba's dictionary and the
MinHash permutations in memory instead of loading them itself: about a second of CPU per
worker, paid again for each worker that replaces a crashed or hung one."""
from __future__ import annotations

import logging

from pipelines.analysis import page
from pipelines.analysis.dedupe import minhash_permutations
from pipelines.analysis.text import tokenizer

try:
    tokenizer()
    minhash_permutations()
except Exception as exc:  # noqa: BLE001 (each worker loads them again itself, and fails there with the reason)
    logging.getLogger(__name__).warning("extraction workers start unprepared: %s: %s", type(exc).__name__, exc)

__all__ = ["page"]
