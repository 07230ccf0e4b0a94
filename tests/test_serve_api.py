"""rag serve's API over real HTTP: OpenAI clients get cited answers (and the `rag` document), streamed or not;
conversations, the shared generator, and the safety rules (token, allowed folders, limits, indexed files only)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from indexes import HashEmbedder
from rag import RAG
from rag.generation import EchoGenerator, Message
from rag.serve import ServeSettings, create_app
from tests.serve_support import running, write_corpus

TOKEN = "test-token-0123456789abcdef"


def _reply(messages: Sequence[Message]) -> str:
    question = messages[-1][1].lower()
    if "fee" in question:
        return "Boats up to 8 metres pay 18 euros per night [1]."
    if "colour" in question:
        return "The tower is painted bright purple."
    return "The harbour speed limit is 5 knots [1]."


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


@pytest.fixture
def rag(tmp_path: Path, docs: Path) -> Iterator[RAG]:
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=EchoGenerator(_reply),
                  workers=0) as opened:
        assert opened.ingest([docs]).exit_code == 0
        yield opened


def _serve(rag: RAG, tmp_path: Path, **settings: object) -> object:
    return running(create_app(rag, ServeSettings(upload_dir=tmp_path / "uploads", **settings)))  # type: ignore[arg-type]


@pytest.fixture
def url(rag: RAG, tmp_path: Path) -> Iterator[str]:
    with _serve(rag, tmp_path) as base:  # type: ignore[attr-defined]
        yield base


def _client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_openai_client_gets_a_cited_answer_with_the_rag_document(url: str, docs: Path) -> None:
    reply = _client(url).chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "What is the speed limit in the harbour?"}])
    assert reply.choices[0].message.content == "The harbour speed limit is 5 knots [1]."
    rag_doc = (reply.model_extra or {})["rag"]
    first = rag_doc["citations"][0]
    assert first["file"] == str(docs / "harbour.md") and first["cited"] and first["verified"]
    assert first["quote"] == "The harbour speed limit is 5 knots inside the breakwater."
    assert (first["page"], first["locator"], first["section"], first["ocr"]) == (None, None, None, False)
    assert rag_doc["answer"] == reply.choices[0].message.content and rag_doc["grounding"] == "model"


def test_openai_client_streams_pieces_then_the_rag_document_on_the_last_chunk(url: str, docs: Path) -> None:
    chunks = list(_client(url).chat.completions.create(
        model="rag", stream=True, messages=[{"role": "user", "content": "What is the speed limit in the harbour?"}]))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) >= 5  # word by word, not one lump
    assert "".join(pieces) == "The harbour speed limit is 5 knots [1]."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["rag"]["citations"][0]["file"] == str(docs / "harbour.md")
    assert all("rag" not in (c.model_extra or {}) for c in chunks[:-1])


def test_a_stream_ends_with_the_checked_answer_when_the_reply_does_not_hold(url: str) -> None:
    question = [{"role": "user", "content": "What colour is the Kestrel Point tower?"}]
    plain = _client(url).chat.completions.create(model="rag", messages=question)  # type: ignore[arg-type]
    streamed = "".join(c.choices[0].delta.content or "" for c in _client(url).chat.completions.create(
        model="rag", stream=True, messages=question))  # type: ignore[arg-type]
    checked = (plain.model_extra or {})["rag"]
    assert checked["grounding"] == "quote" and plain.choices[0].message.content == checked["answer"]
    assert streamed.startswith("The tower is painted bright purple.")
    assert streamed.endswith(checked["answer"]) and "does not hold" in streamed


def test_earlier_messages_are_the_conversation(url: str, rag: RAG) -> None:
    reply = _client(url).chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "What is the speed limit in the Kestrel harbour?"},
        {"role": "assistant", "content": "The harbour speed limit is 5 knots [1]."},
        {"role": "user", "content": "and the fees for it?"}])
    rag_doc = (reply.model_extra or {})["rag"]
    assert "harbour" in rag_doc["query"] and rag_doc["query"].startswith("and the fees for it?")
    assert "18 euros" in (reply.choices[0].message.content or "")
    seen = rag.generator.calls[-1]  # type: ignore[attr-defined]
    assert ("user", "What is the speed limit in the Kestrel harbour?") in seen
    assert ("assistant", "The harbour speed limit is 5 knots.") in seen  # markers stripped, as rag chat does
    assert all(content != "ignored" for _, content in seen)


def test_models_lists_the_served_model_and_others_are_refused(url: str) -> None:
    client = _client(url)
    assert [m.id for m in client.models.list()] == ["rag"]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"


class _SlowGenerator(EchoGenerator):
    """Echoes a tag from the question, piece by piece, and records how many streams ran at once."""

    def __init__(self) -> None:
        super().__init__(lambda m: " ".join(re.findall(r"tag\d+", m[-1][1])[-1:] * 6))
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[Message], **kwargs: object) -> Iterator[str]:  # type: ignore[override]
        pieces = super().stream(messages, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            for piece in pieces:
                time.sleep(0.005)
                yield piece
        finally:
            with self._lock:
                self.running -= 1


def test_concurrent_requests_queue_for_the_one_generator(tmp_path: Path, docs: Path) -> None:
    generator = _SlowGenerator()
    with RAG.open(tmp_path / "idx2", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([docs])
        with _serve(rag, tmp_path) as url:  # type: ignore[attr-defined]
            def ask(i: int) -> str:
                stream = _client(url).chat.completions.create(model="rag", stream=True, messages=[
                    {"role": "user", "content": f"Which harbour rule is tag{i}?"}])
                return "".join(c.choices[0].delta.content or "" for c in stream)

            with ThreadPoolExecutor(8) as pool:
                replies = list(pool.map(ask, range(8)))
    assert generator.most == 1
    for i, reply in enumerate(replies):
        assert reply.split()[:6] == [f"tag{i}"] * 6  # its own tokens, none of another request's


def test_search_sources_status_and_health(url: str, docs: Path) -> None:
    hits = httpx.post(f"{url}/v1/search", json={"query": "Kestrel Point tower", "top_k": 1}).json()["hits"]
    assert hits[0]["file"] == str(docs / "tower.md") and "31 metres" in hits[0]["text"]
    assert (hits[0]["page"], hits[0]["locator"], hits[0]["section"], hits[0]["ocr"]) == (None, None, None, False)
    sources = httpx.get(f"{url}/v1/sources").json()
    assert sources["totals"] == {"indexed": 2, "failed": 0}
    assert {s["units"] for s in sources["sources"]} == {"pages"}
    assert httpx.get(f"{url}/v1/status").json()["counts"]["sources"] == 2
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_a_token_is_required_when_configured(rag: RAG, tmp_path: Path) -> None:
    with _serve(rag, tmp_path, token=TOKEN) as url:  # type: ignore[attr-defined]
        with pytest.raises(openai.AuthenticationError):
            _client(url, "wrong-token").models.list()
        missing = httpx.get(f"{url}/v1/sources")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_token"
        assert [m.id for m in _client(url, TOKEN).models.list()] == ["rag"]
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_ingest_reads_only_under_allowed_folders(rag: RAG, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "ferry.md").write_text("The ferry to Gull Island leaves at 07:40 every weekday.\n", encoding="utf-8")
    secret = tmp_path / "secret.md"
    secret.write_text("The vault code is 4711.\n", encoding="utf-8")
    with _serve(rag, tmp_path, allow_dirs=(allowed,)) as url:  # type: ignore[attr-defined]
        outside = httpx.post(f"{url}/v1/ingest", json={"paths": [str(secret)]})
        assert outside.status_code == 403 and outside.json()["error"]["code"] == "path_not_allowed"
        dotted = httpx.post(f"{url}/v1/ingest", json={"paths": [f"{allowed}/../secret.md"]})
        assert dotted.status_code == 403
        stranger = httpx.post(f"{url}/v1/ingest", json={"paths": ["~0"]})  # no user "0": no home to expand to
        assert stranger.status_code == 400 and stranger.json()["error"]["code"] == "invalid_path"
        (allowed / "link.md").symlink_to(secret)
        linked = httpx.post(f"{url}/v1/ingest", json={"paths": [str(allowed)]})
        assert linked.status_code == 403 and "link.md" in linked.json()["error"]["message"]
        (allowed / "link.md").unlink()
        report = httpx.post(f"{url}/v1/ingest", json={"paths": [str(allowed)]}).json()
        assert report["exit_code"] == 0
        hits = httpx.post(f"{url}/v1/search", json={"query": "ferry Gull Island", "top_k": 1}).json()["hits"]
        assert hits[0]["file"] == str(allowed / "ferry.md")
    assert all("4711" not in h.chunk.text for h in rag.search("vault code", 5))


def test_an_uploaded_file_is_ingested_under_a_clean_name(rag: RAG, tmp_path: Path) -> None:
    with _serve(rag, tmp_path, max_upload_bytes=1000) as url:  # type: ignore[attr-defined]
        body = b"The lighthouse keeper's cottage has 4 rooms.\n"
        report = httpx.post(f"{url}/v1/ingest/upload", params={"filename": "../../cottage.md"}, content=body).json()
        assert report["exit_code"] == 0
        assert (tmp_path / "uploads" / "cottage.md").read_bytes() == body
        too_big = httpx.post(f"{url}/v1/ingest/upload", params={"filename": "big.md"}, content=b"x" * 2000)
        assert too_big.status_code == 413 and not (tmp_path / "uploads" / "big.md").exists()
        files = [s["path"] for s in httpx.get(f"{url}/v1/sources").json()["sources"]]
    assert str(tmp_path / "uploads" / "cottage.md") in files


def test_only_indexed_files_are_served(url: str, docs: Path) -> None:
    served = httpx.get(f"{url}/v1/file", params={"path": str(docs / "tower.md")})
    assert served.status_code == 200 and "31 metres" in served.text
    for path in ("/etc/passwd", f"{docs}/../idx/manifest.json", str(docs)):
        refused = httpx.get(f"{url}/v1/file", params={"path": path})
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_indexed"


def test_an_indexed_web_page_is_served_as_inert_text(rag: RAG, tmp_path: Path) -> None:
    """A saved web page among the documents must not run its script with the server's origin."""
    page = tmp_path / "saved.html"
    page.write_text("<html><body><p>The ferry leaves at nine.</p><script>fetch('/v1/sources')</script></body></html>")
    rag.ingest([page])
    with _serve(rag, tmp_path) as url:  # type: ignore[attr-defined]
        served = httpx.get(f"{url}/v1/file", params={"path": str(page)})
    assert served.status_code == 200 and "<script>" in served.text
    assert served.headers["content-type"].startswith("text/plain")
    assert "sandbox" in served.headers["content-security-policy"] and served.headers["x-content-type-options"] == "nosniff"


