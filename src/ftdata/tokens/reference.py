"""Comparing training lengths with production's: a two-sample Kolmogorov-Smirnov test and quantile ratios.

The seeds' rule: "if training examples average 200 tokens but production queries are 2,000 tokens,
performance will degrade". The comparison is on prompt lengths (what the model is given), since
production traffic is queries. A reference is a JSONL of production records (chat `messages`, or
`prompt`/`input`/`text` strings), or a length summary: a text file of one token count per line, or a
JSON file `{"lengths": [...]}`.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import InputError
from ..records import Example, Message
from .counting import TokenCounter

COMPARED_QUANTILES = (10, 50, 90)


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The two-sample KS statistic D = max |F_a - F_b| and its asymptotic p-value.

    The p-value uses the Kolmogorov distribution with Stephens' small-sample correction
    (Numerical Recipes' `kstwo`): lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D, ne = n*m/(n+m).
    """
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        raise ValueError("both samples need at least one value")
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    root = math.sqrt(a.size * b.size / (a.size + b.size))
    return d, kolmogorov_survival((root + 0.12 + 0.11 / root) * d)


def kolmogorov_survival(lam: float) -> float:
    """P(K > lam) = 2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lam^2), 1 for small lam."""
    if lam < 0.2:  # the series converges badly there; the probability is 1 to 12 digits
        return 1.0
    total, sign = 0.0, 1.0
    for k in range(1, 101):
        term = sign * math.exp(-2.0 * k * k * lam * lam)
        total += term
        if abs(term) < 1e-12:
            break
        sign = -sign
    return min(1.0, max(0.0, 2.0 * total))


def compare(train: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    """KS statistic, p-value, and train/reference ratios of the means and compared quantiles."""
    d, p = ks_2samp(train, reference)
    result: dict[str, Any] = {"train_count": int(np.size(train)), "reference_count": int(np.size(reference)),
                              "ks_statistic": round(d, 4), "p_value": float(f"{p:.4g}")}
    ratios = {"mean": _ratio(float(np.mean(train)), float(np.mean(reference)))}
    for q, t, r in zip(COMPARED_QUANTILES, np.percentile(train, COMPARED_QUANTILES), np.percentile(reference, COMPARED_QUANTILES)):
        ratios[f"p{q}"] = _ratio(float(t), float(r))
    result["train_to_reference_ratio"] = ratios
    return result


def diverges(comparison: dict[str, Any], alpha: float, min_distance: float, max_ratio: float) -> bool:
    """Significant (p < alpha) and large: a KS distance of min_distance, or a p50/p90 ratio off by max_ratio."""
    if comparison["p_value"] >= alpha:
        return False
    ratios = comparison["train_to_reference_ratio"]
    off = [r for r in (ratios["p50"], ratios["p90"]) if r is not None and not (1 / max_ratio <= r <= max_ratio)]
    return comparison["ks_statistic"] >= min_distance or bool(off)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def load_reference(path: str, counter: TokenCounter) -> np.ndarray:
    """Prompt lengths of production traffic, from records (counted with counter) or a length summary."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read reference: {e.strerror}") from None
    if file.suffix == ".json":
        return _lengths_from_json(path, data)
    lines = [line for line in data.splitlines() if line.strip()]
    if lines and all(line.strip().isdigit() for line in lines[:100]):
        return _lengths_from_text(path, lines)
    return np.array([_prompt_tokens(path, number, line, counter) for number, line in enumerate(data.splitlines(), 1)
                     if line.strip()], dtype=np.int64)


def _lengths_from_json(path: str, data: bytes) -> np.ndarray:
    try:
        lengths = orjson.loads(data)["lengths"]
        values = np.array(lengths, dtype=np.int64)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InputError(f"{path}: a JSON reference must be {{\"lengths\": [token counts...]}}") from None
    if values.ndim != 1 or values.size == 0 or (values < 0).any():
        raise InputError(f"{path}: field lengths: expected a non-empty list of non-negative integers")
    return values


def _lengths_from_text(path: str, lines: list[bytes]) -> np.ndarray:
    values = []
    for number, line in enumerate(lines, 1):
        if not line.strip().isdigit():
            raise InputError(f"{path}:{number}: expected a token count (one integer per line), found {line[:40]!r}")
        values.append(int(line))
    return np.array(values, dtype=np.int64)


def _prompt_tokens(path: str, number: int, line: bytes, counter: TokenCounter) -> int:
    """A production record's prompt, laid out as training records are: messages up to the last
    assistant turn, or a prompt string as one user message."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise InputError(f"{path}:{number}: invalid JSON in reference: {e}") from None
    if not isinstance(record, dict):
        raise InputError(f"{path}:{number}: expected a JSON object, found {type(record).__name__}")
    if isinstance(record.get("messages"), list):
        turns = [(str(m.get("role")), _text(m.get("content"))) for m in record["messages"] if isinstance(m, dict)]
    else:
        text = next((record[k] for k in ("prompt", "input", "text", "query") if isinstance(record.get(k), str)), None)
        if text is None:
            raise InputError(f"{path}:{number}: expected a record with messages, prompt, input, text or query")
        turns = [("user", text)]
    messages = [Message(role=role, content=content, path=f"messages[{i}]", content_path=f"messages[{i}].content")
                for i, (role, content) in enumerate(turns)]
    example = Example(index=number - 1, file=path, line=number, raw=line, messages=messages)
    return counter.example(example).prompt


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""
