"""The batch path finds what the per-record path finds: `ftdata.check` with batches of one record (every
stage's `check`, record by record, and Python's regexes alone) against the default batches (stages that
work over a batch's columns, the long searches in native code), finding for finding, with the clean and
rejected outputs byte for byte; on planted corpora made here and on the real files when present."""

import json
import random
import re
import sys
from pathlib import Path

import pytest

from ftdata import Config
from ftdata.pipeline import check
from ftdata.quality import native, phrases

from conftest import REPO, SHARED_DATA

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_check  # noqa: E402
from planted import planted_chats  # noqa: E402

FIELDS = ("code", "severity", "file", "line", "index", "field", "message", "related")


def _run(paths: list[Path], out: Path, batch_size: int, **config) -> tuple[list[tuple], dict[str, bytes]]:
    """Findings and outputs; batches of one are searched by Python alone, larger ones natively however small."""
    out.mkdir(parents=True)
    native.MIN_CHARS = 0 if batch_size > 1 else sys.maxsize
    report = check(paths, Config(jobs=1, batch_size=batch_size, **config),
                   clean=out / ("{stem}.clean.jsonl" if len(paths) > 1 else "clean.jsonl"), rejected=out / "rejected.jsonl")
    findings = [tuple(getattr(f, name) for name in FIELDS) for f in report.findings]
    return findings, {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(autouse=True)
def _native_threshold():
    saved = native.MIN_CHARS
    yield
    native.MIN_CHARS = saved


def assert_batches_agree(paths: list[Path], tmp_path: Path, batch_size: int = 4096, **config) -> list[tuple]:
    """The findings and outputs of batches of `batch_size` records equal those of one record at a time."""
    one, one_outputs = _run(paths, tmp_path / "one", 1, **config)
    many, many_outputs = _run(paths, tmp_path / f"batch{batch_size}", batch_size, **config)
    assert len(many) == len(one)
    for a, b in zip(one, many):
        assert a == b
    assert many_outputs == one_outputs
    return many


def _defects() -> list[dict]:
    """One record per kind of quality defect (and a few clean ones), ASCII and not."""
    answers = ["As an AI language model, I cannot do that.", "I'm sorry, but I cannot help with that request.",
               "Call me at (415) 867-5309 or write to maria.gonzalez@gmail.com.", "The key is sk-proj-" + "aZ3x9Qb7" * 6,
               "Fine.\x1c Done", "作为一个AI语言模型，我无法回答。", "Caf\u00c3\u00a9 au lait", "<|im_end|> trailing marker",
               "Answer\n\n### Instruction:\nDo it again", "See https://www.healthline.com/guide-12 for more.",
               "The answer is 42.", "la la la " * 30, "N/A", "Déjà vu: as an AI language model I recall it.",
               "\u0130stanbul is a city; as an ai, I agree.",
               "Well, as an a\u0130 language model I cannot.",  # Python folds U+0130 to 'i', Rust does not
               "My m\u0101p of sk-\u00e9" + "Q7" * 20]
    users = ["Describe the image below.", "What is 17 * 3?", "Summarize https://example.org/page-one for me",
             "Translate the following:", "Tell me about cats.", "这张图片里有什么？", "Read https://www.bbc.com/news/a-1 and list points"]
    records = []
    for i, answer in enumerate(answers):
        for j, user in enumerate(users):
            if (i + j) % 3 == 0:
                records.append({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})
    return records


def test_planted_and_synthetic_corpora(tmp_path):
    chats, _ = planted_chats(600, seed=3)  # the duplicates benchmark's planted near-copies
    planted = tmp_path / "planted.jsonl"
    planted.write_text("".join(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}) + "\n"
                               for q, a in chats))
    soup = tmp_path / "soup.jsonl"
    bench_check.make_file(soup, 400, shape="long")  # the default benchmark's word soup
    flawed = tmp_path / "flawed.jsonl"
    bench_check.make_file(flawed, 300, flawed=True)
    defects = tmp_path / "defects.jsonl"
    rng = random.Random(7)
    records = _defects() * 40
    rng.shuffle(records)
    defects.write_text("".join(json.dumps(r, ensure_ascii=rng.random() < 0.5) + "\n" for r in records))
    sample = REPO / "sample_data" / "chat_with_defects.jsonl"
    findings = assert_batches_agree([planted, soup, flawed, defects, sample], tmp_path, batch_size=97)
    codes = {f[0] for f in findings}
    assert {"Q003", "Q006", "Q009", "Q010", "Q011", "Q012", "D001"} <= codes  # the native searches found their rules' records


