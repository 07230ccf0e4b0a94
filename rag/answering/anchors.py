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
from collections.abc import Iterable

from rag.text import STOP_WORDS, fold, language_of, numbers, sentence_spans, words

__all__ = ["anchors", "missing_anchors"]

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
            if (mixed or alnum or proper) and word not in found:
                found.append(word)
    if strict:
        found += sorted(n for n in numbers(question) if len(n.replace(".", "")) >= 3 and n not in found)
    return found


def _present(anchor: str, text: str, text_numbers: set[str]) -> bool:
    if not any(c.isalpha() for c in anchor):
        return anchor in text_numbers
    lowered = text.lower()
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
