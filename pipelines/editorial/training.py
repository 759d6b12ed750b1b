"""What the archive says this editor picks: training and evaluating the relevance scorer.

Examples (:func:`archive_examples`), one per article URL, dated by the issue they belong to:

- **positives**: the items of published issues, built or imported (title with the article's
  opening, or the item's own summary when the article is not in the archive); and items the
  editor added, moved or edited in a draft (:mod:`pipelines.editorial.labels`);
- **negatives**: items the editor dropped from a draft, and the articles of an issue's
  period (from the previous published issue to its day) that no issue carried while others
  were picked. An archive of imported issues alone has articles in no period, so no
  negatives: then a labelled set's negatives stand in (:func:`stand_in_negatives`) and the
  result says so.

The latest decision about a URL wins, and a published issue's item is the final word.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, timedelta

import sqlite_utils

from pipelines.analysis.classify import taxonomy_for
from pipelines.analysis.relevance import Evaluation, Example, ModelError, RelevanceModel, save_model
from pipelines.analysis.relevance_fit import evaluate, fit_model
from pipelines.analysis.settings import EditorialSettings
from pipelines.archive.db import immediate, utcnow

# An issue with no published issue before it covers the week before its day.
FIRST_PERIOD = timedelta(days=7)


@dataclass(slots=True)
class TrainingSet:
    examples: list[Example]
    positives: int
    negatives: int
    negatives_from: str  # "archive", or what stood in for it
    issues: int


def archive_examples(db: sqlite_utils.Database, settings: EditorialSettings) -> TrainingSet:
    """The examples the archive holds (see the module's docstring), scored by the taxonomy."""
    taxonomy = taxonomy_for(settings)
    by_url: dict[str, Example] = {}
    picked_clusters: set[int] = set()
    issues = list(db.query("SELECT id, date FROM issues WHERE status = 'published' ORDER BY date"))
    for row in db.query("SELECT * FROM editor_labels ORDER BY decided_at, id"):
        text = _article_text(db, row["article_id"]) or row["text"]
        by_url[row["canonical_url"]] = Example(row["title"], text, bool(row["label"]), row["issue_date"])
    for issue in issues:
        for item in db.query("SELECT ii.canonical_url, ii.title, ii.summary, ii.article_id,"
                             " coalesce(a.cluster_id, a.id) AS cluster FROM issue_items ii"
                             " LEFT JOIN articles a ON a.id = ii.article_id WHERE ii.issue_id = ?", [issue["id"]]):
            text = _article_text(db, item["article_id"]) or item["summary"]
            by_url[item["canonical_url"]] = Example(item["title"], text, True, issue["date"])
            if item["cluster"] is not None:
                picked_clusters.add(item["cluster"])
    in_issues = {row[0] for row in db.execute("SELECT canonical_url FROM issue_items")}
    previous: date | None = None
    for issue in issues:
        day = date.fromisoformat(issue["date"])
        start = previous + timedelta(days=1) if previous else day - FIRST_PERIOD
        previous = day
        picked_here = db.execute("SELECT count(*) FROM issue_items WHERE issue_id = ? AND article_id IS NOT NULL",
                                 [issue["id"]]).fetchone()[0]
        if not picked_here:
            continue  # an imported issue whose articles the archive never had: no candidates
        for article in db.query(
                "SELECT canonical_url, title, text, coalesce(cluster_id, id) AS cluster FROM articles"
                " WHERE published >= ? AND published < ?",
                [start.isoformat(), (day + timedelta(days=1)).isoformat()]):
            key = article["canonical_url"]
            if key in by_url or key in in_issues or article["cluster"] in picked_clusters:
                continue
            by_url[key] = Example(article["title"] or "", article["text"] or "", False, issue["date"])
    examples = list(by_url.values())
    for example in examples:
        example.taxonomy = taxonomy.classify(example.title, example.text).taxonomy_score
    positives = sum(e.relevant for e in examples)
    return TrainingSet(examples, positives, len(examples) - positives, "archive", len(issues))


def _article_text(db: sqlite_utils.Database, article_id: int | None) -> str | None:
    if article_id is None:
        return None
    row = db.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
    return row[0] if row and row[0] else None


def stand_in_negatives(found: TrainingSet, negatives: list[tuple[str, str]], source: str,
                       settings: EditorialSettings) -> TrainingSet:
    """``found`` with ``negatives`` (title, lead) standing in for the archive's, when it has
    none; undated, they are dealt out over the folds."""
    if found.negatives:
        return found
    taxonomy = taxonomy_for(settings)
    extra = [Example(title, lead, False, "", taxonomy.classify(title, lead).taxonomy_score) for title, lead in negatives]
    return TrainingSet(found.examples + extra, found.positives, len(extra), source, found.issues)


def evaluate_archive(found: TrainingSet, settings: EditorialSettings, folds: int) -> Evaluation:
    """:func:`pipelines.analysis.relevance.evaluate` over the archive's examples."""
    _check(found)
    return evaluate(found.examples, settings.threshold, folds)


def train(db: sqlite_utils.Database, found: TrainingSet, settings: EditorialSettings, folds: int,
          path: str) -> RelevanceModel:
    """Evaluate on folds, train on everything, write the model to ``path`` and record it."""
    _check(found)
    started = time.perf_counter()
    evaluation = evaluate(found.examples, settings.threshold, folds)
    model = fit_model(found.examples, settings.threshold, negatives_from=found.negatives_from,
                      evaluation=evaluation, now=utcnow())
    model.info.train_seconds = round(time.perf_counter() - started, 3)
    save_model(model, path)
    figures = {name: {"precision": f.precision, "recall": f.recall, "f1": f.f1}
               for name, f in evaluation.methods.items()}
    with immediate(db):
        db.execute("INSERT INTO relevance_models (trained_at, path, items, positives, negatives, negatives_from,"
                   " folds, figures, used, train_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [model.info.trained_at, path, model.info.items, model.info.positives, model.info.negatives,
                    model.info.negatives_from, folds, json.dumps(figures), int(model.info.better),
                    model.info.train_seconds])
    return model


def _check(found: TrainingSet) -> None:
    if not found.positives:
        raise ModelError("the archive has no published issue items to learn from "
                         "(publish or import issues first)")
    if not found.negatives:
        raise ModelError("the archive has no negatives (an archive of imported issues alone has none): "
                         "give a labelled set with --labelled")
