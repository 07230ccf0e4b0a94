"""The abstention decision: evidence scores, the threshold, refusals, calibration."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexes import DEFAULT_EMBEDDER, Chunk, HashEmbedder, Hit
from rag import RAG
from rag.answering.abstention import (
    CALIBRATED,
    EVIDENCE_THRESHOLD,
    Calibration,
    Evidence,
    calibrate_threshold,
    calibration_for,
    evidence_for,
    is_refusal,
    lexical_overlap,
    overrules_refusal,
    script_of,
    should_abstain,
    threshold_for,
)
from rag.answering.excerpts import Sentence
from rag.generation import EchoGenerator

from .conftest import REPO


def _hit(text: str, rank: int = 0) -> Hit:
    return Hit(Chunk(f"c{rank}", f"/d/{rank}.txt", None, text, 0, len(text)), 1.0 - rank / 10)


def test_lexical_overlap_counts_the_questions_words_and_numbers_found() -> None:
    assert lexical_overlap("When was the Kestrel tower lit?", "The Kestrel tower was first lit in 1887.") == 1.0
    assert lexical_overlap("When was the Kestrel tower lit in 1887?", "The Kestrel tower was lit in 1890.") == 0.75
    assert lexical_overlap("Who won the 2018 World Cup?", "Tides are high in March.") == 0.0
    assert lexical_overlap("the of and", "anything") == 0.0


def test_evidence_takes_the_best_sentence_similarity_and_chunk_overlap_of_the_top_three() -> None:
    hits = [_hit("Rent is paid monthly.", 0), _hit("The lease ends in 2031.", 1), _hit("Cats are fine.", 2),
            _hit("The lease ends when the tenant leaves.", 3)]
    sentences = [Sentence(0, 0, "Rent is paid monthly.", 0, 0.2), Sentence(1, 0, "The lease ends in 2031.", 2, 0.7),
                 Sentence(3, 0, "The lease ends when the tenant leaves.", 2, 0.95)]
    evidence = evidence_for("When does the lease end?", hits, sentences)
    assert evidence.similarity == 0.7  # rank 3 is beyond the evidence depth
    assert evidence.overlap == 1.0
    assert evidence.score == pytest.approx(0.7 + CALIBRATED["latin"].weight * 1.0)
    assert evidence_for("When does the lease end?", hits, sentences, weight=2.0).score == pytest.approx(2.7)
    assert evidence_for("anything", [], []).score == 0.0


def test_threshold_decision() -> None:
    assert should_abstain(Evidence(0.2, 0.1), 0.5) and not should_abstain(Evidence(0.6, 0.0), 0.5)
    assert not should_abstain(Evidence(0.0, 0.0), None)  # no threshold: only the model's refusal abstains
    assert threshold_for(DEFAULT_EMBEDDER, None) == EVIDENCE_THRESHOLD
    assert threshold_for("hash-embedder", None) is None  # an uncalibrated similarity scale
    assert threshold_for("hash-embedder", 0.7) == 0.7 and threshold_for(DEFAULT_EMBEDDER, 0) is None


@pytest.mark.parametrize("text", [
    "The documents don't answer this.", "The documents do not answer this question.",
    "The sources do not mention the height of the tower.", "The context does not say who won.",
    "The information provided does not specify the date.", "I cannot find that in the documents.",
    "This is not mentioned in the sources.", "There is no information about the 2018 World Cup in the sources."])
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize("text", [
    "The tower is 31 metres tall [1].", "Charter schools do not require certified teachers [2].",
    "The lease does not allow dogs.", "No dogs are allowed inside the tower."])
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


def test_calibration_picks_the_lowest_threshold_reaching_the_target() -> None:
    negatives = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    positives = [0.55, 0.85, 0.95, 1.2, 1.3]
    threshold, abstain, false = calibrate_threshold(positives, negatives, target=0.9)
    assert 0.9 < threshold <= 0.9001 and abstain == 0.9 and false == 0.4
    threshold, abstain, _ = calibrate_threshold(positives, negatives, target=0.5)
    assert 0.5 < threshold <= 0.5001 and abstain == 0.5
    with pytest.raises(ValueError):
        calibrate_threshold(positives, [], 0.9)


def test_the_calibration_follows_the_questions_script() -> None:
    assert script_of("How tall is the tower?") == "latin" and script_of("Wie hoch ist der Turm?") == "latin"
    assert script_of("灯塔有多高？") == "cjk" and script_of("Kestrel Point 灯塔有多高？") == "cjk"
    assert calibration_for(DEFAULT_EMBEDDER, None, "灯塔有多高？") == CALIBRATED["cjk"]
    assert calibration_for(DEFAULT_EMBEDDER, None, "How tall?") == CALIBRATED["latin"]
    assert calibration_for(DEFAULT_EMBEDDER, 0.6, "灯塔有多高？") == Calibration(CALIBRATED["cjk"].weight, 0.6, None)
    assert calibration_for("hash-embedder", None, "How tall?") is None


def test_only_strong_evidence_overrules_the_models_refusal() -> None:
    calibration = Calibration(0.5, 0.5, 1.0)
    assert overrules_refusal(Evidence(0.8, 0.5, 0.5), calibration) and Evidence(0.8, 0.5, 0.5).score == 1.05
    assert not overrules_refusal(Evidence(0.6, 0.0), calibration)
    assert not overrules_refusal(Evidence(2.0, 1.0), Calibration(0.5, 0.5, None))
    assert not overrules_refusal(Evidence(2.0, 1.0), None)


def test_anchors_are_the_names_a_question_stands_on() -> None:
    from rag.answering.anchors import anchors

    assert anchors("What exact-match score does BERT-Large reach on the Natural Questions benchmark?", strict=True) \
        == ["BERT-Large", "Natural", "Questions", "Natural Questions"]
    assert anchors("How should a nonresident alien report crypto on Form 1040NR?", strict=False) == ["1040NR"]
    assert anchors("How many attention heads does the base model use?", strict=True) == []
    # German capitalises every noun: only acronyms, mixed case and codes count there
    assert anchors("Welches Lehrbuch empfiehlt das Skript für TPC-H?", strict=True) == ["TPC-H"]
    # an amount the question gives sets the case asked about; a year or a code names something
    assert anchors("How long will the migration take for a 300 GB cache?", strict=True) == []
    assert anchors("What does it cost to ship 250 kg, or £1,500 of goods, under the 2019 rules?", strict=True) == [
        "2019"]
    assert anchors("What did the 2019 staff survey find about the 2024 day rates?", strict=True) == ["2019", "2024"]
    assert anchors("What did the 2019 TB survey find?", strict=True) == ["TB", "2019"]
    assert anchors("Can the lift take 2000 kg?", strict=True) == []


@contextlib.contextmanager
def _indexed(tmp_path: Path, generator: EchoGenerator, files: dict[str, str]) -> Iterator[RAG]:
    """A RAG over ``files`` (name: text) with the hashing embedder, abstaining on what the chunks lack only."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text)
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0,
                  abstain_threshold=0.0001) as rag:
        rag.ingest([docs])
        yield rag


