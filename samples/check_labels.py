"""Consistency check of the sample corpus and its gold labels (stdlib only).

Usage: python samples/check_labels.py [SAMPLES_DIR]

Checks that every labelled sentence is an exact substring of its article (in
order), that the listed sentences cover all non-whitespace text of every
non-duplicate article, that duplicates point to earlier articles of the same
story, and that the first article of a story has no ``repeat`` sentence. Prints
the corpus counts. Exit status 1 on any error.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LABELS = {"novel", "repeat", "noise"}
TYPES = {
    "confirmation",
    "statement",
    "thanks_praise",
    "reaction_criticism",
    "demand",
    "meeting_visit",
    "military_action",
    "agreement",
    "number_estimate",
    "denial",
    "warning_threat",
    "decision_policy",
    "other",
}


def load(samples: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    with (samples / "articles.jsonl").open(encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh if line.strip()]
    labels = json.loads((samples / "labels.json").read_text(encoding="utf-8"))["articles"]
    return articles, labels


def coverage(text: str, sentences: list[str]) -> tuple[float, list[str]]:
    """Share of non-whitespace characters covered; errors for missing/out-of-order sentences."""
    errors: list[str] = []
    covered = [False] * len(text)
    pos = 0
    for sent in sentences:
        at = text.find(sent, pos)
        if at < 0:
            where = "out of order" if sent in text else "not a substring"
            errors.append(f"{where}: {sent[:60]!r}")
            continue
        for i in range(at, at + len(sent)):
            covered[i] = True
        pos = at + len(sent)
    total = sum(1 for ch in text if not ch.isspace())
    hit = sum(1 for ch, c in zip(text, covered, strict=True) if c and not ch.isspace())
    return (hit / total if total else 1.0), errors


def check(samples: Path) -> int:
    articles, labels = load(samples)
    errors: list[str] = []
    by_id = {a["id"]: a for a in articles}
    if len(by_id) != len(articles):
        errors.append("duplicate ids in articles.jsonl")
    if set(by_id) != set(labels):
        errors.append(f"ids differ: {sorted(set(by_id) ^ set(labels))}")
    position = {a["id"]: i for i, a in enumerate(articles)}
    seen_story: set[str] = set()
    last_time: datetime | None = None
    low_cover: list[tuple[str, float]] = []
    sent_labels: Counter[str] = Counter()
    sent_types: Counter[str] = Counter()
    dup_kinds: Counter[str] = Counter()
    story_sizes: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    min_cover = 1.0
    for art in articles:
        aid = art["id"]
        lab = labels.get(aid)
        if lab is None:
            continue
        langs[art["language"]] += 1
        published = datetime.fromisoformat(art["published"])
        if published.tzinfo is None or (published.year, published.month) != (2026, 11):
            errors.append(f"{aid}: published {art['published']} not an aware Nov 2026 time")
        if last_time is not None and published < last_time:
            errors.append(f"{aid}: not in chronological order")
        last_time = published
        if urlsplit(art["url"]).scheme.lower() != "https":
            errors.append(f"{aid}: url is not https")
        story = lab["story"]
        story_sizes[story] += 1
        orig = lab["duplicate_of"]
        kind = lab["duplicate_kind"]
        if orig is not None:
            dup_kinds[kind] += 1
            if orig not in position or position[orig] >= position[aid]:
                errors.append(f"{aid}: duplicate_of {orig} is not an earlier article")
            elif labels[orig]["story"] != story:
                errors.append(f"{aid}: story differs from its original {orig}")
            elif kind == "exact" and by_id[orig]["text"] != art["text"]:
                errors.append(f"{aid}: exact copy but text differs")
            elif kind == "near" and by_id[orig]["text"] == art["text"]:
                errors.append(f"{aid}: near copy but text identical")
            elif kind not in ("exact", "near"):
                errors.append(f"{aid}: bad duplicate_kind {kind!r}")
            seen_story.add(story)
            continue
        if kind is not None:
            errors.append(f"{aid}: duplicate_kind without duplicate_of")
        sents = lab["sentences"]
        for s in sents:
            if s["label"] not in LABELS:
                errors.append(f"{aid}: bad label {s['label']!r}")
            if s["label"] == "noise" and s["type"] is not None:
                errors.append(f"{aid}: noise with a type: {s['sentence'][:40]!r}")
            if s["label"] != "noise" and s["type"] not in TYPES:
                errors.append(f"{aid}: bad type {s['type']!r}")
            if s["label"] == "repeat" and story not in seen_story:
                errors.append(f"{aid}: repeat in the first article of {story}")
            sent_labels[s["label"]] += 1
            if s["type"]:
                sent_types[s["type"]] += 1
        cov, errs = coverage(art["text"], [s["sentence"] for s in sents])
        errors.extend(f"{aid}: {e}" for e in errs)
        min_cover = min(min_cover, cov)
        if cov < 0.999:
            low_cover.append((aid, cov))
        seen_story.add(story)

    multi = sum(1 for n in story_sizes.values() if n > 1)
    print(f"articles: {len(articles)} ({dict(sorted(langs.items()))})")
    single = len(story_sizes) - multi
    print(f"stories: {len(story_sizes)}, multi-article: {multi}, single-article: {single}")
    print(f"duplicates: {dict(sorted(dup_kinds.items()))}")
    print(f"sentences by label: {dict(sorted(sent_labels.items()))}")
    print(f"sentences by type: {dict(sorted(sent_types.items()))}")
    print(f"coverage of non-duplicate texts: min {min_cover:.3f}")
    for aid, cov in low_cover:
        errors.append(f"{aid}: sentences cover only {cov:.3f} of the text")
    for err in errors:
        print("ERROR", err)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    here = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    sys.exit(check(here))
