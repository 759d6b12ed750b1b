"""The trained relevance scorer: what this editor picks, learnt from the archive.

The keyword taxonomy (:mod:`pipelines.analysis.classify`) is the cold-start default and the
explanation; it knows topics, not an editor's taste. This scorer learns the taste from
examples (items of published and imported issues, and the editor's drops and additions,
against articles of the same weeks that were left out), reading what an editor reads: the
title and the lead (the opening of the text, or an issue item's summary).

- **Features**: TF-IDF over jieba words and over character 2-3-grams of the text in one form
  (:func:`pipelines.analysis.text.normalize`). Words carry the meaning; character n-grams
  catch the names and compounds jieba's dictionary does not know (RKNN, 昇腾, 具身智能)
  and the English words in Chinese text.
- **Model**: logistic regression, classes weighted to balance, fitted with scikit-learn
  (:mod:`pipelines.analysis.relevance_fit`): it trains in seconds on thousands of items, and
  a linear model over words stays readable.
- **Combination** (:class:`Combiner`): a second logistic regression over two numbers,
  ``ln(1 + taxonomy score)`` and the logit of the model's probability, fitted on predictions
  for later items than the text model was trained on. Its decision value ``z`` gives the article's
  score ``threshold * e^z``: relevant from the threshold up, as with the taxonomy alone, so
  whatever compares stored scores with the threshold (issue building, ``reclassify``) keeps
  working, and issue ranking (which takes the score's logarithm) ranks by the combined odds.

This module scores with a trained model and keeps it; it does not import scikit-learn.
A linear model over TF-IDF is a weight and an inverse document frequency per word and
n-gram: :class:`LinearTfidf` computes exactly what scikit-learn's vectorizer and
``predict_proba`` would, so that every crawl process and extraction worker does not pay for
importing scikit-learn (2-3 s here) to score a page in well under a millisecond. The model
is kept as JSON (data, not code, unlike a pickle), written whole beside the archive by
``aibrief relevance train`` and loaded once per process (:func:`model_at`).
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field

from pipelines.analysis.text import normalize, tokenizer

logger = logging.getLogger(__name__)

FORMAT = 1  # of the model file; a file of another format is not used
# Characters of the text read after the title: about an issue item's summary (issue.summary_chars
# is 300 by default), so that the articles scored and the items learnt from read alike.
LEAD_CHARS = 400
CHAR_NGRAMS = (2, 3)
_Z_LIMIT = 12.0  # e^12 times the threshold: far past any cap issue ranking applies
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's character analyzer collapses them


class ModelError(Exception):
    """A model that cannot be trained or read; the message is one line."""


@dataclass(slots=True)
class Example:
    """One labelled item: what it says, whether the editor wanted it, when, and the
    taxonomy's score of it (the combination learns from both)."""

    title: str
    text: str
    relevant: bool
    day: str  # ISO date of the issue or period it belongs to; "" when undated
    taxonomy: float = 0.0


@dataclass(slots=True, frozen=True)
class Scores:
    taxonomy: float
    model: float  # probability that the editor picks it


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(slots=True)
class Combiner:
    """``z = a ln(1 + taxonomy) + b logit(model) + c``: relevant when ``z >= 0``."""

    a: float
    b: float
    c: float
    threshold: float

    def z(self, scores: Scores) -> float:
        value = self.a * math.log1p(max(scores.taxonomy, 0.0)) + self.b * logit(scores.model) + self.c
        return min(max(value, -_Z_LIMIT), _Z_LIMIT)

    def relevant(self, scores: Scores) -> bool:
        return self.z(scores) >= 0

    def score(self, scores: Scores) -> float:
        """The combined score on the taxonomy's scale: the threshold times the odds."""
        return round(self.threshold * math.exp(self.z(scores)), 3)


@dataclass(slots=True)
class Figures:
    precision: float
    recall: float
    f1: float


@dataclass(slots=True)
class Evaluation:
    """Precision, recall and F1 of each method over all test folds together."""

    folds: int
    tested: int
    methods: dict[str, Figures] = field(default_factory=dict)  # taxonomy, model, combined
    per_fold: list[dict[str, Figures]] = field(default_factory=list)
    fold_days: list[tuple[str, str]] = field(default_factory=list)  # first and last test day of each fold


@dataclass(slots=True)
class ModelInfo:
    trained_at: str  # ISO 8601
    items: int
    positives: int
    negatives: int
    negatives_from: str  # "archive", or where the stand-in negatives came from
    evaluation: Evaluation | None
    better: bool  # the combination beat the taxonomy alone on F1 over the folds
    train_seconds: float = 0.0


