"""Records the query stage returns: citations and answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Answer", "Citation"]


@dataclass(frozen=True)
class Citation:
    """A source given to the model, numbered ``n`` as in the prompt and the answer's ``[n]``.

    ``cited``: the answer marks it. ``inferred``: the model cited nothing and this
    is the source that best supports the answer. ``verified``: the answer's
    sentences that cite it are supported by its text. ``quote``: its best supporting sentence.
    """

    n: int
    file: str
    page: int | None
    chunk_id: str
    score: float
    quote: str
    verified: bool = False
    cited: bool = False
    inferred: bool = False

    def label(self) -> str:
        name = self.file.rsplit("/", 1)[-1]
        return f"{name}, page {self.page}" if self.page is not None else name

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass(frozen=True)
class Answer:
    """A grounded answer: text with ``[n]`` markers, the sources behind it, timings in ms."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    question: str = ""

    @property
    def cited(self) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if c.cited or c.inferred)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "citations": [c.to_json() for c in self.citations],
                "timings": {k: round(v, 1) for k, v in self.timings.items()}}
