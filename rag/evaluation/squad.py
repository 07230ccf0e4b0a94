"""SQuAD-format question data: reading it, sampling questions, scoring answers against gold.

Used by ``rag.evaluation.qa`` (``rag eval qa``). Questions are kept in file order (articles,
then paragraphs, then questions) so a sample ``random.Random(seed).sample(range(total), n)``
means the same questions everywhere.
"""

from __future__ import annotations

import collections
import json
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexes import ConfigError
from rag.text import is_cjk

__all__ = [
    "QADataset",
    "QAQuestion",
    "answer_tokens",
    "contains_gold",
    "load_squad",
    "sample_indices",
    "token_f1",
    "write_articles",
]


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class QAQuestion:
    """One question; ``spans`` are the gold answers' character spans in its article's document."""

    id: str
    question: str
    answers: tuple[str, ...]
    article: int
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class QADataset:
    titles: tuple[str, ...]
    documents: tuple[str, ...]        # one text per article, paragraphs separated by a blank line
    questions: tuple[QAQuestion, ...]


def load_squad(path: str | Path) -> QADataset:
    """Read SQuAD JSON (``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``) or a
    flat JSON-lines file (one question per line with ``title``, ``context``, ``question``,
    ``answers``, ``answer_starts``), keeping file order."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix == ".jsonl":
            articles = _articles_from_flat([json.loads(line) for line in raw.splitlines() if line.strip()])
        else:
            articles = json.loads(raw)["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not SQuAD JSON or flat JSON lines: {exc}") from exc
    titles: list[str] = []
    documents: list[str] = []
    questions: list[QAQuestion] = []
    for number, article in enumerate(articles):
        text = ""
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            offset = len(text)
            text += context + "\n\n"
            for qa in paragraph["qas"]:
                answers = [a for a in qa.get("answers", []) if a.get("text")]
                if not answers:  # SQuAD 2.0 unanswerables have no gold span to score against
                    continue
                spans = tuple((offset + a["answer_start"], offset + a["answer_start"] + len(a["text"])) for a in answers)
                questions.append(QAQuestion(str(qa["id"]), qa["question"], tuple(a["text"] for a in answers), number, spans))
        titles.append(str(article.get("title") or f"article {number}"))
        documents.append(text)
    if not questions:
        raise ConfigError(f"{path} holds no answerable questions")
    return QADataset(tuple(titles), tuple(documents), tuple(questions))


def _articles_from_flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    articles: dict[str, dict[str, Any]] = {}
    for row in rows:
        article = articles.setdefault(row["title"], {"title": row["title"], "paragraphs": [], "_seen": {}})
        key = row.get("paragraph_index", row["context"])
        if key not in article["_seen"]:
            article["_seen"][key] = {"context": row["context"], "qas": []}
            article["paragraphs"].append(article["_seen"][key])
        starts = row.get("answer_starts") or [row["context"].find(a) for a in row["answers"]]
        article["_seen"][key]["qas"].append({"id": row["id"], "question": row["question"], "answers": [
            {"text": a, "answer_start": s} for a, s in zip(row["answers"], starts, strict=False) if s >= 0]})
    return list(articles.values())


def sample_indices(total: int, n: int | None, seed: int = 0) -> list[int]:
    """``random.Random(seed).sample(range(total), n)``; every index in order when ``n`` is None or too big."""
    if n is None or n >= total:
        return list(range(total))
    if n < 1:
        raise ConfigError(f"--sample must be at least 1, not {n}")
    return random.Random(seed).sample(range(total), n)


def _file_name(number: int, title: str) -> str:
    slug = re.sub(r"[^\w-]+", "_", title, flags=re.UNICODE).strip("_")[:60] or "article"
    return f"{number:03d}-{slug}.txt"


def write_articles(dataset: QADataset, directory: Path) -> list[Path]:
    """Write one UTF-8 text file per article into ``directory``; paths in article order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, (title, text) in enumerate(zip(dataset.titles, dataset.documents, strict=True)):
        path = directory / _file_name(number, title)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------- scoring

_ARTICLES = frozenset("a an the".split())


def answer_tokens(text: str) -> list[str]:
    """SQuAD normalisation (lower case, no punctuation, no English articles), CJK split per character."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else f" {ch} " if is_cjk(ch) else ch
                   for ch in text)
    return [t for t in text.split() if t not in _ARTICLES]


def contains_gold(prediction: str, golds: Iterable[str]) -> bool:
    """The normalised prediction contains a normalised gold answer on token boundaries."""
    haystack = f" {' '.join(answer_tokens(prediction))} "
    return any(f" {' '.join(tokens)} " in haystack for tokens in (answer_tokens(g) for g in golds) if tokens)


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    """SQuAD token F1 against the best-matching gold answer."""
    predicted = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        expected = answer_tokens(gold)
        same = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
        if same:
            precision, recall = same / len(predicted), same / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
