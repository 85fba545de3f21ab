"""Online story assignment: does an incoming article report an event we already follow?

A *story* is one event (same actors, same time window, same key terms), not a
topic. Articles and stories are compared through compact profiles:

- ``terms``: lemmas of content words, weighted by where they occur (title ×3,
  lead ×2, body, tail ×0.5, nothing past ``SCAN_CHARS``). Stop words, page noise,
  reporting verbs and spelled-out numbers are dropped. German compounds are split so
  that "Truppenentsendung" also counts as "Truppe" + "Entsendung"; a German →
  English table of common event words and spelling-neutral name keys
  (Selenskyj = Zelensky) put both languages on one axis. ``names`` marks the terms
  that are names or unknown words.
- ``actors``: language-neutral ids (``RU``, ``org:nato``, ``person:putin``) from
  the actor gazetteer and named persons, plus those of the facts when
  :mod:`digests.facts` results are passed in. Countries and institutions are kept
  out of the terms: two reports about the same governments do not look alike for
  that alone.
- ``numbers``: normalised figures and calendar dates ("14000", "d:04-26", "y:2025").

Rarity: the shell counts in how many recent articles each term and figure occurred
(:class:`DocFreq`, see :func:`df_keys`) and passes the counts in. A term then weighs
its profile weight × ln(1/rate), the rate smoothed towards a prior by kind of word
(:func:`prior_rate`: common news words, dictionary words, names), which also covers
the cold start. A story keeps its terms already weighted this way.

:func:`score` is the cosine of the weighted terms plus small bonuses for shared
actors and figures (gated by the term cosine), times a time factor that is 1 inside
the story's span, eases to ``TIME_FLOOR`` at ``WINDOW`` from it and is 0 beyond, and
it is 0 unless the two share a rare term or figure: the same event is named by
something specific to it, a topic only by common words.

Everything here is pure: no clock (``published`` is on the profiles), no I/O
beyond the package's lexicon, read once.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter, methodcaller, mul
from typing import Any, cast

import simplemma

from digests.facts import person_key
from digests.models import Article
from digests.sentences import lexicon, word_cache, word_cache_by

# --- tunables (documented defaults; see ``score``) ---------------------------------------

WINDOW = timedelta(days=7)  # a news week: follow-ups after that start a new story
# On the score (rarity-weighted term cosine plus bonuses). On the bilingual sample
# corpus (cold start: the prior decides) 26 of 28 same-event decisions score >= 0.25 and
# the best wrong candidate <= 0.15; on 1,028 unrelated 10kGNAD articles 72 of 2,246
# candidate pairs with same-event evidence reach 0.25, mostly reports on one person or
# one series (a tennis player, a minister) that the compressed timeline puts in one week.
# Lower thresholds join more of those, higher ones split the sample's follow-ups.
DEFAULT_THRESHOLD = 0.25
# At the very end of the window a perfect match is worth this share of its score.
TIME_FLOOR = 0.7
# Shared actors and figures break near-ties: together they add at most 0.1, and only in
# full once the term cosine is TERM_GATE (scaled down below), so they can lift a pair by
# a few hundredths over the threshold but never carry one there on their own. Larger
# bonuses joined unrelated reports that share only the country and a round figure.
TERM_GATE = 0.2
W_ACTORS = 0.05
W_NUMBERS = 0.05

# --- term rarity (document frequencies; see ``DocFreq`` and ``rate``) ---
# A term's document rate p is estimated from recent counts plus a prior worth PRIOR_DOCS
# articles: p = (df + PRIOR_DOCS * prior) / (N + PRIOR_DOCS), and weighs ln(1/p). With an
# empty store the prior alone decides; after a few hundred articles the counts do.
# PRIOR_DOCS: about a day of a small set of feeds, so a day of real counts outweighs the
# static guesses below, while a handful of articles cannot make a common word look rare.
PRIOR_DOCS = 100.0
# Prior rates, by what the word is (orders of magnitude, not fitted): words of the static
# common list are in about one report in ten; any other dictionary word in one in two
# hundred (most content words of news are rarer than that, and the frequent ones are on
# the common list or soon counted); a name, an unknown word or a figure with three
# significant digits in one in five hundred.
COMMON_RATE = 0.1
WORD_RATE = 0.005
NAME_RATE = 0.002
# Same-event evidence: two reports must share at least one term (or specific figure) that
# occurs in at most this share of the recent articles *outside* the story: one in two
# hundred. Equal to WORD_RATE, so that with an empty store any uncommon shared word
# qualifies, and counts then withdraw the words that turn out common (with 300 articles
# counted, a word seen in two other articles no longer qualifies).
RARE_RATE = 0.005
# Articles query a few more index keys than stories are filed under: the article's keys
# are ranked by the prior alone (its counts arrive in the same round trip), the story's by
# counted rarity, so the two rankings may differ at the margin.
QUERY_EXTRA = 4
# Figures whose document frequency is counted and looked up, most specific first: a dozen
# covers the figures a report is about; results tables and statistics would add dozens
# more that only fill the counts.
DF_NUMBERS = 12

ARTICLE_TERMS = 80
STORY_TERMS = 60
STORY_ACTORS = 30
STORY_NUMBERS = 40
STORY_SOURCES = 20
INDEX_LIMIT = 12

TITLE_BOOST = 3.0
LEAD_BOOST = 2.0
PROPER_BOOST = 1.6
COMPOUND_PART = 0.5
PERSON_TERM = 0.3
CONCEPT_WEIGHT = 0.8
LEAD_CHARS = 400
BODY_CHARS = 1000
TAIL_WEIGHT = 0.5
# A line without sentence punctuation and no longer than a headline is a heading: a
# menu entry, a caption, a crosshead, or the headline of another report ("Related
# coverage", "Mehr zum Thema"), which names another event. Headlines run to a dozen words.
HEADING_WORDS = 12
# Text read for the profile: news puts the event first, and past the first ~300 words
# background names other events as often as this one (on 10kGNAD reading everything
# joined slightly more unrelated reports; the sample corpus scores the same), while the
# cost of a profile grows with every word.
SCAN_CHARS = 2000

# --- vocabulary ----------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_DE = _words(
    """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
    anderes anderm andern anders auch auf aus bei beide beiden beider beim bereits bin bis
    bisher bist bzw da dabei dadurch dafür dagegen daher dahin damals damit danach daneben
    dann daran darauf daraus darf darin darüber darum darunter das dass dasselbe davon davor
    dazu dein deine deinem deinen deiner dem demnach den denen denn dennoch der deren derer
    derselbe des deshalb desselben dessen dich die dies diese dieselbe dieselben diesem
    diesen dieser dieses dir doch dort du durch eben ebenfalls ebenso ein eine einem einen
    einer eines einig einige einigem einigen einiger einiges einmal er es etwa etwas euch
    euer eure falls fast für gab ganz gar gegen gegenüber gewesen gibt habe haben hat hatte
    hatten hätte hätten her heraus herein hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
    ihren ihrer ihres im immer in indem infolge ins inzwischen irgend ist ja je jede jedem
    jeden jeder jedes jedoch jene jenem jenen jener jenes jetzt kann kaum kein keine keinem
    keinen keiner keines können könnte könnten lassen lässt man manche manchem manchen
    mancher manches mehr mein meine meinem meinen meiner meist mich mir mit mithilfe möchte
    muss musste müssen nach nachdem neben nicht nichts noch nun nur ob oder ohne per rund
    schon sehr sei seien sein seine seinem seinen seiner seines seit seitdem selbst sich sie
    sind so sogar solch solche solchem solchen solcher solches soll sollen sollte sollten
    somit sondern sowie sowohl statt trotz um und uns unser unsere unserem unseren unserer
    unter viel viele vielen vom von vor während war waren warum was weder weil weit weitere
    weiteren weiterer weiteres welche welchem welchen welcher welches wem wen wenig wenige
    wenn wer werde werden wessen wie wieder wiederum will wir wird wo wobei wohl wollen
    wollte worden wurde wurden würde würden zu zum zur zwar zwischen über ueber zudem zufolge sowas
    hierbei hierzu obwohl ebenfalls gleichzeitig sei seien wäre wären worden geworden sein
    gehen geben machen kommen stehen liegen lassen bleiben halten sehen heißen zeigen erst
    ersten erste erstmals zweite dritte neu neue neuen neuer neues groß große großen großer
    klein kleine gut gute guten mehrere mehreren viele eigen eigene eigenen letzte letzten
    letzter nächste nächsten bislang derzeit zuvor später heute gestern morgen vorgestern
    bald nun bereits wegen sowie seitens laut gemäß via
    dr prof dipl ing
    """
)
_STOP_EN = _words(
    """
    a about above after again against all also am among an and another any are aren't around
    as at be because been before being below between both but by can cannot could couldn't
    did didn't do does doesn't doing don't down during each either else even ever every few
    for from further get gets got had has have having he her here hers herself him himself
    his how however i if in into is isn't it its itself just least less like made make many
    may me might more most much must my myself neither no nor not now of off often on once
    one only or other others our ours ourselves out over own per perhaps quite rather same
    she should since so some such than that the their theirs them themselves then there
    these they this those though through thus to too under until up upon us very via was
    wasn't we were weren't what when where whether which while who whom whose why will with
    within without would yet you your yours yourself first second third new last next later
    earlier still already today yesterday tomorrow recently meanwhile also amid despite
    including toward towards across along around behind beyond near onto several whose
    become became go going come came take took give gave see saw seen know known around says
    said say
    dr prof mr mrs ms
    """
)
# Spelled-out small numbers and units: "two dead" in a quake and in a shooting say nothing
# about which event it is; figures that do are kept as numbers.
_NUMBER_WORDS = _words(
    """
    eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dutzend hundert
    tausend erste zweite dritte vierte fünfte sechste siebte achte neunte zehnte erst zweit
    dritt viert fünft sechst siebt acht neunt zehnt million millionen milliarde milliarden
    mio mrd prozent euro dollar pfund
    one two three four five six seven eight nine ten eleven twelve twenty dozen hundred
    thousand first second third fourth fifth sixth seventh eighth ninth tenth million
    billion percent cent euro euros dollar dollars pound pounds
    """
)
# Words nearly every news report uses: reporting verbs, hedges, page furniture. They say
# nothing about which event is reported.
_NEWS_DE = _words(
    """
    sagen sagte sagten berichten berichtet berichtete berichteten bericht berichte erklären
    erklärte erklärten erklärung angabe angaben mitteilen mitteilung teilte meldung
    meldungen melden meldete nachricht nachrichten quelle quellen zitieren zitiert
    informieren information informationen medien medium zeitung agentur nachrichtenagentur
    sprechen sprach äußern äußerte betonen betonte betonten hinweisen unterstreichen
    unterstrich weiterhin zufolge jahr jahre jahren jahres monat monate monaten woche wochen
    tag tage tagen stunde stunden uhr zeit mal montag dienstag mittwoch donnerstag freitag
    samstag sonntag januar februar märz april mai juni juli august september oktober
    november dezember frage fragen thema themen seite seiten fall weise art teil rahmen
    ebene lage entwicklung entwicklungen zusammenhang hintergrund beispiel ende anfang
    beginn mittag abend nacht morgen vormittag nachmittag artikel text foto bild bilder
    video videos copyright newsletter werbung anzeige kommentar kommentare teilen lesen
    weiterlesen podcast podcasts loader abonnieren cookie cookies datenschutz impressum
    events veranstaltungen stories story startseite mehr schließen close button volltext
    agenturmeldung agenturmeldungen
    """
)
_NEWS_EN = _words(
    """
    report reported reports reporting tell told statement statements according source
    sources news agency media newspaper announce announced comment comments note noted add
    added state stated claim claimed year years month months week weeks day days hour hours
    time times monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december issue issues matter
    part way thing things case end beginning morning evening night afternoon article story
    stories photo image video videos copyright newsletter advertisement advertising
    sponsored read share subscribe podcast podcasts cookie cookies privacy login sign click
    related more see button close loading
    """
)
# Topic words: they belong to many different events (every war story has soldiers and a
# government). With the common news words below they form the rarity prior: before the
# store has counted enough articles, these are assumed to occur in COMMON_RATE of them.
_GENERIC = _words(
    """
    krieg konflikt regierung präsident präsidentin land länder staat staaten politik
    politisch beziehung beziehungen zusammenarbeit unterstützung unterstützen international
    internationale region welt lage situation partner partnerschaft sicherheit militär
    militärisch war conflict government president country countries state states politics
    political relation relations relationship cooperation support international region world
    situation partner partnership security military official officials leader leaders people
    """
)
# Words found in a large share of news reports of every kind (institutions, roles, money,
# generic nouns and verbs of public life). Written from general knowledge of news language,
# not from any corpus this project is measured on; they only matter until counts exist.
_COMMON_DE = _words(
    """
    regierung bundesregierung polizei partei minister ministerin ministerium behörde amt
    stadt gemeinde bürger bürgerin mensch menschen kind kinder familie frau mann leute
    unternehmen firma konzern markt wirtschaft geld kosten preis zahl problem ziel grund
    ergebnis plan projekt entscheidung gesetz recht gericht kritik vorwurf forderung angebot
    chance gefahr erfolg leben arbeit experte expertin studie daten system antwort
    möglichkeit maßnahme weg schritt zukunft hilfe chef vertreter vertreterin mitglied spitze
    führung verband verein organisation kommission rat parlament abgeordnete abgeordneter
    wahl stimme mehrheit opposition koalition öffentlichkeit bevölkerung gesellschaft
    sprecher sprecherin fordern wollen müssen erhalten bringen stellen setzen führen
    beginnen planen entscheiden erwarten hoch lang weit stark wichtig deutlich möglich
    aktuell öffentlich national europa europäisch deutsch österreichisch
    """
)
_COMMON_EN = _words(
    """
    government police party minister ministry authority agency city council citizen people
    child children family man woman company firm business market economy money cost price
    number problem goal reason result plan project decision law right court criticism
    demand offer risk danger success life work expert study data system answer measure step
    future help chief member spokesman spokeswoman commission parliament lawmaker election
    vote majority opposition coalition public society want need receive bring lead begin
    expect high big large long strong important possible national local europe european
    american british
    """
)
_MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6,
    "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "october": 10, "oct": 10, "okt": 10,
    "november": 11, "nov": 11, "dezember": 12, "december": 12, "dec": 12, "dez": 12,
}  # fmt: skip

# Common event words, "German forms = English words": a German and an English report of the
# same event then share their key terms. The first English word is the shared key, the
# others fold onto it (so "swap" meets "exchange"). Both sides are lemmatised at first use,
# so the map follows whatever simplemma returns for each language.
_BILINGUAL = """
    Truppe Truppen = troop troops
    Soldat Soldatin Soldaten = soldier
    Armee Streitkraft Streitkräfte = army forces
    Angriff angreifen Anschlag Attacke = attack
    Luftangriff = airstrike
    Explosion explodieren = explosion explode
    Rakete Raketen Marschflugkörper = missile rocket
    Drohne Drohnen = drone
    Waffe Waffen = weapon
    Munition = ammunition
    Waffenstillstand Waffenruhe Feuerpause = ceasefire truce
    Frieden Friedensgespräch = peace
    Verhandlung verhandeln = negotiation negotiate
    Gespräch Gespräche = talk talks
    Treffen treffen = meeting meet
    Gipfel Gipfeltreffen = summit
    Besuch besuchen = visit
    Telefonat Telefongespräch telefonieren Anruf = call phone
    bestätigen Bestätigung = confirm confirmation
    dementieren bestreiten Dementi = deny denial
    danken Dank bedanken = thank thanks
    loben Lob = praise
    kritisieren Kritik = criticise criticize criticism
    verurteilen = condemn sentence
    fordern Forderung = demand
    warnen Warnung = warn warning
    drohen Drohung = threaten threat
    Sanktion Sanktionen = sanction
    Abkommen Vereinbarung vereinbaren = agreement agree deal
    Vertrag = treaty contract
    unterzeichnen unterschreiben = sign
    Wahl wählen = election elect
    Abstimmung abstimmen = vote ballot
    Rücktritt zurücktreten = resignation resign
    Festnahme festnehmen verhaften Verhaftung = arrest
    Anklage anklagen = indictment indict
    Urteil = verdict ruling
    Gericht = court
    Klage klagen = lawsuit sue
    Prozess = trial
    Ermittlung ermitteln Ermittler = investigation investigate investigator
    Polizei Polizist = police
    Staatsanwaltschaft Staatsanwalt = prosecutor prosecution
    Verdächtiger Verdächtige = suspect
    Mord ermorden = murder
    Schüsse Schießerei schießen = shooting shoot
    Messerangriff = stabbing
    Geisel = hostage
    Gefangener Gefangene Gefangenen Kriegsgefangener = prisoner
    Austausch austauschen tauschen Gefangenenaustausch = exchange swap
    freilassen Freilassung = release free
    Vermittlung vermitteln = mediation mediate broker
    Erdbeben Beben = earthquake quake tremor
    Nachbeben = aftershock
    Überschwemmung Hochwasser Flut = flood flooding
    Brand Feuer Waldbrand = fire blaze wildfire
    Sturm Orkan Unwetter = storm gale
    Schnee Schneefall = snow snowfall
    Hitze Hitzewelle = heat heatwave
    Dürre = drought
    Unfall Absturz abstürzen = accident crash
    Einsturz einstürzen = collapse
    Brücke = bridge
    Flugzeug = plane aircraft
    Zugverkehr = train
    Schiff = ship vessel
    Tanker = tanker
    Öl Ölpest = oil
    Küste = coast coastline
    Tote Toter tot = dead
    töten = kill
    sterben = die
    Todesopfer Opferzahl = toll death
    Opfer = victim
    verletzen verletzt Verletzte Verletzter = injure injured wound
    vermisst Vermisste = missing
    Rettung retten Retter = rescue rescuer
    Feuerwehr = firefighter
    evakuieren evakuiert Evakuierung = evacuate evacuation
    Notstand = emergency
    Schaden beschädigen = damage
    zerstören Zerstörung = destroy destruction
    Streik streiken Warnstreik = strike walkout
    Gewerkschaft = union
    Lohn Löhne Gehalt = wage salary
    Beschäftigter Beschäftigte Mitarbeiter Arbeiter = worker employee staff
    Arbeitsplatz Arbeitsplätze Job = job
    Stellenabbau Entlassung entlassen = layoff redundancy
    schließen Schließung = close closure
    Werk Fabrik Kraftwerk = factory plant
    Strom Elektrizität = electricity power
    Energie = energy
    Unternehmen Firma Konzern = company firm
    Gewinn = profit
    Umsatz = revenue sales
    Verlust = loss
    Aktie Aktien = share stock
    Zoll Zölle = tariff duty
    Zins Zinsen Leitzins = rate interest
    Inflation = inflation
    Haushalt = budget
    Steuer Steuern = tax
    Gesetz Gesetzentwurf = law bill
    Kanzler Kanzlerin Bundeskanzler = chancellor
    Bürgermeister Bürgermeisterin = mayor
    Gouverneur = governor
    Parlament = parliament
    Stadtrat Gemeinderat = council
    beschließen Beschluss = decide decision approve
    Gebühr = charge fee
    Grenze = border
    Grenzkontrolle Kontrolle kontrollieren = control check
    Hafen = port harbour
    Flughafen = airport
    Flüchtling Geflüchtete = refugee
    Migration Migrant = migration migrant
    Entsendung entsenden Einsatz einsetzen = deployment deploy
    stationieren = station
    Kampf kämpfen Gefecht = fighting fight battle
    befreien Befreiung = liberate liberation
    Rückeroberung zurückerobern = recapture retake
    erobern Eroberung = capture seize
    Offensive = offensive
    Invasion = invasion
    Hilfe Unterstützung unterstützen Militärhilfe = aid support help
    Lieferung liefern = delivery deliver supply
    Atomwaffe Kernwaffe Atomwaffenprogramm = nuclear
    Krankenhaus Klinik Klinikum = hospital clinic
    Patient Patientin = patient
    Arzt Ärztin = doctor
    Impfstoff Impfung = vaccine vaccination
    Virus = virus
    Ausbruch = outbreak
    Cyberangriff Hackerangriff = cyberattack hack
    Hacker = hacker
    Daten = data
    Lösegeld = ransom
    Rückruf zurückrufen = recall
    Produkt = product
    Kind Kinder = child children
    Schule = school
    Kirche = church
    Haus Häuser = house home
    Einwohner Bewohner Anwohner = resident
    Stadt = city town
    Dorf = village
    Insel = island
    Halbinsel = peninsula
    Krim = crimea
    Wahlkampf = campaign
    Koalition = coalition
    Opposition = opposition
    Protest protestieren Demonstration = protest demonstration
    Studie = study
    Preis Preise = price prize
    Spiel = match game
    Sieg siegen gewinnen = win victory
    Niederlage verlieren = defeat lose
    Tor Tore = goal
    Trainer = coach
    Mannschaft Team = team
    Meisterschaft = championship
