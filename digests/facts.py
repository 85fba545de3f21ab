"""Fact extraction: which sentences of an article report something, and what.

A :class:`Fact` is one sentence that says who did what to whom, a number, or a
quote. It carries a type (CAMEO-like event class), the actors (ISO country
codes, ``org:<id>``, ``person:<folded surname>``), normalised numbers, content
lemmas, and the exact source sentence. Sentences that are page furniture,
questions, teasers or fragments come back as :class:`Rejected` with a reason.

Everything is rule based on lexicon data (``digests/lexicons``) and simplemma
lemmas, so it runs at thousands of sentences per second and behaves the same
for any story. Nothing here knows about a particular event.

Typing rules, each one generalisation:

* A main-clause verb asserts an act; a noun only names one, a quotation is the
  speaker's, a clause of circumstance ('obwohl', 'because') or a zu-/to-infinitive
  is not the act, and attribution ('laut', 'according to') never types a fact.
* Reported speech takes the type of what is reported: a cue or a figure in the
  reported clause outweighs the speech verb, which types a statement only alone.
* A light verb takes the type of its object noun ('voiced concern', 'declared a
  state of emergency').
* A reported figure makes a number_estimate; with a casualty word ('getötet',
  'killed', 'ums Leben') it ties with an act and wins over military_action but
  yields to a speech act ('confirmed that 12 died').
* A natural hazard 'strikes' and 'destroys' without an army: with a hazard word
  in the sentence, military cues do not type it.
* A meeting needs two parties ('traf seinen Amtskollegen', not 'hat ein Kraftwerk
  getroffen'); a participle between article and noun is an adjective.
* An earlier event recounted in the pluperfect with 'bereits'/'damals' is
  background (other), unless it recounts what someone said.

Figures: a number is a figure unless it is a clock time, a designator after a
name ('Fold 3'), a relative date ('vor zwei Jahren'), or refers back to a counted
group ('the two Norwegians'). A figure types a sentence only when reported: not
quoted, not glued to a noun ('250-Gramm-Packung'), not measuring a thing
('magnitude 5.4', '40 Meter lang', '30 km south'), not the ordinal of a time unit.
The counted noun goes with it ('3 people', '4 missiles', '800 =job').

Actors and agents: a place after a locative ('in der polnischen Hauptstadt') is
stored as ``^place``, never as the agent; with no named actor, an unknown
capitalised name next to the verb ('Corvane said') or the head noun of the
subject ('Exporters criticised') is the agent, unless it is an anaphor ('the
company') pointing back to a party named before.

Sentences: a line that does not end like a sentence is a headline, teaser or link
title, never a fact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from operator import attrgetter
from typing import Any

import simplemma
from rapidfuzz import fuzz, process

from digests.boilerplate import is_noise_line
from digests.labels import FACT_TYPES
from digests.sentences import (
    function_words,
    lexicon,
    lexicon_language,
    split_sentence_spans,
    without_lexicon,
    word_cache,
    word_cache_by,
)

__all__ = [
    "FACT_TYPES",
    "NEEDLESS",
    "NEGATION",
    "QUOTED",
    "Fact",
    "Rejected",
    "compound_terms",
    "extract_facts",
    "fact_from_dict",
    "fact_to_dict",
    "person_key",
]


# Tie-break between types whose cues score the same: the more specific speech
# act wins over the generic one ("confirmed in a statement" is a confirmation).
_PRIORITY: tuple[str, ...] = (
    "confirmation",
    "denial",
    "thanks_praise",
    "demand",
    "warning_threat",
    "reaction_criticism",
    "agreement",
    "decision_policy",
    "number_estimate",
    "military_action",
    "meeting_visit",
    "statement",
    "other",
)
_RANK = {t: i for i, t in enumerate(_PRIORITY)}

_BASE_IMPORTANCE = {
    "confirmation": 0.8,
    "agreement": 0.8,
    "decision_policy": 0.75,
    "military_action": 0.75,
    "number_estimate": 0.75,
    "denial": 0.7,
    "warning_threat": 0.65,
    "demand": 0.65,
    "reaction_criticism": 0.6,
    "meeting_visit": 0.6,
    "thanks_praise": 0.55,
    "statement": 0.5,
    "other": 0.3,
}

_MAX_SENTENCE = 700
_MIN_CHARS = 20
_MIN_WORDS = 4
_SHORT_LINE = 160
# Sentences of fewer words also face the line rules of digests.boilerplate.
_NOISE_SENTENCE_WORDS = 8
NEGATION = "~not"  # term marking a negated statement
# term marking a requirement said to be absent ('no receipt is needed'): what
# 'ohne'/'without' says, not the event denied
NEEDLESS = "~needless"
QUOTED = '"'  # prefix of a term that occurs only inside a quotation
_MIN_CUE_WEIGHT = 1.5  # a lone noun in a subordinate clause does not type a sentence
_NOUN_MAIN_BONUS = 0.5
_SPEECH_ACTS = frozenset({"statement", "confirmation", "denial", "demand", "warning_threat"})
_SPEECH_WEIGHT = 1.5  # a speech verb types a sentence only when nothing more specific is said
_CASUALTY = frozenset({"~dead", "~injured", "~missing"})
_SHORT_QUOTE = 40  # characters: a quoted label rather than a quoted sentence
_PERSON_FUZZ = 85  # rapidfuzz ratio for transliteration variants of one surname


@dataclass(frozen=True, slots=True)
class Fact:
    """One reported fact.

    ``terms`` holds content lemmas plus ``~concept`` entries for the cue that
    typed the fact (``~thank``), which are shared across languages.
    ``agents`` is the subset of ``actors`` that performs the act (the subject
    group next to the cue), used to tell a new actor reacting from a repeat.
    Content words found in the bilingual table are stored as ``=key`` (``=fire``
    for both "Brand" and "blaze"), so they match across languages; other lemmas
    only match facts of the same ``language``. Words inside a quotation carry a
    leading ``"``: the speaker's phrasing, which other reports quote differently.
    """

    sentence: str
    text: str
    type: str
    actors: frozenset[str]
    numbers: tuple[str, ...]
    quote_speaker: str | None
    terms: frozenset[str]
    importance: float
    agents: frozenset[str] = frozenset()
    language: str = ""  # lexicon code ('de', 'en'): which terms can match literally
    affiliations: frozenset[str] = frozenset()  # 'person:x=PL': a person titled by a state


@dataclass(frozen=True, slots=True)
class Rejected:
    """A sentence that is not a fact, and why (``boilerplate``, ``question`` …)."""

    sentence: str
    reason: str


# ---------------------------------------------------------------------------
# serialisation


def fact_to_dict(f: Fact) -> dict[str, Any]:
    """A compact JSON-able form of ``f`` (short keys; empty fields left out)."""
    d: dict[str, Any] = {"s": f.sentence, "t": f.type, "i": round(f.importance, 3)}
    if f.text != f.sentence:
        d["x"] = f.text
    if f.actors:
        d["a"] = sorted(f.actors)
    if f.agents:
        d["g"] = sorted(f.agents)
    if f.numbers:
        d["n"] = list(f.numbers)
    if f.quote_speaker is not None:
        d["q"] = f.quote_speaker
    if f.terms:
        d["m"] = sorted(f.terms)
    if f.language:
        d["l"] = f.language
    if f.affiliations:
        d["f"] = sorted(f.affiliations)
    return d


def fact_from_dict(d: dict[str, Any]) -> Fact:
    """Inverse of :func:`fact_to_dict`."""
    sentence = str(d["s"])
    return Fact(
        sentence=sentence,
        text=str(d.get("x", sentence)),
        type=str(d["t"]),
        actors=frozenset(d.get("a", ())),
        numbers=tuple(d.get("n", ())),
        quote_speaker=d.get("q"),
        terms=frozenset(d.get("m", ())),
        importance=float(d.get("i", 0.0)),
        agents=frozenset(d.get("g", ())),
        language=str(d.get("l", "")),
        affiliations=frozenset(d.get("f", ())),
    )


# ---------------------------------------------------------------------------
# tokens

_TOKEN = re.compile(
    r"(?P<date>(?<![\d.])\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?(?!\d))"
    r"|(?P<num>(?<![\d.,])\d{1,3}(?:(?:[.,]|[ \u00a0\u202f](?=\d{3}(?!\d)))\d{3})+"
    r"(?:[.,]\d+)?(?!\d)"
    r"|\d+(?:[.,]\d+)?)"
    r"|(?P<acr>(?:[A-Z]\.){2,})"
    r"|(?P<word>[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?)"
    r"|(?P<punct>[^\w\s])"
)
_CLAUSE_PUNCT = frozenset(",;:()–—")
_QUOTE_SPAN = re.compile(
    r"„[^„“”\"]{1,400}[“”\"]|“[^“”„]{1,400}”|«[^«»]{1,400}»|»[^«»]{1,400}«|\"[^\"]{1,400}\""
)
_APOS_S = ("'s", "’s")


# A written __init__, not the generated one: compiled (make native), the dataclass's own
# __init__ stays interpreted Python, and every sentence makes a few dozen tokens.
@dataclass(slots=True, init=False)
class _Tok:
    text: str
    start: int
    end: int
    kind: str  # word, num, date, acr, punct
    joined: bool  # glued to the previous word by a hyphen
    low: str
    lemma: str  # lower-cased lemma (words only)
    clause: int
    quoted: bool
    role: str  # actor, person, media, title, place:<actor id> ('talks in Rome')
    title: bool
    cap: bool
    info: _Info | None

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        kind: str,
        joined: bool = False,
        low: str = "",
        lemma: str = "",
        clause: int = 0,
        quoted: bool = False,
        role: str = "",
        title: bool = False,
        cap: bool = False,
        info: _Info | None = None,
    ) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.kind = kind
        self.joined = joined
        self.low = low
        self.lemma = lemma
        self.clause = clause
        self.quoted = quoted
        self.role = role
        self.title = title
        self.cap = cap
        self.info = info


@word_cache_by(300_000)
def _lemma(token: str, lang: str) -> str:
    return str(simplemma.lemmatize(token, lang=lang)).lower()


@dataclass(frozen=True, slots=True)
class _Info:
    """Everything about a word that does not depend on its context, computed once."""

    low: str
    lemma: str
    cap: bool
    title: bool
    stop: bool
    cues: tuple[_Cue, ...]
    light: bool
    verbish: bool  # a verb form when not capitalised (German) / anywhere (English)
    terms: tuple[str, ...]  # content lemma and compound parts, or ()
    negation: bool
    pkey: str  # folded surname key if this word were a person's name
    pkey_gen: str  # the same without a genitive 's' ('Putins')
    num: int  # value of a number word ('sechs', 'fourth'), 0 otherwise
    ordinal: bool
    name_like: bool  # capitalised and unknown to the dictionary: a name ('Corvane', 'RSPB')
    phrases: tuple[tuple[tuple[str, ...], _Cue], ...]  # multiword cues starting here
    cueish: bool  # has cues, phrases or is a light verb: worth a look in the cue scan
    marked: bool  # a number word, a background marker or a separable particle
    plain: bool  # lower case, not marked, no title, no cue: _analyse's loop 1 passes it by
    opens: bool  # may open a gazetteer mention or a person's name (_Opens)


def _word_info(text: str, code: str) -> _Info:  # cached in _INFO_CACHE
    lang = _lang(code)
    low = text.lower()
    if low.endswith(_APOS_S):
        low = low[:-2]
        lemma = low
    else:
        lemma = _lemma(text, code)
    cap = text[0].isupper()
    stop = low in lang.stopwords or lemma in lang.stopwords
    # the word form first: 'according' is attribution, its lemma 'accord' an agreement
    cues = lang.cues.get(low) if low != lemma and low in lang.cues else lang.cues.get(lemma)
    if cues is None and code == "en":
        for cand in (low, low[:-2] if low.endswith("ed") else "", low.rstrip("s")):
            if cand and cand in lang.cues:
                cues = lang.cues[cand]
                break
    if cues is None and code == "de" and cap:
        key = _noun_cue_key(lemma, code)
        if key:
            cues = tuple(c for c in lang.cues[key] if not c.verb)
    if low in lang.auxiliaries or (cues and any(c.verb for c in cues)):
        verbish = True
    elif code == "de":
        verbish = len(low) > 3 and low not in lang.stopwords and lemma.endswith(lang.verb_endings)
    else:
        verbish = len(low) > 4 and low.endswith("ed")
    # German nouns are capitalised: 'Acht' (attention) and 'Elf' (a team) are no numbers.
    number = lang.word_numbers.get(low, (0, False)) if not (cap and code == "de") else (0, False)
    terms: tuple[str, ...] = ()
    if len(low) >= 3 and not stop and lemma not in lang.months and low not in lang.word_numbers:
        term = lemma if lemma.isalpha() else "".join(c for c in lemma if c.isalpha())
        if len(term) >= 3:
            shared = lang.bilingual
            listed = _listed(term, shared, code)
            if listed:
                terms = (listed,)  # a listed compound means more than its parts
            else:
                parts = _compound_parts(term, code) if code == "de" and cap else ()
                terms = tuple(dict.fromkeys(shared.get(x, x) for x in (term, *parts)))
    title = _title_word(text, low, lemma, lang)
    phrases = lang.phrases.get(lemma, ()) + (lang.phrases.get(low, ()) if low != lemma else ())
    cueish = bool(cues or phrases or lemma in lang.light_verbs)
    marked = low in lang.numberish or low in lang.background_markers or low in lang.particles
    gz = _gazetteer(code)
    return _Info(
        low=low,
        lemma=lemma,
        cap=cap,
        title=title,
        stop=stop,
        cues=cues or (),
        light=lemma in lang.light_verbs,
        verbish=verbish,
        terms=terms,
        negation=low in lang.negations or lemma in lang.negations,
        pkey=person_key(text) if cap else "",
        pkey_gen=person_key(text[:-1]) if cap and low.endswith("s") and len(text) > 4 else "",
        num=number[0],
        ordinal=number[1],
        phrases=phrases,
        cueish=cueish,
        marked=marked,
        plain=not cap and not marked and not title and not cueish,
        opens=low in gz.by_first or title or text in gz.name_starts,
        name_like=cap
        and not stop
        and len(text) > 2
        and text.isalpha()
        and not simplemma.is_known(text, code),
    )


_INFO_CACHE: dict[str, dict[str, _Info]] = {}
_INFO_CACHE_MAX = 300_000


_SPACED_DIGITS = re.compile(r"\d[ \u00a0\u202f]\d")
_TRAIL = frozenset(',.;:!?)]"“”»«')


def _tokenize(sentence: str, lang: str) -> tuple[list[_Tok], list[int]]:
    """The tokens of ``sentence``, and the indices of those that may open a gazetteer
    mention or a person's name (``_Info.opens``; _match_actors and _find_persons visit
    only these, so no pass over every token looks for them)."""
    # _word_info's cache: a plain dict per language, looked up inline for every token
    # (cheaper than a two-argument cached call; see digests.sentences.word_cache for why
    # not an lru_cache).
    cache = _INFO_CACHE.setdefault(lang, {})
    if len(cache) > _INFO_CACHE_MAX:
        cache.clear()
    toks: list[_Tok] = []
    append = toks.append
    opens: list[int] = []
    marks = _OPENING_MARKS.get(lang)
    if marks is None:
        marks = _OPENING_MARKS[lang] = _opening_marks(lang)
    pos = 0
    find = sentence.find
    spaced_checked = False
    chunks = sentence.split()
    # With one whitespace character between chunks and none around them (most
    # sentences), each chunk starts one past the end of the one before: no search.
    gap = 1 if len(sentence) + 1 == len("".join(chunks)) + len(chunks) else 0
    # Fast path: most whitespace-separated chunks are a bare word or a word plus
    # one trailing mark; only the rest go through the token regex.
    for chunk in chunks:
        start = pos if gap else find(chunk, pos)
        end = start + len(chunk)
        pos = end + gap
        if chunk.isalpha():
            info = cache.get(chunk)
            if info is None:
                info = cache[chunk] = _word_info(chunk, lang)
            if info.opens:
                opens.append(len(toks))
            append(_word_tok(chunk, start, end, False, info))
        elif chunk[-1] in _TRAIL and chunk[:-1].isalpha():
            word = chunk[:-1]
            info = cache.get(word)
            if info is None:
                info = cache[word] = _word_info(word, lang)
            end -= 1
            if info.opens:
                opens.append(len(toks))
            append(_word_tok(word, start, end, False, info))
            if chunk[-1] in marks:
                opens.append(len(toks))
            append(_punct_tok(chunk[-1], end, end + 1))
        else:
            # A digit is in no plain chunk, so a sentence with spaced digit groups
            # ('14 000', which the regex reads across the space) has one of these: only
            # then is the whole sentence searched for them, and then tokenised whole.
            if not spaced_checked:
                spaced_checked = True
                if _SPACED_DIGITS.search(sentence):
                    toks = _tokenize_regex(sentence, 0, len(sentence), cache, lang, [])
                    return toks, _opening(toks, 0, [], lang)
            first = len(toks)
            _tokenize_regex(sentence, start, end, cache, lang, toks)
            _opening(toks, first, opens, lang)
    return toks, opens


# Per language: the trailing marks that could open a mention (a name list would have to
# hold one; none does, but the tokens must not depend on that).
_OPENING_MARKS: dict[str, frozenset[str]] = {}


def _opening_marks(lang: str) -> frozenset[str]:
    gz = _gazetteer(lang)
    return frozenset(c for c in _TRAIL if c in gz.by_first or c in gz.name_starts)


def _opening(toks: list[_Tok], first: int, out: list[int], lang: str) -> list[int]:
    """Append to ``out`` the indices from ``first`` on of tokens that may open a gazetteer
    mention (their ``low`` in ``by_first``) or a person (a title or a listed name)."""
    gz = _gazetteer(lang)
    for k in range(first, len(toks)):
        t = toks[k]
        info = t.info
        if (
            info.opens
            if info is not None
            else (t.low in gz.by_first or t.title or t.text in gz.name_starts)
        ):
            out.append(k)
    return out


def _word_tok(text: str, start: int, end: int, joined: bool, info: _Info) -> _Tok:
    low, lemma, title, cap = info.low, info.lemma, info.title, info.cap
    return _Tok(text, start, end, "word", joined, low, lemma, 0, False, "", title, cap, info)


def _punct_tok(text: str, start: int, end: int) -> _Tok:
    """A punctuation mark after a word: ``_Tok(text, start, end, "punct", False, text)``."""
    return _Tok(text, start, end, "punct", False, text, "", 0, False, "", False, False, None)


def _tokenize_regex(
    sentence: str, s: int, e: int, cache: dict[str, _Info], lang: str, toks: list[_Tok]
) -> list[_Tok]:
    append = toks.append
    hyphen_end = -1  # end offset of a hyphen glued to the word before it
    last_end = -1
    for m in _TOKEN.finditer(sentence, s, e):
        kind = m.lastgroup or "punct"
        start, end = m.span()
        text = sentence[start:end]
        if kind == "word":
            info = cache.get(text)
            if info is None:
                info = cache[text] = _word_info(text, lang)
            append(_word_tok(text, start, end, hyphen_end == start, info))
        elif kind == "acr":
            low = text.replace(".", "").lower()
            append(_Tok(text, start, end, kind, False, low, low, 0, False, "", False, True))
        else:
            append(_Tok(text, start, end, kind, False, text))
            if text in "-‐" and start == last_end:
                hyphen_end = end
        last_end = end
    return toks


# ---------------------------------------------------------------------------
# language resources


@dataclass(frozen=True, slots=True)
class _Cue:
    type: str
    concept: str
    verb: bool


_SAY = _Cue("statement", "say", True)


@dataclass(frozen=True)
class _Lang:
    code: str
    stopwords: frozenset[str]
    auxiliaries: frozenset[str]
    verb_endings: tuple[str, ...]
    particles: frozenset[str]
    light_verbs: frozenset[str]
    subordinators: frozenset[str]
    adverbial: frozenset[str]  # subordinators of circumstance: although, because, when
    # those that open a clause of circumstance with no comma before it, mid-sentence:
    # 'Shares fell 12% after the company announced a recall' (English; German sets commas)
    trailing: frozenset[str]
    relatives: frozenset[str]
    negations: frozenset[str]
    needs: frozenset[str]  # 'brauchen', 'need': negated, they say 'without'
    clause0_subordinators: frozenset[str]
    locatives: frozenset[str]
    capital_nouns: frozenset[str]  # 'Hauptstadt', 'capital'
    capital_links: frozenset[str]  # 'capital of Poland', 'Hauptstadt der Ukraine'
    determiners: frozenset[str]
    definite: frozenset[str]  # definite articles
    adverbs: frozenset[str]  # may stand between a subject and its verb ('again', 'erneut')
    verb_context: frozenset[str]  # words after which an English bare form is a verb
    verb_objects: frozenset[str]  # words that open an object after an English -s verb
    hazards: frozenset[str]  # '=key's of natural hazards and accidents
    anaphors: frozenset[str]  # subject nouns that refer back ('the company', 'officials')
    prepositions: frozenset[str]
    oblique_articles: frozenset[str]  # 'dem', 'einem': a fronted object, not the subject
    two_party: frozenset[str]  # verbs that are a meeting only between two parties ('treffen')
    institution_heads: tuple[str, ...]
    connectives: frozenset[str]
    titles: frozenset[str]
    title_suffixes: tuple[str, ...]
    months: dict[str, int]
    number_words: dict[str, int]
    word_numbers: dict[str, tuple[int, bool]]  # every number word form -> (value, ordinal)
    clock_words: frozenset[str]
    time_units: frozenset[str]
    past_auxiliaries: frozenset[str]  # 'hatte', 'war', 'had': with a participle, the pluperfect
    background_markers: frozenset[str]  # 'damals', 'bereits', 'previously'
    measure_words: frozenset[str]  # 'magnitude', 'Tiefe': the figure after measures a thing
    dimension_words: frozenset[str]  # 'lang', 'south': the figure before measures a thing
    time_before: frozenset[str]  # 'vor (zwei Jahren)': a span back from now, i.e. a date
    time_after: frozenset[str]  # '(two years) ago'
    multipliers: dict[str, int]
    numberish: frozenset[str]  # words that may start a figure or a date
    percent_words: frozenset[str]
    percent_pairs: frozenset[tuple[str, str]]  # two-word names of '%': 'per cent'
    currency_words: dict[str, str]
    unit_classes: dict[str, str]
    bilingual: dict[str, str]  # lemma -> '=key' shared by both languages
    cues: dict[str, tuple[_Cue, ...]]
    phrases: dict[str, tuple[tuple[tuple[str, ...], _Cue], ...]]
    noun_cue_suffixes: tuple[str, ...]
    boilerplate: tuple[re.Pattern[str], re.Pattern[str]]
    teasers: tuple[re.Pattern[str], re.Pattern[str]]
    related: tuple[re.Pattern[str], re.Pattern[str]]
    byline: re.Pattern[str]
    # a cue word's other sense where its clause holds one of the context words (or, in
    # German, a compound ending in one) and one of the 'with' words: 'zu drei Jahren Haft
    # verurteilt' is a sentence passed, 'verurteilte den Angriff' (or 'die Haft des
    # Reporters') a condemnation
    senses: dict[str, tuple[tuple[str, ...], tuple[str, ...], _Cue]]
    # cue words that are a cue only where their clause holds one of these words: a
    # parliament 'passed the bill', a striker 'passed his medical'
    requires: dict[str, tuple[str, ...]]
    # cue words that are no cue where their clause holds one of these words: 'den Betrieb
    # einstellen' stops something, 'sich auf Verspätungen einstellen' prepares for it
    excludes: dict[str, tuple[str, ...]]


_NEVER = "(?!x)x"


def _alternation(patterns: Iterable[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(anchored, free) alternations; patterns are matched against lower-cased text."""
    pats = list(patterns)
    anchored = [p[1:] for p in pats if p.startswith("^")]
    free = [_literal_first(p) for p in pats if not p.startswith("^")]
    return (
        re.compile("|".join(f"(?:{p})" for p in anchored) or _NEVER),
        re.compile("|".join(f"(?:{p})" for p in free) or _NEVER),
    )


