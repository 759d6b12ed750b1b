"""Relevance measured on material outside the archive: evaluation only, behind
``aibrief relevance measure``.

Two readers live here, and nothing else reads these files:

- :func:`read_labelled`: a labelled set, one item a line, ``label<TAB>family<TAB>title<TAB>lead``
  (``tests/fixtures/relevance/labelled.tsv`` is the project's own);
- :func:`read_digest`: the linked items of another digest's Markdown issues (the
  嵌入式AI简报 layout of ``../shared/digests/embedded-ai-biweekly``: ``## 业界新闻`` and the
  like, items ``- [title | source](url)`` or ``- [tag] [title | source](url)`` followed by a
  ``摘要：`` paragraph), each as its date, title and the first line of its summary. This is
  **an evaluation reader, not an importer**: it keeps only what scoring needs and nothing
  is stored (``pipelines.editorial.importer`` imports issues into the archive).

:func:`measure` scores them: the taxonomy alone, and a scorer trained on the digest's
earlier issues (positives) with half of the labelled set's negatives, against its later
issues and the other half, so that no week and no negative is on both sides.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.analysis.classify import Taxonomy, classify, taxonomy_for
from pipelines.analysis.relevance import Example, RelevanceModel, Scores, prf, save_model
from pipelines.analysis.relevance_fit import fit_model
from pipelines.analysis.settings import EditorialSettings

_ITEM = re.compile(r"^\s*[-*]\s*(?:\[[^\]]*\]\s*)?\[(?P<title>[^\]]+)\]\((?P<url>https?://[^)\s]+)\)")
_SUMMARY = re.compile(r"^\s*摘要[：:]\s*(?P<text>.*)$")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
# The sections that hold the editor's picks; the rest (往期回顾: links to past issues) are not.
_PICK_SECTIONS = ("业界新闻", "论文", "开源项目", "博文", "应用")


class BenchError(Exception):
    """Material that cannot be read for measuring; the message is one line."""


@dataclass(slots=True)
class LabelledItem:
    relevant: bool
    family: str
    title: str
    lead: str


@dataclass(slots=True)
class DigestItem:
    day: date
    section: str
    title: str
    lead: str


def read_labelled(path: Path) -> list[LabelledItem]:
    """The items of a labelled TSV; lines starting with ``#`` are comments."""
    items: list[LabelledItem] = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] not in ("0", "1"):
            raise BenchError(f"{path}:{n}: expected label (0 or 1), family, title and lead separated by tabs")
        items.append(LabelledItem(parts[0] == "1", parts[1], parts[2], parts[3]))
    return items


def read_digest(folder: Path) -> list[DigestItem]:
    """Every linked item of the ``YYYY-MM-DD*.md`` issues in ``folder``, oldest issue first."""
    files = sorted(p for p in folder.glob("*.md") if _DATE.match(p.name))
    if not files:
        raise BenchError(f"{folder}: no issues named YYYY-MM-DD.md")
    items: list[DigestItem] = []
    for path in files:
        day = date.fromisoformat(_DATE.match(path.name).group(1))
        section, current = "", None
        for line in path.read_text("utf-8").splitlines():
            if line.startswith("## "):
                heading = line[3:].strip()
                section = heading if heading.startswith(_PICK_SECTIONS) else ""
                current = None
                continue
            if not section:  # the title, the lead-in, the unlinked warm-up list, past issues
                continue
            match = _ITEM.match(line)
            if match:
                title = match.group("title").rsplit(" | ", 1)[0].rsplit("|", 1)[0].strip()
                current = DigestItem(day, section, title, "")
                items.append(current)
                continue
            summary = _SUMMARY.match(line)
            if summary and current is not None and not current.lead:
                current.lead = summary.group("text").strip()
    return items


@dataclass(slots=True)
class Figures:
    name: str
    recall_later: float  # on the digest's later items (all positives)
    precision_negatives: float  # precision over the later items and the held-out hard negatives
    false_positives: int
    negatives: int

    def line(self) -> str:
        return (f"{self.name:<12} recall {self.recall_later:.3f} on later picks; precision {self.precision_negatives:.3f}"
                f" with {self.negatives} hard negatives ({self.false_positives} scored relevant)")


