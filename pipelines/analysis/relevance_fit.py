"""Fitting and evaluating the relevance scorer (:mod:`pipelines.analysis.relevance`) with
scikit-learn: only training and evaluation import it.

- The text model: TF-IDF over jieba words and character 2-3-grams, logistic regression with
  classes weighted to balance; turned into :class:`~pipelines.analysis.relevance.LinearTfidf`
  weights once fitted.
- The combination: fitted on the text model's predictions for items it was not trained on:
  the latest :data:`COMBINER_SHARE` of the training items (by date), predicted by a text
  model of the earlier ones, as the model will predict weeks after its training.
- Evaluation (:func:`evaluate`): forward-chaining folds split by issue date
  (:func:`date_folds`): fold ``i`` trains on the weeks before its test block and tests on
  that block, never a week on both sides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.sparse import hstack  # scipy comes with scikit-learn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipelines.analysis.relevance import (
    CHAR_NGRAMS,
    Combiner,
    Evaluation,
    Example,
    Figures,
    LinearTfidf,
    ModelError,
    ModelInfo,
    RelevanceModel,
    Scores,
    document,
    logit,
    prf,
    words_of,
)

# The latest share of the training items the combination is fitted on. Three blocks, each
# predicted from the other two, gave the same figures on the folds of the synthetic archive
# (tests/relevance_archive.py) for three text fits instead of one: `aibrief relevance train`
# on its 5,040-item version took 27.7 s against 18.1 s of wall time here.
COMBINER_SHARE = 1 / 3
MIN_COMBINER_ITEMS = 6  # the fewest items the model is trained on
# Regularisation of the text model. Swept over 0.3, 1, 3 and 10 on four folds by date of the
# other digest's picks before 2021 (../shared/digests) with half of the labelled set's
# negatives: the combination's F1 was 0.975, 0.980, 0.983 and 0.987. From 3 on the gain is
# under half a point, and smaller weights trust a single week's words less.
MODEL_C = 3.0
MIN_DF = 2  # a word or n-gram seen in one item only says nothing about the next week


def _given(tokens: list[str]) -> list[str]:
    """The word vectorizer's analyzer: documents reach it segmented already (segmenting is
    most of training's time, and evaluation trains on the same documents many times)."""
    return tokens


@dataclass(slots=True)
class _Prepared:
    """Examples read once: their documents and words, labels and taxonomy scores."""

    documents: list[str]
    words: list[list[str]]
    labels: list[bool]
    taxonomy: list[float]

    @classmethod
    def of(cls, examples: list[Example]) -> _Prepared:
        documents = [document(e.title, e.text) for e in examples]
        return cls(documents, [words_of(d) for d in documents], [e.relevant for e in examples],
                   [e.taxonomy for e in examples])

    def take(self, indices) -> _Prepared:
        indices = list(indices)
        return _Prepared([self.documents[i] for i in indices], [self.words[i] for i in indices],
                         [self.labels[i] for i in indices], [self.taxonomy[i] for i in indices])


def _linear(vectorizer: TfidfVectorizer, weights: np.ndarray) -> LinearTfidf:
    return LinearTfidf({feature: (float(vectorizer.idf_[n]), float(weights[n]))
                        for feature, n in vectorizer.vocabulary_.items()})


