"""One story, many copies: exact and near-duplicate clusters across sources and scripts.

Texts are compared in one form (:func:`pipelines.analysis.text.normalize`: Simplified script,
NFKC, lower case), as shingles of :data:`SHINGLE` tokens (a token is one Chinese
character or one Latin word), so a Traditional repost, a syndicated copy with its own
header and footer, and a lightly edited copy all overlap their original heavily.

Two articles are one story when
  * their texts are the same (the content hash), or their shingle sets have a Jaccard
    similarity of at least :data:`SAME_STORY_JACCARD`, and
  * their titles share a word that says what the story is about (not 发布, 融资, 完成...),
    or one of them has no title. Pages that are one template under different headlines
    (press-release forms, sample pages) are different stories. A title's words are kept
    with its article (``title_words``) as they were segmented when it was fingerprinted,
    with the taxonomy's terms, and a candidate's are read from there.

The archive's side (finding a stored copy, assigning clusters) is
:mod:`pipelines.archive.clusters`. Candidates are found there by MinHash LSH (:func:`minhash`, :data:`BANDS` bands of
:data:`ROWS` rows), and the band keys are kept in SQLite (``minhash_bands``), so adding an
article costs a few indexed look-ups however large the archive is; no in-memory index is
rebuilt. Each candidate's similarity is first estimated from the MinHash signatures (the
share of equal values; stored with the article, 240 bytes); only an estimate within
:data:`ESTIMATE_MARGIN` of the threshold is settled exactly against the stored text, so a
story with many copies does not make every new copy re-read and re-shingle them all. A new article
joins the cluster of its most similar match; the cluster id is the id of the cluster's
first article. Clusters never merge or split afterwards: issue membership stays stable.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import struct
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy

from pipelines.analysis.text import PageText, normalize, tokenizer

logger = logging.getLogger(__name__)

SHINGLE = 4  # tokens per shingle: four Chinese characters, or four English words
# MinHash size and banding: 20 bands of 3 rows find a pair with Jaccard 0.5 with
# probability 1-(1-0.5^3)^20 = 0.93 and one at 0.6 with 0.99, while two different
# stories (Jaccard under 0.1 in the fixture week) meet in a band with at most 0.02.
ROWS = 3
BANDS = 20
NUM_PERM = ROWS * BANDS
# Jaccard at and above which two texts are one story. The fixture week's 15 copies
# (tests/fixtures/editorial/week.json) score 0.56 (a lightly edited copy) to 1.0; its
# different stories at most 0.08 (two articles of one WeChat account, sharing its footer).
SAME_STORY_JACCARD = 0.5
# Texts with fewer shingles are matched by their exact hash only: a two-line news flash
# shares too much phrasing with the next one to be compared by overlap.
MIN_SHINGLES = 30
MAX_CANDIDATES = 20  # most candidates checked, the most band matches first
# The signature estimate of a Jaccard J has a standard error of sqrt(J(1-J)/NUM_PERM), at
# most 0.065 here: an estimate this far from the threshold is three errors away from it.
ESTIMATE_MARGIN = 0.2
_TOKEN = re.compile(r"[\u3400-\u9fff]|[a-z0-9]+(?:[.'][a-z0-9]+)*")
_TITLE_WORD = re.compile(r"[\u3400-\u9fff]{2,}|[a-z][a-z0-9.+-]+|\d{3,}")
# Words in a title that say nothing about which story it is.
GENERIC_TITLE_WORDS = frozenset(
    "发布 推出 宣布 正式 全新 最新 重磅 首发 独家 快讯 日报 周报 简报 早报 晚报 完成 获得 亿元 万元 融资 公司 "
    "一款 首款 新一代 国产 行业 如何 什么 为什么 我们 这个 今天 今日 近日 消息 报道 观察 解读 来了 重大 突破 "
    "the and for with from new how why what this that are its into about launch launches announces "
    "update updates report news".split())
# Lines that say the text is someone else's: a re-host names where it came from.
REPOST = re.compile(r"(转载自|轉載自|转自|轉自|本文来自|本文來自|本文转载|本文轉載|来源[:：]|來源[:：]|原标题[:：]|原標題[:：]|"
                    r"经授权发布|經授權發布|授权转载|授權轉載|originally published|republished|reprinted with permission)",
                    re.IGNORECASE)
REPOST_WINDOW = 300  # characters at the start and at the end of a text where that line stands


@dataclass(slots=True, frozen=True)
class Fingerprint:
    """What dedupe needs of one text; cheap to compute, nothing stored but the hash and
    the band keys. Small: it travels back from an extraction worker with its article, and
    the shingle set itself (35 KB pickled for a page of the shared corpus, most of what a
    worker sent back) is made again from the text in the rare case it is needed (see
    :func:`find_matches`)."""

    content_hash: str
    shingle_count: int
    band_keys: tuple[int, ...]  # empty for texts under MIN_SHINGLES
    title_words: frozenset[str]
    signature: bytes = b""  # the MinHash values, NUM_PERM little-endian uint32; empty as band_keys


@dataclass(slots=True, frozen=True)
class Match:
    article_id: int
    cluster_id: int
    similarity: float  # Jaccard of the shingle sets, or its signature estimate far from the threshold


def text_shingles(text: str | None) -> frozenset[str]:
    """The shingles of a text as it is written (normalized here)."""
    return shingles(normalize(text or ""))


def shingles(normalized: str) -> frozenset[str]:
    tokens = _TOKEN.findall(normalized)
    if len(tokens) < SHINGLE:
        return frozenset([" ".join(tokens)]) if tokens else frozenset()
    # Each run of SHINGLE tokens, from SHINGLE staggered copies of the list (a fifth less
    # time than slicing the list at every token, on the shared corpus).
    return frozenset(map(" ".join, zip(*(tokens[k:] for k in range(SHINGLE)))))


@functools.lru_cache(maxsize=4096)  # (copies of a story share their title)
def title_words(title: str | None) -> frozenset[str]:
    if not title:
        return frozenset()  # (and no dictionary loaded for it)
    return _title_words(normalize(title))


@functools.lru_cache(maxsize=4096)
def _title_words(normalized: str) -> frozenset[str]:
    words = {w for w in tokenizer().cut(normalized, HMM=False) if _TITLE_WORD.fullmatch(w)}
    return frozenset(words - GENERIC_TITLE_WORDS)


# The MinHash the stored band keys and signatures are made with. A shingle's hash mixes the
# CRC-32 of its tokens (each distinct token hashed once, the runs combined with numpy), and
# MurmurHash3's 32-bit finalizer spreads it; permutation k takes h to a_k * h + b_k mod 2^32
# (a_k odd: a bijection), its a_k and b_k drawn from numpy's RandomState(MINHASH_SEED), as
# datasketch 2.0's "affine32" scheme does. Hashing each shingle's text with SHA-1 (as
# datasketch does) took 1.75 ms of CPU an article of the shared corpus, this 0.73, with the
# same error of the Jaccard estimate (0.049 against 0.050, mean over its longer texts with a
# tenth of their tokens changed). A test pins the band keys of a fixed text: a change here
# needs a migration that makes every stored key again (pipelines.archive.clusters.rehash).
MINHASH_SEED = 1
_FMIX = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
# Odd multipliers that combine the token hashes of a shingle (the golden ratio's and two of
# MurmurHash3's constants): any odd ones give a bijection per step.
_SHINGLE_MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D)


@functools.cache
def minhash_permutations():
    """The ``a`` and ``b`` of every permutation, NUM_PERM uint32 each."""
    draw = numpy.random.RandomState(MINHASH_SEED)
    a = draw.randint(0, 1 << 31, NUM_PERM, dtype=numpy.uint32) * numpy.uint32(2) + numpy.uint32(1)
    b = draw.randint(0, 1 << 32, NUM_PERM, dtype=numpy.uint32)
    return a, b


def shingle_hashes(tokens: list[str]):
    """The distinct 32-bit hashes of the shingles of ``tokens`` (runs of SHINGLE tokens; a
    text of fewer tokens is one shingle), as a numpy uint32 array."""
    if len(tokens) < SHINGLE:
        return numpy.array([zlib.crc32(" ".join(tokens).encode("utf-8"))] if tokens else [], numpy.uint32)
    table = {token: zlib.crc32(token.encode("utf-8")) for token in set(tokens)}
    h = numpy.fromiter(map(table.__getitem__, tokens), numpy.uint32, len(tokens))
    runs = len(tokens) - SHINGLE + 1
    mixed = h[:runs]
    for k, multiplier in enumerate(_SHINGLE_MIX[:SHINGLE - 1], start=1):
        mixed = mixed * numpy.uint32(multiplier) + h[k:k + runs]
    return numpy.unique(mixed)


def minhash(hashes):
    """The MinHash signature of a set of shingles given by their hashes
    (:func:`shingle_hashes`): NUM_PERM uint32 minima."""
    h = hashes.reshape(-1, 1)
    s1, m1, s2, m2, s3 = (numpy.uint32(c) for c in _FMIX)
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    h = h ^ (h >> s3)
    a, b = minhash_permutations()
    return (h * a + b).min(axis=0)


def fingerprint(title: str | None, text: str, page: PageText | None = None) -> Fingerprint:
    """The fingerprint of ``text`` under ``title``; ``page``: the same, normalised already
    (shared with classification)."""
    page = page or PageText(title, text)
    normalized = page.normalized_text
    tokens = _TOKEN.findall(normalized)
    content_hash = hashlib.sha1(("".join(tokens) or normalized.strip()).encode("utf-8")).hexdigest()
    hashes = shingle_hashes(tokens)
    keys: tuple[int, ...] = ()
    signature = b""
    if len(hashes) >= MIN_SHINGLES:
        signature = minhash(hashes).astype("<u4").tobytes()
        keys = band_keys(signature)
    words = _title_words(page.normalized_title) if page.title else frozenset()
    return Fingerprint(content_hash, len(hashes), keys, words, signature)


def band_keys(signature: bytes) -> tuple[int, ...]:
    """The LSH band keys of a signature as stored (NUM_PERM little-endian uint32); none
    for an empty one."""
    width = ROWS * 4
    return tuple(_band_key(band, signature[band * width:(band + 1) * width]) for band in range(BANDS)) \
        if signature else ()


def indexed_band_keys(signature: bytes | None, text: str | None) -> tuple[int, ...]:
    """The band keys a stored article is indexed under: made from its stored signature, or
    from its text for an article stored before signatures were kept (schema 5)."""
    return band_keys(signature) if signature is not None else fingerprint(None, text or "").band_keys


def _band_key(band: int, rows: bytes) -> int:
    digest = hashlib.blake2b(bytes([band]) + rows, digest_size=8).digest()
    return struct.unpack("<q", digest)[0]  # SQLite integers are signed 64-bit


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def estimated_jaccard(a: bytes, b: bytes) -> float | None:
    """The share of equal MinHash values of two signatures, or None if either is missing."""
    if not a or len(a) != len(b):
        return None
    return float(numpy.count_nonzero(numpy.frombuffer(a, "<u4") == numpy.frombuffer(b, "<u4"))) / (len(a) // 4)


def same_title_story(a: frozenset[str], b: frozenset[str], a_titled: bool, b_titled: bool) -> bool:
    """Titles that could head one story: they share a telling word, or one is missing."""
    return not (a_titled and b_titled) or bool(a & b)


def is_rehost(url: str, text: str, aggregators: tuple[str, ...] = ()) -> bool:
    """The page is a copy of someone else's article: an aggregator's host, or a line
    naming where the text came from."""
    host = (urlsplit(url).hostname or "").lower()
    if any(host == a or host.endswith("." + a) for a in aggregators):
        return True
    text = text or ""
    return bool(REPOST.search(text[:REPOST_WINDOW]) or REPOST.search(text[-REPOST_WINDOW:]))