def measure(digest: list[DigestItem], labelled: list[LabelledItem], settings: EditorialSettings,
            split: date, *, with_model: bool = True) -> tuple[dict, list[Figures]]:
    """Recall on the digest's items from ``split`` on and precision against the labelled
    negatives; the model (unless ``with_model`` is false: the taxonomy alone) is trained on
    the items before ``split`` and the even-numbered labelled negatives, and tested with the
    odd-numbered ones."""
    taxonomy = taxonomy_for(settings)
    earlier = [i for i in digest if i.day < split]
    later = [i for i in digest if i.day >= split]
    negatives = [i for i in labelled if not i.relevant]
    train_negatives, test_negatives = negatives[0::2], negatives[1::2]
    if not earlier or not later:
        raise BenchError(f"the digest has no items on one side of {split.isoformat()}")
    model, trained_cpu = None, 0.0
    if with_model:
        train = [Example(i.title, i.lead, True, i.day.isoformat(), taxonomy.classify(i.title, i.lead).taxonomy_score)
                 for i in earlier] + \
                [Example(i.title, i.lead, False, "", taxonomy.classify(i.title, i.lead).taxonomy_score)
                 for i in train_negatives]
        started = time.process_time()
        model = fit_model(train, settings.threshold, negatives_from="labelled set")
        trained_cpu = time.process_time() - started
    test = [(i.title, i.lead, True) for i in later] + [(i.title, i.lead, False) for i in test_negatives]
    figures = []
    for name in ("taxonomy", "model", "combined") if with_model else ("taxonomy",):
        got = [_decide(name, title, lead, taxonomy, model) for title, lead, _ in test]
        wanted = [label for _, _, label in test]
        precision, recall, _ = prf(wanted, got)
        false_positives = sum(g and not w for w, g in zip(wanted, got))
        figures.append(Figures(name, recall, precision, false_positives, len(test_negatives)))
    info = {"earlier": len(earlier), "later": len(later), "train_negatives": len(train_negatives),
            "test_negatives": len(test_negatives), "train_cpu_s": trained_cpu, "model": model}
    return info, figures


def _decide(name: str, title: str, lead: str, taxonomy: Taxonomy, model: RelevanceModel | None) -> bool:
    result = taxonomy.classify(title, lead)
    if name == "taxonomy" or model is None:
        return result.relevant
    scores = Scores(result.taxonomy_score, model.probability(title, lead))
    if name == "model":
        return scores.model >= 0.5
    return model.combiner.relevant(scores)


def read_corpus(folder: Path) -> list[tuple[str, str]]:
    """Title and body of the articles of a corpus of saved pages with ground truth
    (``*.json`` beside each page: ``expect``, ``title``, ``body``), for timing only."""
    found = []
    for path in sorted(folder.rglob("*.json")):
        try:
            truth = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(truth, dict) and truth.get("expect") == "article" and truth.get("body"):
            found.append((truth.get("title") or "", truth["body"]))
    if not found:
        raise BenchError(f"{folder}: no articles with a ground-truth body")
    return found


def classification_cpu(articles: list[tuple[str, str]], settings: EditorialSettings,
                       model: RelevanceModel | None, rounds: int = 5) -> float:
    """Milliseconds of CPU per article for :func:`pipelines.analysis.classify.classify`,
    with ``model`` (kept in a temporary file and loaded once, as a crawl process does) or
    the taxonomy alone; the first round loads and warms up and is not counted."""
    with tempfile.TemporaryDirectory() as directory:
        if model is not None:
            path = os.path.join(directory, "model.json.gz")
            save_model(model, path)
            settings = dataclasses.replace(settings, model=path)
        for title, text in articles:
            classify(title, text, settings)
        started = time.process_time()
        for _ in range(rounds):
            for title, text in articles:
                classify(title, text, settings)
        return 1000 * (time.process_time() - started) / (rounds * len(articles))


def labelled_figures(labelled: list[LabelledItem], settings: EditorialSettings) -> tuple[float, float, dict]:
    """Precision and recall of the taxonomy alone on a labelled set, and the misses by family."""
    taxonomy = taxonomy_for(settings)
    got = [taxonomy.classify(i.title, i.lead).relevant for i in labelled]
    wanted = [i.relevant for i in labelled]
    precision, recall, _ = prf(wanted, got)
    misses: dict[str, int] = {}
    for item, decided in zip(labelled, got):
        if decided != item.relevant:
            misses[item.family] = misses.get(item.family, 0) + 1
    return precision, recall, misses
