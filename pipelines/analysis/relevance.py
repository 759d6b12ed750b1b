"""The trained relevance scorer: what this editor picks, learnt from the archive.

The keyword taxonomy (:mod:`pipelines.analysis.classify`) is the cold-start default and the
explanation; it knows topics, not an editor's taste. This scorer learns the taste from
examples (items of published and imported issues, and the editor's drops and additions,
against articles of the same weeks that were left out), reading what an editor reads: the
title and the lead (the first paragraphs, or an issue item's summary).

- **Features**: TF-IDF over jieba words and over character 2-3-grams of the text in one form
  (:func:`pipelines.analysis.text.normalize`). Words carry the meaning; character n-grams
  catch the names and compounds jieba's dictionary does not know (RKNN, 昇腾, 具身智能)
  and the English words in Chinese text.
- **Model**: logistic regression (scikit-learn), classes weighted to balance: it trains in
  seconds on thousands of items, and a linear model over words stays readable.
- **Combination**: a second logistic regression over two numbers, ``ln(1 + taxonomy
  score)`` and the logit of the model's probability, fitted on predictions the text model
  made for items it was not trained on (:data:`COMBINER_FOLDS` contiguous blocks in date
  order). Its decision value ``z`` gives the article's score ``threshold * e^z``: relevant
  from the threshold up, as with the taxonomy alone, so everything that compares stored
  scores with the threshold (issue building, ``reclassify``) keeps working, and issue
  ranking (which takes the score's logarithm) ranks by the combined odds.
- **Evaluation** (:func:`evaluate`): forward-chaining folds split by issue date: fold ``i``
  trains on the weeks before its test block and tests on that block, never a week on both
  sides. Training keeps the figures with the model, and the model is used only when the
  combination's F1 beat the taxonomy's on them (:attr:`ModelInfo.better`).

The model is kept in a file (pickle: it is written by ``aibrief relevance train`` beside
the archive and read back only from the path the configuration names) and loaded once per
process (:func:`scorer_for`).
"""
from __future__ import annotations

import functools
import logging
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipelines.analysis.text import normalize, tokenizer

logger = logging.getLogger(__name__)

FORMAT = 1  # of the model file; a file of another format is not used
# Characters of the text read after the title: about an issue item's summary (issue.summary_chars
# is 300 by default), so that the articles scored and the items learnt from read alike.
LEAD_CHARS = 400
# Blocks the training items are cut into (in date order) to fit the combination on
# predictions for items the text model did not see.
COMBINER_FOLDS = 3
# Regularisation of the text model. Swept over 0.3, 1, 3, 10 with `aibrief relevance measure`
# (earlier issues of ../shared/digests against the labelled set's negatives): 3 and 10 were
# within a point of each other on F1; 3 keeps the weights smaller.
MODEL_C = 3.0
MIN_DF = 2  # a word or n-gram seen once in training says nothing about the next week
_Z_LIMIT = 12.0  # e^12 times the threshold: far past any cap issue ranking applies


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


@dataclass(slots=True)
class Combiner:
    """``z = a ln(1 + taxonomy) + b logit(model) + c``: relevant when ``z >= 0``."""

    a: float
    b: float
    c: float
    threshold: float

    def z(self, scores: Scores) -> float:
        p = min(max(scores.model, 1e-6), 1 - 1e-6)
        value = self.a * math.log1p(max(scores.taxonomy, 0.0)) + self.b * math.log(p / (1 - p)) + self.c
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
    trained_at: str  # UTC ISO 8601
    items: int
    positives: int
    negatives: int
    negatives_from: str  # "archive", or where the stand-in negatives came from
    evaluation: Evaluation | None
    better: bool  # the combination beat the taxonomy alone on F1 over the folds
    sklearn_version: str = sklearn.__version__
    train_seconds: float = 0.0


def _words(document: str) -> list[str]:
    """jieba's words of an already normalised text, without spaces and punctuation."""
    return [w for w in tokenizer().lcut(document, HMM=False) if w.strip() and (len(w) > 1 or w.isalnum())]


def document(title: str | None, text: str | None) -> str:
    """What the scorer reads: the title, then the opening of the text."""
    return normalize(f"{title or ''}\n{(text or '')[:LEAD_CHARS]}")


