"""`rag eval qa`: SQuAD loading, sampling, answer metrics, and the evaluation loop with fakes and real models."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from indexes import HashEmbedder
from rag.evaluation.qa import answer_tokens, contains_gold, evaluate_qa, load_squad, sample_indices, token_f1
from rag.generation import EchoGenerator

from .conftest import shared

SQUAD = {"version": "1.1", "data": [
    {"title": "Kestrel Point", "paragraphs": [
        {"context": "The Kestrel Point tower is 31 metres tall. It was first lit on 14 March 1887.",
         "qas": [{"id": "k1", "question": "How tall is the Kestrel Point tower?",
                  "answers": [{"text": "31 metres", "answer_start": 27}]},
                 {"id": "k2", "question": "When was the Kestrel Point tower first lit?",
                  "answers": [{"text": "14 March 1887", "answer_start": 63}]}]},
        {"context": "Agnes Moreau kept the light from 1921 to 1954.",
         "qas": [{"id": "k3", "question": "Who kept the light from 1921 to 1954?",
                  "answers": [{"text": "Agnes Moreau", "answer_start": 0}]}]}]},
    {"title": "Harbour rules", "paragraphs": [
        {"context": "The speed limit inside the harbour is 5 knots. Boats up to 8 metres pay 18 euros per night.",
         "qas": [{"id": "h1", "question": "What is the speed limit inside the harbour?",
                  "answers": [{"text": "5 knots", "answer_start": 38}]},
                 {"id": "h2", "question": "How much do boats up to 8 metres pay per night?",
                  "answers": [{"text": "18 euros", "answer_start": 72}, {"text": "18 euros per night",
                                                                         "answer_start": 72}]}]}]}]}
KEYS = {"retrieval_hit@5", "contains_gold", "f1", "citation_accuracy", "abstention", "false_abstention",
        "latency_ms", "questions"}


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    return path


def test_squad_json_and_flat_jsonl_give_the_same_questions_with_gold_spans(squad_file: Path, tmp_path: Path) -> None:
    data = load_squad(squad_file)
    assert [q.id for q in data.questions] == ["k1", "k2", "k3", "h1", "h2"]
    assert data.titles == ("Kestrel Point", "Harbour rules") and data.documents[0].count("\n\n") == 2
    for q in data.questions:
        for (start, end), gold in zip(q.spans, q.answers, strict=True):
            assert data.documents[q.article][start:end] == gold
    flat = tmp_path / "tiny.flat.jsonl"
    rows = [{"id": qa["id"], "title": a["title"], "paragraph_index": n, "context": p["context"],
             "question": qa["question"], "answers": [x["text"] for x in qa["answers"]],
             "answer_starts": [x["answer_start"] for x in qa["answers"]]}
            for a in SQUAD["data"] for n, p in enumerate(a["paragraphs"]) for qa in p["qas"]]
    flat.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert load_squad(flat) == data


def test_xquad_flat_file_matches_its_json_order() -> None:
    json_questions = load_squad(shared("qa", "xquad", "xquad.en.json")).questions
    flat_questions = load_squad(shared("qa", "xquad", "xquad.en.flat.jsonl")).questions
    assert len(json_questions) == 1190 and [q.id for q in json_questions] == [q.id for q in flat_questions]


def test_sample_is_random_sample_over_the_flat_list() -> None:
    assert sample_indices(1190, 200, 0) == random.Random(0).sample(range(1190), 200)
    assert sample_indices(5, None) == [0, 1, 2, 3, 4] and sample_indices(5, 10) == [0, 1, 2, 3, 4]


def test_answer_metrics() -> None:
    assert contains_gold("The tower is 31 metres tall [1].", ["31 metres"])
    assert not contains_gold("The tower is 131 metres tall.", ["31 metres"])  # token boundaries
    assert contains_gold("It is the Broncos!", ["Denver Broncos", "the Broncos"])
    assert token_f1("Denver Broncos", ["Denver Broncos"]) == 1.0
    assert token_f1("the Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)
    assert token_f1("nothing", ["Denver Broncos"]) == 0.0
    assert answer_tokens("北京大学。") == ["北", "京", "大", "学"]
    assert contains_gold("他在北京大学学习", ["北京大学"]) and token_f1("北京大学", ["北京"]) == pytest.approx(2 / 3)


def test_evaluation_loop_with_fakes(squad_file: Path, tmp_path: Path) -> None:
    generator = EchoGenerator("I am not sure about that at all.")  # never supported: answers fall back to quotes
    report = evaluate_qa(squad_file, workdir=tmp_path / "work", embedder=HashEmbedder(), generator=generator,
                         settings={"top_k": 2})
    data = report.to_json(details=True)
    assert set(data) >= (KEYS - {"retrieval_hit@5"}) | {"retrieval_hit@2", "negatives", "grounding", "settings"}
    assert data["questions"] == 5 and data["negatives"] == 5
    assert data["grounding"] == {"quote": 5}  # HashEmbedder: no calibrated threshold, so nothing abstains early
    assert data["model_contains_gold"] == 0.0
    assert data["false_abstention"] == 0.0 and data["abstention"] == 0.0
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["h1"]["retrieval_hit"] and by_id["h1"]["contains_gold"] and by_id["h1"]["citation_correct"]
    assert data["latency_ms"]["p95"] >= data["latency_ms"]["p50"] > 0
    # A second run reuses the indexes and gives the same answers.
    again = evaluate_qa(squad_file, workdir=tmp_path / "work", embedder=HashEmbedder(), generator=EchoGenerator(
        "I am not sure about that at all."), settings={"top_k": 2}, indices=[3])
    assert again.results[0].answer == by_id["h1"]["answer"]


@pytest.mark.model
def test_cli_eval_qa_json_with_default_models(squad_file: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "rag", "eval", "qa", str(squad_file), "--sample", "3", "--seed", "1",
                           "--workdir", str(tmp_path / "work"), "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= KEYS and data["questions"] == 3 and data["negatives"] == 3
    assert set(data["latency_ms"]) == {"p50", "p95"}
    assert data["retrieval_hit@5"] == 1.0  # two short articles: the gold paragraph is always retrieved
    assert data["settings"]["abstain_threshold"] is not None