"""

_WORD = re.compile(r"[^\W\d_](?:[\w'’]*[^\W_])?", re.UNICODE)
# A word, with what stands right before it: sentence punctuation ("p": a capital here
# proves nothing) or a hyphen inside a compound ("h": "Jong-un", "Kreml-Sprecher").
_TOKEN = re.compile(
    r"(?:(?P<p>[.!?:\"“„»(])[\s\xa0]*|(?P<h>(?<=\w)-))?(?P<w>[^\W\d_](?:[\w'’]*[^\W_])?)"
)
# '\d\d*', not '\d+': opening with a character class lets the engine skip to the next
# digit instead of trying every position (see digests.sentences._JUNCTION). Same matches.
_DIGITS = re.compile(r"\d\d*(?:[.,'\-]\d+)*")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_MONTH_AFTER = re.compile(r"\.?[ \xa0]+([^\W\d_]{3,9})\b")
_MONTH_BEFORE = re.compile(r"\b([^\W\d_]{3,9})\.?[ \xa0]+$")
_AFTER = (".", " ", "\xa0")  # what _MONTH_AFTER's match must start with
_BEFORE = (" ", "\xa0", "\n")  # what _MONTH_BEFORE's match must end with ('$' or '\n$')
_SENTENCE_END = re.compile(r"[.!?…:]['\"”“»«]?\s*$")
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?…])['\"”“»«]?\s+")
# The same boundaries with the terminator matched instead of looked behind at: the regex
# engine then skips ahead to the next terminator instead of trying every position.
_TERMINATED_BOUNDARY = re.compile(r"[.!?…]['\"”“»«]?\s+")
_TERMINATORS = ".!?…:"
_CLOSING_QUOTES = "'\"”“»«"
# Derivational endings that the dictionary also knows as words ("Partner|schaft").
_BAD_HEADS = ("schaft", "heit", "keit", "ung", "lich", "ling", "tum", "nis")
# Prefixes that look like words: "Unterstützung" is not a kind of "Stützung".
_PARTICLES = _words(
    """
    unter über ober vor nach aus ein an ab auf zu mit bei gegen wider durch hinter neben
    zwischen um ver ent emp miss zer her hin dar vorder hoch
    """
)
_LINKING = ("", "s", "es", "n", "en", "er", "e")
_LOCATIVE = frozenset(("in", "im", "nach", "aus", "bei", "at", "to", "from", "near", "into"))
# Spelling-neutral name keys (see _name_key); digraphs first.
_TRANSLIT = (
    ("tsch", "ch"), ("sch", "sh"), ("kh", "ch"), ("ts", "s"), ("tz", "s"), ("z", "s"),
    ("w", "v"), ("j", "i"), ("y", "i"), ("ph", "f"), ("ck", "k"),
)  # fmt: skip
_DOUBLE = re.compile(r"(.)\1+")
# Concepts of reporting verbs: every article "says" and "reports", whatever the event.
_REPORTING_CONCEPTS = frozenset(
    ("~say", "~report", "~announce", "~stress", "~claim", "~assure", "~state", "~tell",
     "~add", "~write", "~explain", "~note", "~publish", "~not")
)  # fmt: skip
_FACT_DATE = re.compile(r"(?:(\d{4})-)?(\d{2})-(\d{2})")
_ROLES = _words(
    """
    präsident präsidentin kanzler kanzlerin bürgermeister bürgermeisterin sprecher sprecherin
    chef chefin vorsitzende vorsitzender direktor direktorin general richter richterin
    staatsanwalt staatsanwältin trainer trainerin premier regierungschef regierungschefin
    staatschef staatschefin landrat landrätin herr frau dr prof machthaber
    president chancellor mayor spokesman spokeswoman spokesperson chief director judge
    prosecutor coach governor senator secretary mr mrs ms ceo chairman chairwoman leader
    """
)
_ROLE_SUFFIXES = ("minister", "ministerin", "prasident", "prasidentin", "sprecher", "sprecherin")
# Endings stripped before a gazetteer lookup: "Russlands", "Nordkoreas", "Kremls", "Russians".
_INFLECTIONS = {"de": ("s", "es", "n", "en", "e", "er", "em"), "en": ("s", "'s")}


# --- profiles ------------------------------------------------------------------------------


@dataclass(slots=True)
class ArticleProfile:
    """What story assignment needs to know about one article."""

    article_id: str
    title: str
    language: str
    published: datetime
    terms: dict[str, float]
    actors: dict[str, float]
    numbers: frozenset[str]
    # Terms that are names (of places, persons, organisations) or words the dictionary does
    # not know: specific until counts say otherwise (see ``rate``).
    names: frozenset[str] = frozenset()


@dataclass(slots=True)
class StoryProfile:
    """The running summary of a story: a capped centroid of its articles.

    ``terms`` are weighted by rarity (term weight × ln(1/rate)) as counted when each
    article joined, so the story's strongest terms, and its index keys, are the ones
    that name its event.
    """

    id: str
    title: str
    language: str
    first_seen: datetime
    last_seen: datetime
    terms: dict[str, float]
    actors: dict[str, float]
    numbers: frozenset[str]
    article_count: int = 1
    sources: list[str] = field(default_factory=list)
    # Per kept term, how many of the story's articles had it (see ``rate``'s ``own``).
    term_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoryScore:
    """How well an article fits a story, with the parts that explain it."""

    total: float
    terms: float
    actors: float
    numbers: float
    time: float
    shared_terms: tuple[str, ...] = ()
    shared_actors: tuple[str, ...] = ()
    # The rarest feature both share ("" when none is rare enough to tell the event apart)
    # and its document rate outside the story.
    evidence: str = ""
    evidence_rate: float = 1.0

    def explain(self) -> str:
        return (
            f"total={self.total:.3f} terms={self.terms:.3f} actors={self.actors:.3f} "
            f"numbers={self.numbers:.3f} time={self.time:.2f} "
            f"evidence={self.evidence or '-'}@{self.evidence_rate:.4f} "
            f"shared={', '.join(self.shared_terms[:8])}"
        )


@dataclass(frozen=True, slots=True)
class DocFreq:
    """Recent document frequencies: in how many of ``total`` articles each key occurred.

    Keys are term keys and figure keys (``NUMBER_MARK`` + number key), as returned by
    :func:`df_keys`. Missing keys count 0. The empty default is the cold start: rates
    then come from the prior alone.
    """

    counts: Mapping[str, float] = field(default_factory=dict)
    total: float = 0.0


# --- tokenising ----------------------------------------------------------------------------


@word_cache(200_000)
def _fold(word: str) -> str:
    """Case- and accent-insensitive key: "Pjöngjang" and "Pjongjang" meet."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lang(language: str) -> str:
    """The language whose word lists read ``language``'s text: German and English have
    their own; any other language with a stop-word list reads as itself, with English
    rules for shape and that language's function words kept out of the terms ("le",
    "de", "la" would otherwise join every French article to every other); the rest, and
    no language at all, read as English."""
    code = (language or "").lower()[:2]
    if code in _STOP:
        return code
    if code in _NO_STOP_LIST or len(code) != 2 or not code.isalpha() or language == "und":
        return "en"
    # Imported here: it costs ~0.14 s (package metadata) and only other languages need it.
    import stopwordsiso

    if not stopwordsiso.has_lang(code):
        _NO_STOP_LIST.add(code)
        return "en"
    _STOP[code] = frozenset(_fold(w) for w in stopwordsiso.stopwords(code) | _NUMBER_WORDS)
    return code


