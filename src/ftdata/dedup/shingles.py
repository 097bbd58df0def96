"""Shingling a whole batch of texts at once, in numpy, with no Python loop per word.

The batch's UTF-8 bytes go into one array. Word shingles: a word is a run of ASCII letters and
digits or non-ASCII bytes (so punctuation and case never matter), hashed with a position-free
polynomial hash taken from one prefix sum; n consecutive words of the same text make a shingle.
Character shingles: every window of n bytes of the lower-cased text with whitespace collapsed.
Each text's shingles come back as sorted, distinct uint32 hashes (a CSR layout: `hashes` plus
`offsets`), which is what both the MinHash signatures and the true-Jaccard check consume.

A text longer than NEAR_CHARS is shingled on its head and tail only (`sample`), so that one huge record
costs time and memory bounded by the cap, not by its size; exact duplicates still hash whole texts.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

WORD, CHAR = "word", "char"
_P = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2**64
_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))
_COMBINE = np.uint64(0x9E3779B97F4A7C15)

# Characters of a text that shingling reads: its first and last half of this. 256K characters is ~40k words,
# beyond any single record of the real files (Alpaca's longest: 3K), so normal records are compared whole;
# a 20 MB record is compared on its first and last 128K characters
NEAR_CHARS = 1 << 18
CHUNK_BYTES = 1 << 19  # of text hashed at once (see shingle_batch)

_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A"):ord("Z") + 1] += 32
_IS_WORD = np.zeros(256, dtype=bool)
_IS_WORD[ord("0"):ord("9") + 1] = True
_IS_WORD[ord("a"):ord("z") + 1] = True
_IS_WORD[ord("A"):ord("Z") + 1] = True
_IS_WORD[0x80:] = True


@dataclass(frozen=True, slots=True)
class Shingling:
    kind: str = WORD  # word or char
    n: int = 3

    def __post_init__(self) -> None:
        if self.kind not in (WORD, CHAR) or self.n < 1:
            raise ValueError(f"shingles must be word or char n-grams with n >= 1, not {self.kind} {self.n}")

    def __str__(self) -> str:
        return f"{self.kind}{self.n}"

    @classmethod
    def parse(cls, spec: str) -> "Shingling":
        """`word3`, `char5`... as written in the config."""
        kind = spec.rstrip("0123456789")
        digits = spec[len(kind):]
        if kind not in (WORD, CHAR) or not digits:
            raise ValueError(f"shingle must look like word3 or char5 (or be auto), not {spec!r}")
        return cls(kind, int(digits))


@dataclass(slots=True)
class ShingleSets:
    """Per text i, its distinct shingle hashes are hashes[offsets[i]:offsets[i + 1]], sorted."""

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = texts + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i]:self.offsets[i + 1]]


class Sets(Protocol):
    """What verification reads: set i is `of(i)` (ShingleSets, spill.SpilledSets)."""

    def of(self, i: int) -> np.ndarray: ...


def mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def sample(text: str) -> str:
    """The text as near-duplicate comparison reads it: whole, or its head and tail when over NEAR_CHARS."""
    if len(text) <= NEAR_CHARS:
        return text
    half = NEAR_CHARS // 2
    return text[:half] + " " + text[-half:]


def shingle_batch(texts: list[str], shingling: Shingling) -> ShingleSets:
    encoded = [sample(t).encode("utf-8", "surrogatepass") for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    # Hashing takes ~40 bytes of arrays per byte of text (prefix sums, powers, word bounds): texts go through
    # in runs of about CHUNK_BYTES, so that a batch's peak is bounded by the run, not by the batch (a 3.4 MB
    # batch rose 134 MB at once). A text's set is the same whichever run it falls in.
    parts, first, run_bytes = [], 0, 0
    for i, size in enumerate(lengths.tolist()):
        if run_bytes and run_bytes + size > CHUNK_BYTES:
            parts.append(_shingle_run(encoded[first:i], lengths[first:i], shingling))
            first, run_bytes = i, 0
        run_bytes += size
    parts.append(_shingle_run(encoded[first:], lengths[first:], shingling))
    if len(parts) == 1:
        return parts[0]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([p.sizes() for p in parts]), out=offsets[1:])
    return ShingleSets(np.concatenate([p.hashes for p in parts]), offsets)


def _shingle_run(encoded: list[bytes], lengths: np.ndarray, shingling: Shingling) -> ShingleSets:
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    data = _LOWER[np.frombuffer(b"".join(encoded), dtype=np.uint8)]
    if shingling.kind == WORD:
        doc, shingles = _word_shingles(data, starts, shingling.n)
    else:
        doc, shingles = _char_shingles(data, starts, shingling.n)
    return _distinct_per_text(doc, shingles, len(encoded))


def _prefix_hash(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prefix sums of data[j] * P**j (mod 2**64) and P**-j: hash(data[s:e]) = (H[e] - H[s]) * P**-s."""
    powers = np.full(len(data), _P, dtype=np.uint64)
    powers[0] = 1
    np.cumprod(powers, out=powers)
    inverse = np.full(len(data), _P_INV, dtype=np.uint64)
    inverse[0] = 1
    np.cumprod(inverse, out=inverse)
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum(data.astype(np.uint64) * powers, out=prefix[1:])
    return prefix, inverse


