"""Sentence splitting for German and English news text.

Every sentence returned is an exact substring of the input (only surrounding
whitespace is trimmed), so a fact can quote its source sentence verbatim and a
caller can find it again with ``text.find``.

Rules, in order of precedence:

* a line break ends a unit (headlines, captions and list items carry no full
  stop), except where a hard-wrapped line continues in lower case;
* no split inside a short quotation (``„…“``, ``“…”``, ``"…"``, ``«…»``);
* no split before a lower-case word;
* a full stop after an abbreviation, an initial, or a German ordinal
  (``26. April``) is not a boundary; abbreviations that may also end a sentence
  (``etc.``, ``U.S.``, ``Inc.``) are one when a typical sentence opener follows.

Numbers with separators (``14.000``, ``3.5``, ``14,000``) never contain a
terminator followed by whitespace, so they need no rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, TypeVar

__all__ = [
    "function_words",
    "lexicon",
    "lexicon_language",
    "split_sentence_spans",
    "split_sentences",
    "without_lexicon",
    "word_cache",
    "word_cache_by",
]

_V = TypeVar("_V")
_K = TypeVar("_K", bound=Hashable)


# Word-level caches as plain dicts keyed by the word. functools.lru_cache keeps its
# entries in a linked list that the garbage collector walks on every full collection:
# with the word caches of digests.facts and digests.stories warm (half a million
# entries) one collection took about 0.2 s, once per ~1,000 articles. A dict of strings
# to strings (or to tuples of them, once the collector has seen them) is not tracked at
# all. A full cache is emptied rather than trimmed: the words come back within a few
# hundred articles.
def word_cache(maxsize: int) -> Callable[[Callable[[str], _V]], Callable[[str], _V]]:
    """Memoise a pure function of one word in a plain dict of at most ``maxsize``."""

    def wrap(fn: Callable[[str], _V]) -> Callable[[str], _V]:
        memo: dict[str, _V] = {}

        def cached(word: str) -> _V:
            try:
                return memo[word]
            except KeyError:
                if len(memo) >= maxsize:
                    memo.clear()
                value = memo[word] = fn(word)
                return value

        cached.__doc__ = fn.__doc__
        cached.__wrapped__ = fn  # type: ignore[attr-defined]
        return cached

    return wrap


def word_cache_by(
    maxsize: int,
) -> Callable[[Callable[[str, _K], _V]], Callable[[str, _K], _V]]:
    """Memoise a pure function of a word and a small key (a language code, a flag) in one
    plain dict per key, each of at most ``maxsize``."""

    def wrap(fn: Callable[[str, _K], _V]) -> Callable[[str, _K], _V]:
        memos: dict[_K, dict[str, _V]] = {}

        def cached(word: str, key: _K) -> _V:
            memo = memos.get(key)
            if memo is None:
                memo = memos[key] = {}
            try:
                return memo[word]
            except KeyError:
                if len(memo) >= maxsize:
                    memo.clear()
                value = memo[word] = fn(word, key)
                return value

        cached.__doc__ = fn.__doc__
        cached.__wrapped__ = fn  # type: ignore[attr-defined]
        return cached

    return wrap


_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’»«“)]"
# '[.!?…][.!?…]*', not '[.!?…]+': a pattern that opens with a character class lets the
# regex engine skip ahead to the next candidate character; one that opens with a
# repeat is tried at every position (twice the time over a text). Same matches.
_JUNCTION = re.compile(r"[.!?…][.!?…]*[\"'”’»«“)\]]*(?=\s|$)")
# A short quotation: both quote marks within the same line, bounded in length so
# that a stray quote mark cannot swallow a paragraph.
_QUOTE = re.compile(
    r"„[^„“”\"\n]{1,400}[“”\"]"
    r"|“[^“”„\n]{1,400}”"
    r"|«[^«»\n]{1,400}»"
    r"|»[^«»\n]{1,400}«"
    r"|\"[^\"\n]{1,400}\""
)
_LINE = re.compile(r"[^\n]+")
_WORD_AFTER = re.compile(r"[\"'„“”«»(\[]*([^\s\"'„“”«»()\[\],;:.!?]+)")
_HARD_WRAP_END = '.!?:;…"“”»«)]'


@cache
def lexicon(name: str) -> dict[str, Any]:
    """The package's lexicon file ``digests/lexicons/<name>.json``, read once."""
    ref = resources.files("digests.lexicons").joinpath(f"{name}.json")
    with ref.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def lexicon_language(language: str) -> str:
    """Map a language tag (``de-AT``, ``en_GB``, ``""``) to a lexicon we ship."""
    return "de" if language.lower().startswith("de") else "en"


def without_lexicon(language: str) -> bool:
    """Whether ``language`` is a known language we ship no lexicon for (``fr``, ``pl``):
    its text borrows the English rules for shape only, since their word lists (verbs,
    cues) say nothing about it. Unknown (``""``, ``und``) is not such a language."""
    code = language.lower()[:2]
    return code.isalpha() and len(code) == 2 and code not in ("de", "en") and (
        language.lower() != "und"
    )


