"""Claim checks through the public API: a Llama-2-7B-style reply kept with ✓ when right, flagged when wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexes import HashEmbedder
from rag import RAG
from rag.answering.claims import split_claims
from rag.generation import EchoGenerator
from rag.records import Answer

from .conftest import REPO
from .gguf_tools import write_tiny_gguf

REPLIES = REPO / "tests" / "data" / "replies"
QUESTION = "Which exit code does rag ingest return when some files fail?"
EXIT_SENTENCE = ("rag ingest exits with code 0 when every readable file was ingested, 2 when some files failed "
                 "while the rest were ingested, and 1 when nothing could be ingested.")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("claims") / "idx"
    with RAG.open(directory, create=True, embedder=HashEmbedder(), workers=0) as rag:
        assert rag.ingest([REPLIES / "docs"]).exit_code == 0
    return directory


@pytest.fixture(scope="module")
def model_7b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "llama-2-7b-chat.Q4_K_M.gguf", size_label="7B")


@pytest.fixture
def ask(index_dir: Path, model_7b: Path) -> Iterator[object]:
    opened: list[RAG] = []

    def make(reply: str, question: str = QUESTION, **settings: object) -> Answer:
        settings.setdefault("model", str(model_7b))  # answer_style auto reads the header: 7B -> generative
        rag = RAG.open(index_dir, embedder=HashEmbedder(), generator=EchoGenerator(reply), **settings)
        opened.append(rag)
        return rag.ask(question)

    yield make
    for rag in opened:
        rag.close()


RIGHT = [
    "  Sure! Based on the provided sources, here is the answer to your question:\n\n"
    "* When some files fail while the rest are ingested, rag ingest returns exit code 2 [1].",
    "According to the user guide, rag ingest exits with code 2 if some files failed while the rest were ingested [1].",
    "It returns 2 when some of the files fail [1].",
    "I apologize, but the sources do not list every exit code; however, [1] says rag ingest returns 2 when some "
    "files failed.",
]


@pytest.mark.parametrize("reply", RIGHT)
def test_a_right_7b_reply_stays_the_answer_with_a_verified_source(ask, reply: str) -> None:  # type: ignore[no-untyped-def]
    answer = ask(reply)
    assert answer.style == "generative" and answer.grounding == "model"
    assert [c.label for c in answer.claims] == ["supported"]
    assert answer.claims[0].quote == EXIT_SENTENCE
    assert answer.unsupported == ()
    cited = [c for c in answer.citations if c.cited]
    assert cited and all(c.verified for c in cited)


def test_the_reply_keeps_its_markdown_and_lines(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask(RIGHT[0])
    assert answer.text.startswith("Sure! Based on the provided sources") and "\n\n* When some files fail" in answer.text


def test_a_right_number_on_the_wrong_item_is_contradicted_and_not_shown(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("rag ingest returns exit code 0 when some files fail [1].")
    assert [c.label for c in answer.claims] == ["contradicted"]
    assert answer.claims[0].quote == EXIT_SENTENCE
    assert answer.unsupported == ("rag ingest returns exit code 0 when some files fail.",)
    assert answer.grounding == "quote" and answer.text == EXIT_SENTENCE[:-1] + " [1]."


def test_a_wrong_claim_after_a_right_one_is_flagged_and_its_source_unverified(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("rag ingest returns exit code 2 when some files fail [1]. It returns 1 when some files fail [1].")
    assert answer.grounding == "model" and [c.label for c in answer.claims] == ["supported", "contradicted"]
    assert not next(c for c in answer.citations if c.cited).verified


@pytest.mark.parametrize(("question", "reply", "labels"), [
    ("Who is Northwind's chief executive?",
     "Tom Alvarez became chief executive in January 2022, succeeding Maria Chen [1].", ["contradicted"]),
    ("Are pets allowed?", "Yes, pets are allowed on the premises [1].", ["contradicted"]),
    ("How much is the monthly rent?", "The monthly rent is 3 euros [1].", ["contradicted"]),
    ("How much is the monthly rent?", "Sure! The rent is €4500 per month [1].", ["supported"]),
    ("How much does the Trail 500 weigh?",
     "The Trail 500 weighs 13.2 kg [1]. It is suitable for riders up to 150 kg [1].", ["supported", "contradicted"]),
    ("Does Northwind pay a dividend?", "Northwind pays a quarterly dividend of $0.40 per share [1].", ["contradicted"]),
    ("When does the lease end?", "The lease ends on 28 February 2026 [1], and the tenant may renew it by e-mail [1].",
     ["unsupported"]),
])
def test_claim_labels(ask, question: str, reply: str, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert [c.label for c in ask(reply, question).claims] == labels


def test_answer_json_carries_style_and_claims(ask) -> None:  # type: ignore[no-untyped-def]
    data = ask("It returns 2 when some of the files fail [1].").to_json()
    assert data["style"] == "generative"
    assert data["claims"] == [{"text": "It returns 2 when some of the files fail.", "label": "supported",
                               "sources": [1], "quote": EXIT_SENTENCE}]


def test_the_generative_prompt_holds_whole_chunks(index_dir: Path) -> None:
    generator = EchoGenerator("It returns 2 when some of the files fail [1].")
    with RAG.open(index_dir, embedder=HashEmbedder(), generator=generator, answer_style="generative") as rag:
        rag.ask(QUESTION)
    prompt = generator.calls[0][-1][1]
    assert "Files larger than 200 MB are skipped with a warning." in prompt  # not among the two best sentences
    assert "complete" in generator.calls[0][0][1]


def test_extractive_style_quotes_the_best_sentence_for_an_unsupported_reply(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("Bananas are yellow [1].", answer_style="extractive")
    assert answer.style == "extractive" and answer.grounding == "quote"
    assert answer.text == EXIT_SENTENCE[:-1] + " [1]."
    assert [c.label for c in answer.claims] == ["supported"]


def test_extractive_style_cuts_at_the_first_newline_and_marks_a_wrong_claim(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("rag ingest returns exit code 0 when some files fail [1].\nQuestion: more", answer_style="extractive")
    assert answer.text == "rag ingest returns exit code 0 when some files fail [1]."  # today's decision, kept
    assert [c.label for c in answer.claims] == ["contradicted"]
    assert not next(c for c in answer.citations if c.cited).verified


def test_split_claims_sets_preambles_and_hedges_aside() -> None:
    assert split_claims("Sure! Here is what I found:\n\n1. The lease begins on 1 March 2021 [1].\n"
                        "2. It ends on 28 February 2026 [1].\n\nI hope this helps!") == [
        "The lease begins on 1 March 2021 [1].", "It ends on 28 February 2026 [1]."]


def test_the_reply_corpus_meets_the_targets() -> None:
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from verification import run

    cases = [json.loads(line) for line in (REPLIES / "cases.jsonl").read_text().splitlines()]
    assert len(cases) >= 60 and {c["label"] for c in cases} == {"right", "wrong"}
    result = run(REPLIES / "cases.jsonl", {"answer_style": "generative"}, verbose=False)
    assert result["right_kept"] >= 0.9 and result["wrong_flagged"] >= 0.9, result


def test_the_same_number_in_another_unit_of_the_same_quantity_is_another_fact() -> None:
    from rag.answering.facts import slot_conflict

    assert slot_conflict("The bike has a range of 90 miles.", "It has a range of up to 90 km.", "") is True
    assert slot_conflict("Store them below 25 °F.", "Store the tablets below 25 °C.", "") is True
    assert slot_conflict("Keep them below 25 degrees Celsius.", "Store the tablets below 25 °C.", "") is False
    assert slot_conflict("It weighs 13.2 kilograms.", "The Trail 500 weighs 13.2 kg.", "") is False


def _labels(reply: str, *sources: str) -> list[str]:
    from indexes import Chunk, Hit
    from rag.answering.claims import check_claims

    hits = [Hit(Chunk(f"c{i}", f"/docs/s{i}.md", None, text, 0, len(text)), 1.0) for i, text in enumerate(sources)]
    return [c.label for c in check_claims(reply, hits)]


SHEET = ("Charging the battery fully takes 4 hours with the standard charger and 2.5 hours with the fast charger. "
         "Adults may take one or two tablets every 4 to 6 hours, with no more than 8 tablets in 24 hours.")


PLANS = "| Plan | Price | Phone support |\n|---|---|---|\n| Basic | 10 euros | No |\n| Pro | 20 euros | Yes |"
TYRES = "Rear tyre tread 3.2 mm offside; 8.0 mm nearside (new)."
TOUR = "The price of NOK 1,850 per person includes the bus, the boat and the Flåm Railway section. Lunch is not included."
LEAVE = ("- **Volunteering leave:** 2 paid days per year for work with a registered charity. "
         "Volunteering leave is not available during probation and cannot be carried over.")
DOSES = ("| Group | Daily dose | Number of tablets |\n|---|---|---|\n| A | Velmotrine 10 mg | 1 tablet each morning |\n"
         "| B | Velmotrine 25 mg | 1 tablet each morning |\n| C | Placebo | 1 tablet each morning |")
TRIP = "Pocket money is optional and should not exceed £15. A non-refundable deposit of £50 is due with this form."


@pytest.mark.parametrize(("reply", "expected"), [
    ("Sure! Here's what the sheet says about charging:\n\n* **Standard charger:** four hours\n"
     "* **Fast charger:** two and a half hours\n\nLet me know if you need anything else.", ["supported", "supported"]),
    ("It takes 240 minutes with the standard charger [1].", ["supported"]),           # the same time in minutes
    ("It takes 200 minutes with the standard charger [1].", ["unsupported"]),
    ("Adults may take at most eight tablets in 24 hours [1].", ["supported"]),        # a bound, not a negation
    ("I believe it is: adults may take one or two tablets every 4 to 6 hours [1].", ["supported"]),
    ("Every charger takes 2.5 hours [1].", ["unsupported"]),            # "every": the source says no such thing
])
def test_claims_read_as_a_capable_model_writes_them(reply: str, expected: list[str]) -> None:
    assert _labels(reply, SHEET) == expected


def test_a_table_row_in_a_reply_is_checked_against_the_source_table_row() -> None:
    source = "| Cover | Limit |\n|---|---|\n| Buildings | £350,000 |\n| Contents | £60,000 |"
    reply = "| Cover | Limit |\n|---|---|\n| Buildings | 350,000 pounds sterling |\n| Contents | £60k |"
    assert _labels(reply, source) == ["supported", "supported"]  # "£60k" is £60,000
    assert _labels("| Cover | Limit |\n|---|---|\n| Contents | £350,000 |", source) == ["contradicted"]


def test_arithmetic_is_accepted_only_when_the_reply_computes_and_the_numbers_add_up() -> None:
    source = "The deposit equals three months' rent. Monthly rent is 4,500 euros."
    assert _labels("The deposit is three months' rent, i.e. 13,500 euros (3 × 4,500 euros) [1].", source) == ["supported"]
    assert _labels("The deposit is three months' rent, i.e. 12,500 euros (3 × 4,500 euros) [1].", source) != ["supported"]


def test_an_extra_claim_in_a_relative_clause_is_checked_on_its_own() -> None:
    source = "Northwind employs 420 people, 150 of whom work in Lisbon. The headquarters are in Porto."
    assert _labels("Northwind employs 420 people, 150 of them in Lisbon, which is the company's headquarters [1].",
                   source) == ["unsupported"]
    assert _labels("Northwind employs 420 people, 150 of them in Lisbon [1].", source) == ["supported"]


def test_titles_do_not_end_sentences() -> None:
    from rag.text import split_sentences

    assert split_sentences("It was written by Dr. Helena Vos. It was approved by Prof. Samuel Achebe.") == [
        "It was written by Dr. Helena Vos.", "It was approved by Prof. Samuel Achebe."]


def test_a_name_given_by_one_word_is_the_same_name_and_a_swap_is_still_caught() -> None:
    source = "Piotr is registered as the main driver and Anna as the second driver."
    assert _labels("Piotr Kowalski is registered as the main driver, and Anna is the second driver [1].",
                   source) == ["supported"]
    assert _labels("Maria Kowalski is registered as the main driver [1].", source) != ["supported"]


def test_another_name_where_the_claim_puts_its_own_is_a_contradiction() -> None:
    source = ("SOP for DNA extraction. Approved by Prof. Samuel Achebe, Core Facility Director. "
              "Any deviation is recorded in the deviation log and reported to the Laboratory Manager within 24 hours.")
    assert _labels("Any deviation is reported to the Core Facility Director within 24 hours [1].",
                   source) == ["contradicted"]
    assert _labels("Any deviation is reported to the Laboratory Manager within 24 hours [1].", source) == ["supported"]


def test_field_labels_and_a_number_before_its_unit_are_not_names() -> None:
    from rag.answering.facts import stream

    assert [s.value for s in stream("**Author:** Dr. Helena Vos **Approved by:** Prof. Samuel Achebe")[1]] == [
        "helena vos", "samuel achebe"]
    assert [(s.value, s.kind) for s in stream("Contents 60 thousand pounds")[1]] == [("60000", "gbp")]
    assert [(s.value, s.kind) for s in stream("Use 100 microlitres of Buffer AE.")[1]] == [("100", "µl"),
                                                                                          ("buffer ae", "NAME")]


def test_a_range_holds_both_its_ends_and_the_question_s_own_number_is_given() -> None:
    from indexes import Chunk, Hit
    from rag.answering.claims import check_claims

    source = "An A260/A280 ratio between 1.7 and 1.9 is acceptable."
    hits = [Hit(Chunk("c0", "/docs/sop.md", None, source, 0, len(source)), 1.0)]
    reply = "A ratio of 1.6 falls outside the acceptable range of 1.7 to 1.9 [1]."
    assert [c.label for c in check_claims(reply, hits, question="What if the ratio is 1.6?")] == ["supported"]
    assert [c.label for c in check_claims(reply, hits, question="What ratio is acceptable?")] == ["unsupported"]
    assert _labels("The acceptable range is 1.5 to 1.9 [1].", source) != ["supported"]


def test_a_word_shared_by_two_numbers_of_the_claim_does_not_vote() -> None:
    source = "Each traveller may bring one cabin bag (8 kg) and one checked bag (23 kg)."
    assert _labels("Each traveller may take one 8 kg cabin bag and one 23 kg checked bag [1].", source) == ["supported"]
    assert _labels("Each traveller may take one 23 kg cabin bag and one 8 kg checked bag [1].", source) != ["supported"]


def test_a_relative_clause_after_an_amount_is_about_what_the_amount_measures() -> None:
    rent = "Monthly rent is 4,500 euros, payable on the first working day of each month."
    assert _labels("The monthly rent is €4,500, which is due on the first working day of every month [1].",
                   rent) == ["supported"]
    assert _labels("The monthly rent is €4,500, which is due within 30 days of the invoice [1].", rent) != ["supported"]


@pytest.mark.parametrize(("claim", "evidence", "conflict"), [
    # polarity is read per clause, wherever the negation stands in it
    ("None of the parking is allocated to the commercial units.", "The commercial units have no allocated parking.",
     False),
    ("Block C's roof is not included, as it was already replaced in 2019.",
     "Block C's roof, replaced in 2019, is not part of this project.", False),
    ("Nobody stopped taking the tablets because of headache.", "No one stopped because of headache.", False),
    ("Neither the patient nor the study doctor knows the group.", "Neither you nor the study doctor will know the group.",
     False),
    ("Delays caused by strikes don't count towards the measurement.",
     "Delays caused by strikes are excluded from the measurement.", False),
    ("The wound check is free of charge.", "Wound check with the nurse on Friday (no charge).", False),
    # a negation denies the words after it, of the words before it: not the whole sentence
    ("Before any visit that includes a blood test, you shouldn't eat for eight hours.",
     "You will be asked to fast (no food) for 8 hours before each visit that includes a blood test.", False),
    ("To revive them the next morning, warm them for 5 minutes.",
     "They are not the same the next morning unless you warm them for 5 minutes.", False),
    ("Refunds are given with a receipt.", "Refunds are not given unless you have a receipt.", False),
    ("There is also £42k for maintaining the public green.",
     "A further £42,000 for the public green is payable only if the green is not adopted by the council.", False),
    # and flipped ones are still caught
    ("The manual is translated automatically.", "The manual is not translated automatically.", True),
    ("Pets are not allowed in the flat.", "Pets are allowed in the flat.", True),
    ("Travel insurance is included, and personal spending money is covered by the £245 as well.",
     "Travel insurance is included in the cost; personal spending money is not included.", True),
    ("Yes, the scones use one large egg, just like the buns.",
     "All three recipes use large eggs where eggs are needed; the scones contain no egg.", True),
    ("The MOT expires on 3 August, and the garage has booked an MOT for the customer.",
     "The MOT expires on 3 August; an MOT was not included in this visit and has not been booked.", True),
])
def test_negation_is_compared_clause_by_clause(claim: str, evidence: str, conflict: bool) -> None:
    from rag.answering.negation import negation_conflict

    assert negation_conflict(claim, evidence) is conflict


def test_the_same_number_written_another_way_is_the_same_number() -> None:
    assert _labels("The labour rate is £86 per hour [1].", "Labour is charged at £86.00 per hour.") == ["supported"]
    assert _labels("The final report is due on 30/06/2028 [1].", "The final report is due by 30 June 2028.") == [
        "supported"]
    assert _labels("The final report is due on 30/05/2028 [1].", "The final report is due by 30 June 2028.") != [
        "supported"]
    assert _labels("For the first three days she eats only the diet [1].", "Days 1–3 at home: the diet only.") == [
        "supported"]


def test_a_value_computed_without_saying_so_must_fit_the_units_of_what_it_computes() -> None:
    memory = "Peak memory during a full cache rebuild fell from 6.4 GB to 4.1 GB."
    assert _labels("Peak memory during a rebuild dropped from 6.4 GB to 4.1 GB, a saving of 2.3 GB [1].",
                   memory) == ["supported"]
    assert _labels("Peak memory during a rebuild dropped from 6.4 GB to 4.1 GB, a saving of 2.5 GB [1].",
                   memory) != ["supported"]
    capsules = "Gabapentin 100 mg capsules: 2 capsules every 12 hours for 5 days."
    assert _labels("Gabapentin 100 mg: two capsules (200 mg) every 12 hours [1].", capsules) == ["supported"]
    # 12 is 2 tablets x 6 hours, or 8 tablets + 4 hours: no number of tablets
    assert _labels("Adults may take one or two tablets every 4 to 6 hours, with no more than 12 tablets in 24 hours "
                   "[1].", SHEET) == ["contradicted"]
    budget = "Staff costs are £302,400. The total award is £486,000."
    assert _labels("Staff costs are £302,400 of the £486,000 total, about 62% of the award [1].",
                   budget.replace(". ", ", and ")) == ["supported"]
    assert _labels("Staff costs are £302,400 of the £486,000 total, about 68% of the award [1].",
                   budget.replace(". ", ", and ")) != ["supported"]


def test_answer_particles_are_not_claims() -> None:
    assert split_claims("Not yet, I'm afraid. She shouldn't be bathed until the stitches are out [1]. "
                        "It doesn't look like it. You only get a warning.") == [
        "She shouldn't be bathed until the stitches are out [1].", "You only get a warning."]


def test_a_claim_may_join_the_sentence_before_its_best_one_but_not_take_a_name_from_it() -> None:
    source = ("On 9 March Juniper had an exploratory laparotomy. "
              "A piece of rubber toy about 4 cm long was removed through a single incision in the intestine.")
    assert _labels("During the laparotomy on 9 March, a piece of rubber toy roughly 4 cm long was taken out of the "
                   "intestine through a single incision [1].", source) == ["supported"]
    assert _labels("During the laparotomy on 19 March, a piece of rubber toy roughly 4 cm long was taken out of the "
                   "intestine through a single incision [1].", source) != ["supported"]


def test_the_question_s_amount_or_year_never_overrides_the_evidence() -> None:
    from indexes import Chunk, Hit
    from rag.answering.claims import check_claims

    def labels(reply: str, source: str, question: str) -> list[str]:
        hits = [Hit(Chunk("c0", "/docs/s.md", None, source, 0, len(source)), 1.0)]
        return [c.label for c in check_claims(reply, hits, question=question)]

    assert labels("Yes, the deposit is £500 [1].", "The deposit is £300.", "Is the deposit £500?") == ["contradicted"]
    assert labels("The board plans to open an office in Lisbon in 2025 [1].", "The Lisbon office opened in 2019.",
                  "Where does the company plan to open an office in 2025?") == ["contradicted"]


def test_abbreviated_months_initials_and_amounts_with_commas_read_as_written() -> None:
    deposit = "A non-refundable deposit of £50 is due with this form by Friday 20 September 2024."
    assert _labels("A £50 deposit, non-refundable, is due with the form by 20 Sept 2024 [1].", deposit) == ["supported"]
    assert _labels("A £50 deposit, non-refundable, is due with the form by 27 Sept 2024 [1].", deposit) != ["supported"]
    assert _labels("The grant can't be used for activities outside the UK [1].",
                   "The grant may not be used for activities outside the United Kingdom.") == ["supported"]
    travel = "Conference travel abroad is the exception and is allowed up to £4,000 in total."
    assert _labels("The one exception is conference travel abroad, which is allowed up to £4,000 in total [1].",
                   travel) == ["supported"]
    assert _labels("The one exception is conference travel abroad, which is allowed up to £6,000 in total [1].",
                   travel) != ["supported"]


def test_answer_words_and_references_that_open_a_claim_are_set_aside() -> None:
    assert split_claims("Unfortunately not — the cake isn't suitable for freezing [1]. Based on condition 3, building "
                        "work may take place from 8am to 6pm on weekdays [1].") == [
        "the cake isn't suitable for freezing [1].", "building work may take place from 8am to 6pm on weekdays [1]."]
    assert _labels("Unfortunately not — the cake isn't suitable for freezing [1].",
                   "The cake is not suitable for freezing, because the apple pieces go soggy.") == ["supported"]
    service = "The next service is an interim service, due at 70,000 miles or on 12 June 2025."
    assert _labels("The next one is an interim service, due at 70k miles or on June 12, 2025 [1].", service) == [
        "supported"]
    assert _labels("The next one is an interim service, due at 60k miles or on June 12, 2025 [1].", service) != [
        "supported"]


@pytest.mark.parametrize(("reply", "source"), [
    # a sum or difference that happens to hit a number of the evidence, with no word saying it computes
    ("Adults may take no more than 12 tablets in 24 hours [1].",
     "Adults may take no more than 8 tablets in 24 hours, and children no more than 4 tablets."),
    ("The remaining balance of £700 is due on arrival [1].", "A deposit of £300 is due now and £400 on arrival."),
    ("Breakfast costs £105 extra [1].", "The room costs £120 a night; breakfast is £15."),
    ("The booking fee is 7% [1].", "The booking fee is 5%; paying by card adds 2%."),
    # a negation whose words are stated on the other side
    ("Late checkout is available for an extra charge [1].", "Late checkout is available at no extra charge."),
    ("Pets are allowed in the flat unless they are noisy [1].", "Pets are not allowed in the flat."),
    # a label's number is no other number
    ("Under Condition 3, the landlord must give 3 months' notice [1].",
     "Condition 3: the landlord must keep the common parts in repair. Notice is given in writing."),
    # the sentence before the best one lends a date, never a count of something else
    ("The sea view suite sleeps 4 guests [1].", "The garden cottage sleeps 4 guests. The sea view suite has a balcony."),
    # a hyphen between numbers is a range only before a unit
    ("The office is open 9-5 [1].", "The office is open 5-9."),
    # a rule with an exception: its opposite without the exception, or the rule where the exception holds
    ("Refunds are given without a receipt [1].", "Refunds are not given unless you have a receipt."),
    ("Tenants may keep pets in the flat without written consent from the landlord [1].",
     "Tenants may not keep pets in the flat unless the landlord gives written consent."),
    ("Cancellations made 48 hours before the start of the course are not refunded [1].",
     "Cancellations are not refunded unless made 48 hours before the start of the course."),
    ("Delivery for international orders is free [1].", "Delivery is not free for international orders."),
    # "each" and "per" describe, they do not compute; a rate multiplies, it does not divide
    ("Each ward has 12 beds and 4 nurses [1].", "Each ward has 12 beds and 3 nurses."),
    ("Labour costs £43 per hour [1].", "Labour is charged at £86 an hour, with a minimum of 2 hours."),
    ("Scans are booked for week 6 and 18 weeks later [1].", "Scans are booked for Week 6 and Week 18 of the programme."),
    # "all" of a bare plural narrowed by what follows it; "one" before a unit is a number
    ("All rooms have balconies [1].", "Rooms facing the sea have balconies."),
    ("The contract has a minimum one year term [1].", "The contract has a minimum two year term."),
    # a table row is read with its own column names, never with the row above (another item)
    ("The Basic plan costs 20 euros [1].", PLANS),
    ("Group B takes Velmotrine 25 mg [1].", DOSES.replace("25 mg", "50 mg")),
])
def test_rules_that_read_more_do_not_let_a_wrong_claim_through(reply: str, source: str) -> None:
    assert _labels(reply, source) != ["supported"]


def test_a_rate_times_its_unit_and_the_question_s_amount_against_a_limit() -> None:
    from indexes import Chunk, Hit
    from rag.answering.claims import check_claims

    def labels(reply: str, source: str, question: str = "") -> list[str]:
        hits = [Hit(Chunk("c0", "/docs/s.md", None, source, 0, len(source)), 1.0)]
        return [c.label for c in check_claims(reply, hits, question=question)]

    invoice = "Labour is charged at £86.00 per hour. Major service labour 3.5 h £301.00"
    assert labels("Three and a half hours at £86 an hour gives the £301 charged [1].", invoice) == ["supported"]
    assert labels("Three and a half hours at £86 an hour gives the £311 charged [1].", invoice) != ["supported"]
    limit = "The Trail 500 is not suitable for riders over 120 kg."
    question = "Can a 125 kg rider use the Trail 500?"
    assert labels("The Trail 500 isn't suitable for riders over 120 kg, so at 125 kg you would be over that limit [1].",
                  limit, question) == ["supported"]
    assert labels("The Trail 500 is suitable for riders up to 125 kg [1].", limit, question) != ["supported"]
    allowance = "The allowance is 23 kg per bag."
    assert labels("Your 30 kg bag is within the 23 kg allowance [1].", allowance, "My bag weighs 30 kg, is it ok?") != [
        "supported"]
    assert labels("The deposit is £800 and must be paid within 14 days [1].",
                  "The deposit is £500 and must be paid within 14 days.", "Is the deposit £800?") != ["supported"]


@pytest.mark.parametrize(("reply", "source", "expected"), [
    # a comparison read against the numbers the evidence gives each side
    ("The nearside rear tyre has more tread than the offside one [1].", TYRES, ["supported"]),
    ("The offside rear tyre has more tread than the nearside one [1].", TYRES, ["contradicted"]),
    # an item added to a list of the same things
    ("The NOK 1,850 price covers the bus, the boat and the Flåm Railway section [1].", TOUR, ["supported"]),
    ("The NOK 1,850 price covers the bus, the boat, the Flåm Railway section and lunch [1].", TOUR, ["unsupported"]),
    # what the closest sentence leaves out, denied by another one
    ("The 2 paid volunteering days per year are for work with a registered charity [1].", LEAVE, ["supported"]),
    ("The 2 paid volunteering days per year for a registered charity are available during probation [1].",
     LEAVE, ["contradicted"]),
    # "it" read as what it stands for
    ("Pocket money is optional, but it shouldn't be more than £15 [1].", TRIP, ["supported", "supported"]),
    ("Pocket money is optional, but it shouldn't be more than £50 [1].", TRIP, ["supported", "contradicted"]),
    # "all" against the clause the claim's number stands in
    ("rag ingest exits with code 0 when all files were ingested [1].", EXIT_SENTENCE, ["supported"]),
    ("rag ingest exits with code 2 when all files failed to be ingested [1].", EXIT_SENTENCE, ["unsupported"]),
    # "half hour", "a single month" are numbers; "the fast one" is not; "roughly ... in total" is the number's
    ("Waiting time is charged at €55 per hour [1].", "Waiting time is charged at €55 per hour or part hour.",
     ["supported"]),
    ("Waiting time is charged at €55 per half hour [1].", "Waiting time is charged at €55 per hour or part hour.",
     ["unsupported"]),
    ("The customer may terminate if availability is below 95% in any single month [1].",
     "The customer may terminate if availability falls below 95% in two consecutive months.", ["contradicted"]),
    ("Charging takes four hours with the standard charger, or 2.5 hours with the fast one [1].", SHEET,
     ["supported"]),
    ("She gets four small meals of about 90 g each, which is roughly 360 g a day in total [1].",
     "Days 1–3 at home: the diet only, in four small meals a day of about 90 g each.", ["supported"]),
    # a table cell read with its column's name; "all" of what the evidence states as a kind
    ("Group A: Velmotrine 10 mg, one tablet each morning [1].", DOSES, ["supported"]),
    ("Group B: Velmotrine 10 mg, one tablet each morning [1].", DOSES, ["unsupported"]),
    ("All the timings were tested in Margit's oven [1].", "- Timings were tested in Margit's oven, which runs hot.",
     ["supported"]),
    ("All rooms have a balcony [1].", "Rooms on the first floor have a balcony.", ["unsupported"]),
])
def test_comparisons_lists_pronouns_and_quantifiers_are_read_as_meant(reply: str, source: str,
                                                                      expected: list[str]) -> None:
    assert _labels(reply, source) == expected


def test_a_claim_is_read_with_its_file_s_title_when_the_title_was_not_retrieved() -> None:
    from indexes import Chunk, Hit
    from rag.answering.claims import check_claims

    title = "# Tessellate 4.2.0 Release Notes\n\nTessellate is the map tile server of Orrery Labs, here in release 4.2.0."
    section = "## Security fixes\n\nTwo vulnerabilities are fixed in this release."
    hit = Hit(Chunk("c1", "/docs/notes.md", None, section, 900, 900 + len(section)), 1.0)
    reply = "Release 4.2.0 fixes two vulnerabilities [1]."
    assert [c.label for c in check_claims(reply, [hit])] == ["unsupported"]
    documents = {"/docs/notes.md": f"{title}\n{section}"}
    assert [c.label for c in check_claims(reply, [hit], documents=documents)] == ["supported"]
    assert [c.label for c in check_claims("Release 4.1.0 fixes two vulnerabilities [1].", [hit],
                                          documents=documents)] != ["supported"]


@pytest.mark.parametrize(("reply", "sources"), [
    # "the fast one": a pronoun, and "costs" in the sentence's head says nothing of which price
    ("The fast one costs 20 euros [1].", ["The fast charger costs 20 euros; the slow one costs 10 euros."]),
    # comparatives whose direction depends on what is measured are not read; nor a clause of two numbers
    ("The express train is faster than the regional train [1].",
     ["The express train takes 3 hours; the regional train takes 5 hours."]),
    ("Hotel Alpha is cheaper than Hotel Beta [1].",
     ["Hotel Alpha is rated 9.1 and costs 120 euros a night; Hotel Beta is rated 8.2 and costs 150 euros a night."]),
    # a negation elsewhere denies something else ("overtime"), not what the best sentence leaves out
    ("Full-time staff get 2 paid volunteering days per year [1].",
     ["2 paid volunteering days per year.", "Full-time staff do not get paid overtime."]),
])
def test_new_rules_do_not_contradict_a_right_claim(reply: str, sources: list[str]) -> None:
    assert "contradicted" not in _labels(reply, *sources)


VENUE = ("The bar closes at 11:30 pm. Music must stop at 11:45 pm (a condition of our premises licence). "
         "Check-in is from 3:00 pm on the wedding day and check-out is by 10:30 am the next morning. "
         "Peak times are 5:00 pm to 9:00 pm on weekdays and 9:00 am to 1:00 pm at weekends. "
         "Members may book courts up to 7 days in advance.")


@pytest.mark.parametrize(("reply", "expected"), [
    ("The bar shuts at 23:30, and the music has to stop at 23:45 [1].", ["supported"]),           # 24-hour clock
    ("You can check out by half past ten the next morning [1].", ["supported"]),                 # said in words
    ("You can check out by half past eleven the next morning [1].", ["unsupported"]),          # no such time
    ("Peak times are weekdays 5–9 pm [1].", ["supported"]),                                     # "5" is 5 pm
    ("Members can book courts up to a week in advance [1].", ["supported"]),                      # "a week": 7 days
    ("Members can book courts up to a month in advance [1].", ["unsupported"]),
    ("The bar closes at 11:30 pm [1]. Good luck with the big day! Stay safe!", ["supported"]),    # well-wishes aside
])
def test_times_and_durations_said_as_people_say_them(reply: str, expected: list[str]) -> None:
    assert _labels(reply, VENUE) == expected


@pytest.mark.parametrize(("reply", "source", "expected"), [
    # an implicit denial agrees with a "not": "ruled out", "exempt"
    ("The side wall was ruled out because the unit would be too loud at the neighbour's window [1].",
     "It will not be placed on the side wall, because the unit would be too loud at the neighbour's window.",
     ["supported"]),
    ("Tenants over 75 don't have to attend the work parties [1].",
     "Tenants over 75 are exempt from the work parties.", ["supported"]),
    ("Tenants over 75 must attend the work parties [1].", "Tenants over 75 are exempt from the work parties.",
     ["contradicted"]),
    # "and have no ...": what the "no" is about is the courts, not the clay stated of them first
    ("Courts 1 to 4 are artificial clay and have no floodlights [1].",
     "Courts 1 to 4 are artificial clay and courts 5 and 6 are hard courts. Only courts 5 and 6 have floodlights.",
     ["supported"]),
    # a rate said with "every" is no rule for all days
    ("Late reports lose 5 points for every calendar day they are late [1].",
     "Late reports lose 5 points per calendar day.", ["supported"]),
    # a share of an amount the claim states
    ("The deposit is 20% of the total, so 20% of £7,000, which is £1,400 [1].",
     "A deposit of 20% of the total is due. The total payable by you is £7,000.", ["supported"]),
    ("The deposit is 20% of the total, so 20% of £7,000, which is £1,500 [1].",
     "A deposit of 20% of the total is due. The total payable by you is £7,000.", ["unsupported"]),
])
def test_readings_of_capable_replies(reply: str, source: str, expected: list[str]) -> None:
    assert _labels(reply, source) == expected


def test_an_advice_tail_is_not_a_claim() -> None:
    assert split_claims("That is an increase of about £477 a month, so it may be worth reviewing your options "
                        "before the fixed rate ends [1]. Hopefully it never comes to that!") == [
        "an increase of about £477 a month [1]"]


@pytest.mark.parametrize(("reply", "source", "expected"), [
    # a condition said with a negation on one side and without on the other: the statements after it agree
    ("If your plot falls short, you'll get a non-cultivation notice giving you 28 days to sort it out [1].",
     "If a plot is not adequately cultivated, the tenant receives a non-cultivation notice giving 28 days to put "
     "things right.", ["supported"]),
    ("If your plot is cultivated, you'll get a non-cultivation notice giving you 28 days [1].",
     "If a plot is not adequately cultivated, the tenant receives a non-cultivation notice giving 28 days to put "
     "things right.", ["contradicted"]),
    ("If the item is damaged, you will get a refund [1].", "If the item is damaged, you will not get a refund.",
     ["contradicted"]),
    # a bracketed clause with its own subject holds its own number; an aside stays with what it qualifies
    ("There's a £40 charge for a missed hygiene visit (it's £75 for an appointment with a dentist) [1].",
     "For a missed appointment we charge £40 for a hygiene visit and £75 for an appointment with a dentist.",
     ["supported"]),
    ("There's a £75 charge for a missed hygiene visit (it's £40 for an appointment with a dentist) [1].",
     "For a missed appointment we charge £40 for a hygiene visit and £75 for an appointment with a dentist.",
     ["contradicted"]),
    ("The site survey was carried out by Nadia Frost [1].",
     "**Surveyor:** Lewis Achterberg (site survey carried out on 2 October 2025) **Installation lead:** Nadia Frost "
     "(MCS-certified heat pump engineer)", ["contradicted"]),
    # "a fortnight" is two weeks; "days two and three" are two days, not five
    ("Complaints go in writing to Rosalind Achebe within a fortnight of the incident [1].",
     "Complaints must be made in writing to Rosalind Achebe within 14 days of the incident.", ["supported"]),
    ("Complaints go in writing to Rosalind Achebe within a fortnight of the incident [1].",
     "Complaints must be made in writing to Rosalind Achebe within 10 days of the incident.", ["unsupported"]),
    ("You'll be without heating on days two and three [1].",
     "You will have no heating on days 2 and 3; we will lend you two electric heaters.", ["supported"]),
    ("You'll be without heating on days two and four [1].",
     "You will have no heating on days 2 and 3; we will lend you two electric heaters.", ["unsupported"]),
    # "rules out" denies as "ruled out" does
    ("The permission rules out hot-food takeaways in the unit [1].",
     "The permission says the unit may not be used as a hot-food takeaway.", ["supported"]),
    ("The permission allows hot-food takeaways in the unit [1].",
     "The permission says the unit may not be used as a hot-food takeaway.", ["contradicted"]),
    # "with no running" denies the running, not the walks' schedule
    ("Juniper should go on lead walks three times a day, with no running or jumping [1].",
     "Lead walks only, three times a day. No running or jumping.", ["supported"]),
    # a shortened word is held by the word it begins; its numbers are still checked
    ("| 2-bath | 14 | 8 |", "| 2-bathroom | 14 | 8 | 22 |", ["supported"]),
    ("| 2-bath | 14 | 9 |", "| 2-bathroom | 14 | 8 | 22 |", ["unsupported"]),
    # three numbers all in place say which line the claim restates, whatever words it is put in
    ("The lease agreement term runs for two years, from 1 April 2025 to 31 March 2027 [1].",
     "**Term:** 1 April 2025 to 31 March 2027 (24 months)", ["supported"]),
    ("The lease agreement term runs for three years, from 1 April 2025 to 31 March 2027 [1].",
     "**Term:** 1 April 2025 to 31 March 2027 (24 months)", ["unsupported"]),
    ("The lease agreement term runs for two years, from 1 April 2025 to 31 March 2028 [1].",
     "**Term:** 1 April 2025 to 31 March 2027 (24 months)", ["unsupported"]),
    # the same number in a unit of another quantity, or another unit of the same one, is another fact
    ("Live bands must use the sound limiter, which is set at 95 watts [1].",
     "Live bands must use our sound limiter, set at 95 dB.", ["contradicted"]),
    ("Live bands must use the sound limiter, which is set at 95 decibels [1].",
     "Live bands must use our sound limiter, set at 95 dB.", ["supported"]),
    ("The system includes a 200-gallon hot water cylinder [1].",
     "The system includes a 200-litre unvented hot water cylinder.", ["contradicted"]),
    # "both A and B ..." is said of each
    ("Both the cardamom buns and the apple and walnut cake use yeast [1].",
     "The cardamom buns use yeast. The apple and walnut cake uses baking powder, not yeast.", ["contradicted"]),
    ("Both the cardamom buns and the apple and walnut cake use flour [1].",
     "The cardamom buns use flour and yeast. The apple and walnut cake uses flour and baking powder.", ["supported"]),
    ("Both the applicant and third parties may appeal to the Planning Inspectorate [1].",
     "The applicant may appeal to the Planning Inspectorate within six months. Third parties, such as neighbours, "
     "cannot appeal.", ["contradicted"]),
    # what is denied of a thing the closest sentence does not name
    ("Both the applicant and third parties such as neighbours may appeal to the Planning Inspectorate within six "
     "months of the decision date [1].",
     "If the applicant is aggrieved by any condition, it may appeal to the Planning Inspectorate within six months "
     "of the decision date. Third parties have no right of appeal.", ["contradicted"]),
    ("Third parties may comment on the application during the consultation [1].",
     "Third parties may comment on the application during the consultation. Third parties have no right of appeal.",
     ["supported"]),
    # "only the buns use yeast": the cake does not
    ("The apple and walnut cake uses yeast [1].",
     "The cake and the buns both contain butter or oil, but only the buns use yeast.", ["contradicted"]),
    ("The cake contains butter or oil [1].",
     "The cake and the buns both contain butter or oil, but only the buns use yeast.", ["supported"]),
    ("The pool is open on Saturdays [1].", "The pool is open only on Saturdays and Sundays.", ["supported"]),
    ("The apple and walnut cake uses yeast [1].",
     "Not only the buns use yeast: the apple and walnut cake uses yeast too.", ["supported"]),
    # a possessive is its owner, a pronoun's contraction no word of the claim
    ("That's Lisbon's newest office, and it opened in 2019 [1].",
     "The company's newest office, in Lisbon, opened in 2019.", ["supported"]),
    ("That's Lisbon's newest office, and it opened in 2021 [1].",
     "The company's newest office, in Lisbon, opened in 2019.", ["contradicted"]),
])
def test_conditions_asides_and_words_people_shorten(reply: str, source: str, expected: list[str]) -> None:
    assert _labels(reply, source) == expected


def test_a_records_fields_are_read_one_by_one_and_a_wrapped_line_is_no_heading() -> None:
    from rag.answering.passages import evidence_sentences
    from rag.text import split_sentences
    fields = "**Patient:** Juniper, 6 years old\n**Attending surgeon:** Dr Sofia Lindqvist\n**Referring vet:** Dr Owen Reece"
    assert evidence_sentences(fields) == ["**Patient:** Juniper, 6 years old", "**Attending surgeon:** Dr Sofia Lindqvist",
                                          "**Referring vet:** Dr Owen Reece"]
    prose = "The council received 126 representations: 97 objections\nand 23 letters of support."
    assert evidence_sentences(prose) == ["The council received 126 representations: 97 objections and 23 letters of support."]
    assert split_sentences("The grant starts on 1 April 2025 and ends on\n31 March 2028. It may be deferred.") == [
        "The grant starts on 1 April 2025 and ends on 31 March 2028.", "It may be deferred."]
    assert split_sentences("Amount and duration\nThe total is 5.") == ["Amount and duration", "The total is 5."]