def test_a_named_term_no_chunk_holds_abstains_before_the_model(tmp_path: Path) -> None:
    generator = EchoGenerator("BERT-Large reaches 93.2 [1].")
    with _indexed(tmp_path, generator, {
        "bert.md": "# BERT\n\nBERT-Large reaches an F1 score of 93.2 on SQuAD v1.1, the reading comprehension "
                   "benchmark. Fine-tuning takes one hour on a Cloud TPU.\n",
        "revue.md": "# Évaluation\n\nNous mesurons le débit sur le benchmark TPC-H avec 100 Go de données; le "
                    "système traite 12 requêtes par seconde.\n"}) as rag:
        missing = rag.ask("What exact-match score does BERT-Large reach on the Natural Questions benchmark?")
        assert missing.abstained and generator.calls == []
        assert rag.prepare("What exact-match score does BERT-Large reach on the Natural Questions "
                           "benchmark?").evidence.missing == ("Natural", "Questions", "Natural Questions")
        assert not rag.ask("What F1 score does BERT-Large reach on SQuAD?").abstained
        # an English question about a French page: only terms that survive translation are required
        assert rag.prepare("How many queries per second does the system process on TPC-H?").evidence.missing == ()
        assert rag.prepare("What throughput does the system reach on TPC-DS?").evidence.missing == ("TPC-DS",)


