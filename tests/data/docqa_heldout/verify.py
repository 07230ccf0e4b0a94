#!/usr/bin/env python3
"""Check the held-out PDF question set against the PDFs it is about.

    python verify.py QUESTIONS.jsonl PDF_DIR
    python tests/data/docqa_heldout/verify.py tests/data/docqa_heldout/questions.jsonl /work/shared/data/pdfs/real

Needs only pypdf (the project venv has it). Exits 0 when every rule holds; otherwise prints one
``FAIL:`` line per violation and exits 1.

Rules checked (see README.md next to this file):

* every line is a JSON object; answerable items have exactly the fields id, question, answers,
  file, page, lang, kind; unanswerable items have those plus ``neg``; ids are unique;
* 40 answerable items (ids h01..) and 30 unanswerable items (ids u01..), 10 of each ``neg`` kind;
* answerable: file exists, page is a 1-based physical page of it, answers is a non-empty list of
  distinct non-empty strings; answers[0] occurs in the pypdf text of that page (NFKC,
  case-folded, whitespace collapsed), on no other page of that file and on at most 3 pages of
  the collection; the question contains none of its gold strings (matched as answers are
  scored: not glued to a Latin/Greek/Cyrillic letter or digit);
* unanswerable: answers == [], file and page null, and by ``neg``:
    - absent_terms: every key term in ABSENT_TERMS occurs on no page of any PDF;
    - near_miss: every anchor term in NEAR_MISS occurs on the named page (the page the question
      is one step away from), and at least MIN_NEAR_MISS_COVERAGE of the question's content
      words occur somewhere in the collection;
    - unstated_fact: every string in UNSTATED that would carry the answer occurs nowhere in the
      named PDF;
* spread: at least 15 files, at least 10 answerable items on non-English PDFs, at least 3 of
  them asked in English (cross-lingual).

The dictionaries below record, for each negative, what was checked by hand against the full
extracted text; this script re-checks the mechanical part.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

Report = Callable[[str], None]  # collects one violation message

FIELDS = {"id", "question", "answers", "file", "page", "lang", "kind"}
NEG_KINDS = ("absent_terms", "near_miss", "unstated_fact")
LANGS = {"en", "de", "fr", "ko", "fa", "ar", "ja"}
N_ANSWERABLE = 40
N_PER_NEG = 10
MIN_FILES = 15
MIN_NON_ENGLISH = 10
MIN_CROSS_LINGUAL = 3
MAX_COLLECTION_PAGES = 3
MIN_NEAR_MISS_COVERAGE = 0.6

NON_ENGLISH_PDFS = {
    "arabic_rtl_document.pdf",
    "book_german_geotopo_117p.pdf",
    "japanese_official_gazette_kampo.pdf",
    "korean_text_with_tables.pdf",
    "paper_french_olap_logs.pdf",
    "persian_rtl_document.pdf",
    "slides_japanese_nlp2004.pdf",
}

# absent_terms: key terms of the question; none may occur in any PDF.
ABSENT_TERMS: dict[str, list[str]] = {
    "u01": ["Czech"],
    "u02": ["Falcon"],
    "u03": ["연회비"],
    "u04": ["Airbus", "A320"],
    "u05": ["MiniWoB"],
    "u06": ["Oracle", "Virtual Private Database"],
    "u07": ["MATLAB", "ماتلاب"],
    "u08": ["ICDAR"],
    "u09": ["Hopf"],
    "u10": ["Kylin"],
}

# near_miss: (file, page, anchor terms). All anchors occur on that page; the page gives the
# neighbouring fact but not the one asked (the comment says what the page does give).
NEAR_MISS: dict[str, tuple[str, int, list[str]]] = {
    # Table 2 gives ByteNet an EN-DE BLEU only; its EN-FR cell is empty.
    "u11": ("paper_attention_is_all_you_need_1706.03762v5.pdf", 8, ["ByteNet", "EN-FR", "newstest2014"]),
    # Table 6 ablates #L = 3, 6, 12, 24 only.
    "u12": ("paper_bert_1810.04805.pdf", 9, ["Ablation over BERT model size", "MNLI-m", "number of layers"]),
    # Table 7: Bard's Open Assistant (GPT-4 judge) Elo is "-".
    "u13": ("paper_qlora_2305.14314.pdf", 11, ["Bard", "Open Assistant", "Elo", "GPT-4"]),
    # Table 2 breaks down failure modes for ReAct and CoT only, not Act.
    "u14": ("paper_react_2210.03629.pdf", 6, ["Search result error", "HotpotQA", "Act 25.7"]),
    # 48 of the 101 tables were evaluated (36 consistent); the other 53 were not judged.
    "u15": ("paper_naacl06_shinyama_two_column.pdf", 6, ["101 tables", "consistent", "48 randomly chosen tables"]),
    # Table 1 has encoder/decoder layers 6/6, 4/4, 2/4, 4/2; no 2/2 model.
    "u16": ("table_otsl_paper_page9.pdf", 1, ["Inference time", "enc-layers", "dec-layers", "OTSL"]),
    # "The FAA has received no definitive data that would enable the agency to provide cost estimates
    # for the operational readiness flight."
    "u17": ("gov_federal_register_2020-17221_three_column.pdf", 6, ["operational readiness flight", "cost estimates"]),
    # The table covers November 2015 only.
    "u18": ("table_nics_firearm_background_checks_2015-11.pdf", 1, ["Kentucky", "Permit"]),
    # Only the second strategy's time is given ("10 minutes environ avec la deuxième stratégie").
    "u19": ("paper_french_olap_logs.pdf", 9, ["SummarizeLog", "deuxième stratégie", "80 %"]),
    # Only the Big Point validity (5 years) is given; bonus points have no stated validity.
    "u20": ("korean_text_with_tables.pdf", 1, ["보너스포인트", "유효기간", "빅포인트의 유효기간"]),
}

# unstated_fact: (file, strings that would carry the answer); none may occur in that PDF.
UNSTATED: dict[str, tuple[str, list[str]]] = {
    "u21": ("report_understanding_climate_change.pdf", ["author", "written by", "prepared by", "edited by"]),
    "u22": ("paper_french_olap_logs.pdf", ["financ", "ANR", "remerci", "subvention"]),
    "u23": ("book_german_geotopo_117p.pdf", ["Universität", "Hochschule", "Karlsruhe"]),
    "u24": ("persian_rtl_document.pdf", ["انبار", "محل تحويل", "محل تحویل", "بندر"]),
    "u25": ("transcript_scotus_p1.pdf", ["JUSTICE", "opinion", "delivered"]),
    "u26": ("paper_attention_is_all_you_need_1706.03762v5.pdf", ["$", "dollar", "USD", "€"]),
    "u27": ("report_ibm_redbook_redp5110_sampled.pdf", ["end of support", "end-of-support", "discontinu", "withdrawn"]),
    "u28": ("paper_lora_2106.09685.pdf", ["hours", "GPU-hour", "GPU hour", "wall-clock"]),
    "u29": ("table_nics_firearm_background_checks_2015-11.pdf", ["denied", "denial", "deny"]),
    "u30": ("arabic_rtl_document.pdf", ["بقلم", "الكاتب", "المؤلف", "كتبه"]),
}

# Words too common to say anything about whether a near_miss question is "about" the collection.
STOPWORDS = set(
    "the a an of in on at to for from by with and or is are was were be been did does do how what which who "
    "when where why many much this that these those its it their his her as into per all any when "
    "le la les de des du un une et ou en à au aux avec pour par sur dans est sont il elle faut combien quel "
    "quelle quels comment plus ce cette ces "
    "der die das und oder ein eine mit von zu im in ist wie wird welche welcher welchem an".split()
)
KOREAN_PARTICLES = ("에서", "으로", "의", "은", "는", "이", "가", "을", "를", "에", "로", "도")
KOREAN_QUESTION_ENDINGS = ("인가요", "입니까", "나요")


def norm(text: str | None) -> str:
    """NFKC, case-folded, whitespace runs collapsed to one space."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"\s+", " ", text).strip()


