"""Fingerprints of an article for duplicate detection: exact digests and MinHash.

MinHash over word 3-shingles estimates the Jaccard similarity of two texts;
LSH splits the signature into bands so that near-duplicates share at least one
band value with high probability while unrelated texts almost never do. With
20 bands of 3 rows, a pair at Jaccard 0.5 becomes a candidate with p ≈ 0.93,
at 0.6 with p ≈ 0.99, and at 0.1 with p ≈ 0.02.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np

from digests.models import Article

NUM_PERM = 60
BANDS = 20
ROWS = NUM_PERM // BANDS
SHINGLE = 3
# Under this many words a text is too short for shingles to mean much; the title joins in.
SHORT_TEXT_WORDS = 25
LEAD_CHARS = 200
# A record must stay under hash-max-listpack-value (256): signature 120 + id 16 + lead.
LEAD_BYTES = 96
_MASK32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint64(0xFFFFFFFF)
# Multipliers that spread three consecutive word hashes over one 32-bit shingle hash.
_M1 = np.uint64(0x9E3779B1)
_M2 = np.uint64(0x85EBCA77)

# Fixed seed: signatures are stored in Redis and must match across processes and releases.
_rng = np.random.default_rng(0x5EED_D16E)
# Multiply-shift hashing: odd 64-bit multipliers, the high 32 bits of a*x + b are a
# universal hash of x; no modulo, which numpy does slowly on uint64.
_A = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the dedup store needs to know about one article."""

    key: bytes  # 8-byte digest of the article id
    exact: tuple[tuple[str, bytes], ...]  # (signal name, 8-byte digest)
    bands: tuple[bytes, ...]  # one 8-byte value per LSH band (band index mixed in)
    signature: bytes  # NUM_PERM × uint16, the low bits of each min-hash
    lead: str  # normalised opening of the text, for rapidfuzz verification


def digest8(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def normalise_words(text: str) -> list[str]:
    """Lower-case word tokens, compatibility-normalised, punctuation dropped."""
    # Most feed text is already normalised; the check is far cheaper than the rewrite.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold())


def shingle_hashes(words: list[str]) -> np.ndarray:
    """32-bit hashes of the word 3-shingles (a single hash for shorter texts)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    # map() over a C function keeps the per-word cost out of the interpreter loop.
    encoded = " ".join(words).encode("utf-8", "surrogatepass").split(b" ")
    ids = np.fromiter(map(zlib.crc32, encoded), dtype=np.uint64, count=len(encoded))
    if len(ids) < SHINGLE:
        ids = np.concatenate([ids, np.zeros(SHINGLE - len(ids), dtype=np.uint64)])
    # Repeated shingles are kept: the minimum is the same, and dropping them costs more.
    result: np.ndarray = (ids[:-2] * _M1 + ids[1:-1] * _M2 + ids[2:]) & _MASK32
    return result


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The NUM_PERM-value MinHash signature of a set of 32-bit shingle hashes."""
    if hashes.size == 0:
        return np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    # uint64 arithmetic wraps modulo 2^64, which multiply-shift hashing expects.
    values = (np.outer(hashes, _A) + _B) >> np.uint64(32)
    result: np.ndarray = values.min(axis=0)
    return result


# Band values: the rows of a band combined with odd multipliers and the band index,
# then a splitmix64 finaliser so every byte (the store shards on the first two) is mixed.
_BAND_MUL = _rng.integers(1, 2**63, size=(1, ROWS), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BAND_SALT = _rng.integers(0, 2**63, size=BANDS, dtype=np.uint64)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def band_values(signature: np.ndarray) -> tuple[bytes, ...]:
    rows = signature.reshape(BANDS, ROWS)
    h = (rows * _BAND_MUL).sum(axis=1, dtype=np.uint64) + _BAND_SALT
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    buf = h.astype("<u8").tobytes()
    return tuple(buf[i * 8 : i * 8 + 8] for i in range(BANDS))


def content_text(article: Article) -> str:
    """The text whose words are fingerprinted: the body, plus the title when short."""
    if len(article.text.split()) < SHORT_TEXT_WORDS:
        return f"{article.title}\n{article.text}"
    return article.text


def fingerprint(article: Article) -> Fingerprint:
    words = normalise_words(content_text(article))
    sig = minhash(shingle_hashes(words))
    exact: list[tuple[str, bytes]] = []
    if article.guid:
        # Short guids ("1", "42") are only unique within their feed; URL-like ones are global.
        scope = "" if len(article.guid) >= 16 or "://" in article.guid else article.source
        exact.append(("guid", digest8("g\x00" + scope + "\x00" + article.guid)))
    if article.canonical_url:
        exact.append(("url", digest8("u\x00" + article.canonical_url)))
    joined = " ".join(words)
    if words:
        exact.append(("content", digest8("c\x00" + joined)))
    lead = joined[:LEAD_CHARS].encode("utf-8", "surrogatepass")[:LEAD_BYTES]
    return Fingerprint(
        key=digest8("a\x00" + article.id),
        exact=tuple(exact),
        bands=band_values(sig),
        signature=(sig & np.uint64(0xFFFF)).astype("<u2").tobytes(),
        lead=lead.decode("utf-8", "ignore"),
    )


def estimate_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """Share of equal min-hash positions; 16-bit truncation adds ~1/65536 false agreement."""
    a = np.frombuffer(sig_a, dtype="<u2")
    b = np.frombuffer(sig_b, dtype="<u2")
    if a.size != b.size or a.size == 0:
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size
