"""BM25 over chunk texts: the lexical half of hybrid retrieval, one directory per generation.

``bm25-<gen>/`` holds two things:

- bm25s's own index files: ``params.index.json``, ``vocab.index.json`` and the score
  matrix as ``data/indices/indptr.csc.index.npy`` (``np.save`` with ``allow_pickle=False``);
- our token store: ``doc_ids.npy`` (position ``i`` in bm25s is chunk rowid ``doc_ids[i]``),
  ``doc_tokens.npy`` + ``doc_offsets.npy`` (every document's token ids, concatenated), and
  ``settings.json`` (tokenizer and scoring parameters, format version).

Why a token store: BM25 scores depend on corpus statistics (idf, mean length), so every
generation needs a new score matrix. Rebuilding it from stored token ids costs ~35 µs per
chunk; re-tokenizing every text would cost ~120 µs more. A commit therefore tokenizes only
the chunks it adds. Nothing here is pickled: JSON and ``.npy`` (loaded with ``allow_pickle=False``).
Queries read the score matrix with numpy alone (a column sum per query term), so searching
never imports bm25s or scipy; only building a generation does.

Tokens (``indexes.text.bm25_terms``): lower-cased words of two or more characters, English
stop words dropped, Snowball stemmed (PyStemmer); runs of Chinese/Japanese characters, which
have no spaces, and of Korean Hangul become character bigrams; text is NFKC-folded first (ligatures,
full-width forms); a word that extraction glued together ("incomeRefundable", "PERSON37") also gives
its parts of three letters or more. Formats 1 (before Hangul bigrams and NFKC), 2 (before glued parts)
and 3 (parts of two characters, digits included) are still read, and keep their own rules, so their
stored tokens and their queries agree.
bm25s and PyStemmer are imported here and only when first needed.

Over 300 lines on purpose: the token store, the score matrix and their file format change together.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from indexes.errors import IndexFormatError
from indexes.text import bm25_terms

__all__ = ["Bm25Changes", "Bm25Index", "Bm25Settings", "Tokenizer"]

FORMAT = 4
READABLE_FORMATS = (1, 2, 3, 4)  # 1: Hangul read as words, no NFKC; 2: glued words not parted; 3: digit parts
_SETTINGS = "settings.json"
_Matrix = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Bm25Settings:
    """Tokenizer and scoring parameters; recorded with each index so queries match it."""

    stemmer: str | None = "english"   # a Snowball language, or None
    stopwords: str | None = "en"      # a list in bm25s.stopwords (en, german, french ...), or None
    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"
    hangul: bool = True               # Hangul as character bigrams (False in format-1 indexes)
    nfkc: bool = True                 # terms NFKC-folded: "ﬁrst" is "first" (False in format-1 indexes)
    parts: bool = True                # glued words also give their parts: "incomeRefundable" (False before format 3)
    letter_parts: bool = True         # ... of letters only, three or more ("COVID19": "covid"; False in format 3)


class Tokenizer:
    """Text -> BM25 terms, the same way for documents and queries.

    ``stopwords`` is the word list itself, as recorded with an index; by default the list
    named in ``settings`` is taken from bm25s."""

    def __init__(self, settings: Bm25Settings, stopwords: frozenset[str] | None = None) -> None:
        self.settings = settings
        if stopwords is not None:
            self.stopwords = stopwords

    @cached_property
    def _stem(self) -> Any:
        if self.settings.stemmer is None:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.settings.stemmer).stemWords

    @cached_property
    def stopwords(self) -> frozenset[str]:
        if self.settings.stopwords is None:
            return frozenset()
        from bm25s import stopwords

        words = getattr(stopwords, f"STOPWORDS_{self.settings.stopwords.upper()}", None)
        if words is None:
            raise ValueError(f"no stop-word list {self.settings.stopwords!r} in bm25s.stopwords")
        return frozenset(words)

    def __call__(self, text: str) -> list[str]:
        words = bm25_terms(text, self.stopwords, hangul=self.settings.hangul, nfkc=self.settings.nfkc,
                           parts=self.settings.parts, letter_parts=self.settings.letter_parts)
        return list(self._stem(words)) if self._stem is not None else words


class Bm25Index:
    """BM25 scores over a set of chunk ids, with the token ids needed to derive the next one."""

    def __init__(self, settings: Bm25Settings, ids: np.ndarray, vocab: dict[str, int],
                 tokens: np.ndarray | None, offsets: np.ndarray | None, matrix: _Matrix | None,
                 model: Any = None, tokenizer: Tokenizer | None = None) -> None:
        self.settings = settings
        self.tokenizer = tokenizer or Tokenizer(settings)
        self._ids = np.asarray(ids, dtype=np.int64)
        self._vocab = vocab
        self._tokens = tokens
        self._offsets = offsets
        self._matrix = matrix  # term-major (CSC) BM25 weights: data, doc indices, term pointers
        self._model = model    # the bm25s.BM25 that built it (to save it), if built here

    # -- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str], settings: Bm25Settings | None = None) -> Bm25Index:
        """A fresh index of ``texts`` under chunk ``ids``."""
        empty = cls._from_tokens(settings or Bm25Settings(), np.zeros(0, np.int64), {}, np.zeros(0, np.int32),
                                 np.zeros(1, np.int64))
        return empty.updated((), ids, texts)

    def updated(self, removed: Sequence[int] | set[int], added_ids: Sequence[int],
                added_texts: Sequence[str], *, scored: bool = True,
                added_terms: Sequence[list[str]] | None = None) -> Bm25Index:
        """A new index without the ``removed`` ids and with ``added_texts`` as ``added_ids``.

        Only the added texts are tokenized (``added_terms``: already tokenized); the score matrix
        is rebuilt from token ids, unless ``scored`` is False (a delta segment scores itself)."""
        if added_terms is None and len(added_ids) != len(added_texts):
            raise ValueError(f"{len(added_ids)} ids but {len(added_texts)} texts")
        tokens, offsets = self._token_store()
        keep = ~np.isin(self._ids, np.fromiter(removed, dtype=np.int64, count=len(removed)))
        lengths = np.diff(offsets)
        kept_tokens = tokens[np.repeat(keep, lengths)]
        vocab = dict(self._vocab)
        new_tokens: list[int] = []
        new_lengths: list[int] = []
        for terms in (added_terms if added_terms is not None else map(self.tokenizer, added_texts)):
            new_tokens.extend(vocab.setdefault(t, len(vocab)) for t in terms)
            new_lengths.append(len(terms))
        all_tokens = np.concatenate([kept_tokens, np.asarray(new_tokens, dtype=np.int32)])
        all_lengths = np.concatenate([lengths[keep], np.asarray(new_lengths, dtype=np.int64)])
        all_ids = np.concatenate([self._ids[keep], np.asarray(added_ids, dtype=np.int64)])
        all_tokens, vocab = _compact(all_tokens, vocab)
        all_offsets = np.concatenate([[0], np.cumsum(all_lengths)]).astype(np.int64)
        if not scored:
            return Bm25Index(self.settings, all_ids, vocab, all_tokens, all_offsets, None, tokenizer=self.tokenizer)
        return self._from_tokens(self.settings, all_ids, vocab, all_tokens, all_offsets, self.tokenizer)

    @classmethod
    def _from_tokens(cls, settings: Bm25Settings, ids: np.ndarray, vocab: dict[str, int], tokens: np.ndarray,
                     offsets: np.ndarray, tokenizer: Tokenizer | None = None) -> Bm25Index:
        model = matrix = None
        if len(ids) and vocab:
            model = _bm25s().BM25(k1=settings.k1, b=settings.b, method=settings.method, csc_backend="auto")
            docs = [d.tolist() for d in np.split(tokens, offsets[1:-1])]
            model.index((docs, vocab), create_empty_token=False, show_progress=False)
            matrix = (model.scores["data"], model.scores["indices"], model.scores["indptr"])
        return cls(settings, ids, vocab, tokens, offsets, matrix, model, tokenizer)

    def _token_store(self) -> tuple[np.ndarray, np.ndarray]:
        if self._tokens is None or self._offsets is None:
            raise ValueError("this BM25 index was loaded without its token store")
        return self._tokens, self._offsets

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> np.ndarray:
        return self._ids

    @property
    def vocab(self) -> dict[str, int]:
        return self._vocab

    @property
    def matrix(self) -> _Matrix | None:
        return self._matrix

    def token_store(self) -> tuple[np.ndarray, np.ndarray]:
        """Every document's token ids, concatenated, and where each starts (``offsets[-1]`` = total)."""
        return self._token_store()

    def document_frequencies(self, terms: Sequence[str]) -> list[int]:
        """How many chunks hold each of ``terms`` (terms as ``tokenizer`` makes them); 0 for an unknown one."""
        if self._matrix is None:
            return [0] * len(terms)
        indptr = self._matrix[2]
        ids = [self._vocab.get(term) for term in terms]
        return [0 if t is None else int(indptr[t + 1] - indptr[t]) for t in ids]

    def with_matrix(self, matrix: _Matrix) -> Bm25Index:
        """The same documents scored by ``matrix`` (term-major weights computed elsewhere)."""
        return Bm25Index(self.settings, self._ids, self._vocab, self._tokens, self._offsets, matrix,
                         tokenizer=self.tokenizer)

    def search(self, query: str, k: int, hidden: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the ``k`` best chunks for ``query``, best first; only chunks
        sharing at least one term with the query are returned, none at the ``hidden`` positions."""
        terms = [self._vocab[t] for t in self.tokenizer(query) if t in self._vocab]
        if self._matrix is None or k <= 0 or not terms:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        data, indices, indptr = self._matrix
        postings = np.concatenate([np.arange(indptr[t], indptr[t + 1]) for t in terms])
        scores = np.bincount(indices[postings], weights=data[postings], minlength=len(self._ids)).astype(np.float32)
        if hidden is not None:
            scores[hidden] = 0.0
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return scores[hits], self._ids[hits]

    # -- disk --------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write to ``directory`` durably: a temp directory, fsync, rename."""
        tokens, offsets = self._token_store()
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._model is not None:
            self._model.save(str(tmp), show_progress=False)
        elif self._matrix is not None:  # scored here (a delta segment): the same files bm25s writes
            for part, array in zip(("data", "indices", "indptr"), self._matrix, strict=True):
                np.save(tmp / f"{part}.csc.index.npy", array, allow_pickle=False)
            (tmp / "params.index.json").write_text(json.dumps({"num_docs": len(self._ids)}), encoding="utf-8")
        np.save(tmp / "doc_ids.npy", self._ids, allow_pickle=False)
        np.save(tmp / "doc_tokens.npy", tokens, allow_pickle=False)
        np.save(tmp / "doc_offsets.npy", offsets, allow_pickle=False)
        meta = {"format": FORMAT, "settings": asdict(self.settings), "documents": len(self._ids),
                "terms": len(self._vocab), "scored": self._matrix is not None,
                "stopwords": sorted(self.tokenizer.stopwords)}
        (tmp / _SETTINGS).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if self._model is None:  # bm25s wrote no vocabulary: it is still needed to extend the index
            (tmp / "vocab.index.json").write_text(json.dumps(self._vocab, ensure_ascii=False), encoding="utf-8")
        for path in tmp.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(tmp, directory)
        _fsync_dir(directory.parent)

    @classmethod
    def load(cls, directory: Path, *, with_tokens: bool = False, empty: bool = False) -> Bm25Index:
        """Read ``directory``; the token store (needed only to derive a new generation)
        is read when ``with_tokens``; ``empty``: only its settings, as an index of no documents.
        Raises ``FileNotFoundError`` if it does not exist."""
        if not directory.is_dir():
            raise FileNotFoundError(directory)
        try:
            meta = json.loads((directory / _SETTINGS).read_text(encoding="utf-8"))
            if meta.get("format") not in READABLE_FORMATS:
                raise IndexFormatError(f"{directory}: BM25 format {meta.get('format')} is not supported "
                                       f"(reads {READABLE_FORMATS}); rebuild the index with `rag ingest` into a new --index")
            current = meta["format"] >= 2
            settings = Bm25Settings(**{"hangul": current, "nfkc": current, "parts": meta["format"] >= 3,
                                       "letter_parts": meta["format"] >= 4, **meta["settings"]})
            if empty:
                return cls(settings, np.zeros(0, np.int64), {}, np.zeros(0, np.int32), np.zeros(1, np.int64), None,
                           tokenizer=_tokenizer(settings, meta))
            mapped: Literal["r"] | None = None if with_tokens else "r"  # a reader maps them: opening reads no postings
            ids = np.load(directory / "doc_ids.npy", allow_pickle=False, mmap_mode=mapped)
            tokens = offsets = None
            if with_tokens:
                tokens = np.load(directory / "doc_tokens.npy", allow_pickle=False)
                offsets = np.load(directory / "doc_offsets.npy", allow_pickle=False)
                if len(offsets) != len(ids) + 1 or int(offsets[-1]) != len(tokens):
                    raise ValueError(f"token store holds {len(offsets) - 1} documents and {len(tokens)} tokens, "
                                     f"expected {len(ids)} and {int(offsets[-1])}")
            vocab = json.loads((directory / "vocab.index.json").read_text(encoding="utf-8"))
            matrix = None
            if meta.get("scored"):  # bm25s's files, read without bm25s
                params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
                matrix = tuple(np.load(directory / f"{part}.csc.index.npy", allow_pickle=False, mmap_mode=mapped)
                               for part in ("data", "indices", "indptr"))
                if int(params["num_docs"]) != len(ids) or len(matrix[2]) != len(vocab) + 1:
                    raise ValueError(f"{params['num_docs']} scored documents and {len(matrix[2]) - 1} terms, "
                                     f"but {len(ids)} ids and {len(vocab)} terms")
        except IndexFormatError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(f"{directory} is damaged ({exc}); run `rag status --check`, "
                                   "then rebuild the index with `rag ingest` into a new --index") from exc
        return cls(settings, ids, vocab, tokens, offsets, matrix, tokenizer=_tokenizer(settings, meta))


def _tokenizer(settings: Bm25Settings, meta: dict[str, Any]) -> Tokenizer:
    recorded = meta.get("stopwords")  # the list the index was built with
    return Tokenizer(settings, frozenset(recorded) if isinstance(recorded, list) else None)


class Bm25Changes:
    """What a writer changed since the last commit: chunk ids added (with their text) and removed."""

    def __init__(self) -> None:
        self.added: dict[int, str] = {}
        self.removed: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self.added.update(zip(ids, texts, strict=True))

    def remove(self, ids: Sequence[int]) -> None:
        for i in ids:
            if self.added.pop(i, None) is None:  # added and removed before any commit: never indexed
                self.removed.add(i)

    def apply_to_delta(self, delta: Bm25Index | None) -> Bm25Index:
        """A delta segment's documents with these changes, not yet scored (``indexes.segments``)."""
        if delta is None:
            raise ValueError("the delta's BM25 is not loaded")
        return delta.updated(self.removed, list(self.added), list(self.added.values()), scored=False)

    def clear(self) -> None:
        self.added.clear()
        self.removed.clear()


def _bm25s() -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
    return bm25s


def _compact(tokens: np.ndarray, vocab: dict[str, int]) -> tuple[np.ndarray, dict[str, int]]:
    """Drop terms no document uses any more and renumber the rest densely (bm25s needs 0..n-1)."""
    if not vocab:
        return tokens.astype(np.int32), {}
    used = np.bincount(tokens, minlength=len(vocab)) > 0 if len(tokens) else np.zeros(len(vocab), bool)
    if used.all():
        return tokens.astype(np.int32), vocab
    remap = np.cumsum(used) - 1
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    new_vocab = {term: int(remap[i]) for term, i in by_id if used[i]}
    return remap[tokens].astype(np.int32), new_vocab


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