def _literal_first(pattern: str) -> str:
    """'\\bword…' as 'w(?<=\\bw)ord…': the same matches, but when every branch of an
    alternation opens with a literal, the regex engine skips ahead to the characters that
    can start one instead of trying every position of the line (half the search time)."""
    first = pattern[2:3]
    if pattern.startswith("\\b") and first.isalpha() and pattern[3:4] not in ("?", "*", "+", "{"):
        return f"{first}(?<=\\b{first}){pattern[3:]}"
    return pattern


_DE_ENDINGS = ("en", "n", "e", "s", "er")


def _listed(term: str, shared: dict[str, str], code: str) -> str | None:
    """The bilingual key of a lemma; for German also of an inflected form the
    lemmatiser left alone ('Friedenssoldaten')."""
    found = shared.get(term)
    if found is None and code == "de" and len(term) > 6:
        for ending in _DE_ENDINGS:
            if term.endswith(ending):
                found = shared.get(term[: -len(ending)])
                if found:
                    break
    return found


def _word_numbers(d: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    """Cardinal words, German compounds ('fünfundzwanzig') and declined ordinals."""
    out = {w: (v, False) for w, v in d["number_words"].items()}
    for unit, u in d["number_units"].items():
        for tens, t in d["number_tens"].items():
            out.setdefault(f"{unit}und{tens}", (t + u, False))  # German only: 'einundzwanzig'
    for stem, v in d["ordinal_words"].items():
        for ending in d["ordinal_endings"]:
            out.setdefault(stem + ending, (v, True))
    return out


def _anaphors(code: str) -> frozenset[str]:
    """Term keys of subject nouns that refer back to a party named before."""
    shared = _bilingual(code)
    out: set[str] = set()
    for word in lexicon("bilingual")["anaphoric_subjects"][code]:
        lemma = _lemma(word, code)
        out.add(shared.get(lemma, shared.get(word.lower(), lemma)))
    return frozenset(out)


def _bilingual(code: str) -> dict[str, str]:
    """Lemma -> ``=key`` for one language from ``lexicons/bilingual.json``."""
    out: dict[str, str] = {}
    for line in lexicon("bilingual")["pairs"]:
        german, _, english = line.partition("=")
        words = english.split()
        key = "=" + words[0].lower()
        for word in german.split() if code == "de" else words:
            for form in (word.lower(), _lemma(word, code)):
                out.setdefault(form, key)
    return out


@lru_cache(maxsize=4)
def _lang(code: str) -> _Lang:
    d = lexicon(code)
    cues: dict[str, list[_Cue]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], _Cue]]] = {}
    noun_suffixes: set[str] = set()
    for typ, groups in d["cues"].items():
        for group, verb in (("verbs", True), ("nouns", False)):
            for lemma, concept in groups.get(group, {}).items():
                cue = _Cue(typ, concept, verb)
                parts = tuple(lemma.lower().split())
                if len(parts) > 1:
                    phrases.setdefault(parts[0], []).append((parts, cue))
                else:
                    cues.setdefault(parts[0], []).append(cue)
                    if not verb and code == "de" and len(parts[0]) >= 4:
                        noun_suffixes.add(parts[0])
    subs = frozenset(d["subordinators"])
    # Articles double as relative pronouns after a comma, but open main clauses.
    clause0 = frozenset(
        w for w in subs if w not in {"der", "die", "das", "dem", "den", "was", "wie", "um"}
    )
    return _Lang(
        code=code,
        stopwords=frozenset(d["stopwords"]),
        auxiliaries=frozenset(d["auxiliaries"]),
        verb_endings=tuple(d["verb_endings"]),
        particles=frozenset(d["separable_particles"]),
        light_verbs=frozenset(d["light_verbs"]),
        subordinators=subs,
        adverbial=frozenset(d["adverbial_subordinators"]),
        trailing=frozenset(d.get("trailing_subordinators", ())),
        relatives=frozenset(d["relative_pronouns"]),
        negations=frozenset(w for w in d["negations"] if " " not in w),
        needs=frozenset(d.get("need_words", ())),
        clause0_subordinators=clause0,
        locatives=frozenset(d["locative_prepositions"]),
        capital_nouns=frozenset(d["capital_nouns"]),
        capital_links=frozenset(d["capital_links"]),
        determiners=frozenset(d["determiners"]),
        definite=frozenset(d["definite_articles"]),
        adverbs=frozenset(d["adverbs"]),
        verb_context=frozenset(d.get("verb_context", ())),
        verb_objects=frozenset(d.get("verb_objects", ())),
        hazards=frozenset(d["hazard_terms"]),
        anaphors=_anaphors(code),
        prepositions=frozenset(d["prepositions"]),
        oblique_articles=frozenset(d.get("oblique_articles", ())),
        two_party=frozenset(d.get("two_party_verbs", ())),
        institution_heads=tuple(d["institution_heads"]),
        connectives=frozenset(d["leading_connectives"]),
        titles=frozenset(d["titles"]),
        title_suffixes=tuple(d["title_suffixes"]),
        months=dict(d["months"]),
        number_words=dict(d["number_words"]),
        word_numbers=(word_numbers := _word_numbers(d)),
        clock_words=frozenset(d["clock_words"]),
        time_units=frozenset(d["time_units"]),
        past_auxiliaries=frozenset(d["past_auxiliaries"]),
        background_markers=frozenset(d["background_markers"]),
        measure_words=frozenset(d["measure_words"]),
        dimension_words=frozenset(d["dimension_words"]),
        time_before=frozenset(d["relative_time"]["before"]),
        time_after=frozenset(d["relative_time"]["after"]),
        multipliers=dict(d["multipliers"]),
        numberish=frozenset(word_numbers) | frozenset(d["months"]),
        percent_words=frozenset(w for w in d["percent_words"] if " " not in w),
        percent_pairs=frozenset(
            (a, b) for a, b in (w.split(" ", 1) for w in d["percent_words"] if " " in w)
        ),
        currency_words=dict(d["currency_words"]),
        unit_classes=dict(d["unit_classes"]),
        bilingual=_bilingual(code),
        cues={k: tuple(v) for k, v in cues.items()},
        phrases={k: tuple(v) for k, v in phrases.items()},
        noun_cue_suffixes=tuple(sorted(noun_suffixes, key=len, reverse=True)),
        boilerplate=_alternation(d["boilerplate"]),
        teasers=_alternation(d["teasers"]),
        related=_alternation(d["related_markers"]),
        byline=re.compile(d["byline"]),
        senses={
            word: (
                tuple(sense["context"]),
                tuple(sense["with"]),
                # whether it is used as a verb stays the word's own cue's
                _Cue(sense["type"], sense["concept"], True),
            )
            for word, sense in d.get("cue_senses", {}).items()
        },
        requires={word: tuple(ctx) for word, ctx in d.get("cue_requires", {}).items()},
        excludes={word: tuple(ctx) for word, ctx in d.get("cue_excludes", {}).items()},
    )


