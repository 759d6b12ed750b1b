"""Relevance and topics: an article scored against the configured keyword taxonomy.

Each topic of ``[[editorial.topics]]`` lists terms, Chinese or English, with weights. Title
and text are compared in one form (Simplified script, NFKC, lower case: see
:func:`pipelines.analysis.text.normalize`). Chinese terms are matched as jieba words, so 芯片
does not match inside 芯片组 and 量化 not inside 量化交易 once that is a term of its own
(weight 0: a known word that means something else). English terms are matched as whole
words or phrases (``edge ai``, ``on-device`` = ``on device``, ``npus`` for ``npu``).

A term counts ``title_weight`` times its weight when the title has it, and its weight
times ``1 + ln(n)`` for ``n`` occurrences in the opening of the text (the lead says what an
article is about; the tail of a long article mentions everything). A topic's score is the
sum of its terms; the article's score the sum of its topics. The article is relevant at
``threshold`` and above; its topics are those scoring at least ``topic_min`` and at least
:data:`TOPIC_SHARE` of the best one, best first. :func:`classify` returns the terms that
decided, for ``aibrief explain``.

When the archive has taught a model (:mod:`pipelines.analysis.relevance`, the file named by
``editorial.model``) and it beat the taxonomy on held-back weeks, :func:`classify` combines
the two: the score is then the combination's (still relevant from ``threshold`` up), and the
taxonomy's own score, the model's probability and the matched terms stay in the result.
"""
from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import jieba

from pipelines.analysis.relevance import RelevanceModel, model_at
from pipelines.analysis.settings import EditorialSettings, Topic
from pipelines.analysis.text import CJK, PageText, normalize, tokenizer

logger = logging.getLogger(__name__)

# Characters of the normalised text read after the title. The labelled set
# (tests/fixtures/editorial/labelled.tsv) gives title and lead; real articles put their
# subject in the first few paragraphs, and counting further only rewards length. (The
# opening of the text normalised whole, which dedupe normalises anyway, rather than the
# opening normalised alone: the same on every text of the shared corpus and the fixture week.)
BODY_CHARS = 1500
# A secondary topic is tagged when it scores at least this share of the best topic: a
# story about a chip that also says "AI" twice is a chip story, not also an industry one.
TOPIC_SHARE = 0.35


@dataclass(slots=True, frozen=True)
class TermHit:
    """One term found: where, how often, and the points it gave its topic."""

    term: str
    topic: str
    weight: float
    title: int
    body: int
    points: float


@dataclass(slots=True)
class Classification:
    relevant: bool
    score: float
    topics: list[str]
    topic_scores: dict[str, float] = field(default_factory=dict)
    terms: list[TermHit] = field(default_factory=list)  # best first
    threshold: float = 0.0
    taxonomy_score: float = 0.0  # the taxonomy's own score (``score`` when no model is used)
    model_score: float | None = None  # the trained scorer's probability, when there is a model
    model_used: bool = False  # ``score`` and ``relevant`` are the combination's


