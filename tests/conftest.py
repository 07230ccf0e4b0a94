"""Shared fixtures: isolated state, real models loaded once, sample corpus, shared data."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export cache for the session (``$XDG_CACHE_HOME``): each backend is exported once, never into ~/.cache."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embed_cache: Path) -> None:
    """All state under tmp_path: no user config, index or data dir leaks into a test."""
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "rag-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(embed_cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for key in ("RAG_CONFIG", "RAG_INDEX", "RAG_MODEL", "RAG_EMBEDDER", "RAG_EMBED_BACKEND", "RAG_TOP_K", "RAG_N_CTX",
                "RAG_TRUST_LOCAL_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def shared(*parts: str) -> Path:
    """A path in ../shared/data, or skip the test when that data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared evaluation data not found at {path}")
    return path


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's sample documents, with the user-guide PDF built from docs/user-guide.md."""
    target = tmp_path_factory.mktemp("samples")
    for path in (REPO / "samples").iterdir():
        if path.suffix in (".md", ".html", ".txt"):
            shutil.copy(path, target / path.name)
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_sample_pdf.py"), str(REPO / "docs" / "user-guide.md"),
                    str(target / "user-guide.pdf")], check=True)
    return target


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    from indexes import load_embedder

    return load_embedder(None)


@pytest.fixture(scope="session")
def real_generator() -> Iterator[object]:
    from rag.generation import LlamaCppGenerator
    from rag.generation.models import default_model_path

    generator = LlamaCppGenerator(default_model_path(), n_ctx=4096)
    yield generator
    generator.close()


@contextlib.contextmanager
def ingested(directory: Path, folder: Path, embedder: Any, generator: Any) -> Iterator[Any]:
    """A ``RAG`` over a new index at ``directory`` holding ``folder`` (every file ingested)."""
    from rag import RAG

    rag = RAG.open(directory, create=True, embedder=embedder, generator=generator, workers=0)
    try:
        assert rag.ingest([folder]).exit_code == 0
        yield rag
    finally:
        rag.close()
