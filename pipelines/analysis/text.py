"""Text in one form: Chinese script, normalisation, and jieba's words.

Matching (relevance terms, dedupe) compares texts in Simplified script: a Traditional
repost of a Simplified article must read as the same words. Text that is mostly
Traditional goes through OpenCC's ``tw2sp`` (characters and Taiwan phrasing: 晶片 -> 芯片,
軟體 -> 软件); anything else through ``t2s`` (characters only), because ``tw2sp`` also
rewrites mainland words that happen to be Taiwan words for something else (程序 -> 进程).

An issue is exported in the configured output script (``editorial.script``): as fetched,
Simplified, Traditional, or Traditional with Taiwan phrasing. The reference issue is in
Traditional script.

Chinese words come from one jieba tokenizer per process (:func:`tokenizer`), loaded from a
trimmed copy of the dictionary in jieba's wheel; taxonomies add their terms to it.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata

import jieba
import opencc

logger = logging.getLogger(__name__)

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
CJK = re.compile(r"[\u3400-\u9fff]")  # a Chinese character (CJK unified ideographs)
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
    cjk = CJK.findall(sample)
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


class PageText:
    """An article's title and text, each normalised (:func:`normalize`) once, when first
    asked for, for every analysis that compares them: classification reads the title and
    the opening of the text, dedupe the title and the whole text."""

    __slots__ = ("title", "text", "_title", "_text")

    def __init__(self, title: str | None, text: str | None) -> None:
        self.title = title or ""
        self.text = text or ""
        self._title: str | None = None
        self._text: str | None = None

    @property
    def normalized_title(self) -> str:
        if self._title is None:
            self._title = normalize(self.title)
        return self._title

    @property
    def normalized_text(self) -> str:
        if self._text is None:
            self._text = normalize(self.text)
        return self._text


_TOKENIZER: list = []
_TOKENIZER_LOCK = threading.Lock()
# jieba's whole dictionary (350,000 words) takes 1.1 s to load in every crawl process; its
# 80,000 words of frequency 20 and more load in a quarter of that. On the labelled set and
# the fixture week (212 texts) every relevance decision and topic list stays the same;
# 5 scores move by a few points (单芯片, a rare word, now reads as 单 + 芯片).
DICTIONARY_MIN_FREQ = 20


def _dictionary() -> str:
    """jieba's dictionary less its rare words, written once to the temporary directory
    (beside jieba's own cache); the path of the whole one if that cannot be written."""
    source = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    stat = os.stat(source)
    key = hashlib.sha1(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{DICTIONARY_MIN_FREQ}".encode()).hexdigest()[:12]
    target = os.path.join(tempfile.gettempdir(), f"aibrief-jieba-{key}.txt")
    if os.path.exists(target):
        return target
    try:
        with open(source, encoding="utf-8") as whole:
            kept = [line for line in whole if len(parts := line.split(" ")) > 1 and parts[1].isdigit()
                    and int(parts[1]) >= DICTIONARY_MIN_FREQ]
        fd, temporary = tempfile.mkstemp(prefix=".aibrief-jieba-", dir=os.path.dirname(target))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(kept)
        os.replace(temporary, target)
    except OSError as exc:
        logger.warning("cannot write a trimmed jieba dictionary to %s (%s); using the whole one", target, exc)
        return source
    return target


def tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer per process, its dictionary the one in the jieba wheel (jieba
    never downloads anything); taxonomies add their Chinese terms to it as words."""
    if not _TOKENIZER:
        with _TOKENIZER_LOCK:
            if not _TOKENIZER:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer(_dictionary())
                tokenizer.initialize()
                _TOKENIZER.append(tokenizer)
    return _TOKENIZER[0]
