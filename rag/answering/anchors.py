"""The names a question stands on: acronyms, mixed-case and alphanumeric terms, long numbers, proper names.

A question about something the documents never mention ("What score does BERT reach on Natural
Questions?" over papers that never name that benchmark) still retrieves on-topic chunks with high
similarity and word overlap; what gives it away is that a term it *names* is nowhere in the evidence.
Common words are not anchors (a paraphrase or a translation replaces them); names, acronyms and
codes survive paraphrase and, mostly, translation. So an anchor is:

- a word with a capital after its first letter (``MMLU``, ``QLoRA``, ``BERT-Large``, ``TPC-H``);
- a word mixing letters and digits (``1040NR``, ``DB2``, ``7B``), or a number of three or more digits
  (compared as numbers: "1,500" is "1500");
- in English and French questions, a capitalised word that does not open its sentence (``Adafactor``,
  ``Kerberos``); German capitalises every noun, so there only the first two kinds count.

A plural (``GPUs``) is found as its singular, a hyphenated name also written solid (``COVID19``), an
acronym spelled out ("United Methodist Church" for ``UMC``), a derivation or one typing slip in a name of six
letters or more ("Californian", "Bedigo" for "Bendigo"); the evidence is each chunk's file name and text.

When the best-ranked chunk is in another language or script than the question, only the first two kinds
are required (a French page may call the "Regulation" "règlement", but it writes ``TPC-H``), and numbers
only where both are in Latin script.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from rag.answering.quantities import UNITS
from rag.text import STOP_WORDS, fold, language_of, numbers, sentence_spans, words

__all__ = ["ANCHOR_SEARCH_ADDS", "anchors", "missing_anchors", "with_named_terms"]

ANCHOR_SEARCH_ADDS = 2  # at most this many chunks join the retrieved ones to bring in a missing name

_JOINERS = re.compile(r"[-'’]")
_POSSESSIVE = re.compile(r"['’]s?$")
_ACRONYM_FILLERS = frozenset("of the and for in on de du des la le et für und".split())
_QUESTION_OPENERS = frozenset("what which who whom whose when where why how is are was were do does did can could "
                              "should would will according in on for to from by of at".split())


def anchors(question: str, *, strict: bool) -> list[str]:
    """The question's anchor terms, in order. ``strict=False`` keeps only the kinds that survive
    translation (mixed case, alphanumerics)."""
    found: list[str] = []
    question = fold(question)
    language = language_of(question)
    # An amount: money, or a number with its unit; after a year-like number only a unit in lower case that is
    # no span of time ("2000 kg", not "2024 day rates" or "the 2019 TB survey").
    matches = [m for m in _QUANTITY.finditer(question)
               if m.group("money") or not _YEAR.fullmatch(m.group("amount"))
               or (m.group("unit").islower() and m.group("unit") not in _TIME)]
    amounts = [m.group("money") or m.group("amount") for m in matches]
    units = {m.group("unit").lower() for m in matches if m.group("unit")}  # "GB" of "300 GB"
    for start, end in sentence_spans(question):
        for position, word in enumerate(words(question[start:end])):
            word = _POSSESSIVE.sub("", word)  # "Sekine's" names Sekine
            letters = [c for c in word if c.isalpha()]
            if not letters:
                continue  # numbers are compared whole, below ("1,500" is one number, not "1" and "500")
            mixed = any(c.isupper() for c in word[1:] if c.isalpha()) and len(letters) >= 2
            alnum = any(c.isdigit() for c in word)
            proper = (strict and language in ("en", "fr") and position > 0 and word[:1].isupper() and len(word) > 2
                      and word.lower() not in STOP_WORDS and word.lower() not in _QUESTION_OPENERS)
            if (mixed or alnum or proper) and word not in found and word.lower() not in units:
                found.append(word)
        if strict and language in ("en", "fr"):
            found += [p for p in _name_phrases(question[start:end]) if p not in found]
    if strict:
        given = numbers(" ".join(amounts))
        found += sorted(n for n in numbers(question) if len(n.replace(".", "")) >= 3 and n not in found and n not in given)
    return found


# A number the question gives as an amount with its unit or currency ("a 300 GB cache", "£1,200 a month") sets
# the case asked about; it names nothing the documents must hold, as "2019", "the 2019 staff survey" or "1040NR"
# does (a year is never an amount, nor a count of people).
_UNIT_NAMES = "|".join([p for p, u in UNITS if u.strip() != "people"]
                       + [re.escape(u.strip()) for _, u in UNITS if u.strip() != "people"])
_QUANTITY = re.compile(rf"[€$£]\s*(?P<money>\d[\d,.]*)|(?<![\d,.])(?P<amount>\d[\d,.]*)\s*(?P<unit>{_UNIT_NAMES})"
                       r"(?![^\W\d_])", re.I)
_YEAR = re.compile(r"(?:19|20)\d\d")
_TIME = frozenset("day days week weeks month months year years hour hours hr hrs minute minutes min mins".split())


# Title-case words only: acronyms and mixed-case names are anchors of their own ("BERT CoNLL-2003 NER" is three).
_CAPITALISED_RUN = re.compile(r"(?<![\w'’-])[A-Z][a-z][a-z'’-]*(?:[ \t]+[A-Z][a-z][a-z'’-]*)+(?![\w-])")


def _name_phrases(sentence: str) -> list[str]:
    """Runs of two or more capitalised words past the sentence's first word: a name made of words
    ("Natural Questions", "Stable Diffusion", "Google Search") is named only when they stand
    together, though each word may occur alone ("natural language", "search API calls")."""
    opening = re.match(r"\W*[\w'’-]+", sentence)
    first_end = opening.end() if opening else 0
    phrases = []
    for m in _CAPITALISED_RUN.finditer(sentence):
        run = [_POSSESSIVE.sub("", w) for w in m.group().split()]
        if m.start() < first_end:  # the sentence's opening word is capitalised anyway
            run = run[1:]
        while run and (run[0].lower() in STOP_WORDS or run[0].lower() in _QUESTION_OPENERS):
            run = run[1:]
        if len(run) >= 2:
            phrases.append(" ".join(run))
    return phrases


def _present(anchor: str, text: str, text_numbers: set[str]) -> bool:
    if not any(c.isalpha() for c in anchor):
        return anchor in text_numbers
    lowered = text.lower()
    if " " in anchor:  # a name of several words: together, across a line break or hyphen, a plural's "s" aside
        parts = [re.escape(w) for w in anchor.lower().split()]
        parts[-1] = parts[-1].removesuffix("s") + "s?" if len(parts[-1]) > 3 else parts[-1]
        # a footnote mark may follow a word ("the Identity Theft Resource Center1 reports")
        if re.search(r"(?<!\w)" + r"[\d*†]*[\s\-]+".join(parts) + r"(?![^\W\d_])", lowered):
            return True
        return _near_run(anchor.lower().split(), re.findall(r"[^\W\d_]+", lowered))
    squeezed = _JOINERS.sub("", lowered)  # "COVID-19" is "COVID19" too
    forms = {anchor.lower()}
    if anchor.endswith("s") and len(anchor) > 3:  # a lower-case plural ending: "GPUs" is found as "GPU"
        forms.add(anchor[:-1].lower())
    for form in forms:
        parts = [p for p in re.split(r"[-'’]", form) if len(p) >= 2 or p.isdigit()] or [form]
        if all(re.search(rf"(?<!\w){re.escape(p)}", lowered) for p in parts):
            return True
        solid = re.escape(_JOINERS.sub("", form))
        if re.search(rf"(?<!\w){solid}", squeezed):
            return True
    return False


def _initials(text: str) -> set[str]:
    """Acronyms that runs of capitalised words spell ("United Methodist Church" -> "UMC")."""
    found: set[str] = set()
    run: list[str] = []
    for word in [*re.findall(r"[^\W\d_][\w'’-]*", text), ""]:
        if word[:1].isupper():
            run.append(word[0])
        elif word.lower() in _ACRONYM_FILLERS and run:
            continue
        else:
            found.update("".join(run[i:j]).upper() for i in range(len(run)) for j in range(i + 2, len(run) + 1))
            run = []
    return found


def _near(anchor: str, vocabulary: set[str]) -> bool:
    """A form of ``anchor`` the reader would call the same name: a derivation sharing all but its last two
    letters ("Californian", "California"), or one typing slip ("Bedigo", "Bendigo") in a name of six or more."""
    a = anchor.lower()
    if len(a) < 6 or not a.isalpha():
        return False
    for w in vocabulary:
        if abs(len(w) - len(a)) > 2 or w[:1] != a[:1]:
            continue
        common = next((i for i, (x, y) in enumerate(zip(w, a, strict=False)) if x != y), min(len(w), len(a)))
        if common >= max(5, len(a) - 2) or _one_edit(a, w):
            return True
    return False


def _near_run(names: list[str], text_words: list[str]) -> bool:
    """The words of a name standing together in ``text_words``, each as written or as the reader would
    call the same (``_near``: a typing slip or derivation): "Sentanta Sports" for "Setanta Sports"."""
    n = len(names)
    for i in range(len(text_words) - n + 1):
        if all(w == name or _near(name, {w}) for w, name in zip(text_words[i:i + n], names, strict=True)):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def missing_anchors(question: str, texts: Iterable[str]) -> tuple[str, ...]:
    """Anchors of ``question`` that occur in none of ``texts`` (the retrieved evidence, best first)."""
    texts = [fold(t) for t in texts]
    if not texts:
        return ()
    # The best-ranked chunk is the evidence that would answer: in another language, names may be translated.
    wanted = anchors(question, strict=language_of(texts[0]) == language_of(question))
    if not wanted:
        return ()
    joined = "\n".join(texts)
    found_numbers = numbers(joined)
    missing = [a for a in wanted if not _present(a, joined, found_numbers)]
    if missing:  # spelled out, derived or mistyped forms of a name count as the name
        acronyms = _initials(joined)
        vocabulary = {w.lower() for w in re.findall(r"[^\W\d_]{5,}", joined)}
        missing = [a for a in missing if a.upper() not in acronyms and not _near(a, vocabulary)]
    return tuple(missing)


_Hit = TypeVar("_Hit")


def with_named_terms(question: str, hits: Sequence[_Hit], text_of: Callable[[_Hit], str],
                     search: Callable[[str], Sequence[_Hit]]) -> list[_Hit]:
    """``hits`` with the last of them replaced by chunks holding the names the question asks about,
    when retrieval missed them but the collection has them.

    "How much of each article did Shinyama and Sekine's system use?" retrieves the page that answers,
    which never repeats the authors' names; that page is right, and "Sekine" is on the title page.
    Abstaining because no retrieved chunk names Sekine would be wrong, so a lexical ``search`` for the
    question with its missing names is asked for chunks that hold them (at most ``ANCHOR_SEARCH_ADDS``,
    each adding a missing name). A name the collection does not hold stays missing: the question is
    about something the documents do not cover. A missing number is not looked up.
    """
    texts = [text_of(h) for h in hits]
    missing = missing_anchors(question, texts)
    # A number is no name: "101 tables" turns up in some chunk of a large collection, whatever it counts there.
    if not missing or not hits or any(not any(c.isalpha() for c in m) for m in missing):
        return list(hits)
    added: list[_Hit] = []
    for hit in search(f"{question} {' '.join(missing)}"):
        if len(added) >= min(ANCHOR_SEARCH_ADDS, len(hits) - 1) or not missing:  # the best hit stays
            break
        if text_of(hit) in texts:
            continue
        still = missing_anchors(question, [*texts, text_of(hit)])
        if len(still) < len(missing):
            added.append(hit)
            texts.append(text_of(hit))
            missing = still
    return [*hits[:len(hits) - len(added)], *added] if added else list(hits)