# Codes met that stopwords-iso has no list for ('un' of 'und', 'mk'): read as English.
_NO_STOP_LIST: set[str] = set()


@word_cache_by(200_000)
def _lemma(word: str, lang: str) -> str:
    try:
        return str(simplemma.lemmatize(word, lang=lang))
    except (ValueError, KeyError):
        return word


@word_cache_by(200_000)
def _known(word: str, lang: str) -> bool:
    try:
        return bool(simplemma.is_known(word, lang=lang)) or bool(
            simplemma.is_known(word.lower(), lang=lang)
        )
    except (ValueError, KeyError):
        return False


@word_cache_by(100_000)
def _split_compound(word: str, min_head: int) -> tuple[str, str] | None:
    """Modifier and head of a German compound ("Truppenentsendung"), if both are words.

    The longest head that is a known noun wins: German compounds are right-headed, and
    the head says what the thing is, so it is the part most likely to match another
    article's wording.
    """
    lower = word.lower()
    if len(lower) < 8:
        return None
    for cut in range(4, len(lower) - min_head + 1):
        head = lower[cut:]
        if head.startswith(_BAD_HEADS) or not _noun(head.capitalize()):
            continue
        left = lower[:cut]
        for link in _LINKING:
            if link and not left.endswith(link):
                continue
            modifier = left[: len(left) - len(link)] if link else left
            if modifier in _PARTICLES:
                continue
            if len(modifier) >= 4 and _known(modifier.capitalize(), "de"):
                return modifier.capitalize(), head.capitalize()
    return None