# ---------------------------------------------------------------------------
# actors


@dataclass(frozen=True, slots=True)
class _Entry:
    tokens: tuple[str, ...]
    mode: str  # acr (exact case), adj (any case), name (capitalised)
    actor: str  # id, or "" for media
    city: bool


_INFLECTIONS = ("s", "es", "e", "en", "er", "em", "n", "ns")


@dataclass(frozen=True)
class _Gazetteer:
    by_first: dict[str, tuple[_Entry, ...]]  # every accepted surface form of a first token
    first_names: frozenset[str]
    surname_first: frozenset[str]
    surname_first_also_given: frozenset[str]
    particles: frozenset[str]
    known_words: frozenset[str]  # every lower-case token of any entry
    name_starts: frozenset[str]  # first_names | surname_first: may open a person's name
    capitals: frozenset[str]  # actors with a capital among their cities


def _entry_tokens(name: str) -> tuple[str, ...]:
    return tuple(
        m.group().replace(".", "").lower()
        for m in _TOKEN.finditer(name)
        if m.lastgroup in ("word", "acr")
    )


def _adjective_stem(token: str) -> str:
    for ending in ("es", "er", "en", "em", "e"):
        if token.endswith(ending) and len(token) - len(ending) >= 4:
            return token[: -len(ending)]
    return token


@lru_cache(maxsize=4)
def _gazetteer(code: str) -> _Gazetteer:
    data = lexicon("actors")
    entries: list[_Entry] = []

    def add(name: str, actor: str, city: bool) -> None:
        bare = name.replace(".", "").replace("-", "")
        if bare.isupper() and len(bare) <= 6:
            mode = "acr"
        elif name[0].islower():
            mode = "adj"
        else:
            mode = "name"
        toks = _entry_tokens(name)
        if code == "de" and len(toks) > 1 and mode == "name":
            # 'Weißes Haus' also as 'im Weißen Haus': declined adjectives match by stem
            toks = tuple(_adjective_stem(t) for t in toks[:-1]) + toks[-1:]
        if toks:
            entries.append(_Entry(toks, mode, actor, city))

    for actor, spec in data["actors"].items():
        for name in [*spec.get(code, ()), *spec.get("any", ())]:
            add(name, actor, False)
        for name in spec.get("cities", ()):
            add(name, actor, True)
    for name in data["media"]:
        add(name, "", False)
    by_first: dict[str, list[_Entry]] = {}
    for e in entries:
        first = e.tokens[0]
        forms = {first}
        if code == "de" and e.mode != "acr":
            forms.update(first + suffix for suffix in _INFLECTIONS)
        elif code == "en" and e.mode == "name":
            forms.add(first + "s")
        for form in forms:
            by_first.setdefault(form, []).append(e)
    return _Gazetteer(
        by_first={k: tuple(sorted(v, key=lambda e: -len(e.tokens))) for k, v in by_first.items()},
        first_names=frozenset(data["first_names"]),
        surname_first=frozenset(data["surname_first"]),
        surname_first_also_given=frozenset(data["surname_first_also_given"]),
        particles=frozenset(data["name_particles"]),
        known_words=frozenset(t for e in entries for t in e.tokens),
        name_starts=frozenset(data["first_names"]) | frozenset(data["surname_first"]),
        capitals=frozenset(a for a, spec in data["actors"].items() if spec.get("cities")),
    )


def _tok_matches(tok: _Tok, want: str, mode: str, lang: str) -> bool:
    if tok.kind not in ("word", "acr"):
        return False
    if mode == "acr":
        return (
            tok.text.replace(".", "").upper() == want.upper()
            and tok.text.replace(".", "").isupper()
        )
    if mode == "name" and not tok.cap:
        return False
    low = tok.low
    if low == want:
        return True
    if lang == "de" and low.startswith(want):
        return low[len(want) :] in _INFLECTIONS
    return lang == "en" and low == want + "s" and mode == "name"


def _match_actors(
    toks: list[_Tok], lang: _Lang, opens: list[int]
) -> list[tuple[int, int, str, bool]]:
    """Gazetteer mentions as ``(first, last_excl, actor_id, is_media)``. ``opens``: the
    indices of the tokens that may open one, ascending (from _tokenize)."""
    gz = _gazetteer(lang.code)
    by_first = gz.by_first
    found: list[tuple[int, int, str, bool]] = []
    n = len(toks)
    # Only a token whose form opens an entry can start a mention (a few per sentence): the
    # tokenizer listed the candidates, the loop visits those.
    starts = [i for i in opens if toks[i].low in by_first]
    after = 0  # the first index not inside a mention found before
    for i in starts:
        tok = toks[i]
        if i < after or tok.kind == "punct":
            continue
        cands = by_first[tok.low]
        hit: tuple[int, _Entry] | None = None
        for e in cands:
            k = len(e.tokens)
            if i + k > n or (hit is not None and k <= hit[0]):
                continue
            if e.mode == "name" and not tok.cap:
                continue  # _tok_matches' first answer ('den' is no 'Den Haag'), sooner
            if all(_tok_matches(toks[i + j], e.tokens[j], e.mode, lang.code) for j in range(k)):
                hit = (k, e)
        if hit is None:
            continue
        k, e = hit
        start, end, city = i, i + k, e.city
        if not city and e.actor in gz.capitals:
            span = _capital_span(toks, i, i + k, e.actor, lang, gz)
            if span is not None and span[0] >= after:
                # 'die polnische Hauptstadt', 'the capital of Poland' is said as 'Warschau'
                (start, end), city = span, True
        prev = toks[start - 1].low if start else ""
        # 'talks in Rome' names a place, 'the government in Ankara' the state
        if city and (
            (
                prev in lang.locatives
                and not (start >= 2 and toks[start - 2].lemma.endswith(lang.institution_heads))
            )
            or (end - start > k and _after_locative(toks, start, lang))
        ):
            for j in range(start, end):
                toks[j].role = "place:" + e.actor  # 'talks in Rome', not the state acting
            after = end
            continue
        found.append((start, end, e.actor, e.actor == ""))
        after = end
    return found


def _capital_span(
    toks: list[_Tok], a: int, b: int, actor: str, lang: _Lang, gz: _Gazetteer
) -> tuple[int, int] | None:
    """The tokens of 'the <demonym> capital (<city>)' or 'the capital of <state>' around a
    state's mention ``a:b``, or None: the phrase names the state's capital city."""
    n = len(toks)
    capital = lang.capital_nouns
    if b < n and toks[b].kind == "word" and toks[b].lemma in capital:
        # English 'capital' is also money ('Russian capital fled'): only 'the ... capital'
        if lang.code == "en" and not (a and toks[a - 1].low in lang.definite):
            return None
        end = b + 1
        if end < n and toks[end].cap:  # the city itself may follow ('Hauptstadt Kiew')
            for e in gz.by_first.get(toks[end].low, ()):
                k = len(e.tokens)
                if (
                    e.city
                    and e.actor == actor
                    and end + k <= n
                    and all(
                        _tok_matches(toks[end + j], e.tokens[j], e.mode, lang.code)
                        for j in range(k)
                    )
                ):
                    end += k
                    break
        return (a, end)
    j = a - 1
    if j >= 1 and toks[j].low in lang.capital_links:
        j -= 1
    if j >= 0 and toks[j].kind == "word" and toks[j].lemma in capital:
        return (j, b)
    return None