@lru_cache(maxsize=16)
def function_words(language: str) -> frozenset[str]:
    """Lower-case function words of ``language`` (stopwords-iso), empty if it has none."""
    # Imported here: it costs ~0.14 s (package metadata) and only other languages need it.
    import stopwordsiso

    code = language.lower()[:2]
    if not (code.isalpha() and stopwordsiso.has_lang(code)):
        return frozenset()
    return frozenset(w.lower() for w in stopwordsiso.stopwords(code))


@dataclass(frozen=True, slots=True)
class _Rules:
    never_final: frozenset[str]
    may_end: frozenset[str]
    starters: frozenset[str]
    months: frozenset[str]
    ordinal_dot: bool


@lru_cache(maxsize=4)
def _rules(lang: str) -> _Rules:
    data = lexicon(lang)
    return _Rules(
        never_final=frozenset(a.lower() for a in data["abbrev_never_final"]),
        may_end=frozenset(a.lower() for a in data["abbrev_may_end"]),
        starters=frozenset(data["sentence_starters"]),
        months=frozenset(data["months"]),
        ordinal_dot=bool(data["ordinal_dot"]),
    )


def _next_word(text: str, pos: int, end: int) -> str:
    m = _WORD_AFTER.match(text, pos, end)
    return m.group(1) if m else ""


def _is_boundary(text: str, start: int, m: re.Match[str], nxt: int, end: int, r: _Rules) -> bool:
    """Decide whether the terminator run ``m`` ends a sentence."""
    ch = text[nxt]
    if ch.islower():
        return False
    run = text[m.start() : m.end()].rstrip(_CLOSERS)
    if run != ".":
        # '!', '?', '…' and '...' end a sentence before anything not lower case.
        return True
    # the word the full stop is attached to: what follows the last whitespace before it
    i = m.start()
    if i == start or text[i - 1].isspace():
        word = ""
    else:
        word = text[start:i].rsplit(None, 1)[-1].lstrip("\"'„“”«»([")
    if not word:
        return True
    low = word.lower()
    # the word after the full stop is read only by the rules that ask for it: after most
    # words a full stop ends the sentence whatever follows
    if low in r.never_final:
        return False
    if low in r.may_end:
        return _next_word(text, nxt, end).lower() in r.starters
    if len(word) == 1 and word.isalpha():
        return False  # an initial, or one part of 'z. B.' / 'd. h.'
    if "." in word and all(part.isalpha() and len(part) <= 2 for part in word.split(".")):
        # dotted acronym not listed ('U.S', 'z.B', 'i.d.R'): only a starter makes it final
        return _next_word(text, nxt, end).lower() in r.starters
    if word.isdigit() and r.ordinal_dot and len(word) <= 3:
        following = _next_word(text, nxt, end).lower()
        if following in r.months:
            return False
        return following in r.starters
    return True


def _line_units(text: str) -> list[tuple[int, int]]:
    """Line spans, re-joining hard-wrapped lines that continue in lower case."""
    units: list[tuple[int, int]] = []
    for m in _LINE.finditer(text):
        s, e = m.span()
        seg = text[s:e]
        stripped = seg.strip()
        if not stripped:
            continue
        s += len(seg) - len(seg.lstrip())
        e -= len(seg) - len(seg.rstrip())
        if units:
            ps, pe = units[-1]
            prev_last = text[pe - 1]
            if prev_last not in _HARD_WRAP_END and stripped[0].islower():
                units[-1] = (ps, e)
                continue
        units.append((s, e))
    return units


def _split_unit(text: str, s: int, e: int, r: _Rules, out: list[tuple[int, int]]) -> None:
    quotes = [q.span() for q in _QUOTE.finditer(text, s, e)] if _has_quote(text, s, e) else []
    start = s
    for m in _JUNCTION.finditer(text, s, e):
        nxt = m.end()
        while nxt < e and text[nxt].isspace():
            nxt += 1
        if nxt >= e:
            break
        if quotes and any(qs < m.start() and m.end() < qe for qs, qe in quotes):
            continue
        if not _is_boundary(text, start, m, nxt, e, r):
            continue
        out.append((start, m.end()))
        start = nxt
    if start < e:
        out.append((start, e))


_QUOTE_MARK = re.compile('[„“«»"]')


def _has_quote(text: str, s: int, e: int) -> bool:
    # one scan of the line in place, no copy of it
    return _QUOTE_MARK.search(text, s, e) is not None


def split_sentence_spans(text: str, language: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``; see :func:`split_sentences`."""
    r = _rules(lexicon_language(language))
    out: list[tuple[int, int]] = []
    for s, e in _line_units(text):
        _split_unit(text, s, e, r, out)
    return out


def split_sentences(text: str, language: str) -> list[str]:
    """Split ``text`` into sentences, each an exact (whitespace-trimmed) substring."""
    return [text[s:e] for s, e in split_sentence_spans(text, language)]
