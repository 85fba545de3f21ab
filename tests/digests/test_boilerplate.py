from __future__ import annotations

import pytest

from digests.boilerplate import recurring_lines, remove_boilerplate, remove_lines

# Each line is checked between two genuine sentences, so position rules do not interfere.
BEFORE = "Der Stadtrat hat am Dienstag den neuen Haushalt mit knapper Mehrheit beschlossen."
AFTER = "The council approved the new budget on Tuesday by a narrow majority of votes."

NOISE = [
    # navigation, share bars, newsletter blocks
    "Newsletter Newsletters Events Podcasts Jobs",
    "Startseite › Nachrichten › Ausland",
    "Home | World | Business | Sport",
    "Diesen Artikel teilen",
    "Teilen",
    "Share this article",
    "Twitter Facebook WhatsApp E-Mail Drucken",
    "Facebook X LinkedIn Flipboard Copy link",
    "Jetzt abonnieren",
    "Sign up for our newsletter",
    "Melden Sie sich für unseren kostenlosen Newsletter an und erhalten Sie alle News.",
    "Get our free daily briefing newsletter delivered to your inbox.",
    # advertisement markers
    "WERBUNG",
    "Anzeige",
    "- Anzeige -",
    "Advertisement",
    "Story continues below advertisement",
    # teasers of other articles
    "More Stories",
    "see more",
    "Mehr zum Thema",
    "Mehr zum Thema: Wie die Stadtwerke ihre Preise berechnen",
    "Lesen Sie auch: Zehn Fragen zum neuen Haushalt",
    "Related stories",
    "Read more: What the budget means for renters",
    "Das könnte Sie auch interessieren",
    # photo credits and captions
    "Foto: Erika Beispiel/dpa",
    "Bild: IMAGO / Sven Muster",
    "Fotos: picture alliance",
    "(c) dpa",
    "© Reuters",
    "dpa/AFP",
    "Photo: John Example / Reuters",
    "Image credit: Getty Images",
    "Der Bürgermeister im Rathaus am Montag. Foto: Anna Muster/dpa",
    "The mayor at the town hall on Monday. | Reuters",
    # bylines and date lines
    "Von Max Mustermann",
    "Von Anna Beispiel und Ben Muster, Hamburg",
    "Ein Kommentar von Clara Probe",
    "By Jane Doe",
    "By Jane Doe and John Roe, Associated Press",
    "Stand: 12.03.2025 14:00 Uhr",
    "Aktualisiert am 5. März 2025, 09:12 Uhr",
    "Mittwoch, 12. März 2025",
    "Updated 3 hours ago",
    "Published March 5, 2025 at 3:04 PM EST",
    "Von Anna Beispiel | Stand: 12.03.2025",
    "Lesezeit: 4 Min.",
    "5 min read",
    # cookie and consent
    "Wir verwenden Cookies, um Ihnen ein besseres Nutzungserlebnis zu bieten.",
    "We use cookies to improve your experience. By continuing to use this site you agree.",
    "Alle akzeptieren",
    "Cookie settings",
    # comment counts
    "12 Kommentare",
    "Kommentare (3)",
    "Comments: 27",
    "Leave a comment",
    # symbols only
    "•",
    "* * *",
]

PROSE = [
    # newsletter, cookies, sharing and agencies mentioned in passing
    "Das Unternehmen verschickte am Montag einen Newsletter an zwei Millionen Kunden.",
    "The charity said its newsletter now reaches more than two million readers each month.",
    "Die Datenschutzbehörde kritisierte, viele Webseiten setzten Cookies ohne Zustimmung.",
    "The minister said both countries would share intelligence on the smuggling network.",
    "Die Nachrichtenagentur dpa berichtete zuerst über den Rücktritt des Ministers.",
    "Das Foto zeigt nach Angaben der Polizei den gesuchten Mann vor einer Bank in Köln.",
    # sentences that start like bylines or date lines
    "Von Montag an gilt in der Innenstadt ein Tempolimit von 30 Kilometern pro Stunde.",
    "By Friday the rescue teams had reached all of the villages cut off by the flood.",
    "Stand der Ermittlungen ist, dass der Brand in der Küche ausgebrochen war.",
    "Updated figures show that unemployment fell to 5.1 percent in March.",
    # short content lines that are not chrome
    "Washington Post",
    "Putin und Kim",
    "Tempolimit in der Innenstadt",
]


@pytest.mark.parametrize("line", NOISE)
def test_noise_line_is_dropped(line: str) -> None:
    assert remove_boilerplate(f"{BEFORE}\n{line}\n{AFTER}") == f"{BEFORE}\n{AFTER}"


