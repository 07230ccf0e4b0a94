"""`rag eval` end to end on small BEIR and SQuAD files written here (HashEmbedder: fast, deterministic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index
from rag.cli import main
from rag.evaluation.beir import build_corpus_index, load_beir

TOPICS = {
    "d1": ("Lighthouse keepers", "The keeper trims the lamp wick and winds the clockwork every night."),
    "d2": ("Ferry timetable", "Ferries to the island leave the harbour every hour in summer."),
    "d3": ("Granite quarry", "Granite blocks were cut from the quarry and shipped by barge."),
    "d4": ("Storm warnings", "Gale flags are hoisted when the barometer falls quickly."),
    "d5": ("Tide tables", "Spring tides follow the full and new moon by a day or two."),
    # Longer than one 200-token chunk: the relevant sentence sits in its last chunk.
    "d6": ("Harbour history", " ".join(["The old harbour wall was rebuilt many times."] * 40)
           + " Smugglers hid brandy casks inside the ruined customs house."),
}
QUERIES = {"q1": "who trims the lamp wick", "q2": "when do ferries leave for the island",
           "q3": "where did smugglers hide brandy casks", "q4": "gale flags barometer"}
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d6", 2), ("q4", "d4", 1), ("q4", "d5", 0)]


def _beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as handle:
        for doc_id, (title, text) in TOPICS.items():
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text, "metadata": {}}) + "\n")
    with open(folder / "queries.jsonl", "w") as handle:
        for qid, text in {**QUERIES, "q-unjudged": "nothing"}.items():
            handle.write(json.dumps({"_id": qid, "text": text, "metadata": {}}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                               + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS))
    return folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--embedder", "hash", "eval", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_beir_json_builds_then_reuses_the_cached_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _beir(tmp_path / "tiny")
    code, out, err = _run(capsys, "beir", str(folder), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"ndcg@10", "recall@10", "recall@100", "mrr@10", "latency_ms", "queries", "mode"} <= set(result)
    assert result["queries"] == 4 and result["mode"] == "hybrid" and result["documents"] == 6
    assert result["chunks"] > 6  # d6 spans several chunks and still counts once, at its best chunk
    assert result["mrr@10"] == 1.0 and result["recall@10"] == 1.0 and result["ndcg@10"] == 1.0
    assert set(result["latency_ms"]) == {"p50", "p95"} and 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]
    index_dir = Path(result["index"])
    assert index_dir.is_relative_to(tmp_path / "rag-home" / "eval")  # cached under $RAG_HOME
    generation = Index.open(index_dir).generation

    code, out, _ = _run(capsys, "beir", str(folder), "--json", "--mode", "bm25")
    again = json.loads(out)
    assert code == 0 and again["mode"] == "bm25" and again["index"] == str(index_dir)
    assert Index.open(index_dir).generation == generation  # reused, not rebuilt

    code, out, _ = _run(capsys, "beir", str(folder), "--mode", "dense", "--max-queries", "2")
    assert code == 0 and "2 queries" in out and "ndcg@10" in out and "latency" in out


def test_eval_into_a_given_index_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = load_beir(_beir(tmp_path / "tiny"))
    emb = HashEmbedder()
    partial = {k: data.corpus[k] for k in ("d1", "d2")}
    build_corpus_index(tmp_path / "mine", partial, emb).close()  # as if interrupted after two documents
    code, out, _ = _run(capsys, "beir", str(tmp_path / "tiny"), "--index", str(tmp_path / "mine"), "--json")
    assert code == 0 and json.loads(out)["documents"] == 6
    with Index.open(tmp_path / "mine") as index:
        assert index.check() == [] and index.manifest.settings["header"]["title"] == "document title"


def test_eval_never_writes_into_the_users_own_index(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """RAG_INDEX and rag.toml name the user's index; an evaluation builds in its own cache instead."""
    mine = tmp_path / "my-index"
    monkeypatch.setenv("RAG_INDEX", str(mine))
    (tmp_path / "conf.toml").write_text(f'index = "{mine}"\n')
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "conf.toml"))
    code, out, err = _run(capsys, "beir", str(_beir(tmp_path / "tiny")), "--json")
    assert code == 0, err
    assert not mine.exists()
    assert Path(json.loads(out)["index"]).is_relative_to(tmp_path / "rag-home" / "eval")


def test_eval_squad_reports_paragraph_hits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    squad = {"version": "1.1", "data": [
        {"title": "Lighthouse", "paragraphs": [
            {"context": TOPICS["d1"][1], "qas": [{"id": "a", "question": QUERIES["q1"], "answers": []}]},
            {"context": TOPICS["d4"][1], "qas": [{"id": "b", "question": QUERIES["q4"], "answers": []}]}]},
        {"title": "Ferry", "paragraphs": [
            {"context": TOPICS["d2"][1], "qas": [{"id": "c", "question": QUERIES["q2"], "answers": []}]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad))
    code, out, err = _run(capsys, "squad", str(path), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["hit@1"] == 1.0 and result["hit@5"] == 1.0 and result["queries"] == 3 and result["documents"] == 3
    assert "ndcg@10" not in result


def test_eval_of_a_folder_that_is_not_beir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = _run(capsys, "beir", str(tmp_path / "empty"))
    assert code == 1 and out == "" and err.count("\n") == 1 and "missing corpus.jsonl" in err
