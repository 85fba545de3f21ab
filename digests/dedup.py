"""Near-duplicate verification: is an LSH candidate really a copy?

LSH only proposes candidates; this decides, from the stored signature and the
normalised lead of each candidate, and records the similarity that decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from digests.fingerprints import Fingerprint, estimate_jaccard
from digests.models import DedupDecision

# A reworded sentence or a trimmed paragraph keeps most 3-shingles; two outlets
# writing the same event in their own words share far fewer than half.
NEAR_JACCARD = 0.5
# Between these, a copy of a short text whose opening is (almost) verbatim still counts.
WEAK_JACCARD = 0.3
LEAD_RATIO = 92.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article proposed by the LSH index."""

    article_id: str
    signature: bytes
    lead: str
    shared_bands: int


def verify_near_duplicate(
    fp: Fingerprint, candidates: list[Candidate], threshold: float = NEAR_JACCARD
) -> DedupDecision:
    """The best verified candidate as a "near" decision, else a "new" one."""
    best: tuple[float, Candidate] | None = None
    for cand in candidates:
        jaccard = estimate_jaccard(fp.signature, cand.signature)
        score = jaccard
        if jaccard < threshold and jaccard >= WEAK_JACCARD and fp.lead and cand.lead:
            ratio = fuzz.ratio(fp.lead, cand.lead)
            if ratio >= LEAD_RATIO:
                score = max(jaccard, threshold)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, cand)
    if best is None:
        return DedupDecision(kind="new")
    score, cand = best
    jaccard = estimate_jaccard(fp.signature, cand.signature)
    return DedupDecision(
        kind="near", duplicate_of=cand.article_id, reason="minhash", similarity=round(jaccard, 3)
    )