@pytest.mark.parametrize(("question", "kind"), [
    ("How much money did it cost to train the big model?", "a sum of money"),
    ("How much does the annual licence cost?", "a sum of money"),
    ("What is the fee for a late return?", "a sum of money"),
    ("How many GPU hours did fine-tuning take?", "a number of hours"),
    ("How many passengers a year does the line carry?", None),     # counts passengers, not years
    ("In what year was the bridge opened?", "a year"),
    ("What percentage of the failures came from search errors?", "a percentage"),
    ("How many layers does the encoder have?", None),              # a count of a thing: any number may be it
    ("How much of each article did the system use?", None),        # not money
    ("Who wrote the report?", None),
    ("How much is one point worth?", "a sum of money"),
    ("How much time did students spend on homework?", None),       # money words that ask for no money
    ("How much accuracy does quantization cost?", None),
    ("What is the cost of self-attention per layer?", None),
    ("How much did operating costs increase in 2021?", None),
    ("How many patients waited hours for a bed?", None),           # the unit is not what is counted
    ("What year-over-year growth did sales show?", None),
])
def test_the_kind_of_value_a_question_asks_for_is_read_only_where_the_wording_is_plain(question: str,
                                                                                       kind: str | None) -> None:
    from rag.answering.asked import asked_kind
    found = asked_kind(question)
    assert (found.name if found else None) == kind


def test_a_question_asking_for_a_value_no_chunk_holds_abstains_before_the_model(tmp_path: Path) -> None:
    """The paper gives its training cost in FLOPs and hours: asked for money, the documents do not answer."""
    generator = EchoGenerator("It cost 3.5 days [1].")
    with _indexed(tmp_path, generator, {
        "paper.md": "# Training\n\nThe big model trained for 3.5 days on eight GPUs, a training cost of 2.3e19 "
                    "FLOPs. The base model trained for 12 hours.\n"}) as rag:
        assert rag.prepare("How much money did it cost to train the big model?").evidence.absent == "a sum of money"
        assert rag.ask("How much money did it cost to train the big model?").abstained and generator.calls == []
        assert rag.prepare("How many hours did the base model train?").evidence.absent == ""
        assert not rag.ask("How many hours did the base model train?").abstained
        assert rag.prepare("In what year was the big model trained?").evidence.absent == "a year"
        assert rag.prepare("What percentage of the cost went to the base model?").evidence.absent == "a percentage"


def test_a_value_of_the_kind_asked_for_anywhere_in_the_chunks_keeps_the_question_answerable() -> None:
    from rag.answering.asked import absent_kind
    assert absent_kind("How much did the licence cost?", ["The team's licence: $4,500 a year."]) == ""
    assert absent_kind("How much did the licence cost?", ["Der Preis der Lizenz beträgt 4.500 Euro pro Jahr."]) == ""
    assert absent_kind("How many hours did it take?", ["Training took 8 GPU hours in all."]) == ""
    assert absent_kind("How many hours did it take?",
                       ["The model ran at 32.5 tokens per second on each of the GPUs that were used for it."]) \
        == "a number of hours"                                       # a rate is no duration
    assert absent_kind("How many hours did it take?", ["In all it took 3.5 days on the cluster."]) == ""  # another unit of time
    assert absent_kind("How many hours did it take?", ["Ci sono volute 40 ore per il training del modello."]) == ""
    for written in ["$ 5,432 in all", "US$ 4.6 million", "CAD 500", "20 CHF", "Rs. 500", "₹500", "Price (USD)\nWidget 12.50"]:
        assert absent_kind("How much did the licence cost?", [written]) == "", written
    assert absent_kind("In which year did the war end?", ["The war ended in 1279 with the fall of the Song."]) == ""
    assert absent_kind("How much did the licence cost?", ["Die Lizenz gilt ein Jahr lang."]) == "a sum of money"
    assert absent_kind("How much does a point cost?", ["1 포인트 = 1원의 가치"]) == ""
    assert absent_kind("How many hours did it take?", ["Das Training dauerte acht Stunden auf der GPU."]) == ""


