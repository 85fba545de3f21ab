"""Articles in languages we ship no lexicon for (French, Spanish, Polish …): generic rules.

No word of theirs is known to be a verb or a cue, so sentence shape decides what is a
fact, their function words stay out of the terms, and a repeat is still a repeat.
"""

from __future__ import annotations

from digests.facts import extract_facts
from digests.novelty import new_facts
from digests.sentences import without_lexicon

FIRST = (
    "Un incendie a détruit mardi soir un entrepôt de meubles dans la zone industrielle de "
    "Valence. Les pompiers ont mobilisé quarante hommes pendant toute la nuit. Personne n'a "
    "été blessé, selon la préfecture. Recevez chaque matin notre newsletter."
)
SECOND = (
    "Un entrepôt de meubles de la zone industrielle de Valence a été détruit par un "
    "incendie mardi soir. Le propriétaire estime les dégâts à deux millions d'euros. "
    "Une enquête a été ouverte pour déterminer l'origine du feu."
)
SPANISH = (
    "El Gobierno regional aprobó el lunes un plan de ayudas para los agricultores afectados "
    "por la sequía. Las ayudas llegarán a unas tres mil explotaciones antes del verano."
)


def test_only_known_languages_with_a_code_count_as_without_lexicon() -> None:
    assert without_lexicon("fr") and without_lexicon("es-MX") and without_lexicon("pl")
    assert not without_lexicon("de-AT") and not without_lexicon("en_GB")
    assert not without_lexicon("") and not without_lexicon("und")


def test_sentences_of_a_language_without_lexicon_are_facts() -> None:
    facts, rejected = extract_facts(FIRST, "fr")
    assert [f.sentence for f in facts] == [
        "Un incendie a détruit mardi soir un entrepôt de meubles dans la zone industrielle "
        "de Valence.",
        "Les pompiers ont mobilisé quarante hommes pendant toute la nuit.",
        "Personne n'a été blessé, selon la préfecture.",
    ]
    assert [r.reason for r in rejected] == ["boilerplate"]  # the newsletter pitch
    spanish, _ = extract_facts(SPANISH, "es")
    assert len(spanish) == 2


def test_function_words_are_no_terms_of_a_fact() -> None:
    facts, _ = extract_facts(FIRST, "fr")
    terms = set().union(*(f.terms for f in facts))
    assert not {"les", "dans", "pendant", "toute", "selon"} & terms
    assert {"incendie", "entrepôt", "pompiers"} & terms


def test_a_restated_fact_is_suppressed_and_the_new_ones_are_posted() -> None:
    known, _ = extract_facts(FIRST, "fr")
    later, _ = extract_facts(SECOND, "fr")
    verdicts = [m is None for _, m in new_facts(later, known)]
    assert verdicts == [False, True, True]
