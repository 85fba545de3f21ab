"""Which language an article is written in (ISO 639-1), and which codes we accept."""

from __future__ import annotations

import re
import threading
from typing import Any

UNDETERMINED = "und"

# Restricting the classifier to languages a news bot plausibly sees avoids
# confusions with rare close relatives (e.g. German text labelled Luxembourgish).
DETECTABLE_LANGUAGES: tuple[str, ...] = (
    "de", "en", "fr", "es", "it", "nl", "pl", "ru", "uk", "pt", "tr", "sv", "da",
    "no", "cs", "sk", "fi", "hu", "ro", "el", "bg", "hr", "sr", "sl", "et", "lv",
    "lt", "ar", "he", "fa", "zh", "ja", "ko", "hi",
)  # fmt: skip

# ISO 639-1 codes, for validating what feeds declare.
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr
    cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu
    gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk
    kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms
    mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro
    ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl
    tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1: frozenset[str] = frozenset(_ISO_639_1_CODES.split())
# Withdrawn codes still found in the wild, and Norwegian's written forms folded
# into "no" because that is what detection returns.
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no", "nn": "no"}

# Enough letters for the character n-gram model to beat guessing.
MIN_LETTERS = 12
MAX_CHARS = 1_000
# Below this normalised probability a short snippet is a guess, not a detection.
MIN_CONFIDENCE = 0.3

_LETTER = re.compile(r"[^\W\d_]")
_identifier: Any = None
_lock = threading.Lock()


def _get_identifier() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                # Loading the model takes about half a second: only when first needed.
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages(list(DETECTABLE_LANGUAGES))
                _identifier = identifier
    return _identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, or ``"und"`` when there is too little text."""
    if not text:
        return UNDETERMINED
    sample = text[:MAX_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return UNDETERMINED
    code, confidence = _get_identifier().classify(sample)
    return str(code) if confidence >= MIN_CONFIDENCE else UNDETERMINED


def normalize_language_tag(tag: object) -> str | None:
    """``"de-DE"`` → ``"de"``; None for anything that is not an ISO 639-1 code."""
    if not isinstance(tag, str):
        return None
    primary = re.split(r"[-_\s]", tag.strip().lower(), maxsplit=1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if primary in ISO_639_1 else None