@word_cache(100_000)
def _noun(word: str) -> bool:
    """Known to the German dictionary as a capitalised word, i.e. a noun."""
    try:
        return bool(simplemma.is_known(word, lang="de"))
    except (ValueError, KeyError):
        return False


@lru_cache(maxsize=1)
def _bilingual() -> tuple[dict[str, str], dict[str, str]]:
    """(German key → shared key, English key → shared key)."""
    de_map: dict[str, str] = {}
    en_map: dict[str, str] = {}
    for line in _BILINGUAL.strip().splitlines():
        german, _, english = line.partition("=")
        words = english.split()
        if not words:
            continue
        target = _fold(_lemma(words[0], "en"))
        for word in words:
            en_map.setdefault(_fold(_lemma(word, "en")), target)
            en_map.setdefault(_fold(word), target)
        for word in german.split():
            de_map.setdefault(_fold(_lemma(word, "de")), target)
            de_map.setdefault(_fold(word), target)
    return de_map, en_map


# Per language read (see _lang): other languages are added when first met.
_STOP = {
    "de": frozenset(_fold(w) for w in _STOP_DE | _NEWS_DE | _NUMBER_WORDS),
    "en": frozenset(_fold(w) for w in _STOP_EN | _NEWS_EN | _NUMBER_WORDS),
}


@lru_cache(maxsize=1)
def _common_keys() -> frozenset[str]:
    """Term keys of the common-word prior, analysed like article text (lemma, shared
    bilingual key), so that "Polizei" here meets "police" and "Polizisten" in articles."""
    keys: set[str] = set()
    for lang, words in (("de", _GENERIC | _COMMON_DE), ("en", _GENERIC | _COMMON_EN)):
        for word in words:
            for form in (word, word.capitalize()):
                # Only the whole word: its compound parts are not common for that.
                analysed = _analyse(form, lang, False)
                if analysed and not analysed[0][2]:
                    keys.add(analysed[0][0])
    return frozenset(keys)


_ROLE_KEYS = frozenset(_fold(w) for w in _ROLES)


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    """Actor names from ``lexicons/actors.json``, keyed for token-sequence matching."""

    # first token key → [(all token keys, actor id, kind)], longest first;
    # kind: "name" (needs a capital), "acronym" (needs upper case), "stem", "city", "media"
    entries: dict[str, tuple[tuple[tuple[str, ...], str, str], ...]]
    first_names: frozenset[str]
    surname_first: frozenset[str]
    particles: frozenset[str]


def _alias_tokens(alias: str) -> tuple[str, ...]:
    return tuple(_fold(t) for t in _WORD.findall(alias) for t in t.split("-") if t)


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    # The same gazetteer digests.facts reads, so actor ids agree between the two.
    data = lexicon("actors")
    table: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}

    def add(alias: str, actor: str, kind: str) -> None:
        tokens = _alias_tokens(alias)
        if tokens:
            table.setdefault(tokens[0], []).append((tokens, actor, kind))

    for actor, spec in data.get("actors", {}).items():
        for lang in ("de", "en", "any"):
            for alias in spec.get(lang, ()):
                if alias.isupper() or (len(alias) > 1 and alias.replace(".", "").isupper()):
                    kind = "acronym"
                elif alias[:1].islower():
                    kind = "stem"
                else:
                    kind = "name"
                add(alias, actor, kind)
        for city in spec.get("cities", ()):
            add(city, actor, "city")
    for outlet in data.get("media", ()):
        add(outlet, "", "acronym" if outlet.isupper() else "media")
    return _Gazetteer(
        entries={k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in table.items()},
        first_names=frozenset(_fold(n) for n in data.get("first_names", ())),
        surname_first=frozenset(_fold(n) for n in data.get("surname_first", ())),
        particles=frozenset(_fold(n) for n in data.get("name_particles", ())),
    )


def _lookup_keys(surface: str, lang: str) -> tuple[str, ...]:  # cached in _WORDS
    """Keys under which the gazetteer may know ``surface``: its fold, the fold of its
    lemma, and the fold with an inflection ending removed. The first is the fold."""
    fold = _fold(surface)
    keys = [fold]
    lemma = _fold(_lemma(surface, lang))
    if lemma != fold:
        keys.append(lemma)
    for ending in _INFLECTIONS.get(lang, ()):
        if fold.endswith(ending) and len(fold) - len(ending) >= 3:
            keys.append(fold[: -len(ending)])
    return tuple(keys)


def _word_info(word: str, lang: str) -> tuple[tuple[str, ...], bool, bool, bool]:
    """(lookup keys, capitalised, may start a name, is a role word); cached in _WORDS."""
    keys = _lookup_keys(word, lang)
    gaz = _gazetteer()
    special = (
        any(k in gaz.entries for k in keys)
        or keys[0] in gaz.first_names
        or keys[0] in gaz.surname_first
    )
    return keys, word[0].isupper(), special, _is_role(keys[0])


# What ``_TOKEN.findall`` gives for one word: (punctuation before, hyphen before, word);
# an unmatched group is "".
_Match = tuple[str, str, str]


# eq=False: never compared, and identity equality keeps ``None in words`` a C-level scan
@dataclass(frozen=True, slots=True, eq=False)
class _Word:
    """A word form and everything about it that does not depend on where it stands."""

    surface: str  # up to an apostrophe ("Russia's" -> "Russia")
    fold: str
    keys: tuple[str, ...]  # fold, lemma fold, inflection-stripped folds: for gazetteer lookup
    capital: bool
    upper: bool  # all capitals: may be an acronym
    special: bool  # may start a lexicon name or a person's name
    role: bool  # a role word ("Präsident", "mayor"): a name may follow
    name_key: str  # _name_key(fold): a person's surname key if this were one
    terms: tuple[tuple[str, float, bool], ...]  # _analyse(surface, capital_is_name=False)
    name_terms: tuple[tuple[str, float, bool], ...]  # the same with capital_is_name=True


# raw word (as matched) -> _Word, per language: the only cache of _word_info and
# _analyse. It is looked up for every word of every scanned text, and one dict lookup
# costs a fraction of several cached calls and a token object per word.
_WORDS: dict[str, dict[str, _Word]] = {}
_WORDS_MAX = 200_000