_FOLD_SUBS = (
    ("tsch", "ch"),
    ("dsch", "j"),
    ("ts", "z"),  # Hrytsenko = Hryzenko
    ("tz", "z"),
    ("sch", "sh"),
    ("ck", "k"),
    ("ph", "f"),
    ("kh", "h"),
    ("w", "v"),
    ("z", "s"),
    ("j", "i"),
    ("y", "i"),
)
_DOUBLE = re.compile(r"(.)\1+")


@word_cache(50_000)
def person_key(surname: str) -> str:
    """Fold a surname so transliterations agree: Selenskyj = Zelensky, Lawrow = Lavrov."""
    s = surname.lower().replace("ß", "ss")
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
    if not s.isalpha():
        s = "".join(c for c in s if c.isalpha())
    for a, b in _FOLD_SUBS:
        if a in s:
            s = s.replace(a, b)
    return _DOUBLE.sub(r"\1", s)


def _title_word(text: str, low: str, lem: str, lang: _Lang) -> bool:
    if low in lang.titles or lem in lang.titles:
        return True
    if lang.code != "de" or not text[0].isupper():
        return False
    # German genitive the lemmatiser may leave alone ('des Landesführers')
    return lem.endswith(lang.title_suffixes) or lem.removesuffix("s").endswith(lang.title_suffixes)


def _name_token(tok: _Tok, lang: _Lang, gz: _Gazetteer) -> bool:
    return (
        tok.kind == "word"
        and tok.cap
        and tok.low not in lang.stopwords
        and tok.low not in lang.months
        and not tok.title
        and tok.role == ""
        and len(tok.text) > 1
    )


def _read_name(toks: list[_Tok], i: int, lang: _Lang, gz: _Gazetteer) -> list[int]:
    """Indices of capitalised name tokens from ``i`` (particles and hyphen parts allowed)."""
    name: list[int] = []
    j = i
    n = len(toks)
    while j < n and len(name) < 5:
        t = toks[j]
        if t.kind == "punct" and t.text in "-‐" and name and j + 1 < n and toks[j + 1].joined:
            j += 1
            continue
        if (t.kind == "word" and t.joined and name) or _name_token(t, lang, gz):
            name.append(j)
        elif not (
            t.kind == "word"
            and t.low in gz.particles
            and name
            and j + 1 < n
            and _name_token(toks[j + 1], lang, gz)
        ):
            break
        j += 1
    return name


def _surname(name: list[_Tok], gz: _Gazetteer) -> str:
    first = name[0].text
    if first in gz.surname_first and (
        len(name) >= 3 or any(t.joined for t in name) or first not in gz.surname_first_also_given
    ):
        return first
    return name[-1].text


def _find_persons(toks: list[_Tok], lang: _Lang, opens: list[int]) -> list[tuple[int, int, str]]:
    """Persons introduced by a title or a known first name: ``(first, last_excl, key)``.
    ``opens``: as for _match_actors."""
    gz = _gazetteer(lang.code)
    out: list[tuple[int, int, str]] = []
    n = len(toks)
    # Only a title or a listed name can introduce a person: visit those (roles, which the
    # loop changes, are still tested on the way).
    name_starts = gz.name_starts
    starts = [i for i in opens if toks[i].title or toks[i].text in name_starts]
    after = 0  # the first index past the last person found
    for i in starts:
        if i < after:
            continue
        t = toks[i]
        start = -1
        if t.title and t.role != "person":
            j = i + 1
            while j < n and toks[j].title:
                j += 1
            # 'Secretary of State Antony Blinken': 'of State' still belongs to the title
            if (
                j + 2 < n
                and toks[j].low in ("of", "for")
                and toks[j + 1].text[:1].isupper()
                and toks[j + 2].text[:1].isupper()
            ):
                j += 2
            start = j
        elif (
            t.kind == "word"
            and t.role == ""
            and (t.text in gz.first_names or t.text in gz.surname_first)
        ):
            start = i
        if start >= 0 and start < n:
            idx = _read_name(toks, start, lang, gz)
            if (
                idx
                and not (start == i and len(idx) < 2)
                and not (
                    start == i
                    and toks[i].text in gz.surname_first
                    and toks[i].text not in gz.first_names
                    and len(idx) < 3
                    and toks[i].text in gz.surname_first_also_given
                    and not any(toks[k].joined for k in idx)
                )
            ):
                key = "person:" + person_key(_surname([toks[k] for k in idx], gz))
                first, last = idx[0], idx[-1] + 1
                out.append((first, last, key))
                for k in range(first, last):
                    toks[k].role = "person"
                after = last
    return out


def _fuzzy_person(
    text: str, key: str, known: dict[str, str], lang: str, unknown: bool = False
) -> str | None:
    """A surname spelt another way than a person met before ('Zelenskij' ~ 'Selenskyj').
    ``unknown``: the caller knows ``text`` is no dictionary word (``_Info.name_like``)."""
    close = [k for k in known if k[:1] == key[:1] and abs(len(k) - len(key)) <= 2 and len(k) >= 5]
    if not close or (not unknown and simplemma.is_known(text, lang)):
        return None
    best = process.extractOne(key, close, scorer=fuzz.ratio, score_cutoff=_PERSON_FUZZ)
    return known[best[0]] if best else None


# ---------------------------------------------------------------------------
# numbers


_SEPARATOR = re.compile(r"[.,]")


def _parse_number(raw: str, lang: str) -> float | None:
    s = raw.replace("\u00a0", " ").replace("\u202f", " ")
    if " " in s:
        s = s.replace(" ", "")
    groups = _SEPARATOR.split(s)
    seps = _SEPARATOR.findall(s)
    try:
        if not seps:
            return float(s)
        if len(groups) > 2 or (len(groups[-1]) == 3 and groups[0] != "0" and len(groups[0]) <= 3):
            if len(set(seps)) == 2:  # '1.234,5' or '1,234.5': the last one is decimal
                dec = seps[-1]
                head, _, tail = s.rpartition(dec)
                return float(_SEPARATOR.sub("", head) + "." + tail)
            return float(s.replace(".", "").replace(",", ""))
        if lang == "de":
            return float(s.replace(".", "").replace(",", "."))
        return float(s.replace(",", ""))
    except ValueError:
        return None


def _fmt(v: float) -> str:
    if v == int(v):
        return str(int(v))
    return f"{v:.6g}"


def _compound_end(toks: list[_Tok], j: int) -> int:
    """The last part of a hyphenated compound starting at ``toks[j]`` ('e-bike',
    'E-Bike-Akkus', 'low-floor'), or ``j`` when none starts there."""
    n = len(toks)
    while (
        j + 2 < n
        and toks[j + 1].text in "-‐"
        and toks[j + 2].joined
        and toks[j + 2].kind == "word"
    ):
        j += 2
    return j


def _unit_after(
    toks: list[_Tok], j: int, lang: _Lang, compound: bool = True
) -> tuple[str, int]:
    """The counted noun after a number, mapped to a unit class where known, and the
    index of its token (-1 when there is none). A hyphenated compound counts its last
    part ('48,000 e-bike batteries', '200 E-Autos'), unless ``compound`` is off (the
    figure is glued to it: '250-Gramm-Packung' counts grams)."""
    n = len(toks)
    skipped = 0
    while j < n and skipped <= 3:
        t = toks[j]
        if t.kind != "word":
            return "", -1
        if compound and (end := _compound_end(toks, j)) != j:
            if lang.code == "de":
                return _unit_class(toks[end].lemma, lang), end
            return _english_head(toks, end, lang)
        if lang.code == "de":
            if t.low.startswith(_AGE_STEMS):
                return "years", j  # '61-Jährige', 'ein 61-jähriger Mann' = '61 Jahre alt'
            if t.cap:
                return _unit_class(t.lemma, lang), j
            if t.low in lang.stopwords and t.low not in ("mehr", "weitere"):
                return "", -1
        else:
            if (not t.cap) and t.low not in lang.stopwords:
                if t.low in ("more", "additional", "other", "extra", "new"):
                    pass
                else:
                    return _english_head(toks, j, lang)
            elif not t.cap:
                return "", -1
        skipped += 1
        j += 1
    return "", -1


_AGE_STEMS = ("jährig", "jahrig")


def _english_head(toks: list[_Tok], k: int, lang: _Lang) -> tuple[str, int]:
    """The unit class of the last noun of the run from ``toks[k]`` on, and its index:
    'four cruise missiles' counts missiles."""
    while k + 1 < len(toks) and _noun_continues(toks[k + 1], lang):
        k += 1
    return _unit_class(toks[k].lemma, lang, toks[k].low), k


def _measurement(toks: list[_Tok], i: int, at_unit: int, lang: _Lang) -> bool:
    """A figure that measures a thing (its magnitude, length, depth, distance) describes
    it; it is not a reported count."""
    if any(t.low in lang.measure_words for t in toks[max(0, i - 3) : i]):
        return True
    after = toks[at_unit + 1].low if 0 <= at_unit < len(toks) - 1 else ""
    return after in lang.dimension_words


def _relative_time(toks: list[_Tok], i: int, at_unit: int, lang: _Lang) -> bool:
    before = toks[i - 1].low if i > 0 else ""
    after = toks[at_unit + 1].low if at_unit + 1 < len(toks) else ""
    return before in lang.time_before or after in lang.time_after


def _noun_continues(t: _Tok, lang: _Lang) -> bool:
    """An English lower-case content word that may extend a noun run ('cruise missiles')."""
    info = t.info
    return (
        info is not None
        and t.kind == "word"
        and not t.cap
        and not info.stop
        and t.low not in lang.dimension_words
        and not info.verbish
        and not t.low.endswith(("ed", "ing", "ly"))
    )


def _unit_class(lemma: str, lang: _Lang, low: str = "") -> str:
    """A counted noun in a form both languages share: 'Menschen'/'people' -> people,
    'Arbeiter'/'workers' -> =worker, else the lemma."""
    for w in (lemma, low) if low else (lemma,):
        found = lang.unit_classes.get(w) or lang.bilingual.get(w)
        if found:
            return found
    return lemma


def _year(t: _Tok | None) -> int | None:
    if t is not None and t.kind == "num" and t.text.isdigit() and len(t.text) == 4:
        y = int(t.text)
        if 1800 <= y <= 2200:
            return y
    return None


def _word_value(toks: list[_Tok], i: int, lang: _Lang) -> tuple[int, bool]:
    """A number word's (value, ordinal); 0 when ``toks[i]`` is none."""
    t = toks[i]
    info = t.info
    if info is None:
        return 0, False
    if info.num:
        return info.num, info.ordinal
    if t.cap and i < 3 and all(x.kind == "punct" for x in toks[:i]):
        return lang.word_numbers.get(t.low, (0, False))  # 'Zwei der sechs Verletzten …'
    return 0, False


# Single letters that are units when glued to a number ('15m', '3t', '2h', '5k', '3x').
_LETTER_UNITS = frozenset("ghklmstvwx")