class RelevanceModel:
    """The text model, the combination and what is known of their training."""

    def __init__(self, words: TfidfVectorizer, chars: TfidfVectorizer, classifier: LogisticRegression,
                 combiner: Combiner, info: ModelInfo) -> None:
        self.format = FORMAT
        self.words = words
        self.chars = chars
        self.classifier = classifier
        self.combiner = combiner
        self.info = info

    def probability(self, title: str | None, text: str | None) -> float:
        return float(self.probabilities([document(title, text)])[0])

    def probabilities(self, documents: list[str]) -> np.ndarray:
        features = scipy.sparse.hstack([self.words.transform(documents), self.chars.transform(documents)]).tocsr()
        return self.classifier.predict_proba(features)[:, 1]

    def scores(self, title: str | None, text: str | None, taxonomy_score: float) -> Scores:
        return Scores(taxonomy_score, self.probability(title, text))


def _fit_text(documents: list[str], labels: list[bool]) -> tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression]:
    if len(set(labels)) < 2:
        raise ModelError("training needs relevant and irrelevant items; only one kind was given")
    words = TfidfVectorizer(analyzer=_words, min_df=MIN_DF, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=MIN_DF, sublinear_tf=True)
    try:
        features = scipy.sparse.hstack([words.fit_transform(documents), chars.fit_transform(documents)]).tocsr()
    except ValueError as exc:  # an empty vocabulary: too few items
        raise ModelError(f"cannot train on these items: {exc}") from None
    classifier = LogisticRegression(C=MODEL_C, class_weight="balanced", max_iter=2000, solver="liblinear")
    classifier.fit(features, labels)
    return words, chars, classifier


def _fit_combiner(taxonomy: list[float], probabilities: list[float], labels: list[bool], threshold: float) -> Combiner:
    if len(set(labels)) < 2:
        # One kind in the held-back part: nothing to weigh the two scores by; the taxonomy
        # decides at its threshold and the model moves the score by its log odds.
        return Combiner(1.0, 1.0, -math.log1p(threshold), threshold)
    rows = np.array([[math.log1p(max(t, 0.0)), math.log(min(max(p, 1e-6), 1 - 1e-6) / (1 - min(max(p, 1e-6), 1 - 1e-6)))]
                     for t, p in zip(taxonomy, probabilities)])
    second = LogisticRegression(class_weight="balanced", max_iter=1000)
    second.fit(rows, labels)
    (a, b), c = second.coef_[0], second.intercept_[0]
    return Combiner(float(a), float(b), float(c), threshold)


def fit_model(examples: list[Example], threshold: float, *, negatives_from: str = "archive",
              evaluation: Evaluation | None = None, now: datetime | None = None) -> RelevanceModel:
    """Train on ``examples``: the text model on all of them, the combination on the text
    model's predictions for blocks it was trained without."""
    if len(examples) < 2 * COMBINER_FOLDS:
        raise ModelError(f"too few items to train on ({len(examples)})")
    ordered = sorted(examples, key=lambda e: e.day)
    documents = [document(e.title, e.text) for e in ordered]
    labels = [e.relevant for e in ordered]
    held_back = np.zeros(len(ordered))
    bounds = np.linspace(0, len(ordered), COMBINER_FOLDS + 1).astype(int)
    for start, end in zip(bounds[:-1], bounds[1:]):
        train_labels = labels[:start] + labels[end:]
        if len(set(train_labels)) < 2:
            held_back[start:end] = 0.5
            continue
        words, chars, classifier = _fit_text(documents[:start] + documents[end:], train_labels)
        part = RelevanceModel(words, chars, classifier, Combiner(0, 0, 0, threshold), None)  # type: ignore[arg-type]
        held_back[start:end] = part.probabilities(documents[start:end])
    combiner = _fit_combiner([e.taxonomy for e in ordered], list(held_back), labels, threshold)
    words, chars, classifier = _fit_text(documents, labels)
    taxonomy_f1 = evaluation.methods["taxonomy"].f1 if evaluation else 0.0
    combined_f1 = evaluation.methods["combined"].f1 if evaluation else 0.0
    info = ModelInfo(trained_at=(now or datetime.now().astimezone()).isoformat(timespec="seconds"),
                     items=len(ordered), positives=sum(labels), negatives=len(labels) - sum(labels),
                     negatives_from=negatives_from, evaluation=evaluation,
                     better=evaluation is not None and combined_f1 > taxonomy_f1)
    return RelevanceModel(words, chars, classifier, combiner, info)