def _glue(ch: str) -> bool:
    """Digits and letters of space-separated alphabets glue a match into a longer token;
    Hangul, Arabic script and CJK do not (particles may follow a gold string)."""
    if ch.isdigit():
        return True
    if ch.isalpha():
        return unicodedata.name(ch, "").split(" ")[0] in {"LATIN", "GREEK", "CYRILLIC"}
    return False


def contains(haystack: str, needle: str) -> bool:
    """norm(needle) occurs in norm(haystack), not glued to a letter/digit on a side where the
    needle itself starts/ends with one (the scoring rule of the eval)."""
    h, n = norm(haystack), norm(needle)
    if not n:
        return False
    start = h.find(n)
    while start != -1:
        end = start + len(n)
        ok_left = start == 0 or not (_glue(h[start - 1]) and _glue(n[0]))
        ok_right = end == len(h) or not (_glue(h[end]) and _glue(n[-1]))
        if ok_left and ok_right:
            return True
        start = h.find(n, start + 1)
    return False


def content_words(question: str) -> list[str]:
    """Words of a question that carry its topic: no stopwords, no bare numbers, Latin words of at
    least 3 letters; Korean particles and question endings stripped, then Hangul words of at
    least 2 syllables ("몇 년인가요" carries no topic)."""
    words = []
    for raw in re.findall(r"[\w][\w\-+.]*", norm(question)):
        word = raw.strip(".-")
        if word.isdigit() or word in STOPWORDS:
            continue
        if re.fullmatch(r"[a-zà-ÿ\-+.]+", word) and len(word) < 3:
            continue
        if "\uac00" <= word[0] <= "\ud7a3":
            for suffix in KOREAN_QUESTION_ENDINGS + KOREAN_PARTICLES:
                if len(word) > len(suffix) and word.endswith(suffix):
                    word = word[: -len(suffix)]
                    break
            if len(word) < 2:
                continue
        words.append(word)
    return words