def _extract_numbers(
    toks: list[_Tok], lang: _Lang, starts: list[int] | None = None
) -> list[tuple[str, bool]]:
    """Dates, years and figures as ``(normalised, salient)``.

    A figure is *salient* when it is reported, not a descriptor: not inside a
    quotation, not glued by a hyphen to the next word ('250-Gramm-Packung',
    'six-month'), not the ordinal of a time unit ('88th minute'). Clock times and
    designators after a name ('Fold 3', 'Staatsstraße 38') are no figures at all.

    ``starts``: ascending token indices that may start a figure or a date (numbers,
    dates, number words, months, capitalised words among the first three), any superset
    of them; the tokens in between are passed over (default: every token).
    """
    out: list[tuple[str, bool]] = []
    n = len(toks)
    i = 0

    def at(k: int) -> _Tok | None:
        return toks[k] if 0 <= k < n else None

    if starts is None:
        starts = list(range(n))
    c = 0
    while True:
        # on to the next token that may start a figure: any other one is passed over
        while c < len(starts) and starts[c] < i:
            c += 1
        if c == len(starts):
            break
        i = starts[c]
        t = toks[i]
        if t.kind == "date":
            parts = [p for p in t.text.split(".") if p]
            day, month = int(parts[0]), int(parts[1])
            year = int(parts[2]) if len(parts) > 2 else None
            if year is not None and year < 100:
                year += 2000
            if 1 <= day <= 31 and 1 <= month <= 12:
                out.append((_date(year, month, day), False))
            i += 1
            continue
        if t.kind == "word" and t.cap and t.low in lang.months:
            # 'April 26, 2025' / 'April 2025'
            nx = at(i + 1)
            if nx is not None and nx.kind == "num" and nx.text.isdigit():
                v = int(nx.text)
                if 1 <= v <= 31:
                    k = i + 2
                    nk = at(k)
                    if nk is not None and nk.text == ",":
                        k += 1
                    y = _year(at(k))
                    out.append((_date(y, lang.months[t.low], v), False))
                    i = k + 1 if y else i + 2
                    continue
                y = _year(nx)
                if y:
                    out.append((f"{y}-{lang.months[t.low]:02d}", False))
                    i += 2
                    continue
            i += 1
            continue
        value: float | None = None
        ordinal = False
        if t.kind == "num":
            value = _parse_number(t.text, lang.code)
        elif t.kind == "word" and t.info is not None and (t.info.num or (t.cap and i < 3)):
            # _word_value is 0 for any other word (most capitalised German nouns)
            word, ordinal = _word_value(toks, i, lang)
            value = float(word) if word else None
        if value is None:
            i += 1
            continue
        j = i + 1
        nx = at(j)
        if t.kind == "num" and nx is not None and nx.text == ":":
            after = at(j + 1)
            if after is not None and after.kind == "num" and len(after.text) == 2:
                i = j + 2  # a clock time '3:17'
                continue
        if nx is not None and nx.text == "." and lang.code == "de" and t.kind == "num":
            mon = at(j + 1)
            if mon is not None and mon.low in lang.months and value <= 31:
                y = _year(at(j + 2))
                out.append((_date(y, lang.months[mon.low], int(value)), False))
                i = j + (3 if y else 2)
                continue
            ordinal = True  # '14. Jahrhundert', 'der 3. Versuch'
            j += 1
            nx = at(j)
        if nx is not None and nx.kind == "word" and nx.low in lang.months and value <= 31:
            y = _year(at(j + 1))  # '26 April 2025'
            out.append((_date(y, lang.months[nx.low], int(value)), False))
            i = j + (2 if y else 1)
            continue
        if _is_clock(toks, j, lang):
            i = j + 1
            continue
        prev = at(i - 1)
        if (
            prev is not None
            and prev.low in lang.definite
            and value <= _REFERRING_MAX
            and not ordinal
            and not (nx is not None and nx.text == ".")
        ):
            i = j  # 'the two Norwegians', 'die drei Verletzten': a group counted before
            continue
        if (
            t.kind == "num"
            and prev is not None
            and prev.kind == "word"
            and prev.cap
            and i > 1
            and prev.info is not None
            and not prev.info.stop
            and prev.low not in lang.months
            and (nx is None or nx.kind == "punct" or (nx.info is not None and nx.info.stop))
            # a year after a capitalised word is a year ('im Sommer 2022 waren', 'seit dem
            # Frühjahr 2020 ist'); names numbered like years are rarer than these
            and _year(t) is None
        ):
            i += 1  # a designator: 'Fold 3,', 'Staatsstraße 38 über', 'Article 5 of'
            continue
        if (
            t.kind == "num"
            and nx is not None
            and nx.kind == "word"
            and nx.start == t.end
            and len(nx.text) == 1
            and nx.text.islower()
            and nx.text not in _LETTER_UNITS
        ):
            i += 2  # a number with a letter: a section or a house ('15a-Vereinbarung', '§ 219a')
            continue
        if (
            t.kind == "num"
            and t.text.isdigit()
            and _year(t)
            and not (nx is not None and nx.kind == "word" and nx.low in lang.multipliers)
        ):
            out.append((str(int(value)), False))
            i += 1
            continue
        if (
            t.kind == "num"
            and nx is not None
            and nx.low in ("st", "nd", "rd", "th")
            and (nx.start == t.end)
        ):
            ordinal = True  # '88th'
            j += 1
            nx = at(j)
        if nx is not None and nx.kind == "word" and nx.low in lang.multipliers:
            value *= lang.multipliers[nx.low]
            j += 1
            if (d := at(j)) is not None and d.text == ".":
                j += 1
        elif (
            t.kind == "word"
            and nx is not None
            and nx.text in "-‐"
            and (unit_tok := at(j + 1)) is not None
            and unit_tok.joined
            and unit_tok.info is not None
            and 0 < unit_tok.info.num < 10
            and value in _TENS
        ):
            value += unit_tok.info.num  # 'twenty-five'
            j += 2
            nx = at(j)
        nx = at(j)
        glued = nx is not None and nx.text in "-‐" and (w := at(j + 1)) is not None and w.joined
        salient = not t.quoted and not glued
        cur = ""
        if prev is not None and prev.text in "€$£":
            cur = {"€": "eur", "$": "usd", "£": "gbp"}[prev.text]
        if nx is not None and (nx.text == "%" or nx.low in lang.percent_words):
            out.append((f"{_fmt(value)}%", salient))
            i = j + 1
            continue
        if (
            nx is not None
            and lang.percent_pairs
            and (nx2 := at(j + 1)) is not None
            and (nx.low, nx2.low) in lang.percent_pairs
        ):
            out.append((f"{_fmt(value)}%", salient))  # '4.5 per cent' = '4.5 percent'
            i = j + 2
            continue
        if nx is not None and nx.text in "€$£":
            cur = {"€": "eur", "$": "usd", "£": "gbp"}[nx.text]
            j += 1
        elif nx is not None and nx.kind == "word" and nx.low in lang.currency_words:
            cur = lang.currency_words[nx.low]
            j += 1
        elif nx is not None and nx.kind == "acr" and nx.low in ("usd", "eur"):
            cur = nx.low
            j += 1
        if cur:
            out.append((f"{_fmt(value)} {cur}", salient))
            i = j
            continue
        unit, at_unit = _unit_after(toks, j + 1 if glued else j, lang, not glued)
        if unit in lang.time_units and _relative_time(toks, i, at_unit, lang):
            i = at_unit + 1  # 'vor zwei Jahren', 'three weeks ago': a date relative to now
            continue
        if ordinal and unit in lang.time_units:
            salient = False  # '88th minute', '14th century' place a moment, they count nothing
        if salient and _measurement(toks, i, at_unit, lang):
            salient = False  # 'magnitude 5.4', '40 Meter lange', '30 km south': a description
        if (
            not unit
            and t.kind == "num"
            and t.text.isdigit()
            and 0 < value < 120
            and nx is not None
            and nx.text == ","
            and prev is not None
            and prev.text == ","
            and (name := at(i - 2)) is not None
            and name.kind == "word"
            and name.cap
        ):
            unit = "years"  # 'Sarah Whitcombe, 52, was …': an age in apposition
        out.append((f"{_fmt(value)} {unit}" if unit else _fmt(value), salient))
        i = j
    return out


_TENS = frozenset(float(v) for v in range(20, 100, 10))
_EXPLETIVES = frozenset({"es", "man", "there", "it"})
_REFERRING_MAX = 12  # 'the two men' refers back; 'the 23 crew' still reports a figure


def _is_clock(toks: list[_Tok], j: int, lang: _Lang) -> bool:
    """'5.50 Uhr', '3 a.m.', '7 p.m.': the token at ``j`` (and the next) name a clock time."""
    if j >= len(toks):
        return False
    t = toks[j]
    if t.low in lang.clock_words:
        return True
    if t.kind == "word" and len(t.low) == 1 and t.low in "ap" and j + 2 < len(toks):
        return toks[j + 1].text == "." and toks[j + 2].low == "m"
    return False


