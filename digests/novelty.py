"""Novelty: does a story already know a fact, in any wording?

A candidate fact is *known* when some fact in the story's memory says the same
thing. The decision is made in this order:

0. **Polarity.** A negated fact never repeats an affirmative one.
1. **Numbers.** A figure the known fact does not have (``12 Tote`` → ``15 Tote``,
   ``14.000`` → ``15.000``) makes the candidate new, whatever else matches; so
   does a different date or year when both name one. Dates and years that only
   one side mentions are detail, not news.
2. **Actors.** Every agent of the candidate (the subject group of its cue: who
   confirmed, thanked, criticised) must appear among the known fact's actors: a
   new government reacting to the same event is news. When both facts name
   actors, they must share at least one. Persons are compared by their folded
   surname with a fuzzy ratio, so transliterations agree.
3. **Wording.** Over stemmed content lemmas plus the cue concepts (``~thank``
   for both "dankte" and "thanked"):

   * *paraphrase*, whatever the types: the candidate's terms are (almost) all in
     the known fact (coverage ≥ :data:`COVERAGE_THRESHOLD`), or the sorted term
     strings are near-identical (rapidfuzz ``token_sort_ratio`` ≥
     :data:`PARAPHRASE_THRESHOLD`);
   * *same event*: same type, or compatible types (a statement and the
     confirmation it makes), and a similarity ``0.6·overlap + 0.4·jaccard`` of at
     least :data:`KNOWN_THRESHOLD` (compatible types need
     :data:`COMPATIBLE_THRESHOLD`).

The overlap coefficient (shared weight over the smaller side) lets a long
sentence that restates a short known fact plus background count as known,
which is what a reader expects ("North Korea confirmed …" again with the
history of the Kursk incursion is not news); the Jaccard part keeps two long
sentences that share a few words apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from digests.facts import NEGATION, Fact

__all__ = [
    "COMPATIBLE_THRESHOLD",
    "COVERAGE_THRESHOLD",
    "KNOWN_THRESHOLD",
    "PARAPHRASE_THRESHOLD",
    "Match",
    "is_known",
    "match_known",
    "new_facts",
]

# Measured on hand-written paraphrase pairs in German and English (tests/digests):
# restatements of one event score 0.55-0.9, different events between the same
# actors 0.1-0.4. 0.5 keeps the margin on both sides.
KNOWN_THRESHOLD = 0.5
# Facts of different but compatible types must agree more in wording.
COMPATIBLE_THRESHOLD = 0.65
# Share of the candidate's term weight already in the known fact.
COVERAGE_THRESHOLD = 0.85
# rapidfuzz token_sort_ratio over the sorted stemmed terms, type-agnostic.
PARAPHRASE_THRESHOLD = 90.0
# rapidfuzz ratio for two folded person surnames to be the same person.
PERSON_THRESHOLD = 85.0

_STEM = 6  # prefix length that conflates 'entsenden'/'entsendung', 'befreit'/'befreiung'
_CONCEPT_WEIGHT = 1.5
_MIN_SHARED = 2.0

_SPEECH = frozenset(
    {
        "statement",
        "confirmation",
        "denial",
        "demand",
        "warning_threat",
        "reaction_criticism",
        "thanks_praise",
    }
)
_COMPATIBLE: frozenset[frozenset[str]] = frozenset(
    {frozenset({"statement", t}) for t in _SPEECH - {"statement"}}
    | {frozenset({"other", t}) for t in _SPEECH | {"meeting_visit", "decision_policy"}}
    | {
        frozenset({"reaction_criticism", "demand"}),
        frozenset({"reaction_criticism", "warning_threat"}),
        frozenset({"demand", "warning_threat"}),
        frozenset({"military_action", "number_estimate"}),
        frozenset({"military_action", "confirmation"}),
        frozenset({"meeting_visit", "statement"}),
        frozenset({"meeting_visit", "agreement"}),
        frozenset({"decision_policy", "agreement"}),
        frozenset({"decision_policy", "statement"}),
        frozenset({"confirmation", "denial"}),
    }
)


@dataclass(frozen=True, slots=True)
class Match:
    """Why a fact is known: the known fact it repeats, a score in [0, 1], a reason."""

    known: Fact
    score: float
    reason: str


def _compatible(a: str, b: str) -> bool:
    return a == b or frozenset({a, b}) in _COMPATIBLE


@lru_cache(maxsize=65_536)
def _stems(terms: frozenset[str]) -> tuple[frozenset[str], float, str]:
    """Stemmed terms, their total weight, and the sorted string for fuzzy ratios."""
    stems = frozenset(t if t.startswith("~") else t[:_STEM] for t in terms)
    weight = sum(_CONCEPT_WEIGHT if t.startswith("~") else 1.0 for t in stems)
    return stems, weight, " ".join(sorted(stems))


def _weight(stems: frozenset[str]) -> float:
    return sum(_CONCEPT_WEIGHT if t.startswith("~") else 1.0 for t in stems)


@lru_cache(maxsize=65_536)
def _split_numbers(numbers: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(quantities, dates-and-years). Quantities compare by value and unit kind."""
    quantities: set[str] = set()
    dates: set[str] = set()
    for x in numbers:
        head = x.split(" ", 1)[0]
        if "-" in x and x.replace("-", "").isdigit():
            dates.add(x[-5:] if len(x) == 10 else x)  # compare '2025-04-26' as '04-26'
        elif x.isdigit() and len(x) == 4 and 1800 <= int(x) <= 2200:
            dates.add(x)
        elif x.endswith("%"):
            quantities.add(x)
        else:
            unit = x.split(" ", 1)[1] if " " in x else ""
            # money keeps its currency; counts compare by value alone, since
            # 'Soldaten' and 'Truppen' count the same thing
            quantities.add(f"{head} {unit}" if unit in _CURRENCIES else head)
    return frozenset(quantities), frozenset(dates)


