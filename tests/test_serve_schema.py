"""Schemathesis against rag serve's OpenAPI document, over real HTTP: valid and malformed requests
(wrong types, missing fields, odd strings) to every operation never get a 500, and every refusal is OpenAI-style JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from indexes import HashEmbedder
from rag import RAG
from rag.generation import EchoGenerator
from rag.serve import ServeSettings, create_app
from tests.serve_support import running, write_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("schema")
    allowed = write_corpus(root / "docs")
    generator = EchoGenerator("The harbour speed limit is 5 knots [1].")
    with RAG.open(root / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([allowed])
        app = create_app(rag, ServeSettings(allow_dirs=(allowed,), upload_dir=root / "uploads",
                                            max_upload_bytes=4096))
        with running(app) as url:
            yield url


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(served: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /v1/chat/completions", "POST /v1/search", "POST /v1/ingest", "GET /v1/file"}
    exercised: set[str] = set()
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(timeout=30)
            where = f"{case.method} {case.formatted_path}"
            exercised.add(f"{case.method} {case.path}")
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"], f"{where}: {response.text}"

        try:
            check()
        except Unsatisfiable:  # nothing to make malformed (an operation without parameters or body)
            assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.query
    assert {"POST /v1/chat/completions", "POST /v1/search", "POST /v1/ingest", "GET /v1/file"} <= exercised