def _date(year: int | None, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"{month:02d}-{day:02d}"


# ---------------------------------------------------------------------------
# sentence analysis


# Heads that are derivational endings, not words of their own ('Partner|schaft').
_BAD_HEADS = ("schaft", "heit", "keit", "igkeit", "ung", "lich", "ling", "tum", "nis", "ehen")


@word_cache_by(100_000)
def _compound_parts(lemma: str, lang: str) -> tuple[str, ...]:
    """Split a long German compound into modifier and head ('truppenentsendung').

    The first split from the left whose head and modifier are both dictionary
    words wins, so the head is as long as possible ('friedens|verhandlung').
    """
    if lang != "de" or len(lemma) < 9 or not lemma.isalpha():
        return ()
    stop = _lang(lang).stopwords
    for i in range(4, len(lemma) - 4):
        head = lemma[i:]
        if head.startswith(_BAD_HEADS) or not simplemma.is_known(head.capitalize(), lang):
            continue
        mod = lemma[:i]
        linkless = (mod[:-1] if mod.endswith("s") else "", mod[:-2] if mod.endswith("en") else "")
        for cand in (mod, *linkless):
            if len(cand) >= 4 and cand not in stop and simplemma.is_known(cand.capitalize(), lang):
                return (_lemma(head.capitalize(), lang), _lemma(cand.capitalize(), lang))
    return ()


def compound_terms(term: str) -> tuple[str, ...]:
    """The terms a German compound term was split into (head, modifier), as the
    extractor writes them in a fact's terms ('messstelle' -> 'stelle', 'messen'), or ()."""
    parts = _compound_parts(term, "de")
    if not parts:
        return ()
    shared = _lang("de").bilingual
    return tuple(shared.get(x, x) for x in parts)


@word_cache_by(100_000)
def _noun_cue_key(lemma: str, lang: str) -> str | None:
    """The cue noun a German compound ends in ('gegenangriff' -> 'angriff')."""
    for suffix in _lang(lang).noun_cue_suffixes:
        if lemma.endswith(suffix) and len(lemma) - len(suffix) >= 3:
            return suffix
    return None


def _english_finite(words: list[_Tok], lang: _Lang) -> bool:
    """English verbs the word lists miss: a present -s form before its object or a
    figure ('employs about 3,800', 'represents most'), an infinitive ('plan to begin')."""
    for a, b in pairwise(words):
        if a.cap:
            continue
        if (
            a.low == "to"
            and not b.cap
            and b.low not in lang.determiners
            and b.info is not None
            and not b.info.stop
            and not b.info.num
        ):
            return True
        if (
            len(a.low) > 3
            and a.low.endswith("s")
            and not a.low.endswith(("ss", "us", "is", "ics"))
            and (
                b.low in lang.determiners
                or b.low in lang.verb_objects
                or b.kind == "num"
            )
        ):
            return True
    return False


def _english_level(toks: list[_Tok]) -> bool:
    """'Inflation stands at 5.2 percent', 'the toll stands at 12': a present -s form, a
    preposition and a figure report the level something has reached."""
    for k in range(len(toks) - 2):
        a = toks[k]
        if (
            a.kind == "word"
            and not a.cap
            and len(a.low) > 3
            and a.low.endswith("s")
            and not a.low.endswith(("ss", "us", "is", "ics"))
            and toks[k + 1].low in _LEVEL_PREPOSITIONS
            and toks[k + 2].kind == "num"
        ):
            return True
    return False


_LEVEL_PREPOSITIONS = frozenset(("at", "to", "by", "around", "near"))


_WORD_INFO = attrgetter("info")


def _clause_has(toks: list[_Tok], clause: int, words: tuple[str, ...], code: str) -> bool:
    """Whether a word of ``clause`` is one of ``words`` (lemma or form) or, in German,
    a compound ending in one ('Freiheitsstrafe' for 'strafe')."""
    for t in toks:
        if t.clause != clause or t.kind != "word":
            continue
        if t.lemma in words or t.low in words or (code == "de" and t.low.endswith(words)):
            return True
    return False


def _excluded(toks: list[_Tok], clause: int, lemma: str, lang: _Lang) -> bool:
    """Whether ``clause`` holds a word that takes the cue sense from ``lemma``."""
    words = lang.excludes.get(lemma)
    return words is not None and _clause_has(toks, clause, words, "")


def _has_verb(words: list[_Tok], lang: _Lang) -> bool:
    """Whether any of ``words`` is a verb form (_is_verbish), most of them ruled out by the
    word's own flag before the call."""
    for i, t in enumerate(words):
        info = t.info
        if info is not None and info.verbish and _is_verbish(t, lang, i == 0):
            return True
    return False


def _is_verbish(t: _Tok, lang: _Lang, first: bool) -> bool:
    info = t.info
    if info is None or not info.verbish:
        return False
    if t.low in lang.auxiliaries:
        return True
    return not t.cap or (first and any(c.verb for c in info.cues))


@dataclass(slots=True)
class _Analysis:
    type: str
    actors: frozenset[str]
    agents: frozenset[str]
    numbers: tuple[str, ...]
    quote_speaker: str | None
    terms: frozenset[str]
    has_quote: bool
    affiliations: frozenset[str] = frozenset()


def _quote_spans(sentence: str) -> list[tuple[int, int]]:
    if not _has_quote_char(sentence):
        return []
    return [m.span() for m in _QUOTE_SPAN.finditer(sentence)]


_QUOTE_CHAR = re.compile('[„“«»"]')


def _has_quote_char(s: str) -> bool:
    return _QUOTE_CHAR.search(s) is not None


def _prepare(toks: list[_Tok], lang: _Lang, opens: list[int]) -> list[tuple[int, int, str]]:
    """Gazetteer actors and titled/first-named persons; marks token roles."""
    mentions: list[tuple[int, int, str]] = []
    for a, b, actor, media in _match_actors(toks, lang, opens):
        for k in range(a, b):
            toks[k].role = "media" if media else "actor"
        if not media:
            mentions.append((a, b, actor))
    mentions.extend(_find_persons(toks, lang, opens))
    return mentions


def _analyse(
    sentence: str,
    toks: list[_Tok],
    mentions: list[tuple[int, int, str]],
    lang: _Lang,
    known_persons: dict[str, str],
) -> _Analysis:
    spans = _quote_spans(sentence)
    subordinate: dict[int, bool] = {}
    relative: set[int] = set()  # relative clauses: background, kept out of the terms
    adverbial: set[int] = set()  # 'obwohl …', 'because …': circumstances of the act
    late_adverbial: dict[int, int] = {}  # clause -> where a trailing 'after …' starts
    late_end: dict[int, int] = {}  # clause -> where it ends ('… that')
    last_word: dict[int, int] = {}
    has_number = False
    background = False  # 'damals', 'bereits': a recounted earlier event may follow
    number_words = lang.numberish
    background_words = lang.background_markers
    particles = lang.particles
    particles_at: list[int] = []  # separable particles ('steht … aus')
    figure_at: list[int] = []  # tokens that may start a figure, for _extract_numbers
    clause = 0
    next_clause = 1
    outer: list[int] = []  # clauses interrupted by an open parenthesis
    first_word_seen = False
    mentions = list(mentions)
    cueish: list[int] = []  # words without a role that may carry a cue, for the cue scan
    negated = False
    negated_clauses: set[int] = set()
    need_clauses: set[int] = set()  # clauses holding a word of need ('braucht', 'required')
    need_terms: set[str] = set()
    locatives = lang.locatives
    # what each word adds to the terms, in token order, and its index (-1: a place or a
    # name, which a multiword cue does not swallow)
    term_src: list[tuple[str, ...]] = []
    term_at: list[int] = []
    # Tokens and quotations are both in text order, so the only quotation that can hold
    # a token is the first one not ending before it.
    q = 0
    for idx, t in enumerate(toks):
        kind = t.kind
        if kind == "punct" and t.text in _CLAUSE_PUNCT:
            if t.text == ")" and outer:
                # the parenthesis ends, its clause goes on: 'Oberreuter (CDU) ist … gereist'
                clause, first_word_seen = outer.pop(), True
                continue
            if t.text == "(":
                outer.append(clause)
            clause = next_clause
            next_clause += 1
            first_word_seen = False
            continue
        t.clause = clause
        if spans:
            while q < len(spans) and spans[q][1] <= t.end:
                q += 1
            t.quoted = q < len(spans) and spans[q][0] < t.start and t.end < spans[q][1]
        if kind != "word":
            if kind in ("num", "date"):
                has_number = True
                figure_at.append(idx)
            continue
        last_word[clause] = idx
        winfo = t.info
        if winfo is None or winfo.marked:  # most words are none of these
            low = t.low
            if low in number_words:
                has_number = True
                figure_at.append(idx)  # a number word or a month
            if low in background_words:
                background = True
            if low in particles:
                particles_at.append(idx)
        if not first_word_seen:
            first_word_seen = True
            subs = lang.subordinators if clause else lang.clause0_subordinators
            subordinate[clause] = t.low in subs
            if clause and t.low in lang.adverbial:
                adverbial.add(clause)
            if clause and t.low in lang.relatives and not _article_use(toks, idx, lang):
                relative.add(clause)
        elif t.low in lang.trailing:
            late_adverbial.setdefault(clause, idx)
        elif t.low == "that" and clause in late_adverbial:
            # 'said after the meeting that …': what was said is no circumstance
            late_end.setdefault(clause, idx)
        if winfo is None:
            continue
        # The terms are gathered here, not in a pass of their own: a clause is known to be
        # relative from its first word on, and a word's role is final once this loop has
        # seen it (only its own person or title role is set below).
        in_relative = clause in relative if relative else False
        if not in_relative and winfo.negation and not _in_short_quote(t, spans):
            negated = True
            negated_clauses.add(clause)
        if not in_relative and (winfo.lemma in lang.needs or winfo.low in lang.needs):
            need_clauses.add(clause)
            need_terms.update(winfo.terms)
        role = t.role
        if winfo.plain:
            # no person, title or cue can come of it; a plain word is no name either
            if not (in_relative or role) and winfo.terms:
                term_at.append(idx)
                term_src.append(tuple(QUOTED + x for x in winfo.terms) if t.quoted else winfo.terms)
            elif role and not in_relative and role.startswith("place:"):
                term_at.append(-1)
                term_src.append(("^" + role[6:],))
            continue
        if role:
            if not in_relative and role.startswith("place:"):
                term_at.append(-1)
                term_src.append(("^" + role[6:],))
            continue
        if t.cap and known_persons:
            key = known_persons.get(winfo.pkey) or (
                known_persons.get(winfo.pkey_gen) if winfo.pkey_gen else None
            )
            if key is None and winfo.name_like and len(winfo.pkey) >= 5:
                # only a word the dictionary does not know can be a respelt surname
                key = _fuzzy_person(t.text, winfo.pkey, known_persons, lang.code, True)
            if key:
                t.role = "person"
                mentions.append((idx, idx + 1, key))
                continue
        if t.title:
            t.role = "title"
            continue
        if winfo.cueish:
            cueish.append(idx)
        if in_relative:
            continue
        if (
            winfo.name_like
            and idx
            and toks[idx - 1].low in locatives
            and not (idx > 1 and toks[idx - 2].low == "according")  # 'according to INGV'
        ):
            term_at.append(-1)
            term_src.append(("^" + winfo.pkey,))
        if winfo.terms:
            term_at.append(idx)
            term_src.append(tuple(QUOTED + x for x in winfo.terms) if t.quoted else winfo.terms)
    mentions.sort()
    actors = frozenset(m[2] for m in mentions)

    # --- groups of adjacent mentions ('der russische Präsident Wladimir Putin')
    groups: list[tuple[int, int, set[str]]] = []
    for a, b, actor in mentions:
        if groups:
            ga, gb, members = groups[-1]
            between = toks[gb:a]
            if all(
                x.role in ("title", "actor", "person")
                or x.low in ("und", "and", "sowie", "-", "‐", "&")
                for x in between
            ) and all(x.clause == toks[a].clause for x in between):
                members.add(actor)
                groups[-1] = (ga, max(gb, b), members)
                continue
        groups.append((a, b, {actor}))
    # A group governed by a locative preposition names a place, not who acts:
    # 'in der polnischen Hauptstadt', 'in Russland'.
    places = {ga for ga, _, _ in groups if _after_locative(toks, ga, lang)} if groups else set()
    affiliations = (
        frozenset(
            f"{person}={states[0]}"
            for _, _, members in groups
            if len(states := [m for m in members if not m.startswith("person:")]) == 1
            for person in members
            if person.startswith("person:")
        )
        if groups
        else frozenset()
    )

    # --- cues
    hits: list[tuple[str, float, int]] = []  # (type, weight, token index)
    concepts: set[str] = set()
    military: set[str] = set()
    phrase_toks: set[int] = set()  # words of a multiword cue ('ums Leben'): its concept says it

    def add_cue(cue: _Cue, pos: int, verb: bool | None = None) -> None:
        t = toks[pos]
        as_verb = cue.verb if verb is None else verb
        w = 2.0 if as_verb else 1.0
        if not subordinate.get(t.clause, False) and not t.quoted and not _infinitive(toks, pos):
            # a main-clause verb asserts the act; a noun only names one ('31 votes'),
            # so a reported figure outweighs it
            w += 1.0 if as_verb else _NOUN_MAIN_BONUS
        if t.quoted:
            w = min(w * 0.5, 1.0)  # what a quotation says is the speaker's, not the event
        elif t.clause in adverbial or (
            late_adverbial.get(t.clause, len(toks)) < pos < late_end.get(t.clause, len(toks))
        ):
            # 'obwohl der Präsident einen solchen Schritt abgelehnt hat': a circumstance
            # of the reported act, not the act
            w = min(w, 1.0)
        if cue.type == "statement":
            # Reported speech takes the type of what is reported: a cue or a figure in
            # the reported clause outweighs the speech verb; attribution ('laut',
            # 'according to') is never the event.
            w = min(w, 1.0 if cue.concept in ("according", "report") else _SPEECH_WEIGHT)
        hits.append((cue.type, w, pos))
        if cue.concept != "according" and t.clause not in relative:
            concepts.add("~" + cue.concept)
            if cue.type == "military_action":
                military.add("~" + cue.concept)

    determiners = lang.determiners
    n = len(toks)
    light: list[int] = []
    noun_hits: list[tuple[_Cue, int]] = []
    for idx in cueish:  # no other token has a cue, a phrase or a light verb
        t = toks[idx]
        info = t.info
        if info is None or t.role or not info.cueish:
            continue
        if info.light and (not t.cap or idx == 0):
            light.append(idx)
            continue
        sense = lang.senses.get(t.lemma) if lang.senses else None
        needs = lang.requires.get(t.lemma) if lang.requires else None
        cues = info.cues
        if needs is not None and not _clause_has(toks, t.clause, needs, lang.code):
            cues = ()  # its phrases ('passed away') still count
        if lang.excludes and _excluded(toks, t.clause, t.lemma, lang):
            cues = ()
        for cue in cues:
            if (
                sense is not None
                and _clause_has(toks, t.clause, sense[1], "")
                and _clause_has(toks, t.clause, sense[0], lang.code)
            ):
                cue = _Cue(sense[2].type, sense[2].concept, cue.verb)
            if lang.code == "de":
                is_verb_form = not t.cap or idx == 0
                if cue.verb != is_verb_form and not (cue.verb and idx == 0):
                    continue
                if cue.verb and _attributive(toks, idx, determiners):
                    continue  # 'keine bestätigten Fälle': a participle used as an adjective
                if cue.verb and t.lemma in lang.two_party and not _two_parties(toks, t.clause):
                    continue  # 'hat ein Kraftwerk getroffen' hit a thing, met nobody
            elif cue.verb and not _english_verb_use(toks, idx, lang):
                continue
            if cue.verb:
                add_cue(cue, idx)
            else:
                noun_hits.append((cue, idx))
        for parts, cue in info.phrases:
            k = len(parts)
            if idx + k <= n and all(
                toks[idx + j].lemma == parts[j] or toks[idx + j].low == parts[j]
                for j in range(1, k)
            ):
                if cue.verb:
                    add_cue(cue, idx)
                else:
                    noun_hits.append((cue, idx))  # 'state of emergency' can be declared
                phrase_toks.update(range(idx, idx + k))
    # A light verb takes the type of its object noun: 'äußerten Bedenken',
    # 'voiced concern' are criticism, not a plain statement.
    if noun_hits:
        light_clauses = {toks[i].clause for i in light}
        for cue, idx in noun_hits:
            add_cue(cue, idx, verb=toks[idx].clause in light_clauses)
    if light:
        nominal_clauses = {toks[i].clause for _, i in noun_hits}
        for i in light:
            if toks[i].clause not in nominal_clauses:
                # with no typed object, a light verb is what it says on its own: 'extended
                # the curfew', 'den Katastrophenfall ausgerufen'; else a statement. Its own
                # sense is a weak one (weighed like a noun): 'to raise £22 million' is a
                # figure first
                info = toks[i].info
                own = [c for c in info.cues if c.verb] if info is not None else []
                if own:
                    for cue in own:
                        add_cue(cue, i, verb=False)
                else:
                    add_cue(_SAY, i)
    if lang.code == "de":
        before = len(hits)
        split_verbs = _separable_cues(toks, lang, add_cue, last_word)
        if split_verbs:
            # 'schloss … aus' is 'ausschließen' (rule out), not 'schließen' (close): the
            # particle verb's cue replaces the base verb's
            hits[:before] = [h for h in hits[:before] if h[2] not in split_verbs]
            for j in split_verbs:
                base = toks[j].info
                if base is not None:
                    concepts.difference_update("~" + c.concept for c in base.cues)
            concepts.update(split_verbs.values())

    if hits and any(h[0] == "decision_policy" for h in hits):
        # 'Der Waldbrand hat sich auf 180 Hektar ausgeweitet', 'the flood extended to the
        # old town': a hazard that grows decides nothing
        hits = [
            h
            for h in hits
            if h[0] != "decision_policy" or not _hazard_subject(toks, lang, toks[h[2]].clause)
        ]
    if hits and any(h[0] == "military_action" for h in hits) and _mentions_hazard(toks, lang):
        # 'the quake struck', 'das Feuer zerstörte': a natural hazard is the subject,
        # so 'strike', 'hit', 'destroy' describe it, not an armed act.
        hits = [h for h in hits if h[0] != "military_action"]
        concepts -= military - _CASUALTY

    best: dict[str, tuple[float, int]] = {}
    for typ_, w, pos in hits:
        prev = best.get(typ_)
        if prev is None or w > prev[0]:
            best[typ_] = (w, pos)

    # figure_at already holds every token that can start a figure, in order: a
    # capitalised number word among the first three ('Zwei der sechs Verletzten …') is a
    # number word, listed like any other, so no more starts need visiting.
    figures = _extract_numbers(toks, lang, figure_at) if has_number else []
    numbers = [x for x, _ in figures] if figures else []
    quantities = (
        [x for x, salient in figures if salient and not _is_date_or_year(x)] if figures else []
    )
    if quantities:
        # A figure with a counting cue ('Zahl', 'toll') or a casualty verb ('getötet',
        # 'killed', 'ums Leben') is a number_estimate; on a tie with an act it wins over
        # military_action and yields to speech acts (_PRIORITY): 'confirmed that 12 died'.
        w = 2.0 + (1.0 if "number_estimate" in best or concepts & _CASUALTY else 0.0)
        best["number_estimate"] = (w, best.get("number_estimate", (0.0, 0))[1])
    elif "number_estimate" in best:
        del best["number_estimate"]  # 'zahl'/'rise' without a figure says nothing numeric

    has_quote = bool(spans)
    if best and max(w for w, _ in best.values()) >= _MIN_CUE_WEIGHT:
        typ = max(best, key=lambda k: (best[k][0], -_RANK[k]))
        cue_pos = best[typ][1]
    else:
        typ = "statement" if has_quote else "other"
        cue_pos = 0
    if (
        typ == "denial"
        and toks[cue_pos].clause in negated_clauses
        and "~reject" in concepts
        and "~deny" not in concepts
    ):
        # 'schloss … nicht aus', 'did not rule out', 'lehnte nicht ab': a possibility
        # left open, not a denial
        typ = "statement"
    if typ not in _SPEECH_ACTS and background and _pluperfect(toks, subordinate, lang):
        # 'Bereits am 5. November waren beide in Görlitz zusammengekommen': an earlier
        # event recounted as background; what someone had said stays their statement
        typ = "other"

    def agents_at(pos: int) -> set[str]:
        """The first actor group of the cue's clause, before the cue if any."""
        if not groups or not toks:
            return set()
        clause = toks[pos].clause
        in_clause = [
            g
            for g in groups
            if toks[g[0]].clause == clause and not toks[g[0]].quoted and g[0] not in places
        ]
        before = [g for g in in_clause if g[0] < pos]
        if before:
            return set(before[0][2])
        after = [g for g in in_clause if g[0] > pos]
        if after:
            return set(after[0][2])
        outside = [g for g in groups if not toks[g[0]].quoted and g[0] not in places]
        return set(outside[0][2]) if outside else set()

    agents = agents_at(cue_pos)
    if best and toks[cue_pos].info is not None and typ not in ("other", "number_estimate"):
        clause = toks[cue_pos].clause
        named_before = any(
            toks[g[0]].clause == clause and g[0] < cue_pos and not toks[g[0]].quoted for g in groups
        )
        if not named_before and (name := _name_agent(toks, cue_pos, lang)) is not None:
            agents = {name}
            actors = actors | {name}
        elif (
            not named_before
            # German word order puts a named subject after the verb as often as before
            and not (lang.code == "de" and any(toks[g[0]].clause == clause for g in groups))
            and (noun := _subject_noun(toks, cue_pos, lang)) is not None
        ):
            agents = {
                noun
            }  # 'the union condemned', 'Exporters criticised', 'Das Klinikum erklärte'

    # --- quote speaker: the agent of the speech cue nearest to the quotation
    speaker: str | None = None
    if has_quote:
        q0 = next((i for i, t in enumerate(toks) if t.start >= spans[0][0]), 0)
        speech = [pos for typ_, _, pos in hits if typ_ == "statement" and not toks[pos].quoted]
        colon = any(t.text == ":" for t in toks if t.start < spans[0][0])
        cand: set[str] = set()
        if speech:
            cand = agents_at(min(speech, key=lambda p: abs(p - q0)))
        elif colon:
            cand = agents_at(q0)
        if cand:
            persons = sorted(c for c in cand if c.startswith("person:"))
            speaker = persons[0] if persons else sorted(cand)[0]

    # --- terms
    terms: set[str] = set(concepts)
    if phrase_toks:
        for i, src in zip(term_at, term_src, strict=True):
            if i not in phrase_toks:
                terms.update(src)
    else:
        terms.update(*term_src)
    if negated and negated_clauses <= need_clauses:
        # 'einen Kassenbon braucht man nicht', 'no receipt is required': a requirement
        # said to be absent, as 'ohne Kassenbon' says it; the event itself is affirmed.
        # The word of need is how the absence is phrased, not content.
        negated = False
        terms.difference_update(need_terms)
        terms.add(NEEDLESS)
    # Polarity: 'confirmed' and 'not (yet) confirmed' must never match.
    if negated or (
        lang.code == "de"
        and particles_at
        and _has_particle_verb(toks, lang, "ausstehen", particles_at)
    ):
        concepts.add(NEGATION)
        terms.add(NEGATION)
    if relative and len(terms) - len(concepts) < 3:
        for t in toks:
            if t.info is not None and not t.role and t.info.terms:
                terms.update(t.info.terms)
    for x in quantities:
        terms.discard(x)

    return _Analysis(
        type=typ,
        actors=actors,
        agents=frozenset(agents),
        numbers=tuple(dict.fromkeys(numbers)),
        quote_speaker=speaker,
        terms=frozenset(terms),
        has_quote=has_quote,
        affiliations=affiliations,
    )


def _english_verb_use(toks: list[_Tok], idx: int, lang: _Lang) -> bool:
    """Whether an English cue word is used as a verb here.

    Inflected forms ('attacked', 'killing', 'shot') are verbs unless a
    determiner precedes them; a bare form ('attack', 'strike') is a verb only
    after 'to', a modal, an auxiliary or a pronoun, since otherwise English
    news uses it as a noun ('the fourth attack', 'a warehouse fire').
    """
    t = toks[idx]
    prev = toks[idx - 1] if idx > 0 else None
    if prev is None:
        return True
    if prev.low in lang.determiners:
        return False
    if t.low == t.lemma:
        return prev.low in lang.verb_context
    if t.low in (t.lemma + "s", t.lemma + "es"):
        return prev.kind != "num" and not (prev.info is not None and prev.info.num)
    return True  # past, participle, gerund


def _pluperfect(toks: list[_Tok], subordinate: dict[int, bool], lang: _Lang) -> bool:
    """The main clause is in the pluperfect ('hatte … angeboten', 'had been lifted')."""
    main = next((c for c in sorted(subordinate) if not subordinate[c]), None)
    if main is None:
        return False
    words = [t for t in toks if t.clause == main and t.kind == "word" and not t.quoted]
    for i, t in enumerate(words):
        if t.low not in lang.past_auxiliaries:
            continue
        if lang.code == "de":
            last = words[-1]
            return last is not t and not last.cap and last.info is not None and last.info.verbish
        nxt = words[i + 1 : i + 3]
        return any(w.low == "been" or (w.info is not None and w.info.verbish) for w in nxt)
    return False


def _infinitive(toks: list[_Tok], pos: int) -> bool:
    """'(den Standort) zu schließen', 'plans to close': an intended act, not a done one."""
    return pos > 0 and toks[pos - 1].low in ("zu", "to") and not toks[pos].cap


def _in_short_quote(t: _Tok, spans: list[tuple[int, int]]) -> bool:
    """A negation inside a quoted label ('als „nicht ausreichend“ eingestuft') negates the
    label, not the fact; in a quoted sentence it still counts."""
    return t.quoted and any(
        qs < t.start and t.end < qe and (qe - qs) < _SHORT_QUOTE for qs, qe in spans
    )


def _name_agent(toks: list[_Tok], pos: int, lang: _Lang) -> str | None:
    """An unknown capitalised word next to the cue verb is its subject: 'Corvane said',
    'Hrytsenko thanked', 'Lyra Maritime again rejected', 'wies Milvana zurück'."""
    j = pos - 1
    while j >= 0 and toks[j].kind == "word" and toks[j].low in lang.adverbs:
        j -= 1
    cands = [j]
    if lang.code == "de":
        cands.append(pos + 1)  # verb-second order: 'Am Montag bestätigte Corvane …'
    for k in cands:
        if 0 <= k < len(toks):
            t = toks[k]
            if k > 0 and toks[k - 1].low in lang.prepositions:
                continue  # 'nach Altwerda gereist': a place, not who travelled
            if t.role == "" and t.info is not None and t.info.name_like and not t.quoted:
                return "name:" + t.info.pkey
    return None


def _subject_noun(toks: list[_Tok], pos: int, lang: _Lang) -> str | None:
    """The head noun of the subject of the cue's clause, or of the main clause when the
    cue is in reported speech, as ``noun:<term>`` ('The steelworkers' union called',
    'Das Klinikum hatte … erklärt', 'Am Donnerstag hatten Beschäftigte …'). None when no
    noun phrase opens the clause or its head is an anaphor ('the company', 'officials')
    that points back to a party already named."""
    for clause in dict.fromkeys((toks[pos].clause, 0)):
        end = pos if clause == toks[pos].clause else len(toks)
        words = [t for t in toks[:end] if t.clause == clause and t.kind == "word"]
        head = _np_head(words, lang) if words and not words[0].quoted else None
        if head is not None and head.info is not None:
            if head.info.name_like:
                return "name:" + head.info.pkey  # 'Corvex said it would appeal'
            key = head.info.terms[0]
            return None if key in lang.anaphors else "noun:" + key
        # 'officials said', 'they said': the clause has its own subject; but in
        # 'X erklärte, es gebe keine Hinweise' the reported clause's speaker is X
        pronoun = bool(words) and words[0].info is not None and words[0].info.stop
        if clause and pronoun and words[0].low not in _EXPLETIVES:
            return None
    return None


def _np_head(words: list[_Tok], lang: _Lang) -> _Tok | None:
    first = words[0]
    if (
        lang.code == "de"
        and first.info is not None
        and first.info.stop
        and (first.low not in lang.determiners or first.low in lang.oblique_articles)
    ):
        # 'Am Donnerstag hatten Beschäftigte …': after a fronted phrase the subject
        # follows the finite verb
        verb = next((i for i, t in enumerate(words) if t.low in lang.auxiliaries), None)
        if verb is None or verb + 1 >= len(words):
            return None
        words = words[verb + 1 :]
    elif not (
        first.low in lang.determiners
        or (first.info and first.info.terms and (first.cap or lang.code == "en"))
    ):
        return None  # opens with a preposition, an adverb or a conjunction
    head: _Tok | None = None
    for t in words:
        info = t.info
        if info is None or t.role in ("actor", "person") or t.quoted:
            break
        if lang.code == "de":
            if t.cap and info.terms and t.low not in lang.determiners:
                return t
            continue
        if t.low in lang.determiners or t.low.endswith(("'", "’")):
            continue
        if t.low in lang.prepositions or (info.verbish and not t.cap) or t.low.endswith("ing"):
            break  # a preposition, the verb or a participle ends the noun phrase
        if info.terms:
            head = t
    return head


def _article_use(toks: list[_Tok], idx: int, lang: _Lang) -> bool:
    """German 'die' after a comma before a noun is an article ('…, die Menschen frieren zu
    lassen'), not a relative pronoun ('…, die nahe der Grenze liegt')."""
    if lang.code != "de" or idx + 1 >= len(toks):
        return False
    nxt = toks[idx + 1]
    return nxt.kind == "word" and nxt.cap and nxt.role == ""


def _after_locative(toks: list[_Tok], i: int, lang: _Lang) -> bool:
    """The mention at ``i`` follows a locative preposition (and perhaps an article)."""
    j = i - 1
    if j >= 0 and toks[j].low in lang.determiners:
        j -= 1
    if j < 0 or toks[j].low not in lang.locatives:
        return False
    # 'die Regierung in Ankara' is the state acting
    return not (j >= 1 and toks[j - 1].lemma.endswith(lang.institution_heads))


def _two_parties(toks: list[_Tok], clause: int) -> bool:
    """A meeting needs two parties: a reflexive or 'mit', or two persons or actors."""
    parties = 0
    party_roles = ("person", "actor", "title")
    for i, t in enumerate(toks):
        if t.clause != clause:
            continue
        if t.low in ("sich", "einander"):
            return True
        if t.low in ("mit", "with") and any(x.role in party_roles for x in toks[i + 1 : i + 4]):
            return True  # 'mit seinem Amtskollegen', not 'mit Drohnen'
        if t.role in party_roles:
            parties += 1
    return parties >= 2


def _attributive(toks: list[_Tok], idx: int, determiners: frozenset[str]) -> bool:
    """A German verb form between a determiner and a noun is an adjective
    ('die freigelassenen Soldaten', 'keine bestätigten Fälle')."""
    if idx == 0 or idx + 1 >= len(toks):
        return False
    nxt = toks[idx + 1]
    return toks[idx - 1].low in determiners and nxt.kind == "word" and nxt.cap


def _mentions_hazard(toks: list[_Tok], lang: _Lang) -> bool:
    hazards = lang.hazards
    return any(t.info is not None and not hazards.isdisjoint(t.info.terms) for t in toks)


def _hazard_subject(toks: list[_Tok], lang: _Lang, clause: int) -> bool:
    """Whether the first content word of ``clause``, not governed by a preposition, names a
    natural hazard or an accident ('Der Waldbrand …', 'The flood …'): its subject."""
    prev: _Tok | None = None
    for t in toks:
        if t.clause != clause or t.kind != "word":
            continue
        if t.info is not None and t.info.terms:
            if prev is not None and prev.low in lang.prepositions:
                return False
            return not lang.hazards.isdisjoint(t.info.terms)
        if t.low in lang.prepositions:
            prev = t
    return False


def _has_particle_verb(toks: list[_Tok], lang: _Lang, verb: str, particles_at: list[int]) -> bool:
    """Whether a German split verb such as 'steht … aus' (ausstehen) occurs;
    ``particles_at``: the indices of the words that are separable particles."""
    for i in particles_at:
        t = toks[i]
        if verb.startswith(t.low):
            stem = verb[len(t.low) :]
            if any(x.lemma == stem for x in toks[:i] if x.clause == t.clause):
                return True
    return False


def _separable_cues(
    toks: list[_Tok], lang: _Lang, add_cue: Any, last_in_clause: dict[int, int]
) -> dict[int, str]:
    """German split verbs: 'forderte … auf' is 'auffordern', 'wies … zurück' 'zurückweisen'.
    Returns the verb's index and concept of every split verb found."""
    found_at: dict[int, str] = {}
    for clause, idx in last_in_clause.items():
        part = toks[idx]
        if part.low not in lang.particles or part.cap:
            continue
        for j in range(idx - 1, -1, -1):
            v = toks[j]
            if v.clause != clause:
                break
            if v.kind != "word" or (not v.text[0].islower() and j > 0):
                continue
            found = lang.cues.get(part.low + v.lemma)
            if found and lang.excludes and _excluded(toks, clause, part.low + v.lemma, lang):
                break
            if found:
                for cue in found:
                    if cue.verb:
                        add_cue(cue, j)
                        found_at[j] = "~" + cue.concept
                break
    return found_at


_DATE_RE = re.compile(r"^(?:\d{4}-\d{2}(?:-\d{2})?|\d{2}-\d{2})$")  # 2025-06-12, 2025-06, 06-12


def _is_date_or_year(x: str) -> bool:
    if _DATE_RE.match(x):
        return True
    return x.isdigit() and len(x) == 4 and 1800 <= int(x) <= 2200


# ---------------------------------------------------------------------------
# rejection


# Photo credits: 'Copyright …', 'Foto: …', or a trailing 'First Last/Agency'.
_CREDIT = re.compile(
    r"(?i:\bcopyright\b)"
    r"|/\s*(?i:ap|afp|dpa|reuters|getty(?: images)?|epa|imago|picture alliance)\s*$"
    r"|(?:[A-ZÄÖÜ][\w'’-]+\s+){1,3}[A-ZÄÖÜ][\w'’-]+\s*/\s*[A-Z][\w -]{1,30}$"
)


_CLOSING = "\"'“”«»)] \u00a0"
_LETTERS = re.compile(r"[^\W\d_]+")


def _reject_reason(
    sentence: str,
    lang: _Lang,
    title_norm: str,
    after_related: bool,
    alone: bool = False,
    title_probe: str = "",
) -> str | None:
    """``title_probe``: a word of ``title_norm`` (the longest); a sentence whose lower-cased
    text lacks it cannot be the headline, which spares most sentences a ``_norm``."""
    s = sentence.strip()
    if len(s) > _MAX_SENTENCE:
        return "too_long"
    low = s.lower()
    if title_norm and title_probe in low and _norm(s) == title_norm:
        return "headline"
    short = len(s) < _SHORT_LINE
    if "©" in s or _matches(lang.boilerplate, low, short):
        return "boilerplate"
    tail = s[-80:]
    if ("/" in tail or "opyright" in s) and _CREDIT.search(tail):
        return "credit"
    if _matches(lang.teasers, low, short):
        return "teaser"
    if lang.byline.match(s):
        return "byline"
    # A pitch run into a paragraph is a sentence, not a line, so the feed's line
    # cleaning never saw it alone: 'Abonnez-vous à notre newsletter.' after the news.
    if s.count(" ") < _NOISE_SENTENCE_WORDS and is_noise_line(s):
        return "boilerplate"
    stripped = s.rstrip(_CLOSING)
    if stripped.endswith("?"):
        return "question"
    if stripped[-1:] not in ".!…" and not alone:
        # A line that does not end like a sentence is a headline, a teaser or a link
        # title ('Was Pendler jetzt wissen müssen'), even when it has a verb.
        return "related" if after_related else "unterminated"
    spaces = s.count(" ")
    if not _surely_letters(s, len(s) - spaces):
        non_letters = len(_LETTERS.sub("", s)) - spaces
        if non_letters > 0.45 * (len(s) - spaces):
            return "garbage"
    if len(s) < _MIN_CHARS:
        return "fragment"
    return None


_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))


