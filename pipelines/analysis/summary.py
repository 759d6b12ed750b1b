"""Summaries: whole sentences of the article, up to a length, never cut mid-sentence.

:func:`lead_summary` takes the lead of the text; :func:`ranked_summary` (the default
:class:`Summarizer`) a run of consecutive sentences, the lead's unless a later run clearly
covers the article better, so that it reads as one paragraph. Neither takes what is not
the article's prose: image captions and credits, calls to follow or scan a QR code, ads,
editor's notes.
Chinese sentences end at 。！？ (and a closing quote after them); English ones at . ! ?
followed by a space and a capital letter, so "e.g. the" and "3.5" do not end one.
"""
from __future__ import annotations

import itertools
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy

from pipelines.analysis.text import CJK

logger = logging.getLogger(__name__)

# Where a sentence ends (each match's end): its mark and any closing quotes, and in English
# the space before a capital. (A leading lookbehind for the mark had the engine try every
# position of the paragraph.)
_ZH_END = re.compile(r"[。！？!?；…][”」』’\"）)]*")
_EN_END = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9\"“(])")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_ABBREVIATION = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|Inc|Ltd|Jr|Sr|St|No|Fig|Eq|vs|etc|al|e\.g|i\.e|U\.S)|\b[A-Z])\.$")
# A line that only cites a URL ("论文地址：https://…"): the issue shows it as a link line.
_URL_LINE = re.compile(r"^[^\s]{0,16}\s*[:：]?\s*https?://\S+$")
# Bylines, account plugs and section headings: lines an editor never puts in a summary.
# Two patterns, like the not-prose ones below: what a line opens with (tried once) and
# what may stand anywhere.
_BYLINE_LINE = re.compile(r"(文|编辑|編輯|作者|来源|來源|记者|記者|撰文|编译|編譯|责编|責編|审校|出品|编者按|編者按)\s*[｜|:：丨]"
                          r"|\S{0,12}(报道|報道|编译|編譯|出品)$")
_BYLINE_ANYWHERE = re.compile(r"发自|發自|公众号|公眾號")
# Not the article's prose, in a paragraph or a sentence: image captions and credits, calls
# to follow, subscribe or scan a QR code, ads and sponsorship, editor's notes and reprint
# notices. Each is a pattern seen on the pages of the shipped sources and fixtures. Matched
# against the lower-cased text, in two patterns: what must open the text (tried once, at its
# start) and what may stand anywhere. One case-insensitive pattern of both, searched at every
# position, took 10 µs a sentence on the shared corpus's pages; these take under 1. Every
# alternative searched for opens with a character, not a group, so that the engine can skip
# to where one of those characters stands: one alternative written ``(photo|image) (by|…)``
# turned that off and made the search four times slower.
_NOT_PROSE_OPENING = re.compile(
    r"[（(]?(图|圖|图片|圖片|图源|圖源|题图|題圖|头图|頭圖|封面|配图|配圖|图注|圖註)\s*[0-9０-９一二三四五六七八九十]*\s*[：:｜|丨]"
    r"|[▲△▼↑☝]"
    r"|[（(]?(image|photo|picture|figure|fig\.?|illustration|credit|credits|source|video|screenshot)\s*\d*\s*[:：|]"
    r"|[【\[（(]?(广告|廣告|推广|推廣|赞助|贊助|advertisement|sponsored|ad)[】\]）)]?\s*[:：|]?\s*$"
    r"|[【\[（(]?(广告|廣告|推广|推廣|赞助|贊助|advertisement|sponsored)[】\]）)：:|]"
    r"|[【\[（(]?(编者按|編者按|编者注|編者注|编辑注|編輯註|編按|editor'?s note|editor’s note)")
_NOT_PROSE_ANYWHERE = re.compile(
    r"图片来源|圖片來源|图源[：:]|圖源[：:]|图片由.{0,20}提供|圖片由.{0,20}提供|视觉中国|視覺中國"
    r"|photo by|photo credit|photo courtesy|image by|image credit|image courtesy"
    r"|getty images|shutterstock"
    r"|扫码|掃碼|扫描.{0,6}二维码|二维码|二維碼|长按识别|長按識別|长按关注|點擊關注|点击关注|关注我们|關注我們|关注公众号|"
    r"關注公眾號|点个在看|點個在看|点赞|點讚|设为星标|設為星標|加星标|follow us|subscribe to|sign up for|newsletter"
    r"|商务合作|商務合作|本文为广告|本文為廣告"
    r"|责任编辑|責任編輯|本文来自|本文來自|本文转载|本文轉載|转载请|轉載請|原标题[：:]|原標題[：:]|版权归|版權歸")