_CURRENCIES = frozenset({"eur", "usd", "gbp", "chf", "rub", "cny", "jpy", "uah"})


def _number_conflict(f: Fact, k: Fact) -> str | None:
    if not f.numbers:
        return None
    fq, fd = _split_numbers(f.numbers)
    kq, kd = _split_numbers(k.numbers)
    if fq - kq:
        return "changed number" if kq else "new number"
    if fd and kd and not fd & kd:
        return "changed date"
    return None


def _same_actor(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith("person:") and b.startswith("person:"):
        x, y = a[7:], b[7:]
        return min(len(x), len(y)) >= 5 and fuzz.ratio(x, y) >= PERSON_THRESHOLD
    return False


def _new_agents(f: Fact, k: Fact) -> list[str]:
    return [a for a in f.agents if not any(_same_actor(a, b) for b in k.actors)]


def _share_actor(f: Fact, k: Fact) -> bool:
    if f.actors & k.actors:
        return True
    return any(_same_actor(a, b) for a in f.actors for b in k.actors)


def _compare(f: Fact, k: Fact) -> Match | None:
    if (NEGATION in f.terms) != (NEGATION in k.terms):
        return None  # 'confirmed' vs 'not confirmed' is news either way
    if _number_conflict(f, k):
        return None
    if f.agents and _new_agents(f, k):
        return None
    if f.actors and k.actors and not _share_actor(f, k):
        return None
    fs, fw, fstr = _stems(f.terms)
    ks, kw, kstr = _stems(k.terms)
    if not fs or not ks:
        return None
    shared = fs & ks
    inter = _weight(shared) if shared else 0.0
    if inter < _MIN_SHARED:
        return None
    coverage = inter / fw
    if coverage >= COVERAGE_THRESHOLD and len(fs) >= 3:
        return Match(k, round(coverage, 3), f"paraphrase (coverage {coverage:.2f})")
    ratio = fuzz.token_sort_ratio(fstr, kstr)
    if ratio >= PARAPHRASE_THRESHOLD:
        return Match(k, round(ratio / 100, 3), f"paraphrase (ratio {ratio:.0f})")
    if not _compatible(f.type, k.type):
        return None
    overlap = inter / min(fw, kw)
    jaccard = inter / (fw + kw - inter)
    score = 0.6 * overlap + 0.4 * jaccard
    need = KNOWN_THRESHOLD if f.type == k.type else COMPATIBLE_THRESHOLD
    if score < need:
        return None
    kind = "same type" if f.type == k.type else f"compatible types {k.type}"
    return Match(k, round(score, 3), f"{kind} {f.type}, shared terms (score {score:.2f})")


def match_known(fact: Fact, known: Sequence[Fact]) -> Match | None:
    """The best known fact that ``fact`` repeats, or ``None`` when ``fact`` is new."""
    best: Match | None = None
    for k in known:
        m = _compare(fact, k)
        if m is not None and (best is None or m.score > best.score):
            best = m
    return best


def is_known(fact: Fact, known: Sequence[Fact]) -> bool:
    """True when some fact in ``known`` already says what ``fact`` says."""
    return match_known(fact, known) is not None


def new_facts(facts: Sequence[Fact], known: Sequence[Fact]) -> list[tuple[Fact, Match | None]]:
    """Every fact of one article with its match, ``None`` meaning *new, post it*.

    Facts earlier in the same article count as known too, so a fact the article
    says twice is posted once (the repeat's reason starts with ``same article``).
    """
    out: list[tuple[Fact, Match | None]] = []
    earlier: list[Fact] = []
    for f in facts:
        m = match_known(f, known)
        mine = match_known(f, earlier)
        if mine is not None and (m is None or mine.score > m.score):
            m = Match(mine.known, mine.score, "same article: " + mine.reason)
        out.append((f, m))
        earlier.append(f)
    return out
