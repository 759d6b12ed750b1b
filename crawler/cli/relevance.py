"""``aibrief relevance``: train and evaluate the relevance scorer that learns from the editor.

    aibrief relevance train      learn from the archive's published issues and the editor's decisions
    aibrief relevance eval       precision, recall and F1 of taxonomy, model and both, on folds by date
    aibrief relevance measure    the taxonomy and a scorer on a labelled set and another digest's issues
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from types import ModuleType

import click

from crawler.cli.common import EXIT_USAGE, App, Failure, handled
from pipelines.analysis.relevance import Evaluation, ModelError

DEFAULT_FOLDS = 5


def _folds_option(func):
    return click.option("--folds", default=DEFAULT_FOLDS, show_default=True, type=click.IntRange(min=1),
                        help="Test blocks of weeks; each trains on the weeks before it.")(func)


def _labelled_option(func):
    return click.option("--labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="A labelled set (label, family, title, lead; tab-separated) whose negatives "
                             "stand in when the archive has none (imported issues alone).")(func)


@click.group()
def relevance():
    """Train and evaluate the relevance scorer that learns from the editor.

    \b
    Example:
        aibrief relevance eval
    """


def _learning() -> tuple[ModuleType, ModuleType]:
    """The training code and the evaluation readers, imported where they run: they import
    scikit-learn (2-3 s here), which no other command needs, and every ``aibrief`` command
    imports this module."""
    from crawler import relevance_bench
    from pipelines.editorial import training

    return training, relevance_bench


def _training_set(app: App, labelled: Path | None):
    training, bench = _learning()
    db = app.db()
    try:
        found = training.archive_examples(db, app.config.editorial)
    finally:
        db.close()
    if not found.negatives and labelled is not None:
        try:
            items = bench.read_labelled(labelled)
        except bench.BenchError as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        found = training.stand_in_negatives(found, [(i.title, i.lead) for i in items if not i.relevant],
                                   f"the labelled set {labelled} (the archive has no negatives)",
                                   app.config.editorial)
    return found


def _echo_set(found) -> None:
    click.echo(f"{len(found.examples)} items from {found.issues} published issues: {found.positives} picked, "
               f"{found.negatives} not; negatives from {found.negatives_from}")


def _echo_evaluation(evaluation: Evaluation) -> None:
    for n, (fold, (first, last)) in enumerate(zip(evaluation.per_fold, evaluation.fold_days), start=1):
        click.echo(f"  fold {n} (tested on {first} to {last}): "
                   + ", ".join(f"{name} F1 {f.f1:.3f}" for name, f in fold.items()))
    click.echo(f"over {evaluation.folds} folds ({evaluation.tested} items tested, trained on earlier weeks only):")
    for name, figures in evaluation.methods.items():
        click.echo(f"  {name:<9} precision {figures.precision:.3f}  recall {figures.recall:.3f}  F1 {figures.f1:.3f}")


@relevance.command("train")
@_folds_option
@_labelled_option
@click.pass_obj
@handled
def train_command(app: App, folds, labelled):
    """Train the scorer on the archive and write it where ``editorial.model`` says.

    Positives are the items of published and imported issues and what the editor added,
    moved or edited; negatives what the editor dropped and the articles of an issue's weeks
    that no issue carried. The model is used by classification only when the combination
    beat the taxonomy alone on the folds.

    \b
    Example:
        aibrief relevance train --folds 5
    """
    path = app.config.editorial.model
    if not path:
        raise Failure("editorial.model is \"off\" in the configuration: there is nowhere to write the model",
                      EXIT_USAGE)
    found = _training_set(app, labelled)
    _echo_set(found)
    db = app.db()
    try:
        model = _learning()[0].train(db, found, app.config.editorial, folds, path)
    except ModelError as exc:
        raise Failure(str(exc)) from None
    finally:
        db.close()
    _echo_evaluation(model.info.evaluation)
    verdict = ("used: the combination beat the taxonomy alone" if model.info.better
               else "kept but not used: the combination did not beat the taxonomy alone")
    click.echo(f"trained {model.info.trained_at} on {model.info.items} items in {model.info.train_seconds:.1f} s; "
               f"{verdict}; written to {path}")
    click.echo("aibrief reclassify --all scores the archive again with it")


@relevance.command("eval")
@_folds_option
@_labelled_option
@click.pass_obj
@handled
def eval_command(app: App, folds, labelled):
    """Print precision, recall and F1 of the taxonomy, the model and their combination, on
    folds of the archive split by issue date (each trains on the weeks before it).

    \b
    Example:
        aibrief relevance eval --folds 5
    """
    found = _training_set(app, labelled)
    _echo_set(found)
    try:
        evaluation = _learning()[0].evaluate_archive(found, app.config.editorial, folds)
    except ModelError as exc:
        raise Failure(str(exc)) from None
    _echo_evaluation(evaluation)


@relevance.command("measure")
@click.option("--labelled", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A labelled set (label, family, title, lead; tab-separated).")
@click.option("--digests", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Another digest's issues (YYYY-MM-DD.md, the 嵌入式AI简报 layout), read for measuring only.")
@click.option("--split", default="2021-01-01", show_default=True,
              help="Issues before this day train and tune; the later ones are measured.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Saved articles with ground truth (e.g. ../shared/corpus): CPU per classification.")
@click.pass_obj
@handled
def measure_command(app: App, labelled, digests, split, corpus):
    """Measure relevance outside the archive: the taxonomy on a labelled set, and the
    taxonomy, a scorer and both on another digest's later picks against the labelled
    set's negatives (the scorer trained on its earlier issues and the other half of them).

    \b
    Example:
        aibrief relevance measure --labelled tests/fixtures/relevance/labelled.tsv --digests ../shared/digests/embedded-ai-biweekly
    """
    try:
        split_day = date.fromisoformat(split)
    except ValueError:
        raise Failure(f"--split: {split!r} is not a date such as 2021-01-01", EXIT_USAGE) from None
    settings = app.config.editorial
    bench = _learning()[1]
    try:
        items = bench.read_labelled(labelled)
        precision, recall, misses = bench.labelled_figures(items, settings)
        click.echo(f"labelled set ({len(items)} items, {sum(i.relevant for i in items)} relevant), taxonomy alone: "
                   f"precision {precision:.3f}  recall {recall:.3f}")
        if misses:
            click.echo("  wrong by family: " + ", ".join(f"{k} {v}" for k, v in sorted(misses.items())))
        if digests is None:
            return
        info, figures = bench.measure(bench.read_digest(digests), items, settings, split_day)
    except (bench.BenchError, ModelError) as exc:
        raise Failure(str(exc)) from None
    click.echo(f"{digests}: {info['earlier']} picks before {split_day} (tuning and training, with "
               f"{info['train_negatives']} labelled negatives), {info['later']} from then on (measured, with the "
               f"other {info['test_negatives']}); training took {info['train_cpu_s']:.1f} s of CPU")
    for line in figures:
        click.echo("  " + line.line())
    if corpus is not None:
        try:
            articles = bench.read_corpus(corpus)
        except bench.BenchError as exc:
            raise Failure(str(exc)) from None
        alone = bench.classification_cpu(articles, settings, None)
        both = bench.classification_cpu(articles, settings, info["model"])
        click.echo(f"classification of {len(articles)} articles of {corpus}: {alone:.2f} ms of CPU each with the "
                   f"taxonomy alone, {both:.2f} ms with the model (loaded once)")


COMMANDS = (relevance,)
