"""Index format version 2 (chunks with locator, section, ocr) opens a version-1 index by migrating it.

tests/data/index-v1 was made by the code on main before version 2 (HashEmbedder, 64 dims, the
two sample files copied to /tmp/v1src), with:
    git archive main indexes ingest | tar -x -C /tmp/v1code
    PYTHONPATH=/tmp/v1code python -c "from indexes import HashEmbedder; from ingest import ingest_paths, IngestOptions;
        ingest_paths('tests/data/index-v1', ['/tmp/v1src'], HashEmbedder(), IngestOptions(workers=0))"
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from indexes import FORMAT_VERSION, HashEmbedder, Index
from ingest import PageChunker
from ingest.readers import read_document
from rag import RAG
from rag.generation import EchoGenerator

V1 = Path(__file__).parent / "data" / "index-v1"
REPO = Path(__file__).resolve().parents[1]
FORMATS = Path(__file__).parent / "data" / "formats"


@pytest.fixture
def old_index(tmp_path: Path) -> Path:
    target = tmp_path / "idx"
    shutil.copytree(V1, target)
    return target


def _manifest(directory: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / "manifest.json").read_text())


def _rows(directory: Path) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(directory / "chunks.sqlite") as db:
        return db.execute('SELECT rowid, id, source, page, start, "end", text FROM chunks ORDER BY rowid').fetchall()


def test_a_version_1_index_opens_answers_and_is_migrated_in_a_new_generation(old_index: Path) -> None:
    before = _manifest(old_index)
    rows = _rows(old_index)
    assert before["version"] == 1 and FORMAT_VERSION == 4 and len(rows) == 3
    generator = EchoGenerator("The harbour speed limit is 5 knots [1].")
    with RAG.open(old_index, embedder=HashEmbedder(), generator=generator) as rag:
        hits = rag.search("harbour speed limit knots", 2)
        answer = rag.ask("What is the harbour speed limit?")
    assert hits and hits[0].chunk.source.endswith("tide-table.html")
    assert hits[0].chunk.locator is None and hits[0].chunk.section is None and hits[0].chunk.ocr is False
    cited = answer.to_json()["citations"][0]
    assert cited["file"].endswith("tide-table.html") and cited["page"] is None
    assert (cited["locator"], cited["section"], cited["ocr"]) == (None, None, False)
    after = _manifest(old_index)
    assert after["version"] == FORMAT_VERSION and after["generation"] == before["generation"] + 1
    assert after["counts"] == before["counts"] and after["settings"] == before["settings"]  # old header kept
    assert _rows(old_index) == rows  # the same chunks, ids unchanged
    with sqlite3.connect(old_index / "chunks.sqlite") as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(chunks)")}
    assert {"locator", "section", "ocr"} <= columns
    with Index.open(old_index) as index:
        assert index.check() == [] and index.manifest.version == FORMAT_VERSION


def test_a_migrated_index_takes_new_formats(old_index: Path) -> None:
    with RAG.open(old_index, embedder=HashEmbedder(), workers=0) as rag:
        report = rag.ingest([FORMATS / "deck.pptx"])
        hits = rag.search("lighthouse renovation budget euros", 3)
    assert report.exit_code == 0
    top = next(h.chunk for h in hits if h.chunk.source.endswith("deck.pptx"))
    assert (top.page, top.locator, top.section) == (None, "slide 2", "Budget")


def test_pdf_and_text_chunk_ids_are_those_version_1_gave() -> None:
    stored = {(r[2], r[4], r[6]): r[1] for r in _rows(V1)}
    emb = HashEmbedder()
    chunker = PageChunker(emb.tokenize, emb.max_tokens)
    again = {}
    for name in ("tide-table.html", "harbor-lighthouse.md"):
        doc = read_document(REPO / "samples" / name)
        for c in chunker.chunk(f"/tmp/v1src/{name}", doc.pages):
            again[(c.source, c.start, c.text)] = c.id
    assert again == stored


def test_a_dry_run_plans_against_a_version_1_index_without_migrating_it(old_index: Path) -> None:
    from ingest import IngestOptions, ingest_paths

    before = (old_index / "manifest.json").read_bytes()
    report = ingest_paths(old_index, [FORMATS / "deck.pptx"], HashEmbedder(), IngestOptions(workers=0), dry_run=True)
    assert [(Path(f.path).name, f.status) for f in report.files] == [("deck.pptx", "new")]
    assert (old_index / "manifest.json").read_bytes() == before
