"""Rendering digest entries with Jinja2 and splitting them to a platform's limits.

Templates live in the ``templates/`` folder of the checkout, installed as the
``digestbot_templates`` package, so a wheel finds them as well as a checkout.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Sequence
from functools import cache

import jinja2

from digests.errors import RenderError
from digests.labels import FACT_TYPES, labels
from digests.models import DigestEntry, FactOut, SourceRef

TELEGRAM_LIMIT = 4096
FORMATS = ("text", "telegram", "markdown")
_TAG = re.compile(r"<[^>]*>")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_TYPE_ORDER = {t: i for i, t in enumerate(FACT_TYPES)}
# Feeds control titles and source names; a message must hold the title and any one fact
# with its sources, so these are cut (found by fuzzing: a 5000-character source name).
MAX_TITLE_CHARS = 500
MAX_SOURCE_CHARS = 100
MAX_SOURCES_SHOWN = 10


def telegram_length(message: str) -> int:
    """Length as Telegram counts it: visible text after entity parsing, in UTF-16 units."""
    # Telegram trims only these; str.strip() would also drop e.g. U+2028 (found by fuzzing).
    visible = html.unescape(_TAG.sub("", message)).strip(" \t\r\n\v\f")
    return len(visible.encode("utf-16-le")) // 2


def plain_length(message: str) -> int:
    return len(message)


def _escape_markdown(value: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(value))


@cache
def _environment(fmt: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("digestbot_templates", "."),
        autoescape=fmt == "telegram",
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=False,
    )
    env.filters["md"] = _escape_markdown
    return env


def group_facts(facts: Sequence[FactOut], language: str) -> list[tuple[str, list[FactOut]]]:
    """Facts grouped by type in a fixed, reader-friendly order, each with its label."""
    names = labels(language)
    groups: dict[str, list[FactOut]] = {}
    for fact in facts:
        groups.setdefault(fact.type, []).append(fact)
    ordered = sorted(groups, key=lambda t: _TYPE_ORDER.get(t, len(_TYPE_ORDER)))
    return [(names.get(t, t), groups[t]) for t in ordered]


def render_entry(entry: DigestEntry, fmt: str, language: str) -> str:
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    template = _environment(fmt).get_template(f"entry.{fmt}.j2")
    entry = _bounded(entry)
    text: str = template.render(
        e=entry, groups=group_facts(entry.facts, language), L=labels(language)
    )
    return text.strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _source_refs(refs: Sequence[SourceRef]) -> list[SourceRef]:
    return [
        r if len(r.name) <= MAX_SOURCE_CHARS else SourceRef(_cut(r.name, MAX_SOURCE_CHARS), r.url)
        for r in refs[:MAX_SOURCES_SHOWN]
    ]


def _bounded(entry: DigestEntry) -> DigestEntry:
    facts = [
        f
        if len(f.sources) <= MAX_SOURCES_SHOWN
        and all(len(s.name) <= MAX_SOURCE_CHARS for s in f.sources)
        else dataclasses.replace(f, sources=tuple(_source_refs(f.sources)))
        for f in entry.facts
    ]
    return dataclasses.replace(
        entry,
        title=_cut(entry.title, MAX_TITLE_CHARS),
        facts=facts,
        sources=_source_refs(entry.sources),
        also_reported_by=_source_refs(entry.also_reported_by),
    )


def _measure(fmt: str) -> Callable[[str], int]:
    return telegram_length if fmt == "telegram" else plain_length


def _shorten(fact: FactOut, keep: int) -> FactOut:
    text = fact.text if len(fact.text) <= keep else fact.text[: max(1, keep - 1)].rstrip() + "…"
    return dataclasses.replace(fact, text=text)


def split_entry(entry: DigestEntry, fmt: str, language: str, limit: int) -> list[str]:
    """One or more messages for ``entry``, each within ``limit``, cut between facts."""
    measure = _measure(fmt)
    whole = render_entry(entry, fmt, language)
    if measure(whole) <= limit:
        return [whole]
    parts: list[str] = []
    chunk: list[FactOut] = []
    chunk_entry = dataclasses.replace(entry, facts=[], also_reported_by=[], omitted_facts=0)
    for fact in entry.facts:
        trial = dataclasses.replace(chunk_entry, facts=[*chunk, fact])
        if measure(render_entry(trial, fmt, language)) <= limit:
            chunk.append(fact)
            continue
        if chunk:
            parts.append(render_entry(dataclasses.replace(chunk_entry, facts=chunk), fmt, language))
            chunk_entry = dataclasses.replace(
                chunk_entry, title=f"{entry.title} ({labels(language)['continued']})"
            )
        # A single fact longer than a message is shortened, never cut inside markup.
        alone = dataclasses.replace(chunk_entry, facts=[fact])
        overflow = measure(render_entry(alone, fmt, language)) - limit
        chunk = [_shorten(fact, len(fact.text) - overflow - 1)] if overflow > 0 else [fact]
    tail = dataclasses.replace(
        chunk_entry,
        facts=chunk,
        also_reported_by=entry.also_reported_by,
        omitted_facts=entry.omitted_facts,
    )
    rendered = render_entry(tail, fmt, language)
    # The extras go when they do not fit next to the last facts: first the other outlets,
    # then the "+N more" line (a fact shortened to fit alone left no room for it).
    for trimmed in (
        dataclasses.replace(tail, also_reported_by=[]),
        dataclasses.replace(tail, also_reported_by=[], omitted_facts=0),
    ):
        if measure(rendered) <= limit:
            break
        rendered = render_entry(trimmed, fmt, language)
    parts.append(rendered)
    return parts


def render_messages(
    entries: Sequence[DigestEntry], fmt: str, language: str, limit: int = TELEGRAM_LIMIT
) -> list[str]:
    """Entries packed into as few messages as fit ``limit``; never split inside a fact."""
    measure = _measure(fmt)
    messages: list[str] = []
    current = ""
    for entry in entries:
        for part in split_entry(entry, fmt, language, limit):
            joined = f"{current}\n\n{part}" if current else part
            if current and measure(joined) > limit:
                messages.append(current)
                current = part
            else:
                current = joined
    if current:
        messages.append(current)
    return messages