_ENDS_SENTENCE = tuple("。！？!?.…")
HEADING_CHARS = 25  # shorter unterminated lines read as headings, captions or bylines
_CLAUSE = re.compile(r"(?<=[，,；;：:、])")
# Latin text carries about a third of the information per character of Chinese; an
# English lead needs roughly twice the characters to say as much.
LATIN_FACTOR = 2
SCRIPT_SAMPLE = 500  # characters of the opening that tell the script


def sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, keeping their end marks."""
    cjk = len(CJK.findall(paragraph)) > len(paragraph) * 0.2
    pattern = _ZH_END if cjk else _EN_END
    parts: list[str] = []
    start = 0
    for match in [*pattern.finditer(paragraph), None]:
        end = match.end() if match else len(paragraph)
        piece = paragraph[start:end].strip()
        start = end
        if not piece:
            continue
        if parts and _ABBREVIATION.search(parts[-1]):  # "Dr." and "e.g." end no sentence
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def lead_summary(text: str, limit: int = 300, title: str | None = None) -> str:
    """The opening sentences of ``text`` up to about ``limit`` characters of Chinese."""
    paragraphs, limit = _for_script(_prose(text, title), limit)
    out: list[str] = []
    used = 0
    for paragraph in paragraphs:
        line: list[str] = []
        for sentence in sentences(paragraph):
            if not_prose(sentence):
                continue
            if used + len(sentence) > limit and (out or line):
                break
            if used + len(sentence) > limit * 2:
                sentence = _cut_at_clause(sentence, limit)
            line.append(sentence)
            used += len(sentence)
        else:
            if line:
                out.append(_join(line))
            continue
        if line:
            out.append(_join(line))
        break
    return _join(out)  # one paragraph, as an item shows it


def _is_boilerplate(paragraph: str) -> bool:
    bare = paragraph.rstrip("”\"」』’)）")
    return bool(_BYLINE_LINE.match(paragraph) or _BYLINE_ANYWHERE.search(paragraph)) or not_prose(paragraph) or (
        len(paragraph) < HEADING_CHARS and not bare.endswith(_ENDS_SENTENCE))


def not_prose(text: str) -> bool:
    """A caption, credit, call to follow or scan, ad or editor's note (see ``_NOT_PROSE_OPENING``)."""
    text = text.strip().lower()
    return bool(_NOT_PROSE_OPENING.match(text) or _NOT_PROSE_ANYWHERE.search(text))


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if text and (text[-1].isascii() and part[:1].isascii()):
            text += " "
        text += part
    return text


def _cut_at_clause(sentence: str, limit: int) -> str:
    """A sentence far over the limit on its own: keep whole clauses up to the limit."""
    kept = ""
    for clause in _CLAUSE.split(sentence):
        if kept and len(kept) + len(clause) > limit:
            break
        kept += clause
    return kept.rstrip("，,；;：:、 ") + "…"


# --- ranked summaries -------------------------------------------------------------------
# The summary of an issue item is chosen by a Summarizer. The default ranks the sentences
# of the article TextRank-style and keeps the best that fit, in the article's order: whole
# sentences only, so numbers, names and quotes are never cut off. The interface is what a
# later summarizer (an LLM endpoint, say) implements; nothing here needs a network.

# PageRank damping, as in TextRank (Mihalcea & Tarau 2004).
DAMPING = 0.85
# News puts what matters first, and the random jump favours the lead already: only an
# article's first 64 sentences are ranked. Measured: the summaries of the 60-article fixture
# week are identical with and without the cap; on the shared corpus 69 of 88 are, the rest
# differ in a sentence from the back half of a long report; the cost falls from 16 ms to
# 6 ms an article on average, and stays bounded on a 300-sentence page.
MAX_CANDIDATES = 64
ITERATIONS = 40
# The random jump favours early sentences (weight 1/(position+1), as PositionRank does):
# news is written lead first, and plain TextRank tends to pick a detail sentence that
# repeats many words over the sentence that states the news.
LEAD_BIAS = True
MIN_SENTENCE = 8  # characters: shorter pieces are captions and interjections ("是的！")
# A later run of sentences replaces the lead's only when its summed score is this many
# times the lead's: news states its point first, and a run from the middle reads as a
# fragment unless it is clearly the better account. Swept over the fixture week
# (tests/fixtures/editorial/week.json at 150 characters): 14 of its 60 summaries leave the
# lead at 1.0, 5 at 1.25 (each a detail sentence that repeats the headline's words), none
# at 1.5; a page whose lead is a scene-setting anecdote still does.
CLEARLY_BETTER = 1.5
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOP = frozenset("the a an and or of to in on for with by is are was were be been it its this that as at "
                  "from we our they their has have had not but can will also which".split())


