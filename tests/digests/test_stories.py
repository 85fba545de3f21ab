"""Story assignment on invented articles: same event → one story, same actors → not enough."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from digests.models import Article
from digests.stories import (
    DEFAULT_THRESHOLD,
    WINDOW,
    ArticleProfile,
    StoryProfile,
    article_profile,
    choose_story,
    extract_numbers,
    index_keys,
    merge,
    new_story,
    profile_from_dict,
    profile_to_dict,
    round4,
    score,
)

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def make(
    aid: str, title: str, text: str, *, hours: float = 0.0, lang: str = "de", source: str = ""
) -> Article:
    return Article(
        id=aid,
        url=f"https://example.org/{aid}",
        canonical_url=f"https://example.org/{aid}",
        source=source or f"outlet-{aid}",
        title=title,
        published=T0 + timedelta(hours=hours),
        language=lang,
        text=text,
    )


def replay(articles: list[Article]) -> dict[str, str]:
    """Run articles through choose/merge as the shell does; article id → story id."""
    stories: list[StoryProfile] = []
    assigned: dict[str, str] = {}
    for article in articles:
        profile = article_profile(article)
        best, _ = choose_story(profile, stories)
        if best is None:
            story = new_story(profile, f"s-{article.id}")
            stories.append(story)
        else:
            story = merge(best, profile, article.source)
            stories[stories.index(best)] = story
        assigned[article.id] = story.id
    return assigned


# --- one event, two outlets ----------------------------------------------------------------

CHEM_A = make(
    "chem-a",
    "Großbrand im Chemiepark Erlenbrück: Anwohner müssen Häuser verlassen",
    "In einer Lagerhalle des Chemieparks Erlenbrück ist in der Nacht zu Montag ein Großbrand "
    "ausgebrochen. Die Feuerwehr evakuierte rund 400 Bewohner des angrenzenden Wohngebiets "
    "Am Mühlgraben. Nach Angaben der Stadt wurden drei Arbeiter mit Rauchvergiftungen ins "
    "Krankenhaus gebracht.\n\n"
    "Über dem Werk stand eine dunkle Rauchwolke, die bis in die Nachbarorte zu sehen war. "
    "Die Behörden riefen die Bevölkerung auf, Fenster und Türen geschlossen zu halten. "
    "Messungen hätten bislang keine gefährlichen Schadstoffwerte ergeben, sagte ein Sprecher "
    "des Landratsamts.",
)
CHEM_B = make(
    "chem-b",
    "Feuer in Erlenbrücker Chemiefabrik – 400 Menschen evakuiert",
    "Ein Feuer in einer Halle des Erlenbrücker Chemieparks hat am frühen Montagmorgen die "
    "Evakuierung eines ganzen Viertels ausgelöst. Etwa 400 Anwohner mussten ihre Wohnungen "
    "verlassen, drei Beschäftigte erlitten eine Rauchgasvergiftung.\n\n"
    "Die Flammen griffen auf gelagerte Lösungsmittel über, teilte die Feuerwehr mit. Eine "
    "Warnung über die Katastrophenschutz-App forderte die Menschen auf, Fenster zu schließen. "
    "Die Ursache des Brandes ist noch unklar; die Polizei hat Ermittlungen aufgenommen.",
    hours=5,
)
FERRY_A = make(
    "ferry-a",
    "Ferry runs aground off Kessock Point, all 112 passengers rescued",
    "A passenger ferry ran aground on rocks off Kessock Point on Saturday evening, the "
    "coastguard said. All 112 passengers and eight crew were taken off the MV Glen Arrin by "
    "lifeboats and a rescue helicopter.\n\n"
    "Two passengers were treated for minor injuries. The operator, Westerly Isles Ferries, "
    "said the vessel lost steering shortly after leaving the harbour and that an "
    "investigation had been opened.",
    lang="en",
)
FERRY_B = make(
    "ferry-b",
    "Lifeboats evacuate stranded Glen Arrin ferry near Kessock",
    "Rescuers evacuated more than a hundred people from the ferry Glen Arrin after it "
    "struck rocks near Kessock Point late on Saturday. Coastguard officials said 112 "
    "passengers and the crew were brought ashore safely.\n\n"
    "Westerly Isles Ferries blamed a steering failure and said marine accident investigators "
    "would inspect the hull once the tide allows.",
    lang="en",
    hours=9,
)


def test_two_outlets_one_event_german() -> None:
    assert replay([CHEM_A, CHEM_B]) == {"chem-a": "s-chem-a", "chem-b": "s-chem-a"}


def test_two_outlets_one_event_english() -> None:
    assert replay([FERRY_A, FERRY_B]) == {"ferry-a": "s-ferry-a", "ferry-b": "s-ferry-a"}


def test_unrelated_events_same_day_stay_apart() -> None:
    assigned = replay([CHEM_A, FERRY_A, CHEM_B, FERRY_B])
    assert assigned["chem-b"] == assigned["chem-a"]
    assert assigned["ferry-b"] == assigned["ferry-a"]
    assert assigned["chem-a"] != assigned["ferry-a"]


# --- same actors, different events ---------------------------------------------------------

MINISTERS_MAY = make(
    "ministers-may",
    "Innenminister aus Berlin und Wien vereinbaren gemeinsame Grenzstreifen",
    "Die Innenminister Deutschlands und Österreichs, Petra Vollmann und Lukas Haberl, haben "
    "sich in Passau auf gemeinsame Polizeistreifen an der Grenze geeinigt. Ab Juni sollen "
    "gemischte Teams auf den Autobahnen A3 und A8 kontrollieren.\n\n"
    "Vollmann sprach von einem wichtigen Schritt gegen Schleuserbanden. Haberl kündigte an, "
    "dafür 60 zusätzliche Beamte abzustellen.",
)
MINISTERS_JUNE = make(
    "ministers-june",
    "Vollmann und Haberl beraten in Salzburg über Katastrophenschutz",
    "Bei ihrem zweiten Treffen in diesem Jahr haben die Innenminister Petra Vollmann und "
    "Lukas Haberl in Salzburg ein Abkommen über gegenseitige Hilfe bei Hochwasser "
    "unterzeichnet. Künftig sollen Einsatzkräfte beider Länder ohne Genehmigung über die "
    "Grenze ausrücken dürfen.\n\n"
    "Anlass sind die Überschwemmungen im vergangenen Sommer an Inn und Salzach.",
    hours=24 * 26,
)


def test_same_ministers_weeks_apart_are_two_stories() -> None:
    assigned = replay([MINISTERS_MAY, MINISTERS_JUNE])
    assert assigned["ministers-june"] != assigned["ministers-may"]


SUMMIT = make(
    "kr-jp-summit",
    "South Korea and Japan agree to resume shuttle diplomacy at Busan summit",
    "The leaders of South Korea and Japan agreed on Tuesday to resume regular reciprocal "
    "visits, ending a five-year freeze, at a summit in the port city of Busan. They signed a "
    "memorandum on a joint hydrogen research fund worth 300 million dollars.\n\n"
    "Both governments said working groups on fisheries quotas would meet before the summer.",
    lang="en",
)
PROTEST = make(
    "kr-jp-protest",
    "Seoul summons Japanese ambassador over textbook map of disputed islets",
    "South Korea's foreign ministry summoned Japan's ambassador on Thursday to protest "
    "against new school textbooks that show the disputed Dokdo islets as Japanese "
    "territory. A ministry spokeswoman called the maps a distortion of history and demanded "
    "their immediate correction.\n\n"
    "Tokyo rejected the protest, saying the textbooks reflected its long-standing position.",
    lang="en",
    hours=48,
)
DE_FR_JET = make(
    "de-fr-jet",
    "Deutschland und Frankreich unterzeichnen Vertrag über Kampfjet-Prototyp",
    "Die Verteidigungsminister Deutschlands und Frankreichs haben in Toulouse den Vertrag "
    "über den Bau eines gemeinsamen Kampfjet-Prototyps unterzeichnet. Der Demonstrator soll "
    "2029 erstmals fliegen, die Kosten von 3,2 Milliarden Euro teilen sich beide Länder.\n\n"
    "Monatelang hatten die beteiligten Rüstungskonzerne über die Arbeitsteilung gestritten.",
)
DE_FR_FARM = make(
    "de-fr-farm",
    "Paris und Berlin streiten beim EU-Agrarrat über Pestizidverbot",
    "Beim Treffen der EU-Agrarminister in Brüssel haben Deutschland und Frankreich offen "
    "über ein Verbot des Unkrautvernichters Glyphosat gestritten. Frankreich will die "
    "Zulassung verlängern, Deutschland lehnt das ab.\n\n"
    "Bauernverbände beider Länder protestierten vor dem Ratsgebäude mit Traktoren.",
    hours=40,
)


@pytest.mark.parametrize(("first", "second"), [(SUMMIT, PROTEST), (DE_FR_JET, DE_FR_FARM)])
def test_same_actors_other_event_within_days(first: Article, second: Article) -> None:
    story = new_story(article_profile(first), "s1")
    profile = article_profile(second)
    chosen, ranked = choose_story(profile, [story])
    assert chosen is None, ranked
    # The actors are shared; it is the terms that tell the events apart.
    assert ranked[0][1].actors > 0.5
    assert ranked[0][1].total < DEFAULT_THRESHOLD


# --- time window ---------------------------------------------------------------------------


def test_article_far_outside_window_starts_new_story() -> None:
    story = new_story(article_profile(CHEM_A), "s1")
    late = make("chem-late", CHEM_B.title, CHEM_B.text, hours=WINDOW.total_seconds() / 3600 + 30)
    chosen, ranked = choose_story(article_profile(late), [story])
    assert chosen is None
    assert ranked[0][1].time == 0.0
    assert ranked[0][1].total == 0.0


def test_score_decays_within_window() -> None:
    story = new_story(article_profile(CHEM_A), "s1")
    soon = score(article_profile(make("b1", CHEM_B.title, CHEM_B.text, hours=2)), story)
    later = score(article_profile(make("b2", CHEM_B.title, CHEM_B.text, hours=60)), story)
    assert soon.terms == later.terms
    assert 0.0 < later.time < soon.time <= 1.0
    assert later.total < soon.total


def test_earlier_article_joins_story_published_after_it() -> None:
    # Feeds deliver out of order: an article older than the story's first one still fits.
    story = new_story(article_profile(CHEM_B), "s1")
    chosen, _ = choose_story(article_profile(CHEM_A), [story])
    assert chosen is not None
    merged = merge(chosen, article_profile(CHEM_A), CHEM_A.source)
    assert merged.first_seen == CHEM_A.published
    assert merged.last_seen == CHEM_B.published


# --- cross-language --------------------------------------------------------------------------

QUAKE_EN = make(
    "quake-en",
    "Magnitude 6.1 earthquake shakes western Turkey, 14 dead",
    "A magnitude 6.1 earthquake struck the province of Manisa in western Turkey on "
    "Wednesday night, killing at least 14 people and injuring 230. Several buildings "
    "collapsed in the town of Kırkağaç, where rescuers were searching the rubble.\n\n"
    "Turkey's disaster agency AFAD said more than 60 aftershocks had been recorded.",
    lang="en",
)
QUAKE_DE = make(
    "quake-de",
    "Erdbeben der Stärke 6,1 erschüttert Westtürkei",
    "Ein Erdbeben der Stärke 6,1 hat in der Nacht zum Donnerstag die westtürkische Provinz "
    "Manisa erschüttert. Mindestens 14 Menschen kamen ums Leben, 230 wurden verletzt. In "
    "Kırkağaç stürzten mehrere Gebäude ein, Rettungskräfte suchen nach Verschütteten.\n\n"
    "Die Katastrophenschutzbehörde AFAD zählte mehr als 60 Nachbeben.",
    hours=6,
)


def test_german_and_english_report_of_one_event_join() -> None:
    assigned = replay([QUAKE_EN, QUAKE_DE])
    assert assigned["quake-de"] == assigned["quake-en"]


def test_cross_language_does_not_glue_other_events() -> None:
    assigned = replay([QUAKE_EN, CHEM_A, FERRY_A, QUAKE_DE])
    assert len({assigned["quake-en"], assigned["chem-a"], assigned["ferry-a"]}) == 3


# --- profiles, keys, serialisation ----------------------------------------------------------


def test_profile_terms_fold_inflections_and_drop_noise() -> None:
    profile = article_profile(CHEM_A)
    # German inflections and compounds meet their lemmas; stop words never appear.
    assert "fire" in profile.terms  # "Großbrand" → Groß + Brand → fire
    assert not {"der", "die", "und", "in", "sagte", "montag"} & set(profile.terms)
    assert "400" in profile.numbers


def test_actors_are_language_neutral() -> None:
    de = article_profile(make("x", "Kreml kritisiert Kiew", "Moskau wirft der Ukraine vor."))
    en = article_profile(make("y", "Kremlin criticises Kyiv", "Russia accuses Ukraine.", lang="en"))
    assert {"RU", "UA"} <= set(de.actors)
    assert {"RU", "UA"} <= set(en.actors)


def test_numbers_normalise_german_and_english_notation() -> None:
    assert {"14000", "d:04-26", "y:2025", "3.5"} <= extract_numbers(
        "Rund 14.000 Soldaten; am 26. April 2025; 3,5 Prozent"
    )
    assert {"14000", "d:04-26", "3.5"} <= extract_numbers("some 14,000 troops on April 26, 3.5%")


def test_index_keys_non_empty_stable_and_bounded() -> None:
    profile = article_profile(FERRY_A)
    keys = index_keys(profile)
    assert keys
    assert len(keys) <= 12
    assert len(set(keys)) == len(keys)
    assert keys == index_keys(article_profile(FERRY_A))
    story = new_story(profile, "s1")
    assert index_keys(story) == index_keys(
        profile_from_dict(json.loads(json.dumps(profile_to_dict(story))))
    )
    assert len(index_keys(story, limit=5)) <= 5
    assert index_keys(story, limit=0) == []


def test_article_and_its_story_share_index_keys() -> None:
    # Retrieval only goes through keys: a same-event article must reach the story.
    story = new_story(article_profile(CHEM_A), "s1")
    assert set(index_keys(article_profile(CHEM_B))) & set(index_keys(story))
    quake = new_story(article_profile(QUAKE_EN), "s2")
    assert set(index_keys(article_profile(QUAKE_DE))) & set(index_keys(quake))


def test_profile_dict_round_trip() -> None:
    story = new_story(article_profile(CHEM_A), "s1")
    story = merge(story, article_profile(CHEM_B), CHEM_B.source)
    data = json.loads(json.dumps(profile_to_dict(story)))
    back = profile_from_dict(data)
    assert back == story
    assert back.first_seen.tzinfo is not None


def test_merge_updates_centroid_span_sources_and_caps() -> None:
    story = new_story(article_profile(CHEM_A), "s1")
    for i in range(30):
        extra = make(f"b{i}", CHEM_B.title, CHEM_B.text, hours=1 + i, source=f"outlet{i}")
        story = merge(story, article_profile(extra), extra.source)
    assert story.article_count == 31
    assert story.last_seen == T0 + timedelta(hours=30)
    assert story.first_seen == T0
    assert len(story.sources) <= 20
    assert len(story.terms) <= 60
    assert story.title in (CHEM_A.title, CHEM_B.title)


def test_profile_of_empty_article_is_harmless() -> None:
    profile = article_profile(make("empty", "", ""))
    assert isinstance(profile, ArticleProfile)
    assert profile.terms == {}
    story = new_story(profile, "s1")
    assert index_keys(story) == []
    assert score(profile, story).total == 0.0
    assert choose_story(profile, [])[0] is None


def test_title_case_headline_terms_match_body_words() -> None:
    # In an English Title Case headline a capital does not mark a name, so headline words
    # keep the same keys as in the body and the title boost lands on the event's words.
    plain = make(
        "t1",
        "Dock workers strike at Harwick port",
        "Dock workers at Harwick went on strike.",
        lang="en",
    )
    title_case = make(
        "t2",
        "Dock Workers Strike At Harwick Port",
        "Dock workers at Harwick went on strike.",
        lang="en",
    )
    assert set(article_profile(plain).terms) == set(article_profile(title_case).terms)


# --- rarity: document frequencies ---------------------------------------------------------

from digests.stories import (  # noqa: E402
    COMMON_RATE,
    NAME_RATE,
    RARE_RATE,
    WORD_RATE,
    DocFreq,
    df_keys,
    prior_rate,
    rate,
)


def _article(
    terms: dict[str, float],
    *,
    names: frozenset[str] = frozenset(),
    hours: float = 1.0,
    numbers: frozenset[str] = frozenset(),
) -> ArticleProfile:
    return ArticleProfile(
        article_id="a",
        title="",
        language="de",
        published=T0 + timedelta(hours=hours),
        terms=terms,
        actors={},
        numbers=numbers,
        names=names,
    )


def _story(
    sid: str, terms: dict[str, float], *, count: int = 1, numbers: frozenset[str] = frozenset()
) -> StoryProfile:
    return StoryProfile(
        id=sid,
        title="",
        language="de",
        first_seen=T0,
        last_seen=T0,
        terms=terms,
        actors={},
        numbers=numbers,
        article_count=count,
        term_counts=dict.fromkeys(terms, count),
    )


# A week of a busy news desk: 2,000 articles, "flüchtling" and "grenze" in one in ten.
BUSY = DocFreq({"refugee": 200.0, "border": 240.0, "spielfeld": 3.0, "gipfel": 4.0}, 2000.0)


def test_a_shared_rare_term_outweighs_shared_common_ones() -> None:
    article = _article({"refugee": 0.5, "border": 0.5, "spielfeld": 0.5, "zaun": 0.5})
    topic = _story("topic", {"refugee": 0.7, "border": 0.7})
    place = _story("place", {"spielfeld": 0.7, "zaun": 0.7})
    common = score(article, topic, df=BUSY)
    rare = score(article, place, df=BUSY)
    # The same raw overlap (two of four terms), but the rare terms name the event.
    assert rare.terms > 2 * common.terms
    assert rare.evidence in {"spielfeld", "zaun"}
    assert rare.total >= DEFAULT_THRESHOLD


def test_only_common_words_shared_is_not_the_same_event() -> None:
    article = _article({"refugee": 0.6, "border": 0.6, "quote": 0.5})
    story = _story("s1", {"refugee": 0.6, "border": 0.6, "gipfel": 0.5})
    result = score(article, story, df=BUSY)
    assert result.terms > 0.3  # a strong overlap of topic words ...
    assert result.evidence_rate > RARE_RATE
    assert result.total == 0.0  # ... but nothing that names one event
    chosen, _ = choose_story(article, [story], df=BUSY)
    assert chosen is None


def test_counts_withdraw_a_word_that_turns_out_common() -> None:
    article = _article({"streik": 0.7, "hafen": 0.7})
    story = _story("s1", {"streik": 0.7, "hafen": 0.7})
    # Cold start: dictionary words are assumed uncommon, so the two reports join ...
    assert choose_story(article, [story])[0] is story
    # ... until the counts show both words in every twentieth article.
    counted = DocFreq({"streik": 100.0, "hafen": 100.0}, 2000.0)
    assert choose_story(article, [story], df=counted)[0] is None


def test_a_story_does_not_make_its_own_words_common() -> None:
    # 30 reports of one event in a week: its place name is in all of them and nowhere else.
    df = DocFreq({"altwerda": 31.0, "bridge": 60.0}, 2000.0)
    story = _story("s1", {"altwerda": 0.8, "bridge": 0.6}, count=30)
    article = _article({"altwerda": 0.7, "bridge": 0.7}, names=frozenset({"altwerda"}))
    result = score(article, story, df=df)
    assert result.evidence == "altwerda"
    assert result.evidence_rate <= RARE_RATE
    assert result.total >= DEFAULT_THRESHOLD
    # Seen from a story it is not part of, the same place name is ordinary.
    assert rate("altwerda", df, NAME_RATE) > RARE_RATE


def test_a_shared_specific_figure_is_evidence_too() -> None:
    article = _article({"refugee": 0.7, "border": 0.7}, numbers=frozenset({"37500", "y:2016"}))
    story = _story("s1", {"refugee": 0.7, "border": 0.7}, numbers=frozenset({"37500", "y:2016"}))
    result = score(article, story, df=BUSY)
    assert result.evidence == "#37500"
    assert result.total > 0.0
    # A year is never evidence.
    yearly = score(
        _article({"refugee": 0.7, "border": 0.7}, numbers=frozenset({"y:2016"})),
        _story("s2", {"refugee": 0.7, "border": 0.7}, numbers=frozenset({"y:2016"})),
        df=BUSY,
    )
    assert yearly.evidence_rate > RARE_RATE
    assert yearly.total == 0.0


def test_prior_rates_by_kind_of_word() -> None:
    assert prior_rate("police") == COMMON_RATE  # "Polizei" and "police" share this key
    assert prior_rate("~attack") == COMMON_RATE
    assert prior_rate("hafen") == WORD_RATE
    assert prior_rate("altverda", names={"altverda"}) == NAME_RATE
    assert prior_rate("#1450") == NAME_RATE
    assert prior_rate("#100") == WORD_RATE  # round figures recur
    assert COMMON_RATE > WORD_RATE > NAME_RATE


def test_rate_blends_prior_and_counts() -> None:
    empty = DocFreq()
    assert rate("hafen", empty, WORD_RATE) == pytest.approx(WORD_RATE)
    # With many counted articles the counts decide, whatever the prior said.
    counted = DocFreq({"hafen": 500.0}, 10_000.0)
    assert rate("hafen", counted, WORD_RATE) == pytest.approx(0.05, rel=0.02)
    assert rate("unseen", counted, WORD_RATE) < WORD_RATE / 50


def test_df_keys_are_terms_and_specific_figures() -> None:
    profile = article_profile(CHEM_A)
    keys = df_keys(profile)
    assert set(profile.terms) <= set(keys)
    assert "#400" in keys
    assert not any(k.startswith("#y:") for k in keys)


def test_invented_topic_reports_stay_apart_with_counts_but_one_event_joins() -> None:
    fence = make(
        "fence",
        "Spielfeld: Bau des Grenzzauns beginnt",
        "An der steirisch-slowenischen Grenze bei Spielfeld haben am Montag die Arbeiten an "
        "einem 3,7 Kilometer langen Zaun begonnen. Bis zu 6.000 Flüchtlinge kamen zuletzt "
        "täglich über den Übergang. Die Innenministerin sprach von einem Türl mit Seitenteilen.",
    )
    summit = make(
        "summit",
        "EU-Gipfel ringt um Verteilung der Flüchtlinge",
        "Beim Gipfel in Brüssel haben die Staats- und Regierungschefs der EU bis in die Nacht "
        "über die Verteilung von Flüchtlingen gestritten. Mehrere Länder lehnen feste Quoten "
        "ab; die Grenze zur Türkei soll stärker geschützt werden.",
        hours=20,
    )
    fence_later = make(
        "fence-later",
        "Grenzzaun in Spielfeld halb fertig",
        "Der Zaun an der Grenze bei Spielfeld ist zur Hälfte errichtet. Von den 3,7 Kilometern "
        "stehen nach Angaben der Polizei bereits zwei; Flüchtlinge werden weiter über den "
        "Übergang geleitet.",
        hours=30,
    )
    # Counts of a week in which refugees and borders were in every tenth report.
    df = DocFreq(
        {k: 300.0 for k in ("refugee", "grenze", "border", "eu", "verteilung", "quote")}, 3000.0
    )
    fence_story = new_story(article_profile(fence), "s1", df)
    chosen, ranked = choose_story(article_profile(summit), [fence_story], df=df)
    assert chosen is None, ranked
    chosen, ranked = choose_story(article_profile(fence_later), [fence_story], df=df)
    assert chosen is fence_story, ranked
    assert ranked[0][1].evidence


def test_merge_counts_the_articles_behind_each_term() -> None:
    story = new_story(article_profile(CHEM_A), "s1")
    assert set(story.term_counts) == set(story.terms)
    assert set(story.term_counts.values()) == {1}
    merged = merge(story, article_profile(CHEM_B), CHEM_B.source)
    assert set(merged.term_counts) == set(merged.terms)
    shared = set(article_profile(CHEM_A).terms) & set(article_profile(CHEM_B).terms)
    assert any(merged.term_counts[k] == 2 for k in shared if k in merged.term_counts)


def test_academic_and_courtesy_titles_are_not_terms() -> None:
    # "Dr." and "Mr" stand before names in reports of every kind of event.
    de = article_profile(
        make(
            "t1",
            "Sternwarte Kalmbach bekommt neues Teleskop",
            "Die Leiterin Dr. Hanne Obrist und Prof. Ivo Lenz stellten das Gerät vor.",
        )
    )
    en = article_profile(
        make(
            "t2",
            "Ferry line to Quillby resumes",
            "Mr Ottway and Mrs Penhale, who run the line, said sailings resume on Monday.",
            lang="en",
        )
    )
    assert not {"dr", "prof"} & set(de.terms)
    assert not {"mr", "mrs"} & set(en.terms)
    assert "teleskop" in de.terms and "ferry" in en.terms


def test_headline_of_a_related_report_weighs_like_a_heading() -> None:
    # An unterminated line of headline length names another report, not this one.
    body = "Der Stadtrat von Wendlach hat den Neubau der Grundschule am Mühlbach beschlossen."
    teaser = "Weitere Berichte\nWarum Schwimmbäder im ganzen Land jetzt schließen müssen"
    alone = article_profile(make("h1", "Wendlach baut Grundschule", body))
    with_teaser = article_profile(make("h2", "Wendlach baut Grundschule", f"{body}\n{teaser}"))
    assert "schwimmbad" in with_teaser.terms
    # weighted as a heading, the teaser's word ranks below the report's own words
    assert with_teaser.terms["schwimmbad"] < 0.5 * with_teaser.terms["grundschule"]
    assert with_teaser.terms["grundschule"] > 0.9 * alone.terms["grundschule"]


def test_times_of_day_and_scores_are_not_figures() -> None:
    assert extract_numbers("Stand: 14.03.2026, 17:46 Uhr") == {"d:03-14", "y:2026"}
    assert extract_numbers("the alarm sounded at 3:55 a.m.; 4,300 homes lost power") == {"4300"}
    assert extract_numbers("Tarnow gewann das Derby 3:1 vor 18.500 Zuschauern") == {"18500"}


def test_a_shared_time_of_day_is_no_evidence_of_one_event() -> None:
    # Two unrelated reports that share a common word and the minute they mention.
    a = article_profile(
        make(
            "ts1",
            "Brücke in Ostrau gesperrt",
            "Um 17:46 Uhr sperrte die Polizei die Brücke in Ostrau.",
        )
    )
    b = article_profile(
        make(
            "ts2",
            "Bäckerei in Lemgo überfallen",
            "Um 17:46 Uhr rief die Bäckerei in Lemgo die Polizei.",
        )
    )
    result = score(b, new_story(a, "s1"))
    assert result.shared_terms  # the common word
    assert not result.evidence.startswith("#") and result.total == 0.0


# Languages we ship no lexicon for: their function words must not read as shared terms.
FR_QUAKE_A = make(
    "fr-quake-a",
    "Fort séisme au large de la Sicile",
    "Un séisme de magnitude 5,8 a secoué jeudi soir la côte est de la Sicile, selon "
    "l'institut national de géophysique. Les habitants de Catane sont sortis dans les rues. "
    "Les pompiers ont inspecté une dizaine de bâtiments fissurés dans la vieille ville.",
    lang="fr",
)
FR_QUAKE_B = make(
    "fr-quake-b",
    "La Sicile secouée par un tremblement de terre",
    "Un tremblement de terre de magnitude 5,8 a frappé jeudi la Sicile orientale, a indiqué "
    "l'institut national de géophysique. À Catane, des habitants ont passé la nuit dehors. "
    "La préfecture a ouvert deux gymnases pour les familles évacuées.",
    hours=2,
    lang="fr",
)
FR_OTHERS = [
    make(
        "fr-strike",
        "Les conducteurs de tramway en grève à Bordeaux",
        "Les conducteurs de tramway de la métropole de Bordeaux ont cessé le travail mardi "
        "pour la troisième fois ce mois-ci. La direction du réseau a mis en place des bus de "
        "remplacement sur deux lignes. Les syndicats demandent une prime de nuit plus élevée.",
        hours=1,
        lang="fr",
    ),
    make(
        "fr-budget",
        "Le conseil départemental vote son budget",
        "Le conseil départemental de la Drôme a voté mercredi un budget en baisse de trois "
        "pour cent. Les routes et les collèges perdent une partie de leurs crédits. "
        "L'opposition a dénoncé des choix faits au détriment des communes rurales.",
        hours=3,
        lang="fr",
    ),
]


def test_unrelated_french_reports_stay_apart_and_one_event_joins() -> None:
    assigned = replay([FR_QUAKE_A, *FR_OTHERS, FR_QUAKE_B])
    assert assigned["fr-quake-b"] == assigned["fr-quake-a"]
    assert len({assigned[a.id] for a in (FR_QUAKE_A, *FR_OTHERS)}) == 3


def test_function_words_of_a_language_without_lexicon_are_not_terms() -> None:
    terms = article_profile(FR_OTHERS[0]).terms
    assert not {"le", "la", "les", "de", "des", "pour"} & set(terms)
    assert {"tramway", "bordeaux"} <= set(terms)


def test_weights_round_exactly_as_round_does() -> None:
    # Stored profiles must not change with the faster rounding: the same float, the same
    # repr, for ordinary weights, halves (where float error could pick the side), signs
    # and the values round() alone can handle.
    rng = random.Random(7)
    values = [rng.random() * scale for scale in (1e-3, 1.0, 7.0, 1e4) for _ in range(20_000)]
    values += [(k + 0.5) / 1e4 + d for k in range(0, 30_000, 7) for d in (-1e-15, 0.0, 1e-15)]
    values += [-v for v in values[:5000]]
    values += [0.0, -0.0, 1e300, -1e300, float("inf"), 0.00005, 0.00015, 2.5e-5]
    for x in values:
        assert repr(round4(x)) == repr(round(x, 4)), x
    assert math.isnan(round4(float("nan")))