def _fit_text(data: _Prepared) -> tuple[LinearTfidf, LinearTfidf, float]:
    if len(set(data.labels)) < 2:
        raise ModelError("training needs relevant and irrelevant items; only one kind was given")
    words = TfidfVectorizer(analyzer=_given, min_df=MIN_DF, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char", ngram_range=CHAR_NGRAMS, min_df=MIN_DF, sublinear_tf=True)
    try:
        word_features = words.fit_transform(data.words)
        char_features = chars.fit_transform(data.documents)
    except ValueError as exc:  # an empty vocabulary: too few items
        raise ModelError(f"cannot train on these items: {exc}") from None
    classifier = LogisticRegression(C=MODEL_C, class_weight="balanced", max_iter=2000, solver="liblinear")
    classifier.fit(hstack([word_features, char_features]).tocsr(), data.labels)
    coef = classifier.coef_[0]
    n_words = len(words.vocabulary_)
    return _linear(words, coef[:n_words]), _linear(chars, coef[n_words:]), float(classifier.intercept_[0])


def _fit_combiner(taxonomy: list[float], probabilities: list[float], labels: list[bool], threshold: float) -> Combiner:
    if len(set(labels)) < 2:
        # One kind only: nothing to weigh the two scores by; the taxonomy decides at its
        # threshold and the model moves the score by its log odds.
        return Combiner(1.0, 1.0, -math.log1p(threshold), threshold)
    rows = np.array([[math.log1p(max(t, 0.0)), logit(p)] for t, p in zip(taxonomy, probabilities)])
    second = LogisticRegression(class_weight="balanced", max_iter=1000)
    second.fit(rows, labels)
    (a, b), c = second.coef_[0], second.intercept_[0]
    return Combiner(float(a), float(b), float(c), threshold)


def _probabilities(model: RelevanceModel, data: _Prepared) -> list[float]:
    return [model.probability_of(doc, words) for doc, words in zip(data.documents, data.words)]


def _fit(data: _Prepared, threshold: float) -> RelevanceModel:
    """The text model on all of ``data`` (in date order), the combination on the latest
    items as predicted by a text model of the earlier ones."""
    n = len(data.labels)
    if n < MIN_COMBINER_ITEMS:
        raise ModelError(f"too few items to train on ({n})")
    cut = n - max(MIN_COMBINER_ITEMS // 2, int(n * COMBINER_SHARE))
    earlier, later = data.take(range(cut)), data.take(range(cut, n))
    if len(set(earlier.labels)) < 2:
        combiner = _fit_combiner([], [], [], threshold)
    else:
        model = RelevanceModel(*_fit_text(earlier), Combiner(0, 0, 0, threshold), None)
        combiner = _fit_combiner(later.taxonomy, _probabilities(model, later), later.labels, threshold)
    return RelevanceModel(*_fit_text(data), combiner, None)


def in_time_order(examples: list[Example]) -> list[Example]:
    """Dated examples by day, undated ones (stand-in negatives) spread evenly among them, so
    that the latest items, which the combination is fitted on, hold some of both."""
    dated = sorted((e for e in examples if e.day), key=lambda e: e.day)
    undated = [e for e in examples if not e.day]
    if not dated or not undated:
        return dated + undated
    keyed = [(n + 0.0, e) for n, e in enumerate(dated)]
    keyed += [((k + 0.5) * len(dated) / len(undated) - 0.25, e) for k, e in enumerate(undated)]
    return [e for _, e in sorted(keyed, key=lambda pair: pair[0])]


def fit_model(examples: list[Example], threshold: float, *, negatives_from: str = "archive",
              evaluation: Evaluation | None = None, now: datetime | None = None) -> RelevanceModel:
    """Train on ``examples``; ``evaluation``: the folds' figures, which decide whether
    classification uses the model (the combination must beat the taxonomy's F1)."""
    ordered = in_time_order(examples)
    data = _Prepared.of(ordered)
    model = _fit(data, threshold)
    taxonomy_f1 = evaluation.methods["taxonomy"].f1 if evaluation else 0.0
    combined_f1 = evaluation.methods["combined"].f1 if evaluation else 0.0
    model.info = ModelInfo(trained_at=(now or datetime.now().astimezone()).isoformat(timespec="seconds"),
                           items=len(ordered), positives=sum(data.labels),
                           negatives=len(data.labels) - sum(data.labels), negatives_from=negatives_from,
                           evaluation=evaluation, better=evaluation is not None and combined_f1 > taxonomy_f1)
    return model


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
    position = {id(e): n for n, e in enumerate(examples)}
    data = _Prepared.of(examples)
    for train, test in date_folds(examples, folds):
        if not test:
            continue
        train = in_time_order(train)
        model = _fit(data.take(position[id(e)] for e in train), threshold)
        tested = data.take(position[id(e)] for e in test)
        probabilities = _probabilities(model, tested)
        decided = {
            "taxonomy": [t >= threshold for t in tested.taxonomy],
            "model": [p >= 0.5 for p in probabilities],
            "combined": [model.combiner.relevant(Scores(t, p)) for t, p in zip(tested.taxonomy, probabilities)],
        }
        fold: dict[str, Figures] = {}
        for name, got in decided.items():
            fold[name] = Figures(*prf(tested.labels, got))
            totals[name][0].extend(tested.labels)
            totals[name][1].extend(got)
        result.per_fold.append(fold)
        dated = sorted(e.day for e in test if e.day)
        result.fold_days.append((dated[0], dated[-1]) if dated else ("", ""))
        result.tested += len(test)
    result.methods = {name: Figures(*prf(wanted, got)) for name, (wanted, got) in totals.items()}
    return result