def extract_pages(pdf_dir: Path) -> dict[str, list[str]]:
    """Normalised pypdf text of every page of every PDF in pdf_dir, by file name."""
    from pypdf import PdfReader

    pages: dict[str, list[str]] = {}
    for path in sorted(pdf_dir.glob("*.pdf")):
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
        texts = []
        for page in reader.pages:
            try:
                texts.append(norm(page.extract_text() or ""))
            except Exception as exc:  # keep going; an empty page just fails its checks
                print(f"warning: {path.name}: page text not extracted: {exc}", file=sys.stderr)
                texts.append("")
        pages[path.name] = texts
    return pages


def load(questions: Path, err: Report) -> list[dict[str, Any]]:
    """Parse the JSON lines; report malformed lines and wrong field sets through err."""
    items = []
    for lineno, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            err(f"line {lineno}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"line {lineno}: invalid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            err(f"line {lineno}: not a JSON object")
            continue
        want = FIELDS if obj.get("kind") == "answerable" else FIELDS | {"neg"}
        if set(obj) != want:
            err(f"line {lineno}: fields must be exactly {sorted(want)}, got {sorted(obj)}")
            continue
        items.append(obj)
    return items


def check_answerable(o: dict[str, Any], pages: dict[str, list[str]], err: Report) -> None:
    qid, f, page, answers = o["id"], o["file"], o["page"], o["answers"]
    if f not in pages:
        err(f"{qid}: file {f!r} not found in the PDF folder")
        return
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= len(pages[f]):
        err(f"{qid}: page {page!r} out of range 1..{len(pages[f])} for {f}")
        return
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        err(f"{qid}: answers must be a non-empty list of non-empty strings")
        return
    if len({norm(a) for a in answers}) != len(answers):
        err(f"{qid}: duplicate gold strings after normalisation")
    gold = norm(answers[0])
    if gold not in pages[f][page - 1]:
        err(f"{qid}: answers[0] {answers[0]!r} not found on {f} p{page}")
    others = [i + 1 for i, t in enumerate(pages[f]) if i + 1 != page and gold in t]
    if others:
        err(f"{qid}: answers[0] {answers[0]!r} also on other pages of {f}: {others}")
    n_coll = sum(1 for texts in pages.values() for t in texts if gold in t)
    if n_coll > MAX_COLLECTION_PAGES:
        err(f"{qid}: answers[0] {answers[0]!r} occurs on {n_coll} pages of the collection (max {MAX_COLLECTION_PAGES})")
    for a in answers:
        if contains(o["question"], a):
            err(f"{qid}: question contains its own gold answer {a!r}")


def check_unanswerable(o: dict[str, Any], pages: dict[str, list[str]], everything: str, err: Report) -> str:
    """Check one negative; return a short note for the report."""
    qid, neg = o["id"], o["neg"]
    if o["answers"] != [] or o["file"] is not None or o["page"] is not None:
        err(f"{qid}: unanswerable items need answers [], file null, page null")
    if neg == "absent_terms":
        terms = ABSENT_TERMS.get(qid)
        if not terms:
            err(f"{qid}: no key terms listed in ABSENT_TERMS")
            return ""
        for term in terms:
            hits = [f"{f} p{i + 1}" for f, ts in pages.items() for i, t in enumerate(ts) if norm(term) in t]
            if hits:
                err(f"{qid}: key term {term!r} occurs in the PDFs: {hits[:5]}")
        return f"absent {terms}"
    if neg == "near_miss":
        if qid not in NEAR_MISS:
            err(f"{qid}: no anchor page listed in NEAR_MISS")
            return ""
        f, page, anchors = NEAR_MISS[qid]
        if f not in pages or not 1 <= page <= len(pages[f]):
            err(f"{qid}: NEAR_MISS page {f} p{page} does not exist")
            return ""
        for term in anchors:
            if norm(term) not in pages[f][page - 1]:
                err(f"{qid}: anchor term {term!r} not on {f} p{page}")
        words = content_words(o["question"])
        found = [w for w in words if w in everything]
        coverage = len(found) / len(words) if words else 0.0
        if coverage < MIN_NEAR_MISS_COVERAGE:
            missing = sorted(set(words) - set(found))
            err(f"{qid}: only {coverage:.0%} of content words occur in the collection (missing {missing})")
        return f"{len(found)}/{len(words)} content words in collection; anchors on {f} p{page}"
    if neg == "unstated_fact":
        if qid not in UNSTATED:
            err(f"{qid}: no document listed in UNSTATED")
            return ""
        f, strings = UNSTATED[qid]
        if f not in pages:
            err(f"{qid}: UNSTATED file {f!r} not found")
            return ""
        for s in strings:
            found_on = [i + 1 for i, t in enumerate(pages[f]) if norm(s) in t]
            if found_on:
                err(f"{qid}: answer-bearing string {s!r} occurs in {f} on pages {found_on[:5]}")
        return f"{f}: none of {strings}"
    err(f"{qid}: neg must be one of {NEG_KINDS}, got {neg!r}")
    return ""


def check_items(items: list[dict[str, Any]], pages: dict[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """Every rule after parsing: (violations, a note per unanswerable item on what was checked)."""
    errors: list[str] = []
    err = errors.append
    for qid, count in Counter(o["id"] for o in items).items():
        if count > 1:
            err(f"{qid}: id used {count} times")
    for question, count in Counter(norm(o["question"]) for o in items).items():
        if count > 1:
            err(f"question asked {count} times: {question!r}")
    for o in items:
        if o["kind"] not in ("answerable", "unanswerable"):
            err(f"{o['id']}: kind must be answerable or unanswerable")
            continue
        if o["lang"] not in LANGS:
            err(f"{o['id']}: lang {o['lang']!r} not in {sorted(LANGS)}")
        if not isinstance(o["question"], str) or not o["question"].strip():
            err(f"{o['id']}: empty question")
        prefix = "h" if o["kind"] == "answerable" else "u"
        if not re.fullmatch(prefix + r"\d{2}", str(o["id"])):
            err(f"{o['id']}: {o['kind']} ids must look like {prefix}01")

    answerable = [o for o in items if o["kind"] == "answerable"]
    unanswerable = [o for o in items if o["kind"] == "unanswerable"]
    if len(answerable) != N_ANSWERABLE:
        err(f"expected {N_ANSWERABLE} answerable items, found {len(answerable)}")
    negs = Counter(o["neg"] for o in unanswerable)
    for kind in NEG_KINDS:
        if negs[kind] != N_PER_NEG:
            err(f"expected {N_PER_NEG} unanswerable items with neg {kind!r}, found {negs[kind]}")

    everything = " ".join(t for texts in pages.values() for t in texts)
    for o in answerable:
        check_answerable(o, pages, err)
    notes = {o["id"]: check_unanswerable(o, pages, everything, err) for o in unanswerable}
    by_id = {o["id"]: o for o in unanswerable}
    for qid in sorted(set(ABSENT_TERMS) | set(NEAR_MISS) | set(UNSTATED)):
        expected = "absent_terms" if qid in ABSENT_TERMS else "near_miss" if qid in NEAR_MISS else "unstated_fact"
        if qid not in by_id or by_id[qid]["neg"] != expected:
            err(f"{qid}: listed for {expected} but no such unanswerable item")

    files = {o["file"] for o in answerable}
    if len(files) < MIN_FILES:
        err(f"answerable items cover {len(files)} files, need at least {MIN_FILES}")
    non_en = [o for o in answerable if o["file"] in NON_ENGLISH_PDFS]
    cross = [o for o in non_en if o["lang"] == "en"]
    if len(non_en) < MIN_NON_ENGLISH:
        err(f"{len(non_en)} answerable items on non-English PDFs, need at least {MIN_NON_ENGLISH}")
    if len(cross) < MIN_CROSS_LINGUAL:
        err(f"{len(cross)} English questions about non-English PDFs, need at least {MIN_CROSS_LINGUAL}")
    return errors, notes


def summary(items: list[dict[str, Any]]) -> list[str]:
    """Counts by kind, file and question language, as printed by main."""
    answerable = [o for o in items if o["kind"] == "answerable"]
    negs = Counter(o.get("neg") for o in items if o["kind"] == "unanswerable")
    files = Counter(o["file"] for o in answerable)
    non_en = [o for o in answerable if o["file"] in NON_ENGLISH_PDFS]
    cross = [o for o in non_en if o["lang"] == "en"]
    lines = [
        f"items: {len(answerable)} answerable, {sum(negs.values())} unanswerable "
        f"({', '.join(f'{k} {negs[k]}' for k in NEG_KINDS)}); {len(files)} files; "
        f"{len(non_en)} answerable on non-English PDFs ({len(cross)} asked in English)",
        "per file: " + ", ".join(f"{f} {c}" for f, c in sorted(files.items())),
    ]
    for kind in ("answerable", "unanswerable"):
        langs = Counter(o["lang"] for o in items if o["kind"] == kind)
        lines.append(f"question language, {kind}: " + ", ".join(f"{lang} {c}" for lang, c in sorted(langs.items())))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the held-out PDF question set against the PDFs.")
    parser.add_argument("questions", type=Path, help="questions.jsonl")
    parser.add_argument("pdf_dir", type=Path, help="folder with the 24 real PDFs")
    parser.add_argument("--verbose", action="store_true", help="print one line per unanswerable item")
    args = parser.parse_args(argv)

    if not args.pdf_dir.is_dir():
        print(f"FAIL: PDF folder not found: {args.pdf_dir}")
        return 1
    load_errors: list[str] = []
    items = load(args.questions, load_errors.append)
    print(f"extracting text from {len(list(args.pdf_dir.glob('*.pdf')))} PDFs in {args.pdf_dir} ...", flush=True)
    errors, notes = check_items(items, extract_pages(args.pdf_dir))
    errors = load_errors + errors
    print("\n".join(summary(items)))
    if args.verbose:
        kinds = {o["id"]: o.get("neg") for o in items}
        for qid, note in sorted(notes.items()):
            print(f"  {qid} {kinds[qid]}: {note}")
    if errors:
        for e in errors:
            print("FAIL: " + e)
        print(f"{len(errors)} violation(s)")
        return 1
    print("OK: all rules hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