def prf(wanted: list[bool], got: list[bool]) -> tuple[float, float, float]:
    """Precision, recall and F1 (0 where undefined)."""
    true_positive = sum(w and g for w, g in zip(wanted, got))
    predicted, actual = sum(got), sum(wanted)
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def date_folds(examples: list[Example], folds: int) -> list[tuple[list[Example], list[Example]]]:
    """Forward-chaining splits by day: the distinct days cut into ``folds + 1`` blocks;
    split ``i`` trains on blocks ``0..i`` and tests on block ``i + 1``. Undated examples
    (stand-in negatives) are dealt out over the blocks in their given order, each to one
    block only."""
    days = sorted({e.day for e in examples if e.day})
    if len(days) < folds + 1:
        raise ModelError(f"{folds} folds need at least {folds + 1} issue dates; the items cover {len(days)}")
    edges = np.linspace(0, len(days), folds + 2).astype(int)
    block_of_day = {day: n for n in range(folds + 1) for day in days[edges[n]:edges[n + 1]]}
    blocks: list[list[Example]] = [[] for _ in range(folds + 1)]
    undated = 0
    for example in examples:
        if example.day:
            blocks[block_of_day[example.day]].append(example)
        else:
            blocks[undated % (folds + 1)].append(example)
            undated += 1
    return [([e for block in blocks[:i + 1] for e in block], blocks[i + 1]) for i in range(folds)]


def evaluate(examples: list[Example], threshold: float, folds: int) -> Evaluation:
    """Precision, recall and F1 of the taxonomy, the model and their combination over
    forward-chaining folds by date (:func:`date_folds`)."""
    result = Evaluation(folds=folds, tested=0)
    totals: dict[str, tuple[list[bool], list[bool]]] = {name: ([], []) for name in ("taxonomy", "model", "combined")}
    for train, test in date_folds(examples, folds):
        if not test:
            continue
        model = fit_model(train, threshold)
        probabilities = model.probabilities([document(e.title, e.text) for e in test])
        wanted = [e.relevant for e in test]
        decided = {
            "taxonomy": [e.taxonomy >= threshold for e in test],
            "model": [bool(p >= 0.5) for p in probabilities],
            "combined": [model.combiner.relevant(Scores(e.taxonomy, float(p))) for e, p in zip(test, probabilities)],
        }
        fold: dict[str, Figures] = {}
        for name, got in decided.items():
            fold[name] = Figures(*prf(wanted, got))
            totals[name][0].extend(wanted)
            totals[name][1].extend(got)
        result.per_fold.append(fold)
        dated = sorted(e.day for e in test if e.day)
        result.fold_days.append((dated[0], dated[-1]) if dated else ("", ""))
        result.tested += len(test)
    result.methods = {name: Figures(*prf(wanted, got)) for name, (wanted, got) in totals.items()}
    return result


def save_model(model: RelevanceModel, path: str) -> None:
    """Write the model whole (a temporary file, then a rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".aibrief-model-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_model(path: str) -> RelevanceModel:
    """The model in ``path``; ModelError (one line) when it is no model of this aibrief."""
    try:
        with open(path, "rb") as source:
            model = pickle.load(source)
    except FileNotFoundError:
        raise ModelError(f"{path}: no trained model (aibrief relevance train makes one)") from None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise ModelError(f"{path}: not a relevance model: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, RelevanceModel) or getattr(model, "format", None) != FORMAT:
        raise ModelError(f"{path}: not a relevance model of this aibrief (train it again)")
    if model.info.sklearn_version != sklearn.__version__:
        raise ModelError(f"{path}: trained with scikit-learn {model.info.sklearn_version}, this is "
                         f"{sklearn.__version__} (train it again)")
    return model


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