class Summarizer(Protocol):
    """Makes an item's summary from an article; ``limit`` is in characters of Chinese."""

    name: str

    def summarize(self, title: str | None, text: str, limit: int) -> str: ...


@dataclass(slots=True, frozen=True)
class LeadSummarizer:
    """The opening sentences (what the archive did before ranked summaries)."""

    name: str = "lead"

    def summarize(self, title: str | None, text: str, limit: int) -> str:
        return lead_summary(text, limit, title)


@dataclass(slots=True, frozen=True)
class TextRankSummarizer:
    """The sentences that best cover the article, in its order, up to the limit."""

    name: str = "textrank"

    def summarize(self, title: str | None, text: str, limit: int) -> str:
        return ranked_summary(text, limit, title)


SUMMARIZERS: dict[str, type] = {"textrank": TextRankSummarizer, "lead": LeadSummarizer}


def summarizer_for(name: str = "textrank") -> Summarizer:
    try:
        return SUMMARIZERS[name]()
    except KeyError:
        raise ValueError(f"unknown summarizer {name!r} (known: {', '.join(SUMMARIZERS)})") from None


@dataclass(slots=True)
class _Sentence:
    paragraph: int
    text: str
    words: frozenset[str]
    score: float = 0.0


def _paragraphs(text: str, title: str | None) -> Iterator[str]:
    """The text's lines, white space collapsed, but for empty and link lines and a first line
    that repeats the title."""
    heading = " ".join(title.split()) if title else None
    first = True
    for line in text.splitlines():
        paragraph = " ".join(line.split())
        if not paragraph or _URL_LINE.match(paragraph):
            continue
        if first:
            first = False
            if paragraph == heading:
                continue
        yield paragraph


def _prose(text: str, title: str | None) -> Iterator[str]:
    """The paragraphs that are not boilerplate, or every paragraph when none is prose; as
    they are asked for (a summary reads a long article's opening only: judging every
    paragraph of it took a quarter of a summary's time)."""
    found = False
    for paragraph in _paragraphs(text, title):
        if not _is_boilerplate(paragraph):
            found = True
            yield paragraph
    if not found:
        yield from _paragraphs(text, title)


def _for_script(paragraphs: Iterator[str], limit: int) -> tuple[Iterator[str], int]:
    """The paragraphs again, and the limit: :data:`LATIN_FACTOR` times as long when the
    opening :data:`SCRIPT_SAMPLE` characters are mostly not Chinese."""
    opening: list[str] = []
    size = 0
    for paragraph in paragraphs:
        opening.append(paragraph)
        size += len(paragraph)
        if size >= SCRIPT_SAMPLE:
            break
    sample = "".join(opening)[:SCRIPT_SAMPLE]
    if len(CJK.findall(sample)) < len(sample) * 0.2:
        limit *= LATIN_FACTOR
    return itertools.chain(opening, paragraphs), limit


def _words(sentence: str) -> frozenset[str]:
    """What two sentences can share: Chinese character bigrams (no dictionary needed, so
    summaries cost no jieba load) and English words less stop words. Sentences of one
    article share its script, so NFKC and lower case are all the normalising needed
    (converting each sentence's script was a third of a summary's time)."""
    text = unicodedata.normalize("NFKC", sentence).lower()
    words = {run[i:i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)}
    words.update(w for w in _LATIN_WORD.findall(text) if w not in _STOP)
    return frozenset(words)


def _similarities(words: list[frozenset[str]]) -> numpy.ndarray:
    """TextRank's overlap of each two sentences: shared words over the sum of their log
    lengths (so long sentences do not win by length alone); the shared words alone where
    that sum is 1 or less, none with itself. (Counted as one product of word-incidence
    matrices: the pairs' set intersections in Python took a quarter of a summary.)"""
    n = len(words)
    vocabulary: dict[str, int] = {}
    rows = [i for i, sentence in enumerate(words) for _ in sentence]
    columns = [vocabulary.setdefault(word, len(vocabulary)) for sentence in words for word in sentence]
    incidence = numpy.zeros((n, max(len(vocabulary), 1)))
    incidence[rows, columns] = 1.0
    shared = incidence @ incidence.T  # whole numbers, exactly
    numpy.fill_diagonal(shared, 0.0)
    logs = numpy.array([math.log(len(sentence)) if sentence else 0.0 for sentence in words])
    scale = logs[:, None] + logs[None, :]
    return numpy.divide(shared, scale, out=shared.copy(), where=scale > 1)


