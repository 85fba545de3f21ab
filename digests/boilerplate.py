"""Drop page noise (share bars, newsletter blocks, ads, credits, bylines) from article text.

Works line by line on the output of ``html_text``: a line is dropped whole or
kept whole, never edited, so a kept line is always exactly what the source
wrote. The vocabulary lives in ``lexicons/boilerplate_*.json``; the rules here
are shapes (a byline is a marker followed only by names, a date line only by
date words), not phrases of one site.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

# By package, not by __file__: a compiled module's __file__ is not where its data is.
_LEXICON_FILES = ("boilerplate_de.json", "boilerplate_en.json")

# Rules only look at short lines: page chrome is terse, article prose is not.
MAX_NOISE_WORDS = 30
# Cookie and newsletter pitches are written as full sentences, so they get more room.
MAX_PITCH_WORDS = 80
# A line with at least this many words and sentence punctuation is treated as prose.
SENTENCE_MIN_WORDS = 6

_WORD = re.compile(r"[^\W_](?:[\w'’.&-]*[^\W_])?")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_EDGE_PUNCT = " \t-–—•·|»«›‹>*_=~:;,.!?…\"'“”„()[]{}/\\"
_SEGMENT_SPLIT = re.compile(r"\s+[|·•▪]\s+|\s+[|·•▪]|[|·•▪]\s+")
# A bare domain or URL on its own line: a source label or a pasted link.
_BARE_URL = re.compile(r"^(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/\S*)?$", re.I)
# German skip links name their target first: "Zu den Kommentaren springen".
_SKIP_LINK = re.compile(r"^(?:zum|zur|zu den)\b.{0,60}\bspringen$", re.I)
_BREADCRUMB_SEP = re.compile(r"\s[>›»]\s")
_SENTENCE_END = re.compile(r"[.!?…][\"'“”»«)\]]*$")
_NUMBERISH = re.compile(r"^\d{1,4}(?:[./:-]\d{1,4}){0,2}\.?(?:h|st|nd|rd|th)?$")
_COPYRIGHT = re.compile(r"©|^\(c\)|^copyright\b", re.IGNORECASE)
_COMMENT_COUNT_TEMPLATE = r"^(?:\d+\s+)?(?:{words})(?:\s*[(:]?\s*\d+\s*\)?)?$"
# Lower-case words that may sit between the names of a byline.
_NAME_PARTICLES = frozenset(
    {"und", "and", "with", "mit", "von", "van", "de", "der", "den", "di", "da", "la", "le", "el",
     "al", "bin", "ibn", "zu", "in"}
)  # fmt: skip


@dataclass(frozen=True)
class _Lexicon:
    lines: frozenset[str]
    prefix: re.Pattern[str]
    nav_words: frozenset[str]
    section_names: frozenset[str]
    menu_words: frozenset[str]
    share_verbs: frozenset[str]
    newsletter_words: frozenset[str]
    newsletter_hint: re.Pattern[str]
    call_words: frozenset[str]
    consent_phrases: tuple[str, ...]
    byline: re.Pattern[str]
    date_words: frozenset[str]
    date_markers: frozenset[str]
    credit_markers: tuple[str, ...]
    agencies: frozenset[str]
    comment_count: re.Pattern[str]
    reading_time_words: frozenset[str]
    credit_start: re.Pattern[str]
    credit_end: re.Pattern[str]
    agency_end: re.Pattern[str]


def _alternation(phrases: list[str]) -> str:
    # Longest first so "photo credit" wins over "photo".
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


@cache
def _lexicon() -> _Lexicon:
    merged: dict[str, list[str]] = {}
    for name in _LEXICON_FILES:
        ref = resources.files("digests.lexicons").joinpath(name)
        data = json.loads(ref.read_text(encoding="utf-8"))
        for key, values in data.items():
            if isinstance(values, list):
                merged.setdefault(key, []).extend(v.casefold() for v in values)

    def words(key: str) -> list[str]:
        return merged.get(key, [])

    credit = _alternation(words("credit_markers"))
    agencies = _alternation(words("agencies"))
    return _Lexicon(
        lines=frozenset(words("lines")),
        prefix=re.compile(rf"^(?:{_alternation(words('prefixes'))})(?!\w)"),
        nav_words=frozenset(words("nav_words")),
        section_names=frozenset(words("section_names")),
        menu_words=frozenset(words("nav_words") + words("section_names") + words("agencies")),
        share_verbs=frozenset(words("share_verbs")),
        newsletter_words=frozenset(words("newsletter_words")),
        newsletter_hint=re.compile(rf"(?<!\w)(?:{_alternation(words('newsletter_words'))})(?!\w)"),
        call_words=frozenset(words("call_words")),
        consent_phrases=tuple(words("consent_phrases")),
        byline=re.compile(rf"(?:{_alternation(words('byline_markers'))})(?:\s*:\s*|\s+)", re.I),
        date_words=frozenset(words("date_words")),
        date_markers=frozenset(words("date_markers")),
        credit_markers=tuple(words("credit_markers")),
        agencies=frozenset(words("agencies")),
        comment_count=re.compile(
            _COMMENT_COUNT_TEMPLATE.format(words=_alternation(words("comment_words")))
        ),
        reading_time_words=frozenset(words("reading_time_words")),
        # "Foto: dpa", "Image credit: Getty", "Bild © Reuters"
        credit_start=re.compile(
            rf"^(?:{credit})s?(?:\s+(?:{credit})s?)*(?:\s*\([^)]{{0,20}}\))?\s*[:©]", re.I
        ),
        # "... in Moskau. Foto: Kristina Kormilitsyna/AP" at the end of a caption
        credit_end=re.compile(rf"\b(?:{credit})s?\s*[:©]\s*[^:.!?]{{1,80}}$", re.IGNORECASE),
        # "... | Reuters", "... / picture alliance / dpa"
        agency_end=re.compile(
            rf"[/|]\s*(?:{agencies})(?:\s*[/|]\s*[^\W\d][\w .-]{{0,30}})?\s*$", re.I
        ),
    )


def _key(line: str) -> str:
    return " ".join(line.split()).strip(_EDGE_PUNCT).casefold()


def _tokens(key: str) -> list[str]:
    return [t.strip(".'’") for t in _WORD.findall(key)]


def _looks_like_sentence(line: str, words: list[str]) -> bool:
    """Prose rather than chrome: several words, lower-case function words, a full stop."""
    if len(words) < SENTENCE_MIN_WORDS or not _SENTENCE_END.search(line.rstrip()):
        return False
    return sum(1 for w in words[1:] if w[:1].islower()) >= 2


def _is_breadcrumb(line: str) -> bool:
    """'Startseite › Politik › Ausland': a path of short labels."""
    if ">" not in line and "›" not in line and "»" not in line:
        return False
    parts = _BREADCRUMB_SEP.split(line)
    return len(parts) >= 3 and all(0 < len(p.split()) <= 4 for p in parts)


class _Classifier:
    def __init__(self, lex: _Lexicon) -> None:
        self.lex = lex

    def is_noise(self, line: str) -> bool:
        """Whether a whole line is page noise (position-independent rules)."""
        if not _HAS_LETTER.search(line):
            return True
        key = _key(line)
        if not key:
            return True
        words = line.split()
        if len(words) <= MAX_PITCH_WORDS and (self._is_consent(key) or self._is_pitch(line, key)):
            return True
        if len(words) > MAX_NOISE_WORDS:
            return False
        if self._is_noise_segment(line, key) or _is_breadcrumb(line):
            return True
        if _BARE_URL.match(line.strip()) or (len(words) <= 8 and _SKIP_LINK.match(key)):
            return True
        if not any(sep in line for sep in "|·•▪"):
            return False
        segments = [s for s in _SEGMENT_SPLIT.split(line) if s.strip(_EDGE_PUNCT)]
        return len(segments) > 1 and all(self._is_noise_segment(s, _key(s)) for s in segments)

    def _is_noise_segment(self, raw: str, key: str) -> bool:
        lex = self.lex
        if not key or key in lex.lines:
            return True
        tokens = _tokens(key)
        if not tokens:
            return True
        if _looks_like_sentence(raw, raw.split()):
            # Prose: only a photo caption with its credit is still page furniture.
            return self._is_credit(raw, key, tokens)
        if len(tokens) <= 15 and lex.prefix.match(key):
            return True
        if self._is_nav(tokens):
            return True
        if not _SENTENCE_END.search(raw.rstrip()) and self._is_share(tokens):
            return True
        if lex.comment_count.match(key):
            return True
        if self._is_credit(raw, key, tokens):
            return True
        if self._is_dateline(tokens):
            return True
        if self._is_reading_time(tokens):
            return True
        return self._is_byline(raw)

    def _is_nav(self, tokens: list[str]) -> bool:
        """Menus and share bars: words that are (almost) all navigation vocabulary."""
        lex = self.lex
        if len(tokens) == 1:
            return tokens[0] in lex.nav_words or tokens[0] in lex.agencies
        hits = sum(1 for t in tokens if t in lex.menu_words)
        return hits / len(tokens) >= 0.75

    def _is_share(self, tokens: list[str]) -> bool:
        return len(tokens) <= 6 and any(t in self.lex.share_verbs for t in tokens)

    def _is_consent(self, key: str) -> bool:
        return any(p in key for p in self.lex.consent_phrases)

    def _is_pitch(self, line: str, key: str) -> bool:
        """Newsletter and subscription pitches; prose that merely mentions one stays."""
        lex = self.lex
        if not lex.newsletter_hint.search(key):
            return False
        tokens = _tokens(key)
        if not _looks_like_sentence(line, line.split()):
            return len(tokens) <= MAX_NOISE_WORDS
        return any(t in lex.call_words for t in tokens)

    def _is_credit(self, raw: str, key: str, tokens: list[str]) -> bool:
        lex = self.lex
        if len(tokens) <= 20 and lex.credit_start.match(key):
            return True
        if len(tokens) <= 15 and _COPYRIGHT.search(raw):
            return True
        if len(tokens) <= 25 and (
            (("©" in raw or ":" in raw) and lex.credit_end.search(raw))
            or (("/" in raw or "|" in raw) and lex.agency_end.search(raw))
        ):
            return True
        if len(tokens) > 8:
            return False
        # "dpa/AFP", "(c) Reuters" once the copyright mark is trimmed off.
        parts = [p.strip() for p in re.split(r"[/,;&]|\bund\b|\band\b", key) if p.strip()]
        return any(p in lex.agencies for p in parts) and all(
            p in lex.agencies or _NUMBERISH.match(p) for p in parts
        )

    def _is_dateline(self, tokens: list[str]) -> bool:
        """'Stand: 12.03.2025 14:00 Uhr', 'Updated 3 hours ago', 'Mittwoch, 5. März 2025'."""
        if len(tokens) > 12:
            return False
        lex = self.lex
        has_anchor = False
        for t in tokens:
            if _NUMBERISH.match(t) or t in lex.date_markers:
                has_anchor = True
            elif t not in lex.date_words:
                return False
        return has_anchor

    def _is_reading_time(self, tokens: list[str]) -> bool:
        if len(tokens) > 6:
            return False
        has_number = any(t.isdigit() for t in tokens)
        rest = [t for t in tokens if not t.isdigit()]
        vocab = self.lex.reading_time_words
        return has_number and bool(rest) and all(t in vocab for t in rest)

    def _is_byline(self, raw: str) -> bool:
        """A byline marker followed only by names (and maybe a place, agency or date)."""
        line = " ".join(raw.split()).strip(_EDGE_PUNCT)
        match = self.lex.byline.match(line)
        if match is None:
            return False
        rest = line[match.end() :]
        if not rest[:1].isupper() or re.search(r"[!?]", rest):
            return False
        words = _WORD.findall(rest)
        if not 1 <= len(words) <= 12:
            return False
        lex = self.lex
        for w in words:
            low = w.casefold().strip(".'’")
            if w[:1].isupper() or w[:1].isdigit() or low in _NAME_PARTICLES:
                continue
            if low in lex.date_words or low in lex.date_markers:
                continue
            return False
        return True

    def is_heading(self, line: str) -> bool:
        """A section name or kicker: one to three words without punctuation."""
        key = _key(line)
        tokens = _tokens(key)
        if not tokens or len(tokens) > 3 or _SENTENCE_END.search(line.rstrip()):
            return False
        vocab = self.lex.section_names | self.lex.nav_words
        if " ".join(tokens) in vocab or all(t in vocab for t in tokens):
            return True
        # A lone word above the article is a section label or kicker, never a fact.
        return len(tokens) == 1 and len(key) <= 30


@cache
def _classifier() -> _Classifier:
    return _Classifier(_lexicon())


def is_noise_line(line: str) -> bool:
    """Whether ``line`` alone would be dropped as page noise (a pitch, a credit, a menu)."""
    return _classifier().is_noise(line)


def remove_boilerplate(text: str) -> str:
    """Return ``text`` without the lines that are page noise (German and English)."""
    if not text:
        return ""
    classifier = _classifier()
    kept = [line for line in text.split("\n") if line.strip() and not classifier.is_noise(line)]
    # Section labels and kickers above the article, and stray labels below it
    # (the remains of menus and teaser boxes), carry no facts.
    start, end = 0, len(kept)
    while start < end and classifier.is_heading(kept[start]):
        start += 1
    while end > start and classifier.is_heading(kept[end - 1]):
        end -= 1
    return "\n".join(kept[start:end])


def _line_key(line: str) -> str:
    return " ".join(line.split()).casefold()


def recurring_lines(texts: list[str], min_share: float = 0.5, min_count: int = 3) -> set[str]:
    """Lines that recur in many of one source's texts (its own chrome), normalised.

    A line counts once per text; it qualifies when it occurs in at least
    ``min_count`` texts and in at least ``min_share`` of all texts. The result
    holds whitespace-collapsed, case-folded lines, the form ``remove_lines`` matches.
    """
    if not texts:
        return set()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({k for k in (_line_key(line) for line in text.split("\n")) if k})
    threshold = max(min_count, min_share * len(texts))
    return {line for line, count in counts.items() if count >= threshold}


def remove_lines(text: str, lines: set[str]) -> str:
    """Drop the lines of ``text`` that equal one of ``lines`` (ignoring case and spacing)."""
    if not lines or not text:
        return text
    keys = {_line_key(line) for line in lines}
    return "\n".join(line for line in text.split("\n") if _line_key(line) not in keys)