class Taxonomy:
    """The configured topics, compiled for matching."""

    def __init__(self, topics: tuple[Topic, ...], *, threshold: float, title_weight: float, topic_min: float) -> None:
        self.threshold = threshold
        self.title_weight = title_weight
        self.topic_min = topic_min
        self.topic_names = [topic.name for topic in topics]
        # term (normalized) -> [(topic, weight)]: a term may serve several topics.
        self.words: dict[str, list[tuple[str, float]]] = {}
        self.phrases: dict[str, list[tuple[str, float]]] = {}
        for topic in topics:
            for term, weight in topic.terms:
                key = normalize(term).strip()
                if not key:
                    continue
                table = self.words if CJK.search(key) else self.phrases
                if table is self.phrases:
                    key = " ".join(key.replace("-", " ").split())
                entries = table.setdefault(key, [])
                same = [n for n, (name, _) in enumerate(entries) if name == topic.name]
                if same:  # one term twice in a topic (NPU and npu): the larger weight, once
                    entries[same[0]] = (topic.name, max(weight, entries[same[0]][1]))
                else:
                    entries.append((topic.name, weight))
        words = tokenizer()
        for word in self.words:
            words.add_word(word)
        # The runs jieba segments each apart from the others (its own pattern, so that the
        # two cannot disagree); everything between them comes out a character at a time.
        self._runs = jieba.re_han_default
        self._word_hint = _word_hint(self.words, self._runs)
        alternatives = sorted(self.phrases, key=len, reverse=True)
        body = "|".join(r"[\s\-]+".join(re.escape(part) for part in phrase.split()) for phrase in alternatives)
        # Whole words: no letter or digit may touch the phrase on either side.
        # Whole words, a plural s or es allowed (npus, accelerators); a number may stand right
        # before one, as Chinese text writes units (560tops, 4bit).
        self._phrase_re = re.compile(rf"(?<![a-z])(?:{body})(?:e?s)?(?![a-z0-9])") if alternatives else None

    def count(self, text: str) -> Counter[str]:
        """Occurrences of each term in ``text`` (normalized already)."""
        found: Counter[str] = Counter()
        if self.words:
            words = tokenizer()
            for block in self._blocks_with_words(text):
                for token in words.cut(block, HMM=False):
                    if token in self.words:
                        found[token] += 1
        if self._phrase_re is not None:
            for match in self._phrase_re.finditer(text):
                found[self._phrase_key(" ".join(match.group(0).replace("-", " ").split()))] += 1
        return found

    def _blocks_with_words(self, text: str):
        """The parts of ``text`` that jieba segments on their own (its runs of Chinese
        characters, letters and digits) and in which a term could be a word: those holding
        a term at all. Segmenting only them finds the same words as segmenting the whole
        text (jieba reads each run apart from the others). Classifying a page of the shared
        corpus took 6.1 ms of CPU and takes 0.9; a page of the project's fixtures 3.5 and 1.6."""
        if self._word_hint is None:
            return (text,)
        return (block for block in self._runs.findall(text) if self._word_hint.search(block))

    def _phrase_key(self, matched: str) -> str:
        if matched in self.phrases:
            return matched
        for suffix in ("es", "s"):
            if matched.endswith(suffix) and matched[:-len(suffix)] in self.phrases:
                return matched[:-len(suffix)]
        return matched

    def classify(self, title: str | None, text: str | None, page: PageText | None = None) -> Classification:
        """Score ``title`` and ``text`` (``page``: the same, normalised already)."""
        page = page or PageText(title, text)
        title_terms = self.count(page.normalized_title)
        body_terms = self.count(page.normalized_text[:BODY_CHARS])
        hits: list[TermHit] = []
        topic_scores: dict[str, float] = {}
        for term in set(title_terms) | set(body_terms):
            n_title, n_body = title_terms.get(term, 0), body_terms.get(term, 0)
            for topic, weight in self.words.get(term) or self.phrases.get(term) or ():
                points = weight * (self.title_weight * (n_title > 0) + (1 + math.log(n_body) if n_body else 0.0))
                hits.append(TermHit(term, topic, weight, n_title, n_body, round(points, 3)))
                topic_scores[topic] = topic_scores.get(topic, 0.0) + points
        hits.sort(key=lambda h: (-abs(h.points), h.term, h.topic))
        score = round(sum(topic_scores.values()), 3)
        best = max(topic_scores.values(), default=0.0)
        order = {name: n for n, name in enumerate(self.topic_names)}
        topics = sorted((name for name, value in topic_scores.items()
                         if value >= self.topic_min and value >= best * TOPIC_SHARE and value > 0),
                        key=lambda name: (-topic_scores[name], order.get(name, 0)))
        return Classification(relevant=score >= self.threshold and bool(topics), score=score, topics=topics,
                              topic_scores={k: round(v, 3) for k, v in topic_scores.items()}, terms=hits,
                              threshold=self.threshold, taxonomy_score=score)


def _word_hint(words, runs: re.Pattern) -> re.Pattern | None:
    """A pattern finding any of ``words`` as a substring, or None when one of them could
    come out of jieba otherwise than inside one of its ``runs`` (see
    :meth:`Taxonomy._blocks_with_words`)."""
    if not words or not all(runs.fullmatch(word) for word in words):
        return None
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)))


@functools.lru_cache(maxsize=8)
def taxonomy_for(settings: EditorialSettings) -> Taxonomy:
    """The compiled taxonomy of the editorial settings (cached)."""
    return Taxonomy(settings.topics, threshold=settings.threshold, title_weight=settings.title_weight,
                    topic_min=settings.topic_min)


def scorer_for(settings: EditorialSettings) -> RelevanceModel | None:
    """The trained scorer ``settings`` name, loaded once per process; None without one."""
    return model_at(settings.model)


def classify(title: str, text: str, settings: EditorialSettings, page: PageText | None = None) -> Classification:
    """Score ``title`` and ``text`` against the taxonomy of ``settings``, combined with the
    trained scorer when there is one that beat the taxonomy alone; ``page``: the same
    title and text, normalised already (:class:`pipelines.analysis.text.PageText`)."""
    result = taxonomy_for(settings).classify(title, text, page)
    model = scorer_for(settings)
    if model is not None:
        combine(result, model, title, text)
    return result


def combine(result: Classification, model: RelevanceModel, title: str | None, text: str | None) -> Classification:
    """Add the model's probability to ``result``; when the model is to be used (it beat
    the taxonomy on held-back weeks), the combination decides score and relevance."""
    scores = model.scores(title, text, result.taxonomy_score)
    result.model_score = round(scores.model, 4)
    if model.info.better:
        result.model_used = True
        result.score = model.combiner.score(scores)
        result.relevant = model.combiner.relevant(scores)
    return result