def test_concurrent_uploads_of_one_name_never_mix(rag: RAG, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    bodies = [f"Upload {n}: the keeper's log, entry {n}.\n".encode() * 200 for n in range(4)]
    with _serve(rag, tmp_path) as url, ThreadPoolExecutor(4) as pool:  # type: ignore[attr-defined]
        replies = list(pool.map(lambda b: httpx.post(f"{url}/v1/ingest/upload", params={"filename": "log.md"},
                                                     content=b, timeout=120), bodies))
    assert [r.status_code for r in replies] == [200] * 4
    assert (tmp_path / "uploads" / "log.md").read_bytes() in bodies  # one whole upload, never a mix
    assert not list((tmp_path / "uploads").glob(".*.part"))


def test_limits_and_browser_protections(rag: RAG, tmp_path: Path) -> None:
    with _serve(rag, tmp_path, max_body_bytes=2000, max_question_chars=100) as url:  # type: ignore[attr-defined]
        chat = f"{url}/v1/chat/completions"
        big = httpx.post(chat, json={"model": "rag", "messages": [{"role": "user", "content": "x" * 3000}]})
        assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
        long = httpx.post(chat, json={"model": "rag", "messages": [{"role": "user", "content": "why " * 40}]})
        assert long.status_code == 400 and long.json()["error"]["code"] == "question_too_long"
        empty = httpx.post(chat, json={"model": "rag", "messages": [{"role": "user", "content": "  "}]})
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_question"
        rebound = httpx.get(f"{url}/v1/sources", headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 421
        forged = httpx.post(f"{url}/v1/search", json={"query": "tower"}, headers={"Origin": "http://attacker.example"})
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "cross_origin"
        bad_json = httpx.post(chat, content=b"{", headers={"Content-Type": "application/json"})
        assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"


def test_a_client_that_goes_away_stops_its_generation(tmp_path: Path, docs: Path) -> None:
    pieces = 400
    yielded: list[str] = []

    class Endless(EchoGenerator):
        def stream(self, messages: Sequence[Message], **kwargs: object) -> Iterator[str]:  # type: ignore[override]
            for i in range(pieces):
                time.sleep(0.01)
                yielded.append(str(i))
                yield f" w{i}"

    with RAG.open(tmp_path / "idx3", create=True, embedder=HashEmbedder(), generator=Endless(), workers=0,
                  max_answer_tokens=1000) as rag:
        rag.ingest([docs])
        with _serve(rag, tmp_path) as url:  # type: ignore[attr-defined]
            body = {"model": "rag", "stream": True, "messages": [{"role": "user", "content": "harbour speed limit?"}]}
            with httpx.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                lines = response.iter_lines()
                assert next(lines).startswith("data: ")
            time.sleep(1.0)
            stopped_at = len(yielded)
            time.sleep(0.5)
            assert len(yielded) == stopped_at < pieces  # no more pieces after the client left
            assert httpx.get(f"{url}/v1/status").json()["server"]["answers_in_progress"] == 0


def test_search_is_answered_while_an_answer_is_being_generated(tmp_path: Path, docs: Path) -> None:
    generating = threading.Event()
    release = threading.Event()

    class Held(EchoGenerator):
        def stream(self, messages: Sequence[Message], **kwargs: object) -> Iterator[str]:  # type: ignore[override]
            yield "The harbour"
            generating.set()
            release.wait(20)
            yield " speed limit is 5 knots [1]."

    with RAG.open(tmp_path / "idx4", create=True, embedder=HashEmbedder(), generator=Held(), workers=0) as rag:
        rag.ingest([docs])
        with _serve(rag, tmp_path) as url, ThreadPoolExecutor(1) as pool:  # type: ignore[attr-defined]
            answer = pool.submit(lambda: _client(url).chat.completions.create(
                model="rag", messages=[{"role": "user", "content": "What is the harbour speed limit?"}]))
            assert generating.wait(20)
            started = time.monotonic()
            hits = httpx.post(f"{url}/v1/search", json={"query": "Kestrel Point tower"}, timeout=5).json()["hits"]
            assert time.monotonic() - started < 2 and hits[0]["file"].endswith("tower.md")
            assert not answer.done()  # the generation was still holding the model
            release.set()
            assert answer.result(timeout=20).choices[0].message.content == "The harbour speed limit is 5 knots [1]."
