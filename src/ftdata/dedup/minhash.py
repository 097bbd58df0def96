"""MinHash signatures for a whole batch at once, bit-for-bit those of datasketch 2.x (scheme affine32).

datasketch's MinHash with `hashfunc=identity` over our uint32 shingle hashes gives the same
signature as `signatures()` here (a test holds us to it), so `lean()` hands datasketch a
LeanMinHash it can index, serialise or compare. The per-permutation loop runs over every
shingle of the batch in one numpy call, instead of one Python call per shingle.

LSH bands: a signature cut into `bands` rows of `rows` values, each row hashed to one uint64
key. Two texts are candidates when any band key is equal. Band keys are 8 bytes per band per
record, against ~3 KB per record for datasketch's in-memory MinHashLSH (measured in
benchmarks/bench_dedup.py), which is what lets 10 million records fit in memory.
"""

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .shingles import ShingleSets, mix64

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# datasketch is imported only by `lean()`: importing it loads scipy (~0.8 s), which no check should pay
# for. Its permutations and LSH parameters are computed here the way it computes them (tests compare).

SCHEME = "affine32"  # datasketch 2.x scheme; 1.x signatures differ (store it with any cached signature)
_EMPTY = np.uint32(0xFFFFFFFF)


@cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine permutations (a odd, b) for this size and seed: its draws from the same generator."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, which datasketch applies to every hash before permuting it."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signatures(sets: ShingleSets, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """(texts, num_perm) uint32; a text without shingles gets the empty signature (all 0xFFFFFFFF)."""
    a, b = permutations(num_perm, seed)
    out = np.full((len(sets), num_perm), _EMPTY, dtype=np.uint32)
    sizes = sets.sizes()
    present = np.flatnonzero(sizes > 0)
    if len(present) == 0:
        return out
    hashed = fmix32(sets.hashes)
    starts = sets.offsets[present]
    column = np.empty(len(hashed), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for p in range(num_perm):
            np.multiply(hashed, a[p], out=column)
            column += b[p]
            out[present, p] = np.minimum.reduceat(column, starts)
    return out


def lean(signature: np.ndarray, seed: int = 1) -> "LeanMinHash":
    """The signature as a datasketch LeanMinHash (for MinHashLSH, serialisation, jaccard())."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=signature, scheme=SCHEME)


@cache
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (bands, rows): the first, in its order, minimising half the false-positive area below
    `threshold` plus half the false-negative area above it, under the S-curve 1 - (1 - s**rows)**bands.

    The curve is a polynomial of degree bands * rows <= num_perm, which Gauss-Legendre quadrature with
    num_perm // 2 + 1 nodes integrates exactly (datasketch asks scipy's adaptive quad)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)  # on [-1, 1]
    low, low_weights = threshold * (nodes + 1) / 2, threshold / 2 * weights  # on [0, threshold]
    high, high_weights = threshold + (1 - threshold) * (nodes + 1) / 2, (1 - threshold) / 2 * weights
    best, choice = float("inf"), (0, 0)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = np.dot(low_weights, 1 - (1 - low ** rows) ** bands)
            false_negative = np.dot(high_weights, (1 - high ** rows) ** bands)
            error = 0.5 * false_positive + 0.5 * false_negative
            if error < best:
                best, choice = error, (bands, rows)
    return choice


@cache
def _row_weights(rows: int) -> np.ndarray:
    return mix64(np.arange(1, rows + 1, dtype=np.uint64)) | np.uint64(1)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(texts, bands) uint64: one key per band; equal keys mean equal rows (up to 2**-64)."""
    cut = sigs[:, : bands * rows].reshape(len(sigs), bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        keys = (cut * _row_weights(rows)).sum(axis=2, dtype=np.uint64)
        return mix64(keys + np.arange(bands, dtype=np.uint64))


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Share of equal signature values, row by row (datasketch's MinHash.jaccard)."""
    return (sig_a == sig_b).mean(axis=-1)
