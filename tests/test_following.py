"""A long-lived ``RAG`` (a server, a notebook) follows the generations other processes commit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from indexes import HashEmbedder
from rag import RAG

REPO = Path(__file__).resolve().parents[1]


def _ingest_elsewhere(index: Path, *paths: Path) -> None:
    """Commit from another process, as a nightly `rag ingest` would."""
    code = textwrap.dedent(f"""
        from indexes import HashEmbedder
        from rag import RAG
        with RAG.open({str(index)!r}, create=True, embedder=HashEmbedder(), workers=0) as rag:
            report = rag.ingest({[str(p) for p in paths]!r})
            assert not report.failed, report
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True, timeout=120)


def test_a_long_lived_rag_sees_every_external_commit(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("Spring tides follow the full moon by a day or two.\n")
    index = tmp_path / "idx"
    _ingest_elsewhere(index, docs)
    with RAG.open(index, embedder=HashEmbedder()) as rag:
        assert [Path(h.chunk.source).name for h in rag.search("spring tides full moon", 3)] == ["tides.txt"]
        first = rag.index.generation

        (docs / "ferry.txt").write_text("The ferry to the island leaves the harbour every hour in summer.\n")
        _ingest_elsewhere(index, docs)                     # generation +1: a new file
        (docs / "tides.txt").write_text("Neap tides come with the half moon, when the range is smallest.\n")
        _ingest_elsewhere(index, docs)                     # generation +2: a changed file

        hits = rag.search("ferry island harbour", 3)      # no reopen by the caller, no error
        assert Path(hits[0].chunk.source).name == "ferry.txt"
        assert rag.index.generation == first + 2
        texts = " ".join(h.chunk.text for h in rag.search("neap tides half moon", 3, mode="bm25"))
        assert "Neap tides" in texts and "Spring tides" not in texts


def test_following_costs_no_reopen_while_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Granite blocks were cut from the quarry and shipped by barge.\n")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), workers=0) as rag:
        rag.ingest([tmp_path / "a.txt"])
        view = rag.index
        for _ in range(3):
            rag.search("granite quarry", 2)
        assert rag.index is view  # the same open view: one stat per query, no reopen
