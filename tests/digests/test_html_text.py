from __future__ import annotations

import time

from digests.html_text import extract_main_text, html_to_line, html_to_text, normalize_text


def test_paragraphs_and_breaks_become_lines() -> None:
    html = (
        "<h2>Gipfel in Genf</h2><p>Die Delegationen trafen sich am Morgen.</p>"
        "<p>Erste Zeile<br>zweite Zeile</p><ul><li>Punkt eins</li><li>Punkt zwei</li></ul>"
    )
    assert html_to_text(html) == (
        "Gipfel in Genf\nDie Delegationen trafen sich am Morgen.\n"
        "Erste Zeile\nzweite Zeile\nPunkt eins\nPunkt zwei"
    )


def test_inline_markup_does_not_split_words_or_lines() -> None:
    assert html_to_text("<p>The <b>river</b> <a href='/x'>rose</a> by <i>two</i> metres.</p>") == (
        "The river rose by two metres."
    )
    assert html_to_text("<p>Wasser<em>stand</em></p>") == "Wasserstand"


def test_text_beside_a_block_is_its_own_line() -> None:
    assert html_to_text("<div>before<p>inside</p>after</div>") == "before\ninside\nafter"


def test_entities_are_decoded() -> None:
    assert html_to_text("<p>Fish &amp; chips &mdash; &#8364;5 &quot;cheap&quot;</p>") == (
        'Fish & chips — €5 "cheap"'
    )


def test_scripts_styles_and_comments_are_removed() -> None:
    html = (
        "<style>p { color: red }</style><p>Visible</p><script>track('x')</script>"
        "<!-- hidden note --><noscript>enable js</noscript><p>Also visible</p>"
    )
    assert html_to_text(html) == "Visible\nAlso visible"


def test_whitespace_is_collapsed_per_line_and_empty_lines_dropped() -> None:
    html = "<p>  lots   of\n\t space  </p>\n\n<p></p><p>\u00a0</p><p>next</p>"
    assert html_to_text(html) == "lots of space\nnext"


def test_soft_hyphens_and_zero_width_spaces_do_not_break_words() -> None:
    assert html_to_text("<p>Bundes\u00adverfassungs&shy;gericht\u200b</p>") == (
        "Bundesverfassungsgericht"
    )


def test_plain_text_keeps_its_line_breaks() -> None:
    assert html_to_text("First paragraph.\n\nSecond &amp; last.") == (
        "First paragraph.\nSecond & last."
    )


def test_whole_page_with_xml_declaration_and_control_characters() -> None:
    page = (
        '<?xml version="1.0" encoding="iso-8859-1"?><html><head><title>Tab title</title>'
        "</head><body><p>Body\x00 text\x07</p></body></html>"
    )
    assert html_to_text(page) == "Body text"


def test_table_cells_stay_apart() -> None:
    html = "<table><tr><td>Berlin</td><td>12</td></tr><tr><td>Hamburg</td><td>9</td></tr></table>"
    assert html_to_text(html) == "Berlin 12\nHamburg 9"


def test_empty_and_markup_only_inputs() -> None:
    assert html_to_text("") == ""
    assert html_to_text("   ") == ""
    assert html_to_text("<p></p><br/><img src='x.png'>") == ""


def test_input_is_bounded_before_parsing() -> None:
    huge = "<p>" + "word " * 2_000_000 + "</p>"
    started = time.perf_counter()
    text = html_to_text(huge, max_chars=50_000)
    assert len(text) <= 50_000
    assert text.startswith("word word")
    assert time.perf_counter() - started < 2.0


def test_title_helper_gives_one_line() -> None:
    assert html_to_line("Kim <b>meets</b>\n Putin &amp; Lavrov") == "Kim meets Putin & Lavrov"


def test_normalize_text_composes_unicode() -> None:
    decomposed = "Mu\u0308ller"
    assert normalize_text(decomposed) == "Müller"


def test_throughput_of_typical_articles() -> None:
    paragraph = (
        "<p>Die Regierung hat am Dienstag in <a href='https://example.org'>Berlin</a> einen "
        "neuen Haushaltsentwurf vorgestellt, der <strong>deutlich höhere</strong> Ausgaben "
        "für Verteidigung und Infrastruktur vorsieht. Kritiker sprachen von einem Risiko.</p>"
    )
    article = "<div class='body'>" + paragraph * 10 + "<script>var x = 1;</script></div>"
    count = 1_000
    started = time.perf_counter()
    for _ in range(count):
        html_to_text(article)
    rate = count / (time.perf_counter() - started)
    # The requirement is 2,000/s; half of that leaves room for a loaded CI machine.
    assert rate >= 1_000, f"only {rate:.0f} articles/s"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Harbour reopens | Example Coast News</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
</header>
<main><article>
<h1>Harbour reopens after three weeks of repairs</h1>
<p>The harbour of the small coastal town reopened on Thursday after three weeks of repairs to
its damaged breakwater, the port authority said in a statement.</p>
<p>Engineers replaced more than two hundred concrete blocks that a winter storm had displaced,
and divers inspected the foundations before the first ferry was allowed to dock again.</p>
<p>Fishermen, who had been forced to land their catch at a neighbouring port forty kilometres
away, welcomed the decision and said they had lost a significant part of their income.</p>
<p>The authority estimated the cost of the work at 4.2 million euros and said a longer-term
plan to raise the breakwater by one metre would be presented to the council in the spring.</p>
</article></main>
<footer><p>Copyright Example Coast News. All rights reserved.</p>
<a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_extract_main_text_keeps_the_article_and_drops_the_chrome() -> None:
    text = extract_main_text(PAGE, "https://coast.example/harbour")
    assert text is not None
    assert "breakwater" in text
    assert "4.2 million euros" in text
    assert "All rights reserved" not in text
    assert "Privacy" not in text


def test_extract_main_text_returns_none_when_there_is_nothing() -> None:
    assert extract_main_text("", None) is None
    assert extract_main_text("   ", None) is None
    assert extract_main_text("<html><body></body></html>", None) is None
    assert extract_main_text("\x00\xff garbage <<<", "https://x.example/") is None