def words_of(document: str) -> list[str]:
    """jieba's words of an already normalised text, without spaces and punctuation."""
    return [w for w in tokenizer().lcut(document, HMM=False) if w.strip() and (len(w) > 1 or w.isalnum())]


def char_ngrams(document: str) -> list[str]:
    """The character n-grams of a document, as scikit-learn's ``analyzer="char"`` makes them."""
    text = _WHITE_SPACES.sub(" ", document.lower())
    return [text[i:i + n] for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1) for i in range(len(text) - n + 1)]


def document(title: str | None, text: str | None) -> str:
    """What the scorer reads: the title, then the opening of the text."""
    return normalize(f"{title or ''}\n{(text or '')[:LEAD_CHARS]}")


@dataclass(slots=True)
class LinearTfidf:
    """One TF-IDF vocabulary and its part of a linear model: per feature, its inverse
    document frequency and its weight. Term frequencies are sublinear (``1 + ln n``) and a
    document's vector has unit length, as the vectorizer was fitted."""

    features: dict[str, tuple[float, float]]  # feature -> (idf, weight)

    def decision(self, tokens: list[str]) -> float:
        counts = Counter(token for token in tokens if token in self.features)
        if not counts:
            return 0.0
        norm = 0.0
        total = 0.0
        for token, n in counts.items():
            idf, weight = self.features[token]
            value = (1.0 + math.log(n)) * idf
            norm += value * value
            total += value * weight
        return total / math.sqrt(norm)


@dataclass(slots=True)
class RelevanceModel:
    """The text model, the combination and what is known of their training."""

    words: LinearTfidf
    chars: LinearTfidf
    intercept: float
    combiner: Combiner
    info: ModelInfo | None

    def probability(self, title: str | None, text: str | None) -> float:
        return self.probability_of(document(title, text))

    def probability_of(self, doc: str, words: list[str] | None = None) -> float:
        z = self.intercept + self.words.decision(words if words is not None else words_of(doc)) \
            + self.chars.decision(char_ngrams(doc))
        return 1.0 / (1.0 + math.exp(-min(max(z, -60.0), 60.0)))

    def scores(self, title: str | None, text: str | None, taxonomy_score: float) -> Scores:
        return Scores(taxonomy_score, self.probability(title, text))


def prf(wanted: list[bool], got: list[bool]) -> tuple[float, float, float]:
    """Precision, recall and F1 (0 where undefined)."""
    true_positive = sum(w and g for w, g in zip(wanted, got))
    predicted, actual = sum(got), sum(wanted)
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- keeping a model ----------------------------------------------------------------------

def _as_data(model: RelevanceModel) -> dict:
    return {"format": FORMAT, "info": dataclasses.asdict(model.info) if model.info else None,
            "intercept": model.intercept, "combiner": dataclasses.asdict(model.combiner),
            "words": model.words.features, "chars": model.chars.features}


def _from_data(data: dict) -> RelevanceModel:
    info = data["info"]
    if info is not None:
        evaluation = info.pop("evaluation")
        if evaluation is not None:
            evaluation = Evaluation(
                folds=evaluation["folds"], tested=evaluation["tested"],
                methods={k: Figures(**v) for k, v in evaluation["methods"].items()},
                per_fold=[{k: Figures(**v) for k, v in fold.items()} for fold in evaluation["per_fold"]],
                fold_days=[tuple(days) for days in evaluation["fold_days"]])
        info = ModelInfo(**info, evaluation=evaluation)
    return RelevanceModel(LinearTfidf({k: tuple(v) for k, v in data["words"].items()}),
                          LinearTfidf({k: tuple(v) for k, v in data["chars"].items()}),
                          float(data["intercept"]), Combiner(**data["combiner"]), info)


def save_model(model: RelevanceModel, path: str) -> None:
    """Write the model whole (gzipped JSON to a temporary file, then a rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".aibrief-model-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(json.dumps(_as_data(model), ensure_ascii=False).encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_model(path: str) -> RelevanceModel:
    """The model in ``path``; ModelError (one line) when it is no model of this aibrief."""
    try:
        with gzip.open(path, "rb") as source:
            data = json.loads(source.read().decode("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no trained model (aibrief relevance train makes one)") from None
    except (OSError, EOFError, ValueError) as exc:
        raise ModelError(f"{path}: not a relevance model: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a relevance model of this aibrief (train it again)")
    try:
        return _from_data(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: a damaged relevance model: {type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> RelevanceModel | None:
    try:
        return load_model(path)
    except ModelError as exc:
        logger.warning("relevance model not used: %s", exc)
        return None


def model_at(path: str) -> RelevanceModel | None:
    """The model in ``path``, read once per process and again only when the file changes;
    None when there is none or it cannot be used (said once in the log)."""
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _cached(path, stat.st_mtime_ns, stat.st_size)
