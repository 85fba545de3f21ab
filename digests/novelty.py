"""Novelty: does a story already know a fact, in any wording or language?

A candidate fact is *known* when some fact in the story's memory says the same
thing. Every rule is one linguistic generalisation, stated in one sentence.

Vetoes (any one makes the candidate new):

1. **Polarity.** A negated fact never repeats an affirmative one ("confirmed"
   vs "has not confirmed"); a denial counts as negated ("denied any
   responsibility" repeats "said it was not responsible"). "Without" is a polarity
   of its own, which a requirement said to be absent shares ("no receipt is needed"
   repeats "refunded without a receipt", never "only with a receipt").
2. **Figures.** A figure the known fact lacks is news (a changed toll, a second
   sum); so is an equal value that counts another thing ("three months" is not
   "a third worker"; the dead are never the injured); two facts that each name
   a date must share it. Dates, times of day and designators only one side
   mentions are detail.
3. **Agents.** A new party acting is news, a state or a union alike: each agent
   of the candidate (the subject of its act) must be an actor of the known fact,
   a name written in it, a party noun the story already uses, or someone it
   represents in the story ("der polnische Außenminister Wierzbicki" makes
   Poland and Wierzbicki one party). The source of a reported figure or of
   background is no agent, and a known fact that names nobody cannot show a new one.
4. **Places of meetings.** A meeting in another place is another meeting.
5. **Opposites.** A fact using one of two opposite words ("rose", "fell"; "won",
   "defeat") never repeats a fact using only the other.
6. **Changes of state.** A fact reporting a change of state (a reopening) is new unless the
   known fact reports the same change: "the ward is open again" never repeats "the ward
   is closed".

Evidence: the candidate's content must be covered by the known fact. Content is a
weighted bag of keys that are language-neutral where possible: actor ids, person
surnames, figures, cue concepts (``~thank`` for "dankte" and "thanked"), the act
(the specific type) and words of the bilingual table (``=fire`` for "Brand" and
"blaze"); other lemmas count by their folded stem. News says one thing in many ways
("stepped down", "quit", "legte sein Amt nieder" for "resigned"): the paraphrase table
(``lexicons/paraphrase.json``) keys such a wording as its canonical word, and a German
separable verb split in a main clause ("bestellte ... ein") as the whole verb.

7. **Across languages only translatable words speak.** A lemma outside the
   bilingual table matches only by spelling (names, loanwords); unmatched, it
   weighs little.
8. **Quotations are phrasing.** Words used only inside a quotation weigh little,
   since reports of one speech quote different parts of it.
9. **Story rarity.** A word nearly every fact of the story shares (the company,
   the town) cannot tell facts apart, so it weighs less.
10. **Same figures, same thing.** Two facts that report the same figures of the
    same kind of thing (equal counted nouns, money, a rate, or a shared concept)
    are the same fact at a lower coverage; figures known from several facts
    ("four dead, 25 injured" after "25 injured" and "toll rose to four") are
    known together.
11. **Same agent, same act.** When the candidate's agents did the same kind of act
    in the known fact (Putin thanked / Putin praised the troops), the verb naming
    the act does not count and the rest may be covered by the whole story, since
    a repeated act varies most in its wording.
12. **Opposite acts.** Facts of incompatible acts (a confirmation and a denial)
    must agree almost word for word.
13. **Two facts at once.** A fact that restates two known facts together ("agreed at
    a meeting in Görlitz" after the meeting and the agreement) is known when neither
    vetoes it, each alone covers a good part of it with words the other lacks, and the
    two cover it almost fully (``JOIN_THRESHOLD``); figures may come from either.
    Only a story's memory counts here, not earlier facts of the same article.

Speech and attribution concepts weigh little: "X said" is how news is told, not
what it tells.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma
from rapidfuzz import fuzz

from digests.facts import NEEDLESS, NEGATION, QUOTED, Fact, compound_terms, person_key
from digests.sentences import lexicon, lexicon_language

__all__ = [
    "ACT_THRESHOLD",
    "INCOMPATIBLE_THRESHOLD",
    "JOIN_THRESHOLD",
    "KNOWN_THRESHOLD",
    "Match",
    "is_known",
    "match_known",
    "new_facts",
]

# Coverage of the candidate's content by the known fact. Restatements score
# 0.6-1.0 on the held-out pairs (tests/fixtures/novelty_pairs.jsonl), facts that
# only share the story's actors and setting 0.1-0.45.
KNOWN_THRESHOLD = 0.6
# The same agents doing the same kind of act need less of the wording.
ACT_THRESHOLD = 0.45
# Incompatible specific types (confirmation vs denial) must agree almost fully.
INCOMPATIBLE_THRESHOLD = 0.85
# A fact restating two known facts at once must be covered almost fully by the two.
JOIN_THRESHOLD = 0.75
_JOIN_PART = 0.35  # ... and each of the two alone must cover this much of it
_JOIN_TOP = 4  # the best-covering known facts tried as the first of the two
# rapidfuzz ratio for two folded person surnames to be the same person.
PERSON_THRESHOLD = 85.0

_STEM = 6  # prefix length that conflates 'entsenden'/'entsendung', 'befreit'/'befreiung'
_W_CONCEPT = 1.5
_W_GENERIC = 0.5  # speech and attribution concepts
_W_ACT = 1.0
_W_WORD = 1.0
_W_ACTOR = 1.0
_W_FIGURE = 2.0
_W_UNTRANSLATED = 0.25  # an unmatched lemma when the languages differ
_W_QUOTED = 0.3  # a word only used inside a quotation
_MIN_SHARED = 2.0  # shared weight besides actors: two words, a concept and more, or a figure
# A key used by every fact of a story keeps a quarter of its weight (figures keep all).
_RARITY_DISCOUNT = 0.75
_RARITY_MIN_FACTS = 3

_GENERIC_CONCEPTS = frozenset(
    {
        "~say",
        "~report",
        "~according",
        "~claim",
        "~stress",
        "~hint",
        "~call",
        "~assume",
        "~quote",
        "~insist",
        "~assure",
    }
)
# Types that name an act; 'statement', 'other' and a bare figure do not.
_ACTS = frozenset(
    {
        "confirmation",
        "denial",
        "thanks_praise",
        "reaction_criticism",
        "demand",
        "meeting_visit",
        "military_action",
        "agreement",
        "warning_threat",
        "decision_policy",
    }
)
# Types whose agent is the source of what is reported, not an actor reacting.
_REPORTED = frozenset({"number_estimate", "other"})
# Pairs of act types that can describe one act ("called for and warned").
_COMPATIBLE: frozenset[frozenset[str]] = frozenset(
    {
        frozenset({"reaction_criticism", "demand"}),
        frozenset({"reaction_criticism", "warning_threat"}),
        frozenset({"demand", "warning_threat"}),
        frozenset({"military_action", "confirmation"}),
        frozenset({"meeting_visit", "agreement"}),
        frozenset({"decision_policy", "agreement"}),
        frozenset({"decision_policy", "military_action"}),
        frozenset({"reaction_criticism", "denial"}),
    }
)


@dataclass(frozen=True, slots=True)
class Match:
    """Why a fact is known: the known fact it repeats, a score in [0, 1], a reason."""

    known: Fact
    score: float
    reason: str


@dataclass(slots=True)  # not frozen: built for every fact, and frozen init is slow
class _Profile:
    fact: Fact
    keys: dict[str, float]  # key -> weight
    keyset: frozenset[str]
    mask: int  # one bit per key (hashed into 512): a cheap bound on shared keys
    places: frozenset[str]  # '^place' keys: where it happened
    neutral: frozenset[str]  # keys that can match in another language
    quantities: frozenset[str]
    units: dict[str, frozenset[str]]  # quantity -> the nouns it counts, where named
    dates: frozenset[str]
    negated: bool
    absent: bool  # says 'without' ('ohne Kassenbon', 'no receipt is needed')
    actors: frozenset[str]
    agents: frozenset[str]
    act: str  # the fact's specific type, or ''
    acts: frozenset[str]  # its act, or for background facts the acts its cue words name
    changes: frozenset[str]  # '%group' markers of the changes of state it reports (reopened)
    sides: frozenset[tuple[int, int]]  # the sides of opposite pairs it uses (rose / fell)


@lru_cache(maxsize=65_536)
def _split_numbers(
    numbers: tuple[str, ...],
) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, str], ...]]:
    """(quantities, dates-and-years, (quantity, counted noun) pairs).

    Quantities compare by value (money with its currency); the counted noun, where
    the fact names one, tells whether two equal values count the same thing.
    """
    quantities: set[str] = set()
    dates: set[str] = set()
    counted: list[tuple[str, str]] = []
    for x in numbers:
        head, _, unit = x.partition(" ")
        if "-" in x and x.replace("-", "").isdigit():
            dates.add(x[-5:] if len(x) == 10 else x)  # compare '2025-04-26' as '04-26'
        elif x.isdigit() and len(x) == 4 and 1800 <= int(x) <= 2200:
            dates.add(x)
        elif x.endswith("%"):
            quantities.add(x)
        else:
            q = x if unit in _CURRENCIES else head
            quantities.add(q)
            if unit and unit not in _CURRENCIES:
                counted.append((q, unit))
    return frozenset(quantities), frozenset(dates), tuple(counted)


@lru_cache(maxsize=1)
def _unit_tables() -> tuple[frozenset[str], frozenset[str]]:
    """(nouns of a closed unit class, nouns that count people)."""
    closed = {u for code in ("de", "en") for u in lexicon(code)["unit_classes"].values()}
    people = frozenset(lexicon("bilingual")["person_units"])
    return frozenset(closed) | people, people


_ROLES = frozenset({"dead", "=dead", "injured", "=injure", "missing", "=missing"})


def _unit_stem(u: str) -> str:
    return u.lstrip("=").rstrip("s")[:6]  # 'missiles' (a unit class) = '=missile' (a word key)


@lru_cache(maxsize=1)
def _act_by_word() -> dict[str, tuple[str, ...]]:
    """Key -> the act types whose cue words or concepts it is."""
    out: dict[str, list[str]] = {}
    for typ, words in _act_words().items():
        if typ in _ACTS:
            for w in words:
                out.setdefault(w, []).append(typ)
    return {w: tuple(t) for w, t in out.items()}


def _same_unit(a: str, b: str) -> bool:
    """Whether two counted nouns may count the same thing: equal, or either is a word
    outside the unit classes (too vague to tell), or both count people in the same role."""
    if a == b or _unit_stem(a) == _unit_stem(b):
        return True
    closed, people = _unit_tables()
    if not (a in closed or a.startswith("=")) or not (b in closed or b.startswith("=")):
        return True
    if a in people and b in people:
        return not (a in _ROLES and b in _ROLES)  # the dead never equal the injured
    return False


_CURRENCIES = frozenset({"eur", "usd", "gbp", "chf", "rub", "cny", "jpy", "uah"})


@lru_cache(maxsize=200_000)
def _word_key(term: str) -> str:
    # person_key folds spellings the way surnames are folded, so a bare surname
    # ('Lawrow') meets a resolved person ('person:lavrov') and its transliterations.
    return person_key(term)[:_STEM] or term[:_STEM]


def _actor_key(actor: str) -> str:
    """Persons and unlisted names key like the words they are written with, so a
    resolved 'person:lavrov' meets a bare 'Lawrow' in another fact."""
    kind, _, name = actor.partition(":")
    if kind in ("person", "name"):
        return _word_key(name)
    return "@" + actor


# --- paraphrases ----------------------------------------------------------------------------
# lexicons/paraphrase.json: the ways news says one thing ('stepped down' / 'resigned',
# 'legte sein Amt nieder' / 'trat zurück'). A fact using a member is keyed as if it used the
# group's canonical word, so the two wordings share their keys. Members are matched on the
# fact's terms (the lemmas the extractor found), function words ('down', 'off') and separated
# particles on the sentence's words: no second pass over the text.

_WORD = re.compile(r"[^\W\d_]+")
_CLAUSE_END = frozenset(",.;:!?)–—")
# particles a German verb leaves at the end of a main clause ('legte ... nieder')
_PARTICLES = ("nieder", "wieder", "heraus", "hinaus", "zurück", "zusammen")
_TERM, _FUNCTION, _FINAL = 0, 1, 2  # how a word of a member is found


@lru_cache(maxsize=100_000)
def _lemma(word: str, code: str) -> str:
    return str(simplemma.lemmatize(word, lang=code)).lower()


@lru_cache(maxsize=2)
def _bilingual_keys(code: str) -> dict[str, str]:
    """Lemma -> '=key' of lexicons/bilingual.json, as the fact extractor reads it."""
    out: dict[str, str] = {}
    for line in lexicon("bilingual")["pairs"]:
        german, _, english = line.partition("=")
        words = english.split()
        key = "=" + words[0].lower()
        for word in german.split() if code == "de" else words:
            for form in (word.lower(), _lemma(word, code)):
                out.setdefault(form, key)
    return out


@lru_cache(maxsize=2)
def _cue_concepts(code: str) -> dict[str, frozenset[str]]:
    """Lemma -> the '~concept' keys its cues give a fact."""
    out: dict[str, set[str]] = {}
    for groups in lexicon(code)["cues"].values():
        for group in groups.values():
            for lemma, concept in group.items():
                if " " not in lemma:
                    out.setdefault(lemma.lower(), set()).add("~" + concept)
    return {w: frozenset(c) for w, c in out.items()}


@lru_cache(maxsize=2)
def _function_words(code: str) -> frozenset[str]:
    d = lexicon(code)
    return frozenset(w.lower() for w in (*d["stopwords"], *d["separable_particles"]))


def _canonical_keys(word: str, code: str) -> dict[str, float]:
    """The keys the canonical word of a group gives a fact, with their weights: its cue
    concepts and its bilingual key, or else its stem."""
    low = word.lower()
    lemma = _lemma(word, code)
    bilingual, cues = _bilingual_keys(code), _cue_concepts(code)
    out: dict[str, float] = {}
    for form in (lemma, low):
        for c in cues.get(form, frozenset()):
            out[c] = _W_GENERIC if c in _GENERIC_CONCEPTS else _W_CONCEPT
    listed = bilingual.get(lemma) or bilingual.get(low)
    out[listed or _word_key(lemma)] = _W_WORD
    return out


_Element = tuple[int, frozenset[str]]  # (how it is found, the forms it may take)


@dataclass(frozen=True, slots=True)
class _Member:
    elements: tuple[_Element, ...]
    adds: tuple[tuple[str, float], ...]


def _element(word: str, code: str) -> _Element:
    """How one word of a member is found: a content word among the fact's lemmas, a
    function word among the sentence's words ('go|went|gone': any of these forms)."""
    alternatives = [w.lower() for w in word.split("|")]
    if any(a in _function_words(code) or len(a) < 3 for a in alternatives):
        return (_FUNCTION, frozenset(alternatives))
    bilingual = _bilingual_keys(code)
    forms: set[str] = set()
    for low in alternatives:
        lemma = _lemma(low, code)
        forms |= {low, lemma, bilingual.get(lemma, ""), bilingual.get(low, "")}
    return (_TERM, frozenset(forms - {""}))


