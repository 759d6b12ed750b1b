"""Chinese script: one script for comparing texts, and the output script of an issue.

Matching (relevance terms, dedupe) compares texts in Simplified script: a Traditional
repost of a Simplified article must read as the same words. Text that is mostly
Traditional goes through OpenCC's ``tw2sp`` (characters and Taiwan phrasing: 晶片 -> 芯片,
軟體 -> 软件); anything else through ``t2s`` (characters only), because ``tw2sp`` also
rewrites mainland words that happen to be Taiwan words for something else (程序 -> 进程).

An issue is exported in the configured output script (``editorial.script``): as fetched,
Simplified, Traditional, or Traditional with Taiwan phrasing. The reference issue is in
Traditional script.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata

import opencc

# The output scripts an issue can be exported in, and the OpenCC conversion for each.
SCRIPTS: dict[str, str | None] = {
    "fetched": None,  # every text as its source wrote it
    "simplified": "t2s",
    "traditional": "s2t",
    "taiwan": "s2twp",  # Traditional with Taiwan phrasing: 芯片 -> 晶片, 软件 -> 軟體
}
# A text whose CJK characters change under t2s at this rate or more is Traditional
# (Simplified text changes at 0; Traditional news text at 0.15-0.3 in our fixtures).
TRADITIONAL_SHARE = 0.05
_CJK = re.compile(r"[\u3400-\u9fff]")
_SAMPLE = 2000  # characters looked at to tell the script


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def convert(text: str, script: str) -> str:
    """``text`` in the output ``script`` (a key of :data:`SCRIPTS`)."""
    config = SCRIPTS[script]
    return _converter(config).convert(text) if config and text else text


def is_traditional(text: str) -> bool:
    sample = text[:_SAMPLE]
    cjk = _CJK.findall(sample)
    if not cjk:
        return False
    simplified = _converter("t2s").convert("".join(cjk))
    changed = sum(a != b for a, b in zip(cjk, simplified))
    return changed >= len(cjk) * TRADITIONAL_SHARE


def to_simplified(text: str) -> str:
    """``text`` in Simplified script, Taiwan phrasing mapped back when it is Traditional."""
    if not text:
        return text
    return _converter("tw2sp" if is_traditional(text) else "t2s").convert(text)


def normalize(text: str) -> str:
    """The form texts are compared in: Simplified, NFKC (full-width letters and digits
    become ASCII), lower case."""
    return unicodedata.normalize("NFKC", to_simplified(text)).lower()


def convert_issue(issue, script: str):
    """A copy of ``issue`` (a :class:`pipelines.issues.Issue`) with its words in ``script``.

    URLs, dates and numbers are left alone: OpenCC converts only Chinese characters.
    """
    if SCRIPTS[script] is None:
        return issue
    items = [dataclasses.replace(
        item, title=convert(item.title, script), summary=convert(item.summary, script),
        section=convert(item.section, script) if item.section else item.section,
        topics=[convert(t, script) for t in item.topics],
        source=convert(item.source, script) if item.source else item.source)
        for item in issue.items]
    return dataclasses.replace(issue, title=convert(issue.title, script), headline=convert(issue.headline, script),
                               section=convert(issue.section, script), items=items)
