"""The web page in a real headless Chromium, on the real stack: type a question, watch the answer stream in,
see the cited page link and its sources, open the cited PDF, follow up, and read the ingest status view.
A screenshot is saved in the test's tmp dir, and to docs/screenshot.png when RAG_SCREENSHOT=1."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import RAG
from rag.serve import ServeSettings, create_app
from tests.serve_support import running

pytestmark = [pytest.mark.model, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Which exit code does rag ingest return when some files fail?"
RECORD_STREAM = """() => {
  window.streamed = [];
  new MutationObserver(() => {
    const a = document.querySelector('.turn:last-child .answer.streaming');
    if (a && a.textContent) window.streamed.push(a.textContent.length);
  }).observe(document.getElementById('conversation'), {subtree: true, childList: true, characterData: true});
}"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            raise AssertionError("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, real_embedder: Any,
        real_generator: Any) -> Iterator[str]:
    root = tmp_path_factory.mktemp("page")
    docs = Path(shutil.copytree(sample_dir, root / "docs"))
    (docs / "scan.pdf").write_bytes(b"%PDF-1.4\n this is not really a PDF \x00\x01")
    with RAG.open(root / "idx", create=True, embedder=real_embedder, generator=real_generator, workers=0) as rag:
        assert rag.ingest([docs]).exit_code == 2  # scan.pdf fails, the rest is ingested
        with running(create_app(rag, ServeSettings(model_name="SmolLM2"))) as base:
            yield base


@pytest.fixture
def page(url: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1100, "height": 900})
        tab.goto(url)
        yield tab
        browser.close()


def _ask(page: Any, question: str) -> Any:
    page.evaluate(RECORD_STREAM)
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.streaming)").wait_for(timeout=240_000)
    return turn


def test_a_question_streams_a_cited_answer_with_page_links(page: Any, tmp_path: Path) -> None:
    turn = _ask(page, QUESTION)
    assert len(set(page.evaluate("window.streamed"))) >= 3  # the text grew piece by piece before it was final
    assert turn.locator(".question").inner_text() == QUESTION
    answer = turn.locator(".answer").inner_text()
    assert re.search(r"\b2\b", answer) and "fail" in answer.lower()  # states the code for failed files
    # The source the answer rests on, cited by its marker or inferred when the reply has none, supports it.
    backing = turn.locator(".sources li", has_text=re.compile(r"(cited|inferred) ✓"))
    link = backing.locator("a.page-link").first
    assert link.inner_text() == "user-guide.pdf, page 3"
    href = link.get_attribute("href")
    assert href.endswith("#page=3") and "user-guide.pdf" in href
    quote = backing.locator(".quote").first.inner_text()
    assert "exit code" in quote.lower()
    pdf = page.request.get(link.evaluate("a => a.href").split("#")[0])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    if os.environ.get("RAG_SCREENSHOT"):
        page.screenshot(path=str(REPO / "docs" / "screenshot.png"), full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_a_follow_up_continues_the_conversation(page: Any) -> None:
    _ask(page, QUESTION)
    second = _ask(page, "And when nothing usable was found?")
    assert page.locator(".turn").count() == 2
    assert "ingest" in second.locator(".query").inner_text()  # the follow-up searched with the first question's terms
    assert second.locator(".sources li").count() >= 1
    page.click("#reset")
    assert page.locator(".turn").count() == 0


def test_the_documents_view_shows_indexed_and_failed_files(page: Any) -> None:
    page.click("#show-ingest")
    rows = page.locator("#sources tbody tr")
    rows.first.wait_for()
    failed = rows.filter(has_text="scan.pdf")
    assert failed.locator("td").nth(1).inner_text() == "failed" and failed.locator("td").nth(4).inner_text() != ""
    assert rows.filter(has_text="user-guide.pdf").locator("td").nth(1).inner_text() == "indexed"
    assert "failed" in page.locator("#index-summary").inner_text()


def test_with_a_token_the_page_asks_for_it_and_then_answers(tmp_path: Path) -> None:
    from indexes import HashEmbedder
    from rag.generation import EchoGenerator
    from tests.serve_support import write_corpus

    token = "page-token-0123456789abcdef"
    sync_api = pytest.importorskip("playwright.sync_api")
    generator = EchoGenerator("The harbour speed limit is 5 knots [1].")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([write_corpus(tmp_path / "docs")])
        with running(create_app(rag, ServeSettings(token=token))) as base, sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(base)
            page.fill("#question", "What is the harbour speed limit?")
            page.press("#question", "Enter")
            page.locator(".answer .error").wait_for()
            assert "token" in page.locator(".answer .error").inner_text()
            page.fill("#token", token)
            page.dispatch_event("#token", "change")
            turn = _ask(page, "What is the harbour speed limit?")
            assert turn.locator(".answer").inner_text() == "The harbour speed limit is 5 knots [1]."
            assert turn.locator("a.page-link").first.inner_text() == "harbour.md"
            browser.close()