def _span_hash(prefix: np.ndarray, inverse: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    # +1 to every byte-free hash so that a span's length always shows (no zero bytes otherwise)
    return mix64((prefix[e] - prefix[s]) * inverse[s] + (e - s).astype(np.uint64))


def _word_shingles(data: np.ndarray, starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    is_word = _IS_WORD[data]
    boundary = np.zeros(len(data), dtype=bool)
    inner = starts[1:-1]
    inner = inner[(inner > 0) & (inner < len(data))]
    boundary[inner] = True  # texts touch in the buffer: a text's first byte always starts a word
    before = np.concatenate(([False], is_word[:-1])) & ~boundary
    after = np.concatenate((is_word[1:], [False]))
    after[inner - 1] = False
    word_start = np.flatnonzero(is_word & ~before)
    word_end = np.flatnonzero(is_word & ~after) + 1
    prefix, inverse = _prefix_hash(data)
    words = _span_hash(prefix, inverse, word_start, word_end)
    word_doc = np.searchsorted(starts, word_start, side="right") - 1
    if len(words) < n:
        return word_doc, words  # every text here is shorter than n words: its words stand for it
    # a shingle of n words: combine them in order, then keep those that stay inside one text
    shingles = words[: len(words) - n + 1].copy()
    for k in range(1, n):
        shingles = mix64(shingles * _COMBINE + words[k: len(words) - n + 1 + k])
    first = word_doc[: len(words) - n + 1]
    inside = first == word_doc[n - 1:]
    doc, shingles = first[inside], shingles[inside]
    # texts with fewer than n words get their single words as shingles instead of nothing
    counts = np.bincount(word_doc, minlength=len(starts) - 1)
    short = (counts > 0) & (counts < n)
    if short.any():
        pick = short[word_doc]
        doc = np.concatenate((doc, word_doc[pick]))
        shingles = np.concatenate((shingles, words[pick]))
    return doc, shingles


def _char_shingles(data: np.ndarray, starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    lengths = np.diff(starts)
    prefix, inverse = _prefix_hash(data)
    windows = np.maximum(lengths - n + 1, (lengths > 0).astype(np.int64))  # a short text is one shingle
    doc = np.repeat(np.arange(len(lengths)), windows)
    first = np.arange(len(doc)) - np.repeat(np.cumsum(windows) - windows, windows) + starts[doc]
    last = np.minimum(first + n, starts[doc + 1])
    return doc, _span_hash(prefix, inverse, first, last)


def _distinct_per_text(doc: np.ndarray, shingles: np.ndarray, count: int) -> ShingleSets:
    keys = (doc.astype(np.uint64) << np.uint64(32)) | (shingles >> np.uint64(32))
    keys.sort()  # sort + neighbour test: several times faster than np.unique's hash path here
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
    offsets = np.searchsorted(keys >> np.uint64(32), np.arange(count + 1, dtype=np.uint64))
    return ShingleSets((keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets.astype(np.int64))