def _new_word(raw: str, lang: str, cache: dict[str, _Word]) -> _Word:
    word = raw
    if "'" in word or "’" in word:
        # never empty: a match starts with a letter
        word = word.replace("’", "'").split("'")[0]
    keys, capital, special, role = _word_info(word, lang)
    terms = _analyse(word, lang, False)
    # German ignores capital_is_name (every noun is capitalised)
    name_terms = terms if lang == "de" else _analyse(word, lang, True)
    info = cache[raw] = _Word(
        word,
        keys[0],
        keys,
        capital,
        word.isupper(),
        special,
        role,
        _name_key(keys[0]),
        terms,
        name_terms,
    )
    return info


_WORD_OF_MATCH = itemgetter(2)


def _words_of(text: str, lang: str, punctuation: bool) -> tuple[list[_Match] | None, list[_Word]]:
    """The word matches of ``text`` and their (cached) word information, index by index.

    ``punctuation``: whether the caller reads what stands before each word (English
    capitals). The matches are None when it does not: ``_WORD`` alone then finds the same
    words as ``_TOKEN`` (whose optional prefix only ever takes punctuation, whitespace or
    a hyphen before a word), at a fraction of the cost of trying the prefix at every
    position; the rare reader of the hyphen uses ``_glued``.
    """
    cache = _WORDS.get(lang)
    if cache is None or len(cache) > _WORDS_MAX:
        cache = _WORDS[lang] = {}
    found: list[_Match] | None
    if punctuation:
        found = _TOKEN.findall(text)
        raw = list(map(_WORD_OF_MATCH, found))
    else:
        found = None
        raw = _plain_words(text)
    # map() keeps the per-word work in C; only words not met before take the slow way
    words = list(map(cache.get, raw))
    if None in words:
        return found, [w or _new_word(r, lang, cache) for w, r in zip(words, raw, strict=True)]
    return found, cast(list[_Word], words)


_TRAILING_MARKS = frozenset(',.;:!?)]"“”»«')  # none is a word character or an apostrophe


def _plain_words(text: str) -> list[str]:
    """``_WORD.findall(text)``: a word never spans whitespace and _WORD looks at nothing
    around a match, so each chunk between spaces can be read alone, and most chunks are
    a word (``isalpha``: one match, the chunk) or a word and one closing mark."""
    out: list[str] = []
    append = out.append
    for chunk in text.split():
        if chunk.isalpha():
            append(chunk)
        elif chunk[-1] in _TRAILING_MARKS and chunk[:-1].isalpha():
            append(chunk[:-1])
        else:
            out.extend(_WORD.findall(chunk))
    return out


def _glued(text: str) -> list[bool]:
    """For each ``_WORD`` match of ``text``: whether ``_TOKEN`` would say a hyphen glues it
    to the word before ('Jong-un'): a '-' right before it, after a word character."""
    return [
        start >= 2
        and text[start - 1] == "-"
        and (text[start - 2].isalnum() or text[start - 2] == "_")
        for start in (m.start() for m in _WORD.finditer(text))
    ]


def _match_alias(tokens: list[_Word], i: int, gaz: _Gazetteer) -> tuple[int, str, str] | None:
    """(tokens consumed, actor id, kind) of the longest lexicon name starting at ``i``."""
    first = tokens[i]
    for key in first.keys:
        for alias, actor, kind in gaz.entries.get(key, ()):
            n = len(alias)
            if i + n > len(tokens):
                continue
            window = tokens[i : i + n]
            if n > 1 and any(alias[j] not in window[j].keys for j in range(1, n)):
                continue
            if kind == "acronym" and not all(t.upper for t in window):
                continue
            if kind in ("name", "city", "media") and not first.capital:
                continue
            return n, actor, kind
    return None


def _match_person(
    tokens: list[_Word],
    found: list[_Match] | None,
    text: str,
    i: int,
    gaz: _Gazetteer,
    lang: str,
) -> tuple[int, str] | None:
    """(tokens consumed, surname key) for "Given [particles] Surname", an East Asian
    "Surname Given Given", or a name after a role word ("Präsident Putin") at ``i``.
    ``found``: the matches of ``tokens`` in ``text`` (whether a hyphen glues one to the
    word before), or None: then ``_glued(text)`` tells."""
    tok = tokens[i]
    if not tok.capital:
        return None
    if tok.fold in gaz.surname_first:
        # Given names of East Asian persons are short syllables ("Jong Un", "Son Hui",
        # "Jong-un"); a longer or lower-case word after the surname is ordinary text.
        glued = [bool(h) for _, h, _ in found] if found is not None else _glued(text)
        j = i + 1
        while (
            j < len(tokens)
            and j - i <= 2
            and (tokens[j].capital or glued[j])
            and 2 <= len(tokens[j].fold) <= 7
            and tokens[j].fold not in _STOP[lang]
            and tokens[j].fold not in gaz.first_names
        ):
            j += 1
        if j > i + 1:
            return j - i, tok.fold
    if tok.fold in gaz.first_names:
        j = i + 1
        while j < len(tokens) and tokens[j].fold in gaz.particles and not tokens[j].capital:
            j += 1
        if j < len(tokens) and tokens[j].capital and tokens[j].fold not in gaz.first_names:
            return j + 1 - i, tokens[j].fold
    if i > 0 and tokens[i - 1].role and not _known(tok.surface, lang):
        return 1, tok.fold
    return None


def _is_role(fold: str) -> bool:
    return fold in _ROLE_KEYS or fold.endswith(_ROLE_SUFFIXES)


@word_cache(100_000)
def _name_key(fold: str) -> str:
    """Spelling-neutral key for names: Selenskyj = Zelensky, Lawrow = Lavrov,
    Hryzenko = Hrytsenko, Pjöngjang = Pyongyang."""
    for old, new in _TRANSLIT:
        fold = fold.replace(old, new)
    return _DOUBLE.sub(r"\1", fold)


def _person_id(surname: str) -> str:
    # The same key as digests.facts, so actor ids from facts and from here agree.
    return "person:" + person_key(surname)


def _analyse(token: str, lang: str, capital_is_name: bool) -> tuple[tuple[str, float, bool], ...]:
    """(term key, weight factor, proper noun?) for one surface token; empty for stop words.

    ``capital_is_name``: whether a capital letter here suggests a proper noun (mid-sentence
    in English); German capitalises every noun, so there only unknown words qualify.
    """
    if len(token) < 2:
        return ()
    stop = _STOP[lang]
    low = _fold(token)
    if low in stop:
        return ()
    lemma = _fold(_lemma(token, lang))
    if len(lemma) < 2 or lemma in stop or lemma.isdigit():
        return ()
    shared = _bilingual()[0 if lang == "de" else 1]
    upper = token[0].isupper()
    acronym = token.isupper()
    parts: list[tuple[str, float, bool]] = []
    proper = False
    if lang == "de":
        known = _known(token, "de")
        # Known compounds are split too ("Grenzkontrollen" should meet "Kontrollen"),
        # unless the whole word already has a shared key.
        mapped = lemma in shared or low in shared
        split = None
        if upper and not mapped and not known:
            split = _split_compound(token, 4)
        elif upper and not mapped and len(lemma) >= 9:
            # Known words are split on their lemma and need a longer head, as the
            # dictionary knows many short words ("Regierung" is not "Regie" + "Rung").
            split = _split_compound(_lemma(token, "de"), 5)
        if split:
            for part in split:
                pkey = _fold(_lemma(part, "de"))
                if pkey not in stop:
                    parts.append((shared.get(pkey, pkey), COMPOUND_PART, False))
        proper = upper and not known and not split
    else:
        proper = upper and (capital_is_name or not _known(low, lang))
    proper = proper or acronym
    key = shared.get(lemma) or shared.get(low) or lemma
    if key == lemma and proper and (lang == "de" or not _known(low, lang)):
        # Only real names get the spelling-neutral key; "Ministry" in "Foreign Ministry"
        # must stay the word "ministry" it is elsewhere.
        key = _name_key(key)
    factor = PROPER_BOOST if proper else 1.0
    return ((key, factor, proper), *parts)


@dataclass(slots=True)
class _Bag:
    """Weighted counts gathered over an article's segments."""

    terms: dict[str, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)  # proper-noun terms
    actors: dict[str, float] = field(default_factory=dict)
    surnames: dict[str, str] = field(default_factory=dict)  # term key → surname as written


