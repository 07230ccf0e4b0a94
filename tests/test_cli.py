"""The CLI: arguments, exit codes, one-line errors, JSON on stdout only.

Runs ``rag.cli.main`` in-process with the HashEmbedder (``--embedder hash``);
the real models are exercised through the CLI in test_end_to_end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexes.manifest import FORMAT_VERSION
from rag.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_search_sources_status_remove(tmp_path: Path, sample_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    code, out, err = _run(capsys, "--embedder", "hash", "ingest", str(sample_dir), "--index", idx, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["totals"]["added"] == 3 and len(report["files"]) == 3

    code, out, _ = _run(capsys, "search", "harbour speed limit knots", "--index", idx, "--json", "--top-k", "2")
    assert code == 0
    hits = json.loads(out)["hits"]
    assert [h["rank"] for h in hits] == [1, 2]
    assert hits[0]["file"].endswith("tide-table.html") and hits[0]["page"] is None
    assert set(hits[0]) >= {"file", "page", "score", "text", "chunk_id"}

    code, out, _ = _run(capsys, "sources", "--index", idx)
    assert code == 0 and "3 indexed, 0 failed" in out

    code, out, _ = _run(capsys, "status", "--index", idx, "--check")
    assert code == 0 and "check:      ok" in out and f"format:     version {FORMAT_VERSION}" in out

    code, out, _ = _run(capsys, "remove", str(sample_dir / "tide-table.html"), "--index", idx)
    assert code == 0 and "1 file(s) removed" in out
    code, out, _ = _run(capsys, "status", "--index", idx, "--json")
    assert json.loads(out)["counts"]["sources"] == 2


def test_dry_run_prints_plan(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--embedder", "hash", "ingest", str(sample_dir), "--index", str(tmp_path / "i"),
                        "--dry-run")
    assert code == 0 and out.count("new ") == 3 and "would change: 3 new" in out


def test_missing_index_is_one_line_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "search", "anything", "--index", str(tmp_path / "nope"))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith("rag: error: no index at") and "rag ingest" in err


def test_empty_question_is_a_usage_error(tmp_path: Path, sample_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    _run(capsys, "--embedder", "hash", "ingest", str(sample_dir / "harbor-lighthouse.md"), "--index", idx)
    code, _, err = _run(capsys, "ask", "   ", "--index", idx)
    assert code == 1 and err.startswith("rag: error: the question is empty") and "Traceback" not in err


def test_missing_model_file_is_one_line(tmp_path: Path, sample_dir: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    _run(capsys, "--embedder", "hash", "ingest", str(sample_dir / "harbor-lighthouse.md"), "--index", idx)
    code, _, err = _run(capsys, "ask", "How tall is the tower?", "--index", idx, "--model", str(tmp_path / "x.gguf"))
    assert code == 1 and "x.gguf" in err and err.count("\n") == 1


def test_embedder_mismatch_is_refused(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    _run(capsys, "--embedder", "hash", "ingest", str(sample_dir / "harbor-lighthouse.md"), "--index", idx)
    code, _, err = _run(capsys, "--embedder", "hash-embedder-32", "search", "tower", "--index", idx)
    assert code == 1 and "was built with embedder" in err


def test_exit_code_2_when_some_files_fail(tmp_path: Path, sample_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"")
    code, out, _ = _run(capsys, "--embedder", "hash", "ingest", str(sample_dir / "harbor-lighthouse.md"), str(bad),
                        "--index", str(tmp_path / "idx"))
    assert code == 2 and "failed    " in out and "bad.pdf: empty" in out


def test_config_command_shows_effective_values(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "8")
    code, out, _ = _run(capsys, "config", "--json")
    assert code == 0 and json.loads(out)["top_k"] == 8


@pytest.mark.parametrize("argv", [["frobnicate"], ["ask"], ["search", "q", "--top-k", "many"], ["eval", "beir"],
                                  ["ingest", "--no-such-flag", "x"]])
def test_usage_errors_exit_1_not_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 means "some inputs failed"; a mistyped command line is a usage error: 1, with the usage line."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: rag") and "error:" in err


def test_ingest_flags_for_links_and_failed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--follow-symlinks and --retry-failed reach the ingest options; by default a link out of the
    folder is skipped and an unchanged failed file is not read again."""
    secret = tmp_path / "outside" / "credentials.txt"
    secret.parent.mkdir()
    secret.write_text("aws_secret_access_key = hunter2hunter2\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").symlink_to(secret)
    (docs / "bad.pdf").write_bytes(b"")
    (docs / "keeper.md").write_text("# Keeper\n\nThe keeper trims the lamp wick every night.\n")
    idx = str(tmp_path / "idx")

    def ingest(*flags: str) -> dict[str, dict[str, object]]:
        code, out, err = _run(capsys, "--embedder", "hash", "ingest", str(docs), "--index", idx, "--json", *flags)
        assert code == 2, err  # bad.pdf fails every time
        return {Path(f["path"]).name: f for f in json.loads(out)["files"]}

    first = ingest()
    assert first["notes.txt"]["status"] == "skipped" and first["notes.txt"]["reason"] == "symlink_outside"
    assert first["bad.pdf"]["status"] == "failed" and "not_retried" not in first["bad.pdf"].get("flags", [])
    second = ingest()
    assert "not_retried" in second["bad.pdf"]["flags"]
    third = ingest("--retry-failed", "--follow-symlinks")
    assert "not_retried" not in third["bad.pdf"].get("flags", [])
    assert third["notes.txt"]["status"] in ("added", "indexed")
    code, out, _ = _run(capsys, "--embedder", "hash", "search", "hunter2hunter2", "--index", idx, "--json", "--mode", "bm25")
    assert code == 0 and [Path(h["file"]).name for h in json.loads(out)["hits"]] == ["notes.txt"]
