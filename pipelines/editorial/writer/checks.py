"""The check before use: what a model wrote may only state numbers, Latin-script names and
quoted phrases that its source states.

Models condense and translate well and invent figures now and then; a reader cannot tell
which. So every number (as a quantity, whatever its magnitude words: 30亿, 3 billion and
3,000,000,000 are one number), every Latin-script token (names such as NVIDIA or GPT-4o,
which a Chinese summary keeps in Latin script) and every quoted phrase of the written text
must be found in the source, both compared in Simplified script. What cannot be found is a
reason to flag the text; a flagged text is not used (the extractive summary stands in).
Where a comparison is unsure (a quote translated from English, a rounded figure), the text
is flagged: a missing sentence costs less than a wrong one.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pipelines.analysis.text import to_simplified

# Magnitude words after a number, as multipliers. Percent stays apart: 30% is not 0.3 of
# anything the source says, so it is compared as a percentage.
MAGNITUDES: dict[str, Decimal] = {
    "万亿": Decimal(10) ** 12, "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(10) ** 3,
    "trillion": Decimal(10) ** 12, "billion": Decimal(10) ** 9, "bn": Decimal(10) ** 9,
    "million": Decimal(10) ** 6, "mn": Decimal(10) ** 6, "m": Decimal(10) ** 6,
    "thousand": Decimal(10) ** 3, "k": Decimal(10) ** 3,
}
PERCENT = ("%", "％", "percent", "per cent", "个百分点", "percentage points")
_UNITS = sorted([*MAGNITUDES, *PERCENT], key=len, reverse=True)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*("
    + "|".join(re.escape(unit) for unit in _UNITS) + r")?(?![A-Za-z])", re.IGNORECASE)
# A Latin-script token: a name, a model, a product (GPT-4o, Llama-3.1, H100, Wi-Fi).
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.+][A-Za-z0-9]+)*\+*")
# Single letters and these words carry no claim of their own.
_LATIN_IGNORED = {"ai", "vs", "etc"}
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’]{2,})[”\"」』’]")
_SPACE = re.compile(r"\s+")


def quantities(text: str, bare: bool = False) -> set[tuple[Decimal, bool]]:
    """The numbers ``text`` states as (value, is_percent), magnitudes applied; with
    ``bare``, also each number before its magnitude word (what a source allows: "3 million
    users" beside "3 models")."""
    found: set[tuple[Decimal, bool]] = set()
    for whole, fraction, unit in _NUMBER.findall(text):
        try:
            value = Decimal(whole.replace(",", "") + (fraction or ""))
        except InvalidOperation:
            continue
        unit = (unit or "").lower()
        if unit in PERCENT:
            found.add((value.normalize(), True))
            continue
        found.add(((value * MAGNITUDES.get(unit, Decimal(1))).normalize(), False))
        if unit and bare:
            found.add((value.normalize(), False))
    return found


def latin_tokens(text: str) -> set[str]:
    return {token.lower() for token in _LATIN.findall(text)
            if len(token) > 1 and token.lower() not in _LATIN_IGNORED}


def quoted_phrases(text: str) -> list[str]:
    return [phrase.strip() for phrase in _QUOTED.findall(text) if phrase.strip()]


def unsupported(written: str, source: str) -> list[str]:
    """Why ``written`` cannot be used as a summary of ``source``: its numbers, Latin-script
    names and quoted phrases that ``source`` does not state. Empty: nothing found against it."""
    written = to_simplified(written)
    source = to_simplified(source)
    reasons: list[str] = []
    known = quantities(source, bare=True)
    for value, percent in sorted(quantities(written) - known):
        reasons.append(f"number {value:f}{'%' if percent else ''} not in the source")
    source_lower = source.lower()
    source_tokens = latin_tokens(source)
    for token in sorted(latin_tokens(written)):
        if token not in source_tokens and token not in source_lower:
            reasons.append(f"name {token!r} not in the source")
    flat_source = _SPACE.sub(" ", source)
    for phrase in quoted_phrases(written):
        if _SPACE.sub(" ", phrase) not in flat_source:
            reasons.append(f"quote {phrase!r} not in the source")
    return reasons
