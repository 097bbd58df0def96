"""A synthetic corpus with planted near-duplicates (words edited, sentences reordered).

Shared by benchmarks/bench_dedup.py and the tests: `planted_corpus(n, seed)` returns texts and
the planted groups (lists of indices of one original and its edited copies).
"""

import random

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _vocabulary(rng: random.Random, size: int = 20000) -> tuple[list[str], list[float]]:
    words = sorted({"".join(rng.choices(_LETTERS, k=rng.randint(2, 10))) for _ in range(size)})
    rng.shuffle(words)
    return words, [1 / (rank + 1) ** 1.05 for rank in range(len(words))]  # Zipf, like real text


def _sentence(rng: random.Random, words: list[str], weights: list[float]) -> list[str]:
    return rng.choices(words, weights, k=rng.randint(6, 18))


def _render(sentences: list[list[str]]) -> str:
    return " ".join(" ".join(s).capitalize() + "." for s in sentences)


def _edit(rng: random.Random, sentences: list[list[str]], words: list[str], weights: list[float]) -> list[list[str]]:
    """A copy with 1-3 words substituted, inserted or deleted, and/or two sentences swapped."""
    copy = [list(s) for s in sentences]
    kind = rng.choice(("words", "reorder", "both"))
    if kind in ("reorder", "both") and len(copy) > 1:
        i, j = rng.sample(range(len(copy)), 2)
        copy[i], copy[j] = copy[j], copy[i]
    if kind in ("words", "both"):
        for _ in range(rng.randint(1, 3)):
            s = rng.choice(copy)
            at = rng.randrange(len(s))
            op = rng.choice(("sub", "ins", "del"))
            if op == "sub":
                s[at] = rng.choices(words, weights)[0]
            elif op == "ins":
                s.insert(at, rng.choices(words, weights)[0])
            elif len(s) > 1:
                del s[at]
    return copy


def planted_corpus(n: int, seed: int = 0, share: float = 0.1, min_sentences: int = 2, max_sentences: int = 8):
    """n texts; about `share` of them are originals that get 1-2 edited copies elsewhere in the file."""
    rng = random.Random(seed)
    words, weights = _vocabulary(rng)
    texts: list[str | None] = [None] * n
    free = list(range(n))
    rng.shuffle(free)
    groups = []
    while len(free) > 3 and len(groups) < share * n:
        original = [_sentence(rng, words, weights) for _ in range(rng.randint(min_sentences, max_sentences))]
        members = [free.pop() for _ in range(1 + rng.randint(1, 2))]
        texts[members[0]] = _render(original)
        for m in members[1:]:
            texts[m] = _render(_edit(rng, original, words, weights))
        groups.append(sorted(members))
    for i in free:
        texts[i] = _render([_sentence(rng, words, weights) for _ in range(rng.randint(min_sentences, max_sentences))])
    return texts, groups


def pair_scores(predicted: list[list[int]], planted: list[list[int]]) -> tuple[float, float]:
    """(recall, precision) over pairs of records put together, predicted against planted."""

    def pairs(groups):
        return {(a, b) for g in groups for i, a in enumerate(sorted(g)) for b in sorted(g)[i + 1:]}

    truth, found = pairs(planted), pairs(predicted)
    hit = len(truth & found)
    return hit / len(truth) if truth else 1.0, hit / len(found) if found else 1.0


def planted_chats(n: int, seed: int = 0, share: float = 0.1) -> tuple[list[tuple[str, str]], list[list[int]]]:
    """n (question, answer) pairs; about `share` of them are originals with 1-2 copies elsewhere, each copy
    editing its question and its answer separately as `_edit` does (a copy may leave one of them as it is)."""
    rng = random.Random(seed)
    words, weights = _vocabulary(rng)
    chats: list[tuple[str, str] | None] = [None] * n
    free = list(range(n))
    rng.shuffle(free)

    def part(low: int, high: int) -> list[list[str]]:
        return [_sentence(rng, words, weights) for _ in range(rng.randint(low, high))]

    groups = []
    while len(free) > 3 and len(groups) < share * n:
        question, answer = part(1, 2), part(1, 6)
        members = [free.pop() for _ in range(1 + rng.randint(1, 2))]
        chats[members[0]] = (_render(question), _render(answer))
        for m in members[1:]:
            edited = [_edit(rng, p, words, weights) if rng.random() < 0.7 else p for p in (question, answer)]
            chats[m] = (_render(edited[0]), _render(edited[1]))
        groups.append(sorted(members))
    for i in free:
        chats[i] = (_render(part(1, 2)), _render(part(1, 6)))
    return chats, groups