def _surely_letters(s: str, size: int) -> bool:
    """Whether the ASCII letters alone keep the non-letters of ``s`` within the garbage
    share of ``size`` (characters but spaces). Counting every letter takes a regex step
    per character; ASCII letters (letters for the regex too, one byte each in UTF-8, and
    no byte of a longer character looks like one) are counted by bytes.translate in C,
    and nearly every sentence passes on them."""
    data = s.encode("utf-8", "surrogatepass")
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    return size - letters <= 0.45 * size


def _matches(pats: tuple[re.Pattern[str], re.Pattern[str]], low: str, short: bool) -> bool:
    """Anchored patterns test the line start; free ones only run on short lines,
    where page furniture lives, to keep long sentences cheap."""
    anchored, free = pats
    return bool(anchored.match(low[:120]) or (short and free.search(low)))


_WORD_RUN = re.compile(r"\w+")


def _norm(s: str) -> str:
    return " ".join(_WORD_RUN.findall(s.lower()))


def _clean_text(sentence: str, words: list[_Tok], lang: _Lang) -> str:
    """The sentence as posted: bullets and a leading coordinating connective trimmed.
    ``words``: its word tokens."""
    s = sentence.strip().lstrip("-–—•*·▪► ").strip()
    if len(words) > 4 and words[0].low in lang.connectives and s.startswith(words[0].text):
        rest = s[len(words[0].text) :].lstrip(" ,")
        if rest and (rest[0].isupper() or rest[0].isdigit() or lang.code == "en"):
            s = rest[0].upper() + rest[1:]
    return s