def test_spelled_out_derived_and_mistyped_names_count_as_present() -> None:
    from rag.answering.anchors import missing_anchors

    assert missing_anchors("What did the UMC decide?", ["The United Methodist Church decided in 1968."]) == ()
    assert missing_anchors("Which Californian city is largest?", ["Los Angeles is the largest city in California."]) == ()
    assert missing_anchors("Where is Bedigo?", ["Bendigo is a city in Victoria."]) == ()
    # ... but a different name stays missing, however close its first letters
    assert missing_anchors("What MMLU score does QLoRA reach with Mistral?",
                           ["QLoRA reaches 63.9 MMLU with LLaMA 65B; mistakes happen."]) == ("Mistral",)


def test_across_languages_only_named_terms_decide() -> None:
    german = [_hit("Ein topologischer Raum heißt kompakt, wenn jede offene Überdeckung des Raumes eine endliche "
                   "Teilüberdeckung besitzt, und das ist nicht mit der Folgenkompaktheit zu verwechseln.")]
    sentences = [Sentence(0, 0, german[0].chunk.text, 0, 0.3)]
    evidence = evidence_for("When is a topological space called compact?", german, sentences)
    assert evidence.cross_lingual and evidence.score < EVIDENCE_THRESHOLD
    assert not should_abstain(evidence, EVIDENCE_THRESHOLD)  # the English embedder cannot judge a German page
    same = evidence_for("When is a space compact?", [_hit("Tides are high in March and the moon is full.")],
                        [Sentence(0, 0, "Tides are high in March and the moon is full.", 0, 0.1)])
    assert not same.cross_lingual and should_abstain(same, EVIDENCE_THRESHOLD)
    assert should_abstain(Evidence(0.3, 0.0, missing=("TPC-H",), cross_lingual=True), EVIDENCE_THRESHOLD)


def test_a_name_retrieval_missed_is_looked_up_and_an_absent_one_is_not_invented(tmp_path: Path) -> None:
    from indexes import HashEmbedder
    from rag import RAG
    from rag.generation import EchoGenerator

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "paper.md").write_text(
        "# Preemptive information extraction\n\nYusuke Shinyama and Satoshi Sekine, New York University.\n\n"
        + " ".join(f"Cluster {i} of the {w} corpus holds {i * 7} documents." for i, w in
                   enumerate(["sports", "finance", "weather", "court", "health", "travel", "music", "film"] * 15))
        + "\n\n"
        "## Method\n\nThe system uses only the first five sentences of each news article when generating basic "
        "patterns, because later sentences add noise.\n")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=EchoGenerator("Five [1]."),
                  workers=0, abstain_threshold=0.0001, top_k=2) as rag:
        rag.ingest([docs])
        question = "How much of each news article did Sekine's system use when generating basic patterns?"
        assert not any("Sekine" in h.chunk.text for h in rag.search(question))  # retrieval alone misses the name
        plan = rag.prepare(question)
        assert plan.evidence.missing == () and not plan.abstain
        assert any("Sekine" in h.chunk.text for h in plan.hits)
        absent = rag.prepare("How much of each news article did Grishman's system use when generating basic patterns?")
        assert absent.evidence.missing == ("Grishman",) and absent.abstain


