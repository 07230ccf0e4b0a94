"""Questions whose answer sits in one slide, sheet row, chapter or e-mail find that chunk, with its
locator, through ``RAG.search`` (the real embedder) and through the CLI's ``--json`` (search and ask)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import RAG
from rag.cli import main

FORMATS = Path(__file__).parent / "data" / "formats"

QUESTIONS = [
    ("What is the budget for the lighthouse renovation?", "deck.pptx", "slide 2"),
    ("When does the lantern glass arrive from Bremen?", "deck.pptx", "slide 3"),
    ("How much did Okonkwo Marine Ltd owe?", "ledger.xlsx", 'sheet "Q3" rows 22-41'),
    ("Which shelf holds the tungsten crucible?", "inventory.csv", "rows 22-41"),
    ("What was the keeper's cat called?", "lighthouse.epub", "The Storm"),
    ("How much did the roofer quote for the slates?", "roof-quote.eml", "Roof repair quote (2024-03-05 09:15)"),
    ("How much is the mooring fee at the east pontoon?", "harbour.mbox", "Boat mooring (2024-03-07 08:00)"),
    ("How long is the warranty on the Zephyr pump?", "report.docx", "Warranty terms"),
]


@pytest.fixture(scope="module")
def rag(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Iterator[RAG]:
    index = tmp_path_factory.mktemp("formats") / "idx"
    with RAG.open(index, create=True, embedder=real_embedder, workers=1) as opened:
        report = opened.ingest([FORMATS])
        assert report.exit_code == 2  # the adversarial files failed; every valid one was added
        yield opened


@pytest.mark.model
@pytest.mark.parametrize(("question", "file", "locator"), QUESTIONS)
def test_search_finds_the_unit_that_answers(rag: RAG, question: str, file: str, locator: str) -> None:
    top = rag.search(question, 1)[0].chunk
    assert (Path(top.source).name, top.page, top.locator) == (file, None, locator)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out, _err = capsys.readouterr()
    return code, json.loads(out)  # one JSON document and nothing else on stdout


@pytest.mark.slow
@pytest.mark.model
def test_cli_json_carries_locator_section_and_ocr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    code, report = _run(capsys, "--embedder", "hash", "ingest", str(FORMATS), "--index", idx, "--json")
    assert code == 2 and report["totals"]["added"] == 9

    code, found = _run(capsys, "search", "lighthouse renovation budget euros", "--index", idx, "--json")
    assert code == 0
    hit = next(h for h in found["hits"] if h["file"].endswith("deck.pptx"))
    assert {k: hit[k] for k in ("page", "locator", "section", "ocr")} == {
        "page": None, "locator": "slide 2", "section": "Budget", "ocr": False}

    code, sources = _run(capsys, "sources", "--index", idx, "--json")
    units = {Path(s["path"]).name: (s["pages"], s["units"]) for s in sources["sources"] if s["status"] == "indexed"}
    assert units["deck.pptx"] == (3, "slides") and units["lighthouse.epub"] == (3, "chapters")

    code, answer = _run(capsys, "ask", "What is the lighthouse renovation budget?", "--index", idx, "--json",
                        "--top-k", "3")
    assert code == 0
    deck = [c for c in answer["citations"] if c["file"].endswith("deck.pptx")]
    assert deck and deck[0]["page"] is None and deck[0]["locator"] == "slide 2" and deck[0]["ocr"] is False
    assert set(deck[0]) >= {"n", "file", "page", "chunk_id", "score", "quote", "verified", "cited", "inferred",
                            "locator", "section", "ocr"}


@pytest.mark.slow
@pytest.mark.model
def test_terminal_citations_name_the_slide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    assert main(["--embedder", "hash", "ingest", str(FORMATS / "deck.pptx"), "--index", idx]) == 0
    capsys.readouterr()
    main(["ask", "What is the lighthouse renovation budget?", "--index", idx, "--no-stream"])
    out = capsys.readouterr().out
    assert "deck.pptx, slide 2" in out
    main(["search", "lighthouse renovation budget", "--index", idx])
    assert f"{FORMATS / 'deck.pptx'}, slide 2" in capsys.readouterr().out


@pytest.mark.slow
def test_http_search_sources_and_chat_carry_the_locator(tmp_path: Path) -> None:
    import httpx

    from indexes import HashEmbedder
    from rag.generation import EchoGenerator
    from rag.serve import ServeSettings, create_app
    from tests.serve_support import running

    generator = EchoGenerator("The renovation budget is 48,000 euros [1].")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as opened:
        assert opened.ingest([FORMATS / "deck.pptx", FORMATS / "inventory.csv"]).exit_code == 0
        with running(create_app(opened, ServeSettings(upload_dir=tmp_path / "uploads"))) as url:
            hits = httpx.post(f"{url}/v1/search", json={"query": "lighthouse renovation budget", "top_k": 1}).json()["hits"]
            sources = httpx.get(f"{url}/v1/sources").json()["sources"]
            reply = httpx.post(f"{url}/v1/chat/completions", timeout=30, json={
                "model": "rag", "messages": [{"role": "user", "content": "What is the renovation budget?"}]}).json()
    assert (hits[0]["locator"], hits[0]["section"], hits[0]["page"], hits[0]["ocr"]) == ("slide 2", "Budget", None, False)
    assert {Path(s["path"]).name: s["units"] for s in sources} == {"deck.pptx": "slides", "inventory.csv": "row blocks"}
    cited = [c for c in reply["rag"]["citations"] if c["cited"]]
    assert cited and (cited[0]["locator"], cited[0]["page"]) == ("slide 2", None)
