"""Quality of the whole product on a labelled corpus: stories, duplicates, new facts.

Runs ``digestbot replay <input> --fresh --format json`` as a subprocess (one JSON
object per input article: id, status, duplicate_of, story, new_facts) and scores
the output against gold labels (``samples/labels.json`` format):

- story B³ precision/recall/F1 over non-duplicate articles, and over all articles
  with every duplicate put in its original's story;
- duplicate pairs: precision and recall (a pair counts when both articles are in
  the same gold duplicate group, whichever of them the product calls the original);
- novel-fact recall: share of gold ``novel`` sentences that were posted;
- repeat suppression: share of gold ``repeat`` sentences that were not posted;
- boilerplate posts: gold ``noise`` sentences posted, and posted sentences that
  match no gold sentence but look like page noise;
- fact-type accuracy over posted gold novel sentences.

A posted ``sentence`` matches a gold sentence of the same article when equal or
when rapidfuzz's ratio is at least 90.

``--in-process`` (or a replay that fails) runs the same pure core without the
CLI and Redis: feed parsing, exact/near dedup by fingerprints, facts, stories,
and novelty when ``digests.novelty`` exists. Use it to compare against the CLI.

    python bench/quality.py                      # samples/, through the CLI
    python bench/quality.py --input x.jsonl --labels x.json --json
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MATCH_RATIO = 90.0
# A posted sentence that matches no gold sentence "looks like noise" when it is this
# short, has no sentence punctuation, or is made of page-furniture words.
NOISE_MAX_WORDS = 5
_SENTENCE_END = re.compile(r"[.!?…][\"'“”»«)\]]*\s*$")

Record = dict[str, Any]


# --- running the product -------------------------------------------------------------------


def _cli_command() -> list[str]:
    local = Path(sys.executable).with_name("digestbot")
    if local.exists():
        return [str(local)]
    found = shutil.which("digestbot")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def run_cli(input_path: Path, timeout: float) -> list[Record]:
    """Replay ``input_path`` through the CLI with throwaway state; one record per article."""
    cmd = [*_cli_command(), "replay", str(input_path), "--fresh", "--format", "json"]
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"replay exited with {proc.returncode}: {tail}")
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if not records:
        raise RuntimeError("replay printed no records")
    return records


NOVELTY_MISSING = "digests.novelty missing: every fact posted"


def run_in_process(input_path: Path) -> tuple[list[Record], str]:
    """The pure core without Redis: what the pipeline decides, kept in dictionaries.

    Returns the records and a note on what was left out.
    """
    from digests.dedup import Candidate, verify_near_duplicate
    from digests.facts import extract_facts
    from digests.feeds import parse_jsonl
    from digests.fingerprints import fingerprint
    from digests.stories import article_profile, choose_story, index_keys, merge, new_story

    try:
        from digests.novelty import new_facts as novelty  # type: ignore[import-not-found]
    except ImportError:  # not written yet: every fact counts as new
        novelty = None

    articles, problems = parse_jsonl(input_path.read_bytes(), source="", now=datetime.now(UTC))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    exact: dict[tuple[str, bytes], str] = {}
    bands: dict[bytes, list[str]] = {}
    prints: dict[str, Any] = {}
    stories: dict[str, Any] = {}
    index: dict[str, set[str]] = {}
    story_of: dict[str, str] = {}
    story_facts: dict[str, list[Any]] = {}
    records: list[Record] = []
    for article in sorted(articles, key=lambda a: a.published):
        fp = fingerprint(article)
        original = next((exact[s] for s in fp.exact if s in exact), None)
        if original is None:
            near_ids = {aid for band in fp.bands for aid in bands.get(band, ())}
            candidates = [
                Candidate(aid, prints[aid].signature, prints[aid].lead, 1) for aid in near_ids
            ]
            decision = verify_near_duplicate(fp, candidates)
            original = decision.duplicate_of if decision.kind == "near" else None
        if original is not None:
            records.append(
                {
                    "id": article.id,
                    "status": "duplicate",
                    "duplicate_of": original,
                    "story": story_of.get(original),
                    "new_facts": [],
                }
            )
            continue
        for signal in fp.exact:
            exact.setdefault(signal, article.id)
        for band in fp.bands:
            bands.setdefault(band, []).append(article.id)
        prints[article.id] = fp

        facts, _rejected = extract_facts(article.text, article.language, title=article.title)
        profile = article_profile(article, facts)
        found = {sid for key in index_keys(profile) for sid in index.get(key, ())}
        chosen, _ = choose_story(profile, [stories[s] for s in sorted(found)])
        if chosen is None:
            story = new_story(profile, f"s{len(stories) + 1}")
            status = "new_story"
        else:
            story = merge(chosen, profile, article.source)
            status = "update"
        known = story_facts.setdefault(story.id, [])
        fresh = [f for f, match in novelty(facts, known) if match is None] if novelty else facts
        known.extend(fresh)
        stories[story.id] = story
        for key in index_keys(story):
            index.setdefault(key, set()).add(story.id)
        story_of[article.id] = story.id
        if status == "update" and not fresh:
            status = "no_new_facts"
        records.append(
            {
                "id": article.id,
                "status": status,
                "duplicate_of": None,
                "story": story.id,
                "new_facts": [
                    {"type": f.type, "text": f.text, "sentence": f.sentence} for f in fresh
                ],
            }
        )
    return records, "" if novelty else NOVELTY_MISSING


# --- scoring -------------------------------------------------------------------------------


def b_cubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> tuple[float, float, float]:
    """B³ precision, recall, F1 of a clustering (item → cluster) against gold."""
    items = [i for i in gold if i in predicted]
    if not items:
        return 0.0, 0.0, 0.0
    by_pred: dict[str, list[str]] = {}
    by_gold: dict[str, list[str]] = {}
    for i in items:
        by_pred.setdefault(predicted[i], []).append(i)
        by_gold.setdefault(gold[i], []).append(i)
    precision = recall = 0.0
    for i in items:
        same_pred = by_pred[predicted[i]]
        same_gold = by_gold[gold[i]]
        both = sum(1 for j in same_pred if gold[j] == gold[i])
        precision += both / len(same_pred)
        recall += both / len(same_gold)
    precision /= len(items)
    recall /= len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _duplicate_groups(labels: Mapping[str, Any]) -> dict[str, str]:
    """Article id → id of the first original of its gold duplicate chain."""
    root: dict[str, str] = {}
    for aid in labels:
        seen = {aid}
        cur = aid
        while (up := labels.get(cur, {}).get("duplicate_of")) and up not in seen:
            seen.add(up)
            cur = up
        root[aid] = cur
    return root


def _best_match(sentence: str, gold: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    best: tuple[float, Mapping[str, Any]] | None = None
    for item in gold:
        text = str(item.get("sentence", ""))
        if text == sentence:
            return item
        ratio = fuzz.ratio(text, sentence)
        if ratio >= MATCH_RATIO and (best is None or ratio > best[0]):
            best = (ratio, item)
    return best[1] if best else None


def looks_like_noise(sentence: str) -> bool:
    """Page furniture rather than a reported fact: very short, unpunctuated, or boilerplate."""
    text = sentence.strip()
    words = text.split()
    if len(words) <= NOISE_MAX_WORDS or (not _SENTENCE_END.search(text) and len(words) < 12):
        return True
    try:
        from digests.boilerplate import remove_boilerplate
    except ImportError:
        return False
    return not remove_boilerplate(text).strip()


@dataclass(slots=True)
class Report:
    articles: int = 0
    scored: int = 0
    seconds: float = 0.0
    mode: str = "cli"
    story_b3: tuple[float, float, float] = (0.0, 0.0, 0.0)
    story_b3_all: tuple[float, float, float] = (0.0, 0.0, 0.0)
    predicted_stories: int = 0
    gold_stories: int = 0
    dup_correct: int = 0
    dup_found: int = 0
    dup_predicted: int = 0
    dup_gold: int = 0
    novel_total: int = 0
    novel_posted: int = 0
    repeat_total: int = 0
    repeat_suppressed: int = 0
    noise_posted_gold: int = 0
    noise_posted_unmatched: int = 0
    unmatched_posted: int = 0
    type_total: int = 0
    type_correct: int = 0
    split_stories: list[str] = field(default_factory=list)
    merged_stories: list[str] = field(default_factory=list)
    missed_novel: list[str] = field(default_factory=list)
    posted_noise: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def ratio(num: int, den: int) -> float | None:
            return round(num / den, 4) if den else None

        def prf(t: tuple[float, float, float]) -> dict[str, float]:
            return {"precision": round(t[0], 4), "recall": round(t[1], 4), "f1": round(t[2], 4)}

        return {
            "mode": self.mode,
            "articles": self.articles,
            "scored_articles": self.scored,
            "seconds": round(self.seconds, 2),
            "stories": {
                "b3_non_duplicates": prf(self.story_b3),
                "b3_all_articles": prf(self.story_b3_all),
                "predicted": self.predicted_stories,
                "gold": self.gold_stories,
                "split": self.split_stories,
                "merged": self.merged_stories,
            },
            "duplicates": {
                "precision": ratio(self.dup_correct, self.dup_predicted),
                "recall": ratio(self.dup_found, self.dup_gold),
                "predicted_pairs": self.dup_predicted,
                "gold_pairs": self.dup_gold,
            },
            "novel_fact_recall": ratio(self.novel_posted, self.novel_total),
            "novel": {"posted": self.novel_posted, "gold": self.novel_total},
            "repeat_suppression": ratio(self.repeat_suppressed, self.repeat_total),
            "repeat": {"suppressed": self.repeat_suppressed, "gold": self.repeat_total},
            "boilerplate_posts": {
                "gold_noise_posted": self.noise_posted_gold,
                "unmatched_noise_like": self.noise_posted_unmatched,
                "unmatched_posted": self.unmatched_posted,
            },
            "fact_type_accuracy": ratio(self.type_correct, self.type_total),
            "fact_types": {"correct": self.type_correct, "scored": self.type_total},
            "missed_novel_examples": self.missed_novel[:10],
            "posted_noise_examples": self.posted_noise[:10],
        }


def evaluate(records: Iterable[Record], labels: Mapping[str, Any]) -> Report:
    report = Report()
    by_id: dict[str, Record] = {}
    for record in records:
        by_id[str(record.get("id"))] = record
    report.articles = len(by_id)
    gold = {aid: lab for aid, lab in labels.items() if aid in by_id}
    report.scored = len(gold)

    # Stories over non-duplicates.
    originals = {aid for aid, lab in gold.items() if not lab.get("duplicate_of")}
    predicted = {aid: str(by_id[aid].get("story") or f"none:{aid}") for aid in originals}
    gold_story = {aid: str(gold[aid]["story"]) for aid in originals}
    report.story_b3 = b_cubed(predicted, gold_story)
    report.predicted_stories = len(set(predicted.values()))
    report.gold_stories = len(set(gold_story.values()))
    _story_errors(report, predicted, gold_story)

    # Stories over all articles: a duplicate lives in its original's story.
    def story_of(aid: str, depth: int = 0) -> str:
        record = by_id.get(aid, {})
        if record.get("story"):
            return str(record["story"])
        up = record.get("duplicate_of")
        if up and up in by_id and depth < 10:
            return story_of(str(up), depth + 1)
        return f"none:{aid}"

    report.story_b3_all = b_cubed(
        {aid: story_of(aid) for aid in gold}, {aid: str(lab["story"]) for aid, lab in gold.items()}
    )

    # Duplicate pairs.
    root = _duplicate_groups(labels)
    predicted_pairs = [
        (aid, str(r["duplicate_of"]))
        for aid, r in by_id.items()
        if aid in gold and r.get("status") == "duplicate" and r.get("duplicate_of")
    ]
    gold_pairs = [
        (aid, str(lab["duplicate_of"])) for aid, lab in gold.items() if lab.get("duplicate_of")
    ]
    correct = [p for p in predicted_pairs if root.get(p[0]) == root.get(p[1], p[1])]
    found = {aid for aid, _ in correct}
    report.dup_predicted = len(predicted_pairs)
    report.dup_gold = len(gold_pairs)
    report.dup_correct = len(correct)
    report.dup_found = sum(1 for aid, _ in gold_pairs if aid in found)

    # Facts.
    for aid in originals:
        sentences = list(gold[aid].get("sentences", ()))
        posted = [f for f in by_id[aid].get("new_facts") or () if isinstance(f, dict)]
        matched_gold: dict[int, Mapping[str, Any]] = {}
        for fact in posted:
            sentence = str(fact.get("sentence") or fact.get("text") or "")
            item = _best_match(sentence, sentences)
            if item is None:
                report.unmatched_posted += 1
                if looks_like_noise(sentence):
                    report.noise_posted_unmatched += 1
                    report.posted_noise.append(f"{aid}: {sentence[:100]}")
                continue
            matched_gold[id(item)] = item
            if item.get("label") == "noise":
                report.noise_posted_gold += 1
                report.posted_noise.append(f"{aid}: {sentence[:100]}")
            if item.get("label") == "novel" and item.get("type"):
                report.type_total += 1
                report.type_correct += int(fact.get("type") == item.get("type"))
        for item in sentences:
            label = item.get("label")
            if label == "novel":
                report.novel_total += 1
                if id(item) in matched_gold:
                    report.novel_posted += 1
                else:
                    report.missed_novel.append(f"{aid}: {str(item.get('sentence'))[:100]}")
            elif label == "repeat":
                report.repeat_total += 1
                report.repeat_suppressed += int(id(item) not in matched_gold)
    return report


def _story_errors(report: Report, predicted: Mapping[str, str], gold: Mapping[str, str]) -> None:
    by_gold: dict[str, set[str]] = {}
    by_pred: dict[str, set[str]] = {}
    for aid, g in gold.items():
        by_gold.setdefault(g, set()).add(predicted[aid])
        by_pred.setdefault(predicted[aid], set()).add(g)
    report.split_stories = sorted(
        f"{g} → {len(p)} stories" for g, p in by_gold.items() if len(p) > 1
    )
    report.merged_stories = sorted(" + ".join(sorted(g)) for g in by_pred.values() if len(g) > 1)


# --- output ----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def print_report(data: Mapping[str, Any]) -> None:
    s = data["stories"]
    d = data["duplicates"]
    b = data["boilerplate_posts"]
    print(
        f"quality: {data['scored_articles']} labelled articles of {data['articles']} replayed "
        f"({data['mode']}, {data['seconds']:.1f} s)"
    )
    for name, key in (("non-duplicates", "b3_non_duplicates"), ("all articles", "b3_all_articles")):
        m = s[key]
        print(
            f"  story B³ {name:15s} P {_pct(m['precision'])}  R {_pct(m['recall'])}  "
            f"F1 {_pct(m['f1'])}"
        )
    print(f"  stories                    predicted {s['predicted']}, gold {s['gold']}")
    print(
        f"  duplicate pairs            P {_pct(d['precision'])}  R {_pct(d['recall'])}  "
        f"({d['predicted_pairs']} predicted, {d['gold_pairs']} gold)"
    )
    print(
        f"  novel-fact recall          {_pct(data['novel_fact_recall'])}  "
        f"({data['novel']['posted']}/{data['novel']['gold']})"
    )
    print(
        f"  repeat suppression         {_pct(data['repeat_suppression'])}  "
        f"({data['repeat']['suppressed']}/{data['repeat']['gold']})"
    )
    print(
        f"  boilerplate posts          {b['gold_noise_posted']} gold noise posted, "
        f"{b['unmatched_noise_like']} unmatched noise-like "
        f"(of {b['unmatched_posted']} posted sentences matching no gold sentence)"
    )
    print(
        f"  fact-type accuracy         {_pct(data['fact_type_accuracy'])}  "
        f"({data['fact_types']['correct']}/{data['fact_types']['scored']})"
    )
    for title, items in (
        ("split", s["split"]),
        ("merged", s["merged"]),
        ("posted noise", data["posted_noise_examples"]),
    ):
        if items:
            print(f"  {title}:")
            for item in items[:10]:
                print(f"    {item}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=REPO / "samples" / "articles.jsonl")
    parser.add_argument("--labels", type=Path, default=REPO / "samples" / "labels.json")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--in-process", action="store_true", help="skip the CLI; run the pure core in this process"
    )
    parser.add_argument("--records", type=Path, help="score a saved replay output instead")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    labels = json.loads(args.labels.read_text("utf-8"))
    labels = labels.get("articles", labels)
    started = time.perf_counter()
    mode = "cli"
    if args.records:
        records = [json.loads(x) for x in args.records.read_text("utf-8").splitlines() if x.strip()]
        mode = f"records from {args.records}"
    elif args.in_process:
        records, note = run_in_process(args.input)
        mode = f"in-process; {note}" if note else "in-process"
    else:
        try:
            records = run_cli(args.input, args.timeout)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            print(
                f"warning: CLI replay failed ({exc}); scoring the in-process core instead",
                file=sys.stderr,
            )
            records, note = run_in_process(args.input)
            mode = f"in-process, CLI failed; {note}" if note else "in-process, CLI failed"
    report = evaluate(records, labels)
    report.seconds = time.perf_counter() - started
    report.mode = mode
    data = report.as_dict()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print_report(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