def test_a_missing_number_is_not_looked_up() -> None:
    from rag.answering.anchors import with_named_terms

    hits = ["The system used the first five sentences of each article.", "Patterns are clustered."]
    elsewhere = ["Cluster 73 of the film corpus holds 511 documents.", "Sekine wrote the paper in 2006."]
    # "511" occurs in the collection, but as the count of something else: no lookup, the question abstains
    assert with_named_terms("How many of the 511 news articles did the system use?", hits, str,
                            lambda q: elsewhere) == hits
    assert with_named_terms("How many news articles did Sekine's system use?", hits, str,
                            lambda q: elsewhere) == [hits[0], elsewhere[1]]


def test_a_name_of_several_words_must_stand_together() -> None:
    from rag.answering.anchors import anchors, missing_anchors

    question = "What exact-match score does BERT-Large reach on the Natural Questions benchmark?"
    # each word occurs, the name does not: BERT's paper speaks of natural language and of questions
    assert missing_anchors(question, ["BERT-Large improves Natural Language Inference and answers questions."]) \
        == ("Natural Questions",)
    assert missing_anchors(question, ["BERT-Large on natural\nquestions"]) == ()
    # a footnote mark after a word, a plural, a hyphen: still the name
    assert missing_anchors("What has the Identity Theft Resource Center counted?",
                           ["The Identity Theft Resource Center1 reports 5000 breaches."]) == ()
    # runs of acronyms are not a name of words: each is an anchor of its own
    assert anchors("What F1 does BERT CoNLL-2003 NER get?", strict=True) == ["F1", "BERT", "CoNLL-2003", "NER", "2003"]
    assert anchors("How many Google Search API calls does ReAct make?", strict=True)[-1] == "Google Search"


BLIND_DOCS = REPO / "tests" / "data" / "replies_blind" / "docs"


@pytest.fixture(scope="module")
def grant_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # type: ignore[no-untyped-def]
    from rag import RAG

    directory = tmp_path_factory.mktemp("grant") / "idx"
    with RAG.open(directory, create=True, embedder=real_embedder, workers=0) as rag:
        assert rag.ingest([BLIND_DOCS]).exit_code == 0
    return directory


def test_weak_evidence_goes_to_a_capable_model_which_must_answer_from_the_sources(
        grant_index: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag import RAG
    from rag.generation import EchoGenerator

    question = "Who is on the project team?"  # a short, plain question: little overlap with the letter's words
    right = "Dr Imogen Tate is the principal investigator and Dr Rafael Mendes is the co-investigator [1]."
    invented = "The team has twelve members, led by Professor John Smith of Oxford [1]."

    def ask(style: str, reply: str) -> tuple[Any, EchoGenerator, Any]:
        generator = EchoGenerator(reply)
        with RAG.open(grant_index, embedder=real_embedder, generator=generator, answer_style=style) as rag:
            return rag.ask(question), generator, rag.prepare(question)

    extractive, generator, small = ask("extractive", right)
    assert extractive.abstained and not generator.calls  # below the threshold for a small model: not asked
    kept, generator, capable = ask("generative", right)
    assert capable.threshold < capable.evidence.score < small.threshold  # weak evidence
    assert generator.calls and not kept.abstained and kept.grounding == "model"
    assert [c.label for c in kept.claims] == ["supported"]
    made_up, generator, _ = ask("generative", invented)
    assert generator.calls and made_up.abstained  # weak evidence and nothing supported: no quote, an abstention


def test_the_written_out_currency_signs_are_currency_signs() -> None:
    import unicodedata

    from rag.answering.asked import _SIGN
    assert {"$", "€", "£", "¥", "₩", "₹", "₽", "¢"} <= set(_SIGN)
    assert all(unicodedata.category(sign) == "Sc" for sign in _SIGN)