@pytest.mark.parametrize("line", PROSE)
def test_genuine_line_is_kept(line: str) -> None:
    assert remove_boilerplate(f"{BEFORE}\n{line}\n{AFTER}") == f"{BEFORE}\n{line}\n{AFTER}"


def test_section_names_are_dropped_only_at_the_top() -> None:
    text = "\n".join(["Politik", "Journalismus", BEFORE, "World", AFTER])
    assert remove_boilerplate(text) == "\n".join([BEFORE, "World", AFTER])


def test_lone_labels_above_and_below_the_article_are_dropped() -> None:
    text = "\n".join(["Hochwasser", BEFORE, "Umwelt", AFTER, "Weitere", "Artikel"])
    assert remove_boilerplate(text) == "\n".join([BEFORE, "Umwelt", AFTER])


def test_bare_domains_and_skip_links_are_dropped() -> None:
    for line in (
        "news.example.org",
        "https://www.example.com/politik/",
        "Zu den Kommentaren springen",
    ):
        assert remove_boilerplate(f"{BEFORE}\n{line}\n{AFTER}") == f"{BEFORE}\n{AFTER}"


def test_scraped_article_keeps_only_the_report() -> None:
    scraped = "\n".join(
        [
            "Wirtschaft",
            "Newsletter Newsletters Events Konferenzen Podcasts",
            "Von Lena Beispiel",
            "Stand: 03.04.2025, 10:15 Uhr",
            "Diesen Artikel teilen",
            "Die Bahn will bis 2030 rund 1.800 Kilometer Gleise erneuern.",
            "WERBUNG",
            "Das kündigte der Vorstand am Donnerstag in Berlin an.",
            "Foto: Max Muster/dpa",
            "Die Gewerkschaft begrüßte den Plan, verlangte aber mehr Personal.",
            "Mehr zum Thema",
            "More Stories",
            "12 Kommentare",
        ]
    )
    assert remove_boilerplate(scraped) == "\n".join(
        [
            "Die Bahn will bis 2030 rund 1.800 Kilometer Gleise erneuern.",
            "Das kündigte der Vorstand am Donnerstag in Berlin an.",
            "Die Gewerkschaft begrüßte den Plan, verlangte aber mehr Personal.",
        ]
    )


def test_long_paragraph_is_never_dropped_even_with_trigger_words() -> None:
    paragraph = (
        "Share prices fell sharply on Monday after the company, which publishes a weekly "
        "newsletter for investors and runs several events each year, said that its profits "
        "for the third quarter would be far lower than analysts had expected in January."
    )
    assert remove_boilerplate(paragraph) == paragraph


def test_empty_input() -> None:
    assert remove_boilerplate("") == ""
    assert remove_boilerplate("\n\n") == ""


def _source_texts() -> list[str]:
    footer = "Alle Angaben ohne Gewähr. Unser Blatt erscheint werktags."
    bodies = [
        "Der Landtag debattierte über die Schulreform.",
        "Die Polizei meldete einen Unfall auf der A7.",
        "Das Stadion wird bis zum Sommer renoviert.",
        "Ein neuer Radweg verbindet die beiden Ortsteile.",
    ]
    return [f"{body}\n{footer}" for body in bodies]


def test_recurring_lines_learns_a_sources_own_chrome() -> None:
    texts = _source_texts()
    learned = recurring_lines(texts)
    assert learned == {"alle angaben ohne gewähr. unser blatt erscheint werktags."}
    cleaned = remove_lines(texts[0], learned)
    assert cleaned == "Der Landtag debattierte über die Schulreform."


def test_recurring_lines_needs_enough_texts_and_share() -> None:
    texts = _source_texts()
    assert recurring_lines(texts[:2]) == set()  # below min_count
    mixed = texts[:3] + [f"Meldung Nummer {n}." for n in range(5)]  # 3 of 8 is below half
    assert recurring_lines(mixed) == set()
    assert recurring_lines(mixed, min_share=0.3) != set()


def test_a_line_repeated_inside_one_text_counts_once() -> None:
    texts = ["Teaser\nTeaser\nTeaser\nA", "B", "C", "D"]
    assert recurring_lines(texts, min_share=0.1, min_count=2) == set()


def test_remove_lines_ignores_case_and_spacing_and_keeps_other_lines() -> None:
    text = "Erste  Zeile\nZweite Zeile\nDritte Zeile"
    assert remove_lines(text, {"erste zeile", "DRITTE   ZEILE"}) == "Zweite Zeile"
    assert remove_lines(text, set()) == text