def _variants(words: list[str], code: str) -> list[tuple[_Element, ...]]:
    """The member's words; a German separable verb also split ('legte ... nieder')."""
    particles = (*lexicon("de")["separable_particles"], *_PARTICLES) if code == "de" else ()
    out: list[list[_Element]] = [[]]
    for w in words:
        low = w.lower()
        whole = _element(w, code)
        split: list[_Element] | None = None
        for p in sorted(particles, key=len, reverse=True):
            if low.startswith(p) and len(low) - len(p) >= 4 and low.endswith("en"):
                split = [_element(low[len(p) :], code), (_FINAL, frozenset({p}))]
                break
        out = [[*v, whole] for v in out] + ([[*v, *split] for v in out] if split else [])
    return [tuple(v) for v in out]


@lru_cache(maxsize=2)
def _paraphrases(code: str) -> dict[str, tuple[_Member, ...]]:
    """Form of a member's content word -> the members using it."""
    index: dict[str, list[_Member]] = {}

    def add(phrase: str, adds: dict[str, float], whole: bool = True) -> None:
        variants = _variants(phrase.split(), code)
        for elements in variants if whole else variants[1:]:
            terms = [forms for kind, forms in elements if kind == _TERM]
            # cheapest test first: lemmas of the fact, then the sentence's words
            elements = tuple(sorted(elements, key=lambda e: e[0]))
            member = _Member(elements, tuple(adds.items()))
            for form in terms[0] if terms else ():  # a member needs a content word
                index.setdefault(form, []).append(member)

    other = "en" if code == "de" else "de"
    for group in lexicon("paraphrase")["groups"]:
        canonical, lang = (group[code], code) if group.get(code) else (group[other], other)
        adds = _canonical_keys(canonical, lang)
        if group.get("change"):
            # the canonical word keeps the keys the extractor gave it, and marks the change
            marker = "%" + (group.get("en") or group["de"]).lower()
            add(canonical, {marker: 0.0})
            adds[marker] = 0.0
        for phrase in group.get(code + "_members", ()):
            add(phrase, adds)
        if lang == code:
            add(canonical, adds, whole=False)  # split ('trat ... zurück')
    if code == "de":  # a separable verb of the bilingual table, split ('bestellte ... ein')
        for line in lexicon("bilingual")["pairs"]:
            for word in line.partition("=")[0].split():
                if word.islower():
                    add(word, _canonical_keys(word, code), whole=False)
    return {form: tuple(dict.fromkeys(ms)) for form, ms in index.items()}