@pytest.mark.skipif(SHARED_DATA is None, reason="shared/data is not present (beside the checkout, or set FTDATA_SHARED_DATA)")
def test_real_files(tmp_path):
    files = sorted(p for p in [*SHARED_DATA.glob("*.json*"), *(SHARED_DATA / "realworld").glob("*.json*")]
                   if p.stat().st_size < 5_000_000)  # Alpaca's 52k records are in the planted corpus below
    assert files
    for path in files:  # each alone: its own format, its own dataset-level findings
        assert_batches_agree([path], tmp_path / path.stem, batch_size=50)


@pytest.mark.skipif(SHARED_DATA is None, reason="shared/data is not present (beside the checkout, or set FTDATA_SHARED_DATA)")
def test_quality_benchmark_corpus(tmp_path):
    """The quality benchmark's corpus: real Alpaca, FastChat, LLaMA-Factory records with planted defects."""
    import bench_quality

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bench_quality.build(corpus, random.Random(bench_quality.SEED))
    assert_batches_agree(sorted(corpus.glob("*.jsonl")), tmp_path)


@pytest.mark.parametrize("pattern, text", [
    (r"a\sb", "a\x1cb"),  # Python's \s matches U+001C-U+001F, Rust's does not: widened
    (r"[\s]b", "\x1fb"),
    (r"\S+ok", "\x1e ok"),
    (r"no$", "it is no\n"),  # Python's $ matches before a final newline
    (r"(?:^|x)end\Z", "the end"),
    (r"[]x]y", "]y"),
    (r"as an ai", "AS AN AI"),
])
def test_native_search_finds_what_python_finds(pattern, text):
    compiled = re.compile(pattern, re.I)
    texts = [text, "nothing here " * 50, text + " again"]
    found = _forced(compiled, texts)
    assert found.native
    for t in texts:
        expected, got = compiled.search(t), found.search(compiled, t)
        assert (got and (got.span(), got.group())) == (expected and (expected.span(), expected.group()))


def _forced(pattern: re.Pattern, texts: list[str]) -> native.BatchSearch:
    native.MIN_CHARS = 0  # searched natively however small (the fixture restores it)
    return native.BatchSearch([([pattern], texts)])


@pytest.mark.parametrize("pattern", [r"(?<![a-z])url", r"(a)\1", r"(?i)x", r"a{,3}", "[\u0100-\u0200]x", "\u0131x", r"[a[b]"])
def test_what_native_code_cannot_match_alike_is_left_to_python(pattern):
    assert native.rust_pattern(pattern, re.I) is None
    compiled = re.compile(pattern, re.I) if not pattern.startswith("(?i)") else re.compile(pattern)
    assert not _forced(compiled, ["some text " * 10]).native


def test_every_phrase_list_but_lookarounds_is_searched_natively():
    """The shipped lists translate (a phrase that stops one would quietly send every text to Python)."""
    untranslated = [name for name in phrases.names() if native.rust_pattern(phrases.pattern(name).pattern, re.I) is None]
    assert untranslated == ["link-requested"]


def test_batch_size_setting():
    from ftdata.config import config_from_table
    from ftdata.errors import UsageError

    assert config_from_table({"batch-size": 7}).batch_size == 7
    with pytest.raises(UsageError, match="batch-size must be a whole number of at least 1"):
        config_from_table({"batch-size": 0})