def _scan(text: str, lang: str, weight: float, bag: _Bag, capitals: bool = True) -> None:
    """Add ``text``'s terms, actors and persons to ``bag``; ``capitals``: whether a capital
    letter in mid-sentence may mark a name (not in an English Title Case headline)."""
    # English: a capital after punctuation or at the very start proves nothing.
    english = lang != "de" and capitals
    found, tokens = _words_of(text, lang, english)
    if not tokens:
        return
    gaz = _gazetteer()
    terms, names, surnames = bag.terms, bag.names, bag.surnames
    starts_text = False
    if found is not None:
        p0, h0, w0 = found[0]
        starts_text = not p0 and not h0 and text.startswith(w0)
    after = 0  # the first token not taken by a name found before
    for i, tok in enumerate(tokens):
        if i < after:
            continue
        if not tok.special and not (tok.capital and (surnames or (i and tokens[i - 1].role))):
            # Most words: no name can start here.
            # (found is set whenever english is)
            named = english and found is not None and not found[i][0] and (i or not starts_text)
            for key, factor, proper in tok.name_terms if named else tok.terms:
                terms[key] = terms.get(key, 0.0) + weight * factor
                if proper:
                    names[key] = names.get(key, 0.0) + weight * factor
            continue
        alias = _match_alias(tokens, i, gaz) if tok.special else None
        if alias:
            n_alias, actor, kind = alias
            if kind == "city" and i > 0 and tokens[i - 1].fold in _LOCATIVE:
                # "talks in Moscow" names a place, which belongs to what happened.
                key = f"@{actor}"
                terms[key] = terms.get(key, 0.0) + weight
            elif actor:
                bag.actors[actor] = bag.actors.get(actor, 0.0) + weight
            after = i + n_alias
            continue
        # A word that cannot start a name is a person only after a role word ('Präsident
        # X'): the one question _match_person asks of it.
        person = (
            _match_person(tokens, found, text, i, gaz, lang)
            if tok.special or (i and tokens[i - 1].role)
            else None
        )
        if person is None and tok.capital and tok.name_key in surnames:
            # A bare surname of a person already met in full ("Vollmann sagte …").
            person = 1, surnames[tok.name_key]
        if person:
            n_person, surname = person
            if tok.fold not in gaz.surname_first:
                surname = _fold(_lemma(tokens[i + n_person - 1].surface, lang))
            key = _name_key(surname)
            surnames.setdefault(key, surname)
            pid = _person_id(surnames[key])
            bag.actors[pid] = bag.actors.get(pid, 0.0) + weight
            # Persons stay terms too, weakly: another outlet may name them without a
            # first name, and then they are only a term there.
            terms[key] = terms.get(key, 0.0) + weight * PERSON_TERM
            after = i + n_person
            continue
        named = english and found is not None and not found[i][0] and (i or not starts_text)
        for key, factor, proper in tok.name_terms if named else tok.terms:
            terms[key] = terms.get(key, 0.0) + weight * factor
            if proper:
                names[key] = names.get(key, 0.0) + weight * factor