@lru_cache(maxsize=1)
def _opposites() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Pairs of key sets that report opposite things ('rose' / 'fell')."""
    out: list[tuple[frozenset[str], frozenset[str]]] = []
    for pair in lexicon("paraphrase")["opposites"]:
        sides: list[set[str]] = [set(), set()]
        for code in ("de", "en"):
            for side, word in zip(sides, pair[code], strict=True):
                side.update(k for k in _canonical_keys(word, code) if k[0] in "~=")
        out.append((frozenset(sides[0]), frozenset(sides[1])))
    return tuple(out)


@lru_cache(maxsize=1)
def _side_of() -> dict[str, tuple[tuple[int, int], ...]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for i, pair in enumerate(_opposites()):
        for side in (0, 1):
            for key in pair[side]:
                out.setdefault(key, []).append((i, side))
    return {key: tuple(v) for key, v in out.items()}


def _sides(keys: dict[str, float]) -> frozenset[tuple[int, int]]:
    """(pair, side) of every opposite pair whose words a fact uses."""
    side_of = _side_of()
    return frozenset(s for key in keys if key in side_of for s in side_of[key])


@lru_cache(maxsize=2)
def _without_words(code: str) -> frozenset[str]:
    return frozenset(lexicon(code).get("without_words", ()))


def _says_without(f: Fact, phrasing: frozenset[str]) -> bool:
    """The sentence says 'without', not as a word of a paraphrase ('ohne Strom' is a
    blackout, told with the paraphrase's own keys)."""
    low = f.sentence.lower()
    words = [w for w in _without_words(lexicon_language(f.language)) if w in low]
    if not words or phrasing.issuperset(words):
        return False  # the cheap test first: most sentences hold no such word at all
    return not (set(words) - phrasing).isdisjoint(_WORD.findall(low))


def _polarity_differs(f: _Profile, k: _Profile) -> bool:
    """One fact is negated and the other not, or one says 'without' and the other does
    not. A requirement said to be absent says 'without' too: 'kein Kassenbon nötig'
    repeats 'auch ohne Kassenbon', never 'nur mit Kassenbon' nor 'Kassenbon nötig'."""
    return f.negated != k.negated or f.absent != k.absent


def _opposed(f: _Profile, k: _Profile) -> bool:
    """One fact reports one side of an opposite pair, the other only the other side."""
    if not f.sides or not k.sides:
        return False
    return any(
        (i, 1 - side) in k.sides and (i, side) not in k.sides and (i, 1 - side) not in f.sides
        for i, side in f.sides
    )


def _at_clause_end(particle: str, sentence: str) -> bool:
    low = sentence.lower()
    start = low.find(particle)
    while start >= 0:
        end = start + len(particle)
        before = low[start - 1] if start else " "
        after = low[end : end + 3].lstrip(" \"'“”»«")
        if not before.isalpha() and (not after or after[0] in _CLAUSE_END):
            return True
        start = low.find(particle, end)
    return False


_Paraphrased = tuple[tuple[tuple[str, float], ...], frozenset[str], frozenset[str]]
_UNCHANGED: _Paraphrased = ((), frozenset(), frozenset())


def _paraphrased(f: Fact) -> _Paraphrased:
    """(keys to add, keys to remove, function words used) for the paraphrase members a
    fact uses."""
    code = lexicon_language(f.language)
    index = _paraphrases(code)
    terms = f.terms  # words inside a quotation ('"...') are phrasing, not paraphrased
    starts = [m for t in sorted(t for t in terms if t in index) for m in index[t]]
    if not starts:
        return _UNCHANGED
    words: frozenset[str] | None = None
    adds: dict[str, float] = {}
    removes: set[str] = set()
    used: set[str] = set()
    function_words: set[str] = set()
    for member in dict.fromkeys(starts):
        matched: list[str] = []
        for kind, forms in member.elements:
            if kind == _TERM:
                hit = next((t for t in forms if t in terms and t not in used), None)
                if hit is None:
                    break
                matched.append(hit)
            elif kind == _FUNCTION:
                if words is None:
                    words = frozenset(_WORD.findall(f.sentence.lower()))
                if forms.isdisjoint(words):
                    # 'took' for 'take', 'gebracht' for 'bringen': the words that begin
                    # like a form (after a participle's 'ge'), lemmatised only now
                    initials = {form[0] for form in forms}
                    if not any(
                        (w[0] in initials or (w[:2] == "ge" and w[2:3] in initials))
                        and _lemma(w, code) in forms
                        for w in words
                    ):
                        break
                matched.extend(t for t in forms if t in terms)
            else:
                particle = next(iter(forms))
                if not _at_clause_end(particle, f.sentence):
                    break
                if particle in terms:
                    matched.append(particle)
        else:
            if all(key[0] == "%" for key, _ in member.adds):
                adds.update(member.adds)  # the word itself: only the change it marks
                continue
            used.update(matched)
            for kind, forms in member.elements:
                if kind == _FUNCTION:
                    function_words.update(forms)
            for t in matched:
                removes.add(_term_key(t)[0])
                removes |= _cue_concepts(code).get(t, frozenset())
            for key, w in member.adds:
                adds[key] = max(adds.get(key, 0.0), w)
    return tuple(adds.items()), frozenset(removes - adds.keys()), frozenset(function_words)


_MASK_BITS = 511  # keys hash into 512 bits: two facts rarely share a bit by chance

_TERM_KEYS: dict[str, tuple[str, float, bool, bool]] = {}


def _term_key(term: str) -> tuple[str, float, bool, bool]:
    """(key, weight, language-neutral, quoted) of one fact term, cached: the same
    words recur in every fact of a story."""
    hit = _TERM_KEYS.get(term)
    if hit is not None:
        return hit
    quoted = term.startswith(QUOTED)
    t = term[1:] if quoted else term
    if t.startswith("~"):
        out = (t, _W_GENERIC if t in _GENERIC_CONCEPTS else _W_CONCEPT, True, quoted)
    elif t.startswith("="):
        out = (t, _W_WORD, True, quoted)
    else:
        out = (_word_key(t), _W_WORD, False, quoted)
    if len(_TERM_KEYS) > 200_000:
        _TERM_KEYS.clear()
    _TERM_KEYS[term] = out
    return out


def _profile(f: Fact) -> _Profile:
    keys: dict[str, float] = {}
    neutral: set[str] = set()
    quoted: list[str] = []
    places: set[str] = set()
    cached = _TERM_KEYS.get
    for term in sorted(f.terms):  # one order: sums of weights come out the same in every run
        if term in (NEGATION, NEEDLESS):
            continue
        if term[0] == "^":
            places.add(term)
            continue
        key, weight, shared, in_quote = cached(term) or _term_key(term)
        if shared:
            neutral.add(key)
        if in_quote:
            quoted.append(key)
        else:
            keys[key] = weight
    for key in quoted:
        keys.setdefault(key, _W_QUOTED)
    adds, removes, phrasing = _paraphrased(f)
    changes: set[str] = set()
    if adds:
        for key in removes:
            keys.pop(key, None)
        for key, w in adds:
            if key[0] == "%":
                changes.add(key)
                continue
            keys[key] = max(keys.get(key, 0.0), w)
            if key[0] in "~=":
                neutral.add(key)
    for a in sorted(f.actors):
        key = _actor_key(a)
        keys[key] = _W_ACTOR
        neutral.add(key)
    quantities, dates, counted = _split_numbers(f.numbers)
    units: dict[str, set[str]] = {}
    for q, unit in counted:
        units.setdefault(q, set()).add(unit)
    for q in sorted(quantities):
        keys["#" + q] = _W_FIGURE
        neutral.add("#" + q)
    act = f.type if f.type in _ACTS else ""
    if act:
        keys["!" + act] = _W_ACT
        neutral.add("!" + act)
        acts = frozenset({act})
    elif f.type == "other":
        # 'Oberreuter hatte die Unglücksstelle bereits besucht' is background, but still
        # a visit: the concepts of its cue words tell which act it recounts
        by_word = _act_by_word()
        acts = frozenset(typ for key in keys for typ in by_word.get(key, ()))
    else:
        acts = frozenset()  # a statement's act is the saying, not what it reports
    mask = 0
    for key in keys:
        mask |= 1 << (hash(key) & _MASK_BITS)
    return _Profile(
        fact=f,
        keys=keys,
        keyset=frozenset(keys),
        mask=mask,
        places=frozenset(places),
        neutral=frozenset(neutral),
        quantities=quantities,
        units={q: frozenset(u) for q, u in units.items()},
        dates=dates,
        negated=NEGATION in f.terms or f.type == "denial",  # a denial says "not"
        absent=NEEDLESS in f.terms or _says_without(f, phrasing),
        actors=f.actors,
        agents=f.agents,
        act=act,
        acts=acts,
        changes=frozenset(changes),
        sides=_sides(keys),
    )


_PROFILES: dict[int, tuple[Fact, _Profile]] = {}
_BY_CONTENT: dict[tuple[object, ...], _Profile] = {}


def _profile_of(f: Fact) -> _Profile:
    # Keyed by identity (and holding the fact, so the id stays valid): a story's
    # known facts are compared with every fact of every new article. A story's memory
    # comes back from the store as new objects for every article, so profiles are
    # also kept by what they are made of.
    hit = _PROFILES.get(id(f))
    if hit is not None and hit[0] is f:
        return hit[1]
    if len(_PROFILES) > 50_000:
        _PROFILES.clear()
    content = (f.sentence, f.type, f.language, f.terms, f.actors, f.agents, f.numbers)
    p = _BY_CONTENT.get(content)
    if p is None:
        if len(_BY_CONTENT) > 50_000:
            _BY_CONTENT.clear()
        p = _BY_CONTENT[content] = _profile(f)
    if p.fact is not f:
        p = _Profile(
            f, p.keys, p.keyset, p.mask, p.places, p.neutral, p.quantities, p.units, p.dates,
            p.negated, p.absent, p.actors, p.agents, p.act, p.acts, p.changes, p.sides,
        )
    _PROFILES[id(f)] = (f, p)
    return p


_NAMED = ("person:", "name:")
_NOUN = "noun:"  # a subject noun without an actor id ('noun:=union')


def _same_actor(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith(_NAMED) and b.startswith(_NAMED):
        # a resolved person and the same surname met bare ('name:kerstan') are one
        x, y = a.partition(":")[2], b.partition(":")[2]
        return x == y or (min(len(x), len(y)) >= 5 and fuzz.ratio(x, y) >= PERSON_THRESHOLD)
    return False


def _covered(actors: frozenset[str], by: frozenset[str]) -> bool:
    return all(a in by or any(_same_actor(a, b) for b in by) for a in actors)


class _Story:
    """What a story already holds: every key of its facts, and how many facts use each.

    A word nearly every fact of the story shares (the company's name, the town) cannot
    tell one fact from another, so it weighs less in coverage ('story rarity').

    It also remembers whom a person represents ('der polnische Außenminister
    Wierzbicki'), so a later 'the Polish foreign minister' or 'Poland' acting is the
    same party as Wierzbicki acting.
    """

    __slots__ = ("_affiliated", "_counted", "_counts", "_keys", "_linked", "_profiles")

    def __init__(self, profiles: Sequence[_Profile] = ()) -> None:
        self._profiles: list[_Profile] = list(profiles)
        # Built on demand: most candidates are settled before any of this is needed.
        self._keys: set[str] = set()
        self._counts: dict[str, int] = {}
        self._counted = 0
        self._affiliated: dict[str, set[str]] = {}
        self._linked = 0

    def add(self, p: _Profile) -> None:
        self._profiles.append(p)

    @property
    def facts(self) -> int:
        return len(self._profiles)

    def _count(self) -> None:
        counts = self._counts
        for p in self._profiles[self._counted :]:
            self._keys |= p.keyset
            for key in p.keyset:
                counts[key] = counts.get(key, 0) + 1
        self._counted = len(self._profiles)

    @property
    def keys(self) -> set[str]:
        if self._counted < len(self._profiles):
            self._count()
        return self._keys

    @property
    def affiliated(self) -> dict[str, set[str]]:
        for p in self._profiles[self._linked :]:
            for link in p.fact.affiliations:
                person, _, state = link.partition("=")
                self._affiliated.setdefault(person, set()).add(state)
                self._affiliated.setdefault(state, set()).add(person)
        self._linked = len(self._profiles)
        return self._affiliated

    def rarity(self, key: str) -> float:
        n = len(self._profiles)
        if n < _RARITY_MIN_FACTS or key[0] == "#":
            return 1.0
        if self._counted < n:
            self._count()
        return 1.0 - _RARITY_DISCOUNT * self._counts.get(key, 0) / n


def _covered_in(
    agents: frozenset[str], k: _Profile, cross: bool, story: _Story | None = None
) -> bool:
    """Every agent is an actor of ``k`` (or represents one, or is represented by one),
    a name written in it, a party noun the story already uses ('the union' once
    'Die Gewerkschaft Verdi' was reported), or a noun that cannot be compared across
    the two languages."""
    for a in agents:
        if a.startswith(_NOUN):
            word = a[len(_NOUN) :]
            key = word if word.startswith("=") else _word_key(word)
            if a in k.agents or key in k.keys or (story is not None and key in story.keys):
                continue
            if cross and not word.startswith("="):
                continue  # an untranslated noun says nothing in the other language
            return False
        if a in k.actors or _actor_key(a) in k.keys or any(_same_actor(a, b) for b in k.actors):
            continue
        if story is not None and not story.affiliated.get(a, set()).isdisjoint(k.actors):
            continue
        return False
    return True


def _same_agents(f: _Profile, k: _Profile, story: _Story) -> bool:
    """The candidate's agents performed the known act (themselves or through whom they
    represent), or, when the known fact names no performer, are written in it."""
    if not f.agents:
        return False
    if k.agents and all(
        _covered(frozenset({a}), k.agents)
        or not story.affiliated.get(a, set()).isdisjoint(k.agents)
        for a in f.agents
    ):
        return True
    if k.agents and not all(a.startswith(_NOUN) or a.startswith("name:") for a in f.agents):
        return False
    # a noun or a bare name may be the known performer under another description
    # ('Lyra Maritime' / 'the ship's owner, Lyra Maritime')
    return _covered_in(f.agents, k, False)


def _share_actor(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a & b) or any(_same_actor(x, y) for x in a for y in b)


def _compatible(a: str, b: str) -> bool:
    return not a or not b or a == b or frozenset({a, b}) in _COMPATIBLE


def _cross(f: _Profile, k: _Profile) -> bool:
    return bool(f.fact.language and k.fact.language and f.fact.language != k.fact.language)


def _coverage(
    f: _Profile,
    shared_keys: frozenset[str],
    cross: bool,
    story: _Story,
    drop: frozenset[str] = frozenset(),
) -> float:
    """The candidate's key weight among ``shared_keys`` over its total weight, leaving
    out ``drop``; every key weighs by its rarity in the story."""
    rarity = story.rarity
    shared = total = 0.0
    for key, w in f.keys.items():
        if key in drop:
            continue
        w *= rarity(key)
        if key in shared_keys:
            shared += w
            total += w
        elif cross and key not in f.neutral:
            total += w * _W_UNTRANSLATED  # an untranslated word says little either way
        else:
            total += w
    return shared / total if total > 0 else 0.0


@lru_cache(maxsize=1)
def _act_words() -> dict[str, frozenset[str]]:
    """Per act type, the keys of the words and concepts that name the act in either
    language ('deny', 'reject', 'zurückweisen', '~deny', '~reject' for denial)."""
    out: dict[str, set[str]] = {}
    for code in ("de", "en"):
        for typ, groups in lexicon(code)["cues"].items():
            words = out.setdefault(typ, set())
            for group in groups.values():
                for lemma, concept in group.items():
                    words.add("~" + concept)
                    if " " not in lemma:
                        words.add(_word_key(lemma))
    return {typ: frozenset(w) for typ, w in out.items()}


def _content_weight(f: _Profile, keys: frozenset[str]) -> float:
    # fsum: the same total in whatever order the set is walked
    return math.fsum(f.keys[x] for x in keys if x[0] not in "@#")


def _agent_vetoed(f: _Profile, k: _Profile, story: _Story | None = None) -> bool:
    # A new agent acting is news, a state or a union alike. The source of a reported
    # figure or background ('wie die Behörden in Kiew mitteilten') is not an actor
    # reacting, and a known fact that names nobody ('the two sides') cannot show a new one.
    if (
        f.agents
        and (k.actors or k.agents)
        and f.fact.type not in _REPORTED
        and not _covered_in(f.agents, k, _cross(f, k), story)
    ):
        return True
    if not (f.actors and k.actors) or _share_actor(f.actors, k.actors):
        return False
    linked = story.affiliated if story is not None else {}
    return all(linked.get(a, set()).isdisjoint(k.actors) for a in f.actors)


def _compare(f: _Profile, k: _Profile, story: _Story) -> Match | None:
    # Cheapest tests first: most pairs in a story share no more than a word.
    shared_keys = f.keyset & k.keyset
    if len(shared_keys) < 2 and not f.quantities:
        return None
    # 1. polarity, opposite words, and a change of state the known fact does not report
    if _polarity_differs(f, k) or not f.changes <= k.changes or _opposed(f, k):
        return None
    # 2. numbers
    if f.quantities and _new_figure(f, k):
        return None
    if f.dates and k.dates and f.dates.isdisjoint(k.dates):
        return None
    if _content_weight(f, shared_keys) + (_W_FIGURE if f.quantities else 0.0) < _MIN_SHARED:
        return None
    # 3. actors
    if _agent_vetoed(f, k, story):
        return None
    # 4. a meeting elsewhere is another meeting
    if (
        f.act == k.act == "meeting_visit"
        and f.places
        and k.places
        and f.places.isdisjoint(k.places)
    ):
        return None
    cross = _cross(f, k)
    common = f.acts & k.acts
    same_act = bool(common) and _same_agents(f, k, story)
    drop: frozenset[str] = frozenset()
    if not _compatible(f.act, k.act):
        need, why = INCOMPATIBLE_THRESHOLD, f"despite types {f.act}/{k.act}"
    elif f.quantities and _same_kind(f, k, shared_keys):
        need, why = ACT_THRESHOLD, "same figures of the same thing"
        shared_keys |= _same_counted(f, k)
    elif same_act:
        # The verb naming a repeated act varies (denied / rejected, dankte / lobte): the
        # act key stands for it. Its remaining words may restate other known facts of
        # the story ('Putin praised the troops who fought at Russia's side').
        act = f.act if f.act in common else min(common)
        need, why = ACT_THRESHOLD, f"same agent, same act {act}"
        shared_keys = frozenset(x for x in f.keyset if x in k.keyset or x in story.keys)
        drop = f.keyset & _act_words().get(act, frozenset())
    else:
        need, why = KNOWN_THRESHOLD, "restated"
    coverage = _coverage(f, shared_keys, cross, story, drop)
    if coverage < need:
        return None
    lang = " across languages" if cross else ""
    return Match(k.fact, round(coverage, 3), f"{why}{lang} (coverage {coverage:.2f})")


def _new_figure(f: _Profile, k: _Profile) -> bool:
    """A candidate figure the known fact lacks, or has for another thing
    ('three months' is not 'a third worker')."""
    for q in f.quantities:
        if q not in k.quantities:
            return True
        fu, ku = f.units.get(q), k.units.get(q)
        if fu and ku and not any(_same_unit(a, b) for a in fu for b in ku):
            return True
    return False


def _same_kind(f: _Profile, k: _Profile, shared_keys: frozenset[str]) -> bool:
    """Equal figures count the same kind of thing: both name a compatible counted noun
    ('5 Menschen', 'five people'), or they share a specific concept ('~dead', '~cut')."""
    for q in f.quantities:
        if (f.units.get(q) and k.units.get(q)) or " " in q or q.endswith("%"):
            return True  # compatible nouns (see _new_figure), a sum of money, a rate
    return any(x[0] == "~" and x not in _GENERIC_CONCEPTS for x in shared_keys)


def _same_counted(f: _Profile, k: _Profile) -> frozenset[str]:
    """The candidate's keys of a counted noun that the known fact counts with the same
    figure under a word of the same stem ('24 Messstellen', '24 Messstationen'): the
    same figure of the same thing, in other words."""
    out: set[str] = set()
    for q in f.quantities:
        for a in f.units.get(q, ()):
            if a[0] == "=" or not any(_unit_stem(a) == _unit_stem(b) for b in k.units.get(q, ())):
                continue
            for term in (a, *compound_terms(a)):
                key = _term_key(term)[0]
                if key in f.keys:
                    out.add(key)
    return frozenset(out)


def _figures_known(f: _Profile, known: Sequence[_Profile], story: _Story) -> Match | None:
    """A fact that restates figures reported in several known facts ('four dead and 25
    injured' after 'two dead, 25 injured' and 'the toll rose to four') is known when
    each figure comes with the same kind of thing and the facts together cover it."""
    if not f.quantities or not known:
        return None
    sources: list[_Profile] = []
    for q in sorted(f.quantities):  # in one order, so the reported source is stable
        found = [
            k
            for k in known
            if q in k.quantities
            and not any(
                not _same_unit(a, b) for a in f.units.get(q, ()) for b in k.units.get(q, ())
            )
            and not _polarity_differs(f, k)
            # a confirmation is news until the thing was confirmed: a plan or a report
            # of another act that gave the figures does not make it known (rule 12)
            and (f.act != "confirmation" or _compatible(f.act, k.act))
            and f.changes <= k.changes
            and not _opposed(f, k)
            and _content_weight(f, f.keyset & k.keyset) >= _W_WORD
        ]
        if not found:
            return None
        sources.extend(found)
    if f.agents and f.fact.type not in _REPORTED:
        # who acted must be among those the figures came with, by the rule of a single
        # known fact (rule 3): an actor of one of them or a name written in it
        for a in sorted(f.agents):
            one = frozenset({a})
            if not any(_covered_in(one, k, _cross(f, k), story) for k in sources):
                return None
    dates = frozenset().union(*(k.dates for k in sources))
    if f.dates and dates and f.dates.isdisjoint(dates):
        return None
    keys = frozenset().union(*(k.keyset for k in sources))
    cross = all(_cross(f, k) for k in sources)
    coverage = _coverage(f, f.keyset & keys, cross, story)
    if coverage < KNOWN_THRESHOLD:
        return None
    why = f"figures known from {len({id(k) for k in sources})} facts"
    return Match(sources[0].fact, round(coverage, 3), f"{why} (coverage {coverage:.2f})")


def _best(
    f: _Profile, known: Sequence[_Profile], story: _Story, join: bool = False
) -> Match | None:
    best: Match | None = None
    mask = f.mask
    sharing: list[_Profile] = []
    for k in known:
        if not mask & k.mask:
            continue  # no key in common (two common keys may share a bit: no count here,
            # or the outcome would hang on the process's string hashing)
        m = _compare(f, k, story)
        if m is not None and (best is None or m.score > best.score):
            best = m
        elif join and best is None:
            sharing.append(k)
    if best is None:
        best = _figures_known(f, known, story)
    if best is None and join and len(sharing) >= 2:
        best = _joined(f, sharing, story)
    return best


def _part_of(f: _Profile, k: _Profile, story: _Story) -> frozenset[str] | None:
    """The candidate's keys ``k`` covers when ``k`` may be one of two known facts the
    candidate restates together: no veto of a single known fact applies (figures aside:
    those ``k`` lacks may come from the other fact), and it covers two words' worth."""
    shared = f.keyset & k.keyset
    if len(shared) < 2 or _polarity_differs(f, k) or not f.changes <= k.changes:
        return None
    if _opposed(f, k) or not _compatible(f.act, k.act):
        return None
    if f.dates and k.dates and f.dates.isdisjoint(k.dates):
        return None
    for q in f.quantities & k.quantities:
        fu, ku = f.units.get(q), k.units.get(q)
        if fu and ku and not any(_same_unit(a, b) for a in fu for b in ku):
            return None
    if _content_weight(f, shared) < _MIN_SHARED or _agent_vetoed(f, k, story):
        return None
    return shared


def _own_weight(f: _Profile, keys: frozenset[str]) -> float:
    # words and concepts only: actors, figures and the act may be shared by the whole story
    return math.fsum(f.keys[x] for x in keys if x[0] not in "@#!")


def _joined(f: _Profile, known: Sequence[_Profile], story: _Story) -> Match | None:
    """A fact that restates two known facts at once ('agreed at a meeting in Görlitz'
    after the agreement and the meeting were reported): each covers two words' worth of
    it that the other does not, together they cover it almost fully, and every figure
    comes from one of them."""
    parts: list[tuple[float, int, _Profile, frozenset[str]]] = []
    cross_of: dict[int, bool] = {}
    for i, k in enumerate(known):
        shared = _part_of(f, k, story)
        if shared is None:
            continue
        cross_of[i] = _cross(f, k)
        parts.append((_coverage(f, shared, cross_of[i], story), i, k, shared))
    parts = [x for x in parts if x[0] >= _JOIN_PART]
    if len(parts) < 2:
        return None
    parts.sort(key=lambda t: (-t[0], t[1]))
    best: Match | None = None
    for a in range(min(len(parts), _JOIN_TOP)):
        _, i, k1, s1 = parts[a]
        for b in range(a + 1, len(parts)):
            _, j, k2, s2 = parts[b]
            if f.quantities and not f.quantities <= (k1.quantities | k2.quantities):
                continue
            if _own_weight(f, s1 - s2) < _MIN_SHARED or _own_weight(f, s2 - s1) < _MIN_SHARED:
                continue
            cross = cross_of[i] and cross_of[j]
            coverage = _coverage(f, s1 | s2, cross, story)
            if coverage >= JOIN_THRESHOLD and (best is None or coverage > best.score):
                why = f"restates two known facts (coverage {coverage:.2f})"
                best = Match(k1.fact, round(coverage, 3), why)
    return best


_INDEX_FROM = 256  # below this many known facts a plain scan is cheaper than an index


class _Index:
    """Known facts by key, so a candidate is compared only with facts it shares a key
    with (a story's memory grows with every article)."""

    __slots__ = ("postings", "profiles")

    def __init__(self, profiles: Sequence[_Profile]) -> None:
        self.profiles = profiles
        self.postings: dict[str, list[int]] = {}
        for i, p in enumerate(profiles):
            for key in p.keyset:
                self.postings.setdefault(key, []).append(i)

    def sharing(self, f: _Profile) -> list[_Profile]:
        postings = self.postings
        hits: set[int] = set()
        for key in f.keyset:
            found = postings.get(key)
            if found:
                hits.update(found)
        return [self.profiles[i] for i in sorted(hits)]


def match_known(fact: Fact, known: Sequence[Fact]) -> Match | None:
    """The best known fact that ``fact`` repeats, or ``None`` when ``fact`` is new."""
    profiles = [_profile_of(k) for k in known]
    return _best(_profile_of(fact), profiles, _Story(profiles), join=True)


def is_known(fact: Fact, known: Sequence[Fact]) -> bool:
    """True when some fact in ``known`` already says what ``fact`` says."""
    return match_known(fact, known) is not None


def new_facts(facts: Sequence[Fact], known: Sequence[Fact]) -> list[tuple[Fact, Match | None]]:
    """Every fact of one article with its match, ``None`` meaning *new, post it*.

    Facts earlier in the same article count as known too, so a fact the article
    says twice is posted once (the repeat's reason starts with ``same article``).
    """
    profiles = [_profile_of(k) for k in known]
    index = _Index(profiles) if len(profiles) > _INDEX_FROM else None
    story = _Story(profiles)
    out: list[tuple[Fact, Match | None]] = []
    earlier: list[_Profile] = []
    for f in facts:
        p = _profile_of(f)
        m = _best(p, index.sharing(p) if index is not None else profiles, story, join=True)
        mine = _best(p, earlier, story)
        if mine is not None and (m is None or mine.score > m.score):
            m = Match(mine.known, mine.score, "same article: " + mine.reason)
        out.append((f, m))
        earlier.append(p)
        story.add(p)
    return out
