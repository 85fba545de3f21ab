"""Sentence splitting: exact substrings, abbreviations, dates, numbers, quotes, lines."""

from __future__ import annotations

import pytest

from digests.sentences import split_sentence_spans, split_sentences


def _check_substrings(text: str, language: str) -> list[str]:
    out = split_sentences(text, language)
    for s in out:
        assert s in text
        assert s == s.strip()
    return out


def test_german_dates_ordinals_and_abbreviations() -> None:
    text = (
        "Am 3. März 2024 eröffnete Dr. Weber die Brücke in Linz. "
        "Die Stadt zahlte ca. 14.000 Euro, z. B. für Nr. 7 der Pläne. "
        "Danach sprach der Bürgermeister."
    )
    assert _check_substrings(text, "de") == [
        "Am 3. März 2024 eröffnete Dr. Weber die Brücke in Linz.",
        "Die Stadt zahlte ca. 14.000 Euro, z. B. für Nr. 7 der Pläne.",
        "Danach sprach der Bürgermeister.",
    ]


def test_german_numbers_with_separators_stay_whole() -> None:
    text = "Die Zahl stieg auf 15 000 Besucher. Der Anteil lag bei 3,5 Prozent. Das ist neu."
    assert len(_check_substrings(text, "de")) == 3


def test_english_abbreviations_and_numbers() -> None:
    text = (
        "The U.S. Navy sent 14,000 sailors to the port. Mr. Jones said growth was 3.5 percent. "
        "Gen. Miller arrived on Monday."
    )
    assert _check_substrings(text, "en") == [
        "The U.S. Navy sent 14,000 sailors to the port.",
        "Mr. Jones said growth was 3.5 percent.",
        "Gen. Miller arrived on Monday.",
    ]


def test_abbreviation_that_ends_a_sentence() -> None:
    text = "The company moved to the U.S. The founder stayed in Lisbon."
    assert _check_substrings(text, "en") == [
        "The company moved to the U.S.",
        "The founder stayed in Lisbon.",
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Die Ministerin sagte: „Wir helfen. Wir bleiben.“ Dann reiste sie ab.", "de"),
        ('The mayor said: "We will help. We will stay." Then she left.', "en"),
    ],
)
def test_no_split_inside_short_quote(text: str, language: str) -> None:
    out = _check_substrings(text, language)
    assert len(out) == 2
    assert out[0].endswith(("“", '"'))


def test_lines_without_full_stop_are_units() -> None:
    text = "Brücke in Linz eröffnet\nWERBUNG\n\nDie Stadt feierte am Abend. Viele kamen."
    assert _check_substrings(text, "de") == [
        "Brücke in Linz eröffnet",
        "WERBUNG",
        "Die Stadt feierte am Abend.",
        "Viele kamen.",
    ]


def test_hard_wrapped_line_is_joined() -> None:
    text = "The council approved the budget\nafter a long debate. It takes effect in May."
    out = _check_substrings(text, "en")
    assert out[0] == "The council approved the budget\nafter a long debate."


def test_question_and_exclamation_end_sentences() -> None:
    out = _check_substrings("Wer zahlt? Niemand weiß es! Die Debatte geht weiter.", "de")
    assert out == ["Wer zahlt?", "Niemand weiß es!", "Die Debatte geht weiter."]


def test_spans_point_into_text() -> None:
    text = "  Erster Satz hier.  Zweiter Satz dort.\n"
    spans = split_sentence_spans(text, "de")
    assert [text[s:e] for s, e in spans] == ["Erster Satz hier.", "Zweiter Satz dort."]


def test_speed_smoke() -> None:
    """Far above the target on one core; a loose bound so slow CI machines pass."""
    import time

    article = (
        "Am 12. Mai 2025 trafen sich die Außenminister in Wien. Dr. Huber sagte, man habe "
        "ca. 14.000 Dokumente geprüft, z. B. Verträge. „Wir sind zufrieden“, sagte sie. "
    ) * 10
    t = time.perf_counter()
    for _ in range(200):
        split_sentences(article, "de")
    assert time.perf_counter() - t < 2.0