def _title_case(text: str) -> bool:
    """An English headline In Which Every Word Is Capitalised."""
    words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _segments(article: Article) -> list[tuple[str, float]]:
    """(text, position weight): title, lead, body; later paragraphs weigh less because
    news puts the event first and background last."""
    out: list[tuple[str, float]] = []
    if article.title.strip():
        out.append((article.title, TITLE_BOOST))
    seen = 0
    for raw in (article.text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if not _ends_sentence(line) and len(line.split()) <= HEADING_WORDS:
            # Menus, captions, crossheads and the headlines of related reports: some
            # signal, mostly noise.
            out.append((line, 0.3))
            continue
        if seen >= SCAN_CHARS:
            break
        for sentence in _sentences(line):
            if seen >= SCAN_CHARS:
                break
            if seen < LEAD_CHARS:
                weight = LEAD_BOOST
            elif seen < BODY_CHARS:
                weight = 1.0
            else:
                weight = TAIL_WEIGHT
            out.append((sentence, weight))
            seen += len(sentence)
    return out


def _ends_sentence(line: str) -> bool:
    """``_SENTENCE_END.search(line)`` for a stripped line: nothing can follow the closing
    mark, so only the last two characters decide."""
    last = line[-1:]
    if last and last in _TERMINATORS:
        return True
    return bool(last) and last in _CLOSING_QUOTES and line[-2:-1] in _TERMINATORS and len(line) > 1


def _sentences(line: str) -> Iterator[str]:
    """``_SENTENCE_BOUNDARY.split(line)``, piece by piece, so that a caller that stops
    early does not split the rest of a long line."""
    start = 0
    for m in _TERMINATED_BOUNDARY.finditer(line):
        yield line[start : m.start() + 1]
        start = m.end()
    yield line[start:]


def _collect(article: Article, lang: str) -> _Bag:
    bag = _Bag()
    for n, (text, weight) in enumerate(_segments(article)):
        title = n == 0 and bool(article.title.strip())
        _scan(text, lang, weight, bag, capitals=not (title and _title_case(text)))
    # A surname met alone ("Putin" in the headline, "Wladimir Putin" in the body) is the
    # person too; German genitive "Putins" included.
    for key, surname in bag.surnames.items():
        pid = _person_id(surname)
        for form in (key, key + "s"):
            if form in bag.names:
                bag.actors[pid] = bag.actors.get(pid, 0.0) + bag.names.pop(form)
                bare = bag.terms.pop(form, 0.0)
                bag.terms[key] = bag.terms.get(key, 0.0) + bare * PERSON_TERM
    return bag


_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_SEPARATORS = re.compile(r"[.,]")


def _number_key(raw: str) -> str | None:
    digits = raw.replace(" ", "").replace("'", "")
    if _THOUSANDS.fullmatch(digits):
        digits = _SEPARATORS.sub("", digits)
    else:
        digits = digits.replace(",", ".")
    try:
        value = float(digits)
    except ValueError:
        return None
    if value.is_integer():
        ivalue = int(value)
        if 1900 <= ivalue <= 2100 and "." not in raw and "," not in raw:
            return f"y:{ivalue}"
        # Small counts ("two meetings", "3 people") recur in unrelated reports.
        if ivalue <= 12:
            return None
        return str(ivalue)
    return f"{value:g}"


def extract_numbers(text: str) -> frozenset[str]:
    """Figures, years and calendar dates, normalised across German and English notation.

    One scan for digit runs; each run is then read in Python, which is several times
    faster than one regular expression per notation on a 2-KB text.
    """
    found: set[str] = set()
    for m in _DIGITS.finditer(text):
        raw = m.group(0)
        start, end = m.span()
        if start and (text[start - 1].isalpha() or text[start - 1] in "_"):
            continue  # "A8", "G7", "F-16": names, not figures
        if text[end : end + 1] == ":" and text[end + 1 : end + 2].isdigit():
            continue  # "09:38", "2:40 a.m.", "1:2": a time of day or a score
        if start >= 2 and text[start - 1] == ":" and text[start - 2].isdigit():
            continue
        iso = _ISO_DATE.fullmatch(raw) or _DOTTED_DATE.fullmatch(raw)
        if iso:
            year, month, day = (iso.group(1), iso.group(2), iso.group(3))
            if len(day) == 4:  # dotted: day.month.year
                year, month, day = day, month, year
            if 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
                found.add(f"d:{int(month):02d}-{int(day):02d}")
                found.add(f"y:{year}")
            continue
        for part in raw.split("-"):
            if part.isdigit() and len(part) <= 2 and len(raw) == len(part):
                # A day of the month: "26. April", "26 April", "April 26". (Each regex
                # needs a space, or a dot or newline by it, next to the figure: without
                # one it cannot match and is not run.)
                after = _MONTH_AFTER.match(text, end) if text[end : end + 1] in _AFTER else None
                before = (
                    _MONTH_BEFORE.search(text, max(0, start - 12), start)
                    if start and text[start - 1] in _BEFORE
                    else None
                )
                hit = after or before
                month_no = _MONTHS.get(hit.group(1).lower()) if hit else None
                if month_no and 1 <= int(part) <= 31:
                    found.add(f"d:{month_no:02d}-{int(part):02d}")
                    continue
            key = _number_key(part) if part else None
            if key:
                found.add(key)
    return frozenset(found)


_KEY = itemgetter(0)
_VALUE = itemgetter(1)


def round4(x: float) -> float:
    """``round(x, 4)``, the same float, without its decimal conversion: profiles round
    every weight (hundreds per article) and ``round`` with digits cost ~0.2 µs each.
    Only where ``x`` lies within a hair of a half (the product's error could decide the
    side) does ``round`` itself decide."""
    y = x * 10000.0
    if not -1e12 < y < 1e12:  # also NaN
        return round(x, 4)
    k = math.floor(y + 0.5)
    if abs(y - k) > 0.4999999:
        return round(x, 4)
    return k / 10000.0 if k else math.copysign(0.0, x)


def _normalise(vector: Mapping[str, float], cap: int) -> dict[str, float]:
    # Strongest first, ties by key: sorted by key, then (stable, also with reverse=True) by
    # weight; two C-keyed sorts instead of a Python key function per item.
    top = sorted(vector.items(), key=_KEY)
    top.sort(key=_VALUE, reverse=True)
    del top[cap:]
    values = [v for _, v in top]
    norm = math.sqrt(sum(map(mul, values, values))) or 1.0
    return {k: round4(v / norm) for k, v in top if v > 0}


def _fact_number_keys(raw: str) -> list[str]:
    """Keys for a figure as digests.facts writes it: "2025-04-26", "04-26", "14000 soldier",
    "5.4%", "180000 eur"."""
    m = _FACT_DATE.fullmatch(raw.strip())
    if m:
        year, month, day = m.groups()
        return [f"d:{month}-{day}"] + ([f"y:{year}"] if year else [])
    head = raw.strip().split(" ")[0].rstrip("%")
    key = _number_key(head) if head else None
    return [key] if key else []


def _fact_actor_weights(facts: Sequence[Any]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for fact in facts:
        for actor in getattr(fact, "actors", ()) or ():
            counts[str(actor)] = counts.get(str(actor), 0.0) + 1.0
    return counts


def article_profile(article: Article, facts: Sequence[Any] | None = None) -> ArticleProfile:
    """Weighted key terms, actors and numbers of ``article``.

    Actors come from the actor lexicon (countries, capitals used as metonyms,
    institutions, named persons) and are kept out of the terms. ``facts`` (from
    :func:`digests.facts.extract_facts`) are optional: they add their actor ids, their
    figures and their language-neutral event concepts ("~confirm", "~meet"). Pass them
    always or never for one store, so that stored and new profiles are alike.
    """
    lang = _lang(article.language)
    bag = _collect(article, lang)
    log = math.log
    # _sublinear, inlined: it runs for every term
    terms = {k: 1.0 + log(v) if v >= 1.0 else v for k, v in bag.terms.items()}
    actors = {k: 1.0 + log(v) if v >= 1.0 else v for k, v in bag.actors.items()}
    numbers = set(extract_numbers(f"{article.title}\n{article.text}"))
    if facts:
        concepts: dict[str, float] = {}
        for fact in facts:
            # "~confirm", "~thank": the fact's event class, the same in every language
            # (filtered in C: most terms are plain words)
            for term in filter(_IS_CONCEPT, map(str, getattr(fact, "terms", ()) or ())):
                if term not in _REPORTING_CONCEPTS:
                    concepts[term] = concepts.get(term, 0.0) + 1.0
            for num in getattr(fact, "numbers", ()) or ():
                numbers.update(_fact_number_keys(str(num)))
        for concept, count in concepts.items():
            terms[concept] = max(terms.get(concept, 0.0), CONCEPT_WEIGHT * _sublinear(count))
        for actor, count in _fact_actor_weights(facts).items():
            actors[actor] = max(actors.get(actor, 0.0), _sublinear(count))
    declared = (article.language or "").lower()[:2]
    kept = _normalise(terms, ARTICLE_TERMS)
    return ArticleProfile(
        article_id=article.id,
        title=article.title.strip(),
        language=declared or lang,
        published=article.published,
        terms=kept,
        actors=_normalise(actors, STORY_ACTORS),
        numbers=frozenset(numbers),
        names=frozenset(k for k in kept if k in bag.names or k in bag.surnames),
    )


_IS_CONCEPT = methodcaller("startswith", "~")


def _sublinear(value: float) -> float:
    # The tenth mention of a word adds less than the second.
    return 1.0 + math.log(value) if value >= 1.0 else value


# --- rarity --------------------------------------------------------------------------------

NUMBER_MARK = "#"  # figure keys in the document-frequency counts: "#14000", "#d:04-26"


def _number_prior(key: str) -> float:
    if key.startswith("d:"):
        # Today's and yesterday's dates are in many reports of the day.
        return WORD_RATE
    # Round or short figures ("100", "25", "3.5") recur in unrelated reports; "1450",
    # "11500" or "6.12" less so.
    significant = key.replace(".", "").strip("0")
    return NAME_RATE if len(significant) >= 3 else WORD_RATE


def prior_rate(key: str, names: Collection[str] = ()) -> float:
    """The assumed document rate of ``key`` before any counts (see the constants)."""
    return _prior(key, key in names)


@word_cache_by(200_000)
def _prior(key: str, name: bool) -> float:
    if key.startswith(NUMBER_MARK):
        return _number_prior(key[len(NUMBER_MARK) :])
    if key.startswith(("~", "@")) or key in _common_keys():
        # Event classes ("~attack") and "a place in <country>" are shared by many events.
        return COMMON_RATE
    return NAME_RATE if name else WORD_RATE


def rate(key: str, df: DocFreq, prior: float, own: float = 0.0) -> float:
    """Smoothed share of recent articles containing ``key``, leaving out ``own`` articles
    (those of the story being scored: a story must not make its own words look common)."""
    count = max(0.0, df.counts.get(key, 0.0) - own)
    total = max(df.total - own, count)
    return min(1.0, (count + PRIOR_DOCS * prior) / (total + PRIOR_DOCS))


def df_keys(profile: ArticleProfile) -> list[str]:
    """Keys whose document frequency is looked up for ``profile`` and counted once it is
    stored: every term of the (capped) profile and its most specific figures. Capping the
    profile caps the vocabulary the counts can grow by per article."""
    return list(profile.terms) + [NUMBER_MARK + n for n in _specific_numbers(profile.numbers)]


def _specific_numbers(numbers: Iterable[str]) -> list[str]:
    # Years say nothing about which event; among the rest, the rarer by prior first.
    ranked = sorted(
        (n for n in numbers if not n.startswith("y:")),
        key=lambda n: (_number_prior(n), -len(n), n),
    )
    return ranked[:DF_NUMBERS]


@dataclass(slots=True)
class _Weighed:
    """An article profile with its terms weighted by rarity under ``df``."""

    profile: ArticleProfile
    df: DocFreq
    priors: dict[str, float]
    vector: dict[str, float]  # term weight × ln(1 / rate), not normalised
    norm2: float
    actors: dict[str, float]


def _weigh(article: ArticleProfile, df: DocFreq) -> _Weighed:
    # ``rate`` inlined: this runs for every term of every article, several times.
    names, counts, log = article.names, df.counts, math.log
    total = df.total + PRIOR_DOCS
    priors = {k: _prior(k, k in names) for k in article.terms}
    vector = {
        k: v * -log(min(1.0, (counts.get(k, 0.0) + PRIOR_DOCS * priors[k]) / total))
        for k, v in article.terms.items()
    }
    norm2 = sum(v * v for v in vector.values())
    return _Weighed(article, df, priors, vector, norm2, _actor_weights(article.actors))


def _own_vector(w: _Weighed, story: StoryProfile | None) -> dict[str, float]:
    """The article's weighted terms as seen from ``story``: rates leave its articles out."""
    if story is None or not story.term_counts:
        return w.vector
    vector = dict(w.vector)
    for key, own in story.term_counts.items():
        raw = w.profile.terms.get(key)
        if raw is not None:
            vector[key] = raw * -math.log(rate(key, w.df, w.priors[key], own))
    return vector


# --- scoring -------------------------------------------------------------------------------


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, list[str]]:
    if len(a) > len(b):
        a, b = b, a
    dot = 0.0
    shared: list[tuple[float, str]] = []
    for key, va in a.items():
        vb = b.get(key)
        if vb:
            dot += va * vb
            shared.append((va * vb, key))
    if not dot:
        return 0.0, []
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    shared.sort(reverse=True)
    return min(1.0, dot / (na * nb)), [k for _, k in shared]


def _number_agreement(w: _Weighed, story: StoryProfile) -> float:
    """Shared figures: two reports of one event quote the same count. A figure that is
    rare (RARE_RATE) counts fully, a round or frequent one ("100", today's date) and a
    year a fifth, so two of the former make full agreement."""
    weight = 0.0
    for number in w.profile.numbers & story.numbers:
        if number.startswith("y:"):
            weight += 0.2
            continue
        r = rate(NUMBER_MARK + number, w.df, _number_prior(number))
        weight += 1.0 if r <= RARE_RATE else 0.2
    return min(1.0, weight / 2.0)


def _actor_weights(actors: Mapping[str, float]) -> dict[str, float]:
    # A named person is specific to fewer events than a country or an institution.
    return {
        k: v * -math.log(NAME_RATE if k.startswith("person:") else COMMON_RATE)
        for k, v in actors.items()
    }


def time_factor(
    published: datetime, first_seen: datetime, last_seen: datetime, window: timedelta = WINDOW
) -> float:
    """1 inside the story's span, easing down to TIME_FLOOR at ``window`` away, 0 beyond.

    Quadratic, so a follow-up a day or two later loses little, while one at the edge of
    the window needs clearly more shared terms than a same-day report.
    """
    gap = max(published - last_seen, first_seen - published, timedelta(0))
    if gap > window:
        return 0.0
    return 1.0 - (1.0 - TIME_FLOOR) * (gap / window) ** 2


def _evidence(w: _Weighed, story: StoryProfile, shared_terms: Iterable[str]) -> tuple[str, float]:
    """The rarest feature the article shares with ``story``, and its rate outside it."""
    best, best_rate = "", 1.0
    for key in shared_terms:
        r = rate(key, w.df, w.priors[key], story.term_counts.get(key, 0))
        if r < best_rate:
            best, best_rate = key, r
    for number in w.profile.numbers & story.numbers:
        if number.startswith("y:"):
            continue
        key = NUMBER_MARK + number
        r = rate(key, w.df, _number_prior(number))
        if r < best_rate:
            best, best_rate = key, r
    return best, best_rate


def score(
    article: ArticleProfile,
    story: StoryProfile,
    window: timedelta = WINDOW,
    df: DocFreq | None = None,
) -> StoryScore:
    """How well ``article`` continues ``story``; ``total`` in [0, 1].

    ``df``: recent document frequencies (the prior alone when omitted). Terms weigh
    their profile weight × ln(1/rate), rates counted outside the story, so that a place
    name or a specific noun both share counts far more than the topic words every report
    on the subject uses.

    total = time × min(1, terms + gate × (W_ACTORS·actors + W_NUMBERS·numbers)), with
    gate = min(1, terms / TERM_GATE), and 0 unless the two share at least one term or
    specific figure rarer than RARE_RATE: the same event is named by something specific
    to it, a topic only by common words. Shared actors and figures add to the term
    cosine only in proportion to it, so the same governments or the same round figure
    cannot join two different events; missing ones cost nothing (a local story has no
    actors from the lexicon).
    """
    return _score(_weigh(article, df or DocFreq()), story, window)


def _score(w: _Weighed, story: StoryProfile, window: timedelta) -> StoryScore:
    article = w.profile
    t = time_factor(article.published, story.first_seen, story.last_seen, window)
    if t == 0.0:
        return StoryScore(total=0.0, terms=0.0, actors=0.0, numbers=0.0, time=0.0)
    term_sim, shared_terms = _cosine(_own_vector(w, story), story.terms)
    actor_sim, shared_actors = _cosine(w.actors, _actor_weights(story.actors))
    num_sim = _number_agreement(w, story)
    evidence, evidence_rate = _evidence(w, story, shared_terms)
    gate = min(1.0, term_sim / TERM_GATE)
    content = term_sim + gate * (W_ACTORS * actor_sim + W_NUMBERS * num_sim)
    same_event = evidence_rate <= RARE_RATE
    return StoryScore(
        total=round(t * min(1.0, content), 4) if same_event else 0.0,
        terms=round(term_sim, 4),
        actors=round(actor_sim, 4),
        numbers=round(num_sim, 4),
        time=round(t, 4),
        shared_terms=tuple(shared_terms[:12]),
        shared_actors=tuple(shared_actors[:8]),
        evidence=evidence,
        evidence_rate=round(evidence_rate, 5),
    )


def choose_story(
    article: ArticleProfile,
    candidates: Sequence[StoryProfile],
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = WINDOW,
    df: DocFreq | None = None,
) -> tuple[StoryProfile | None, list[tuple[str, StoryScore]]]:
    """The best candidate scoring at least ``threshold`` (None: start a new story),
    and every candidate's score, best first, for explanations."""
    weighed = _weigh(article, df or DocFreq())
    ranked = sorted(
        ((story, _score(weighed, story, window)) for story in candidates),
        key=lambda pair: (-pair[1].total, -pair[0].last_seen.timestamp(), pair[0].id),
    )
    scores = [(story.id, s) for story, s in ranked]
    if ranked and ranked[0][1].total >= threshold:
        return ranked[0][0], scores
    return None, scores


# --- story life cycle ----------------------------------------------------------------------


def new_story(article: ArticleProfile, story_id: str, df: DocFreq | None = None) -> StoryProfile:
    """A story of one article; ``df`` as for :func:`score` (rarity weights its terms)."""
    terms = _normalise(_weigh(article, df or DocFreq()).vector, STORY_TERMS)
    return StoryProfile(
        id=story_id,
        title=article.title,
        language=article.language,
        first_seen=article.published,
        last_seen=article.published,
        terms=terms,
        actors=_normalise(article.actors, STORY_ACTORS),
        numbers=_cap_numbers(article.numbers),
        article_count=1,
        sources=[],
        term_counts=dict.fromkeys(terms, 1),
    )


def _cap_numbers(numbers: Iterable[str]) -> frozenset[str]:
    # Years say least, so they go first when the set is full.
    ranked = sorted(numbers, key=lambda n: (n.startswith("y:"), n))
    return frozenset(ranked[:STORY_NUMBERS])


def _centroid(
    old: Mapping[str, float], new: Mapping[str, float], count: int, cap: int
) -> dict[str, float]:
    """Running mean of unit vectors; the cap drops the weakest terms so stories stay small."""
    merged = {k: v * count for k, v in old.items()}
    for key, value in new.items():
        merged[key] = merged.get(key, 0.0) + value
    return _normalise(merged, cap)


def _title_centrality(title: str, language: str, terms: Mapping[str, float]) -> float:
    bag = _Bag()
    _scan(title, _lang(language), 1.0, bag)
    sim, _ = _cosine(bag.terms, terms)
    return sim


def merge(
    story: StoryProfile, article: ArticleProfile, source: str, df: DocFreq | None = None
) -> StoryProfile:
    """``story`` with ``article`` added: centroid update, time span, best headline, sources.

    The article's terms are weighted as in :func:`score` (rates outside the story), so the
    words that name the event keep their weight however many reports use them.
    """
    count = story.article_count
    weighed = _own_vector(_weigh(article, df or DocFreq()), story)
    norm = math.sqrt(sum(v * v for v in weighed.values())) or 1.0
    terms = _centroid(story.terms, {k: v / norm for k, v in weighed.items()}, count, STORY_TERMS)
    # How many of the story's articles had each kept term: their share of its counts.
    term_counts = {k: story.term_counts.get(k, 0) + (k in article.terms) for k in terms}
    actors = _centroid(story.actors, article.actors, count, STORY_ACTORS)
    title = story.title
    # A headline that names the story's core terms better replaces a vaguer first one;
    # only in the story's language, so a German story keeps a German headline.
    if (
        article.title
        and article.language == story.language
        and (
            not title
            or _title_centrality(article.title, article.language, terms)
            > _title_centrality(title, story.language, terms) + 0.1
        )
    ):
        title = article.title
    sources = list(story.sources)
    if source and source not in sources and len(sources) < STORY_SOURCES:
        sources.append(source)
    return replace(
        story,
        title=title,
        first_seen=min(story.first_seen, article.published),
        last_seen=max(story.last_seen, article.published),
        terms=terms,
        actors=actors,
        numbers=_cap_numbers(story.numbers | article.numbers),
        article_count=count + 1,
        sources=sources,
        term_counts=term_counts,
    )


def index_keys(profile: ArticleProfile | StoryProfile, limit: int = INDEX_LIMIT) -> list[str]:
    """Inverted-index keys: the strongest terms ("t:…"), actors ("a:…") and figures ("n:…").

    A story's terms are ranked by their stored (rarity-weighted) weight; an article's by
    weight × prior rarity, since its counts are fetched together with its candidates.
    Terms find same-language reports; actor ids and figures are language-neutral, so
    they find reports of the event in another language. Order is deterministic.
    """
    if limit <= 0:
        return []
    actor_quota = min(3, max(1, limit // 4))
    number_quota = 1 if limit >= 6 else 0
    actors = [f"a:{k}" for k, _ in _ranked(profile.actors)][:actor_quota]
    # The longest figures are the most specific ("14000" rather than "25").
    specific = sorted(
        (n for n in profile.numbers if not n.startswith(("y:", "d:")) and len(n) >= 3),
        key=lambda n: (-len(n), n),
    )
    numbers = [f"n:{n}" for n in specific[:number_quota]]
    term_quota = limit - len(actors) - len(numbers)
    weights = (
        _weigh(profile, DocFreq()).vector if isinstance(profile, ArticleProfile) else profile.terms
    )
    terms = [f"t:{k}" for k, _ in _ranked(weights)][:term_quota]
    return terms + actors + numbers


def query_keys(profile: ArticleProfile) -> list[str]:
    """The index keys to look an article's candidate stories up under."""
    return index_keys(profile, INDEX_LIMIT + QUERY_EXTRA)


def _ranked(vector: Mapping[str, float]) -> list[tuple[str, float]]:
    return sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))


# --- serialisation -------------------------------------------------------------------------


def profile_to_dict(profile: StoryProfile) -> dict[str, Any]:
    """Compact, JSON-able form for the store (short keys, rounded weights)."""
    return {
        "id": profile.id,
        "ti": profile.title,
        "la": profile.language,
        "fs": profile.first_seen.isoformat(),
        "ls": profile.last_seen.isoformat(),
        "te": {k: round4(v) for k, v in profile.terms.items()},
        "ac": {k: round4(v) for k, v in profile.actors.items()},
        "nu": sorted(profile.numbers),
        "n": profile.article_count,
        "so": list(profile.sources),
        "tc": dict(profile.term_counts),
    }


def profile_from_dict(data: Mapping[str, Any]) -> StoryProfile:
    return StoryProfile(
        id=str(data["id"]),
        title=str(data.get("ti", "")),
        language=str(data.get("la", "")),
        first_seen=datetime.fromisoformat(str(data["fs"])),
        last_seen=datetime.fromisoformat(str(data["ls"])),
        terms={str(k): float(v) for k, v in dict(data.get("te", {})).items()},
        actors={str(k): float(v) for k, v in dict(data.get("ac", {})).items()},
        numbers=frozenset(str(n) for n in data.get("nu", ())),
        article_count=int(data.get("n", 1)),
        sources=[str(s) for s in data.get("so", ())],
        term_counts={str(k): int(v) for k, v in dict(data.get("tc", {})).items()},
    )