def _importance(a: _Analysis, index: int, total: int, unit_end: bool) -> float:
    v = _BASE_IMPORTANCE.get(a.type, 0.3)
    v += min(0.15, 0.05 * len(a.actors))
    if any(not _is_date_or_year(x) for x in a.numbers):
        v += 0.1
    if a.has_quote:
        v += 0.05
    if total > 1:
        v -= 0.15 * index / (total - 1)
    if not unit_end:
        v -= 0.1
    return round(max(0.0, min(1.0, v)), 3)


# ---------------------------------------------------------------------------
# entry point


def extract_facts(
    text: str,
    language: str,
    *,
    title: str = "",
    known_persons: Iterable[str] = (),
) -> tuple[list[Fact], list[Rejected]]:
    """Split ``text`` into sentences and turn each into a :class:`Fact` or a :class:`Rejected`.

    ``known_persons`` are person ids (``person:<key>``) already met in the story,
    so a bare surname in this article resolves to them, transliteration included.
    """
    code = lexicon_language(language)
    lang = _lang(code)
    # Without a lexicon no word is known to be a verb: a sentence's shape (terminated,
    # long enough) has to do, or a French or Polish article would post nothing at all.
    # Its function words ('pour', 'dans', 'avec') are no terms, or any two of its
    # sentences would look alike to the novelty check.
    other = without_lexicon(language)
    foreign_stop = function_words(language) if other else frozenset()
    spans = split_sentence_spans(text, code)
    title_norm = _norm(title) if title.strip() else ""
    title_probe = max(title_norm.split(" "), key=len)

    # (sentence, tokens or None when rejected, its words, mentions, rejection reason)
    units: list[
        tuple[str, list[_Tok] | None, list[_Tok], list[tuple[int, int, str]], str | None]
    ] = []
    persons: dict[str, str] = {}
    for p in known_persons:
        key = p.removeprefix("person:")
        persons[key] = "person:" + key
    if title.strip():
        title_toks, title_opens = _tokenize(title, code)
        for _, _, key in _find_persons(title_toks, lang, title_opens):
            persons[key.removeprefix("person:")] = key
    after_related = False
    seen: set[str] = set()
    for s, e in spans:
        sentence = text[s:e]
        if len(sentence) < 80 and _matches(lang.related, sentence.strip().lower(), True):
            after_related = True
            units.append((sentence, None, [], [], "boilerplate"))
            continue
        reason = _reject_reason(
            sentence, lang, title_norm, after_related, len(spans) == 1, title_probe
        )
        if reason is None and sentence in seen:
            reason = "duplicate"
        seen.add(sentence)
        if reason is not None:
            units.append((sentence, None, [], [], reason))
            continue
        toks, opens = _tokenize(sentence, code)
        words = list(filter(_WORD_INFO, toks))  # the word tokens: only they carry an _Info
        if len(words) < _MIN_WORDS:
            units.append((sentence, None, [], [], "fragment"))
            continue
        if (
            not other
            and not _has_verb(words, lang)
            and not (
                lang.code == "en" and (_english_finite(words, lang) or _english_level(toks))
            )
        ):
            units.append((sentence, None, [], [], "no_verb"))
            continue
        # first pass: people introduced by a title or first name anywhere in the text,
        # so a bare surname earlier or later in the article resolves to them
        mentions = _prepare(toks, lang, opens)
        for _, _, key in mentions:
            if key.startswith("person:"):
                persons[key.removeprefix("person:")] = key
        units.append((sentence, toks, words, mentions, None))

    facts: list[Fact] = []
    rejected: list[Rejected] = []
    total = sum(1 for u in units if u[1] is not None)
    index = 0
    for sentence, maybe_toks, words, mentions, reason in units:
        if maybe_toks is None:
            rejected.append(Rejected(sentence, reason or "noise"))
            continue
        toks = maybe_toks
        a = _analyse(sentence, toks, mentions, lang, persons)
        unit_end = sentence.rstrip(_CLOSING)[-1:] in ".!…"
        facts.append(
            Fact(
                sentence=sentence,
                text=_clean_text(sentence, words, lang),
                type=a.type,
                actors=a.actors,
                numbers=a.numbers,
                quote_speaker=a.quote_speaker,
                terms=a.terms.difference(foreign_stop) if foreign_stop else a.terms,
                importance=_importance(a, index, total, unit_end),
                agents=a.agents,
                language=code,
                affiliations=a.affiliations,
            )
        )
        index += 1
    return facts, rejected