def rank_sentences(sentences_: list[_Sentence]) -> None:
    """TextRank scores, in place: PageRank over the sentence-similarity graph."""
    n = len(sentences_)
    if n == 0:
        return
    weights = _similarities([sentence.words for sentence in sentences_])
    totals = weights.sum(axis=1)
    isolated = totals == 0
    # Who passes score to whom, normalised once: sentence i receives from each j it shares
    # words with, in proportion to that edge's share of j's edges. (As a matrix: the power
    # iteration in Python lists was half of a summary's time on the shared corpus.)
    passes = weights / numpy.where(isolated, 1.0, totals)[:, None]
    jump = 1.0 / numpy.arange(1, n + 1) if LEAD_BIAS else numpy.ones(n)
    jump /= jump.sum()
    scores = jump
    for _ in range(ITERATIONS):
        dangling = scores[isolated].sum()
        new = (1 - DAMPING) * jump + DAMPING * (scores @ passes + jump * dangling)
        converged = numpy.abs(new - scores).max() < 1e-6
        scores = new
        if converged:
            break
    for sentence, score in zip(sentences_, scores.tolist()):
        sentence.score = score


def ranked_summary(text: str, limit: int = 300, title: str | None = None) -> str:
    """Consecutive whole sentences of ``text``, about ``limit`` characters of Chinese, as
    one paragraph: the lead's, unless a later run of them clearly covers the article
    better (TextRank scores, summed over the run: :data:`CLEARLY_BETTER`)."""
    paragraphs, limit = _for_script(_prose(text, title), limit)
    # Sentences as far as ranking reaches: a long read is split no further than the
    # paragraph that brings the candidates to their number.
    found: list[_Sentence] = []
    candidates: list[_Sentence] = []
    used = 0
    for n, paragraph in enumerate(paragraphs):
        for piece in _whole_sentences(paragraph):
            if not not_prose(piece):
                found.append(sentence := _Sentence(n, piece, frozenset()))
                used += len(piece)
                if len(piece) >= MIN_SENTENCE:
                    candidates.append(sentence)
        if len(candidates) >= MAX_CANDIDATES and used > limit:
            break
    if not found:
        return ""
    if used <= limit:
        return _join([s.text for s in found])
    candidates = (candidates or found)[:MAX_CANDIDATES]
    for sentence in candidates:  # words for the ranked sentences only: a long read has hundreds
        sentence.words = _words(sentence.text)
    rank_sentences(candidates)
    runs = [run for start in range(len(candidates)) if (run := _run_from(candidates, start, limit))]
    if not runs:
        # Every sentence is far longer than the limit: the shortest, whole, never cut.
        return min(candidates, key=lambda s: len(s.text)).text
    lead = runs[0]
    best = max(runs, key=_run_score)
    chosen = best if _run_score(best) >= CLEARLY_BETTER * _run_score(lead) else lead
    # A run cut after a question ("why does it need a middle layer?") leaves it unanswered.
    while len(chosen) > 1 and chosen[-1].text.rstrip("”」』’\"）)").endswith(("？", "?")):
        chosen = chosen[:-1]
    return _join([s.text for s in chosen])


def _run_from(candidates: list[_Sentence], start: int, limit: int) -> list[_Sentence]:
    """The sentences from ``start`` on that fit in ``limit`` (one sentence up to twice the
    limit, when it is too long alone); empty when that one is longer still."""
    run: list[_Sentence] = []
    used = 0
    for sentence in candidates[start:]:
        if used + len(sentence.text) > limit:
            if not run and len(sentence.text) <= limit * 2:
                run.append(sentence)
            break
        run.append(sentence)
        used += len(sentence.text)
    return run


def _run_score(run: list[_Sentence]) -> float:
    return sum(s.score for s in run)


def _whole_sentences(paragraph: str) -> list[str]:
    """Sentences for ranking: a piece ending in ；or … goes on in the next one (chosen
    alone it would read as cut off)."""
    out: list[str] = []
    for piece in sentences(paragraph):
        if out and out[-1].rstrip("”」』’\"）)").endswith(("；", ";", "…")):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def summarize_or_lead(summarizer: Summarizer, title: str | None, text: str, limit: int,
                      url: str | None = None) -> tuple[str, bool]:
    """The summary, or the lead when the summarizer fails on this page (a summarizer that
    fails on one page must not lose the article); and whether it failed."""
    try:
        return summarizer.summarize(title, text, limit), False
    except Exception as exc:  # noqa: BLE001 (any summarizer failure: the lead stands in)
        logger.warning("summary failed on %s: %s: %s; using the lead", url, type(exc).__name__, exc)
        return LeadSummarizer().summarize(title, text, limit), True
