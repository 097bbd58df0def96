"""Shards: the duplicates and contradictions stages run over parts of a dataset and merged give, finding
for finding and number for number, what one stage over all of it gives.

Shards are simulated as the executor makes them: record indices of shard k start at k << 40 (unique and
increasing, not dense), every shard has its own stage instance, and its state crosses a pickle.
"""

import json
import pickle
import random
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.config import Policy, config_from_table
from ftdata.pipeline import as_inputs
from ftdata.shards import settle
from ftdata.stages.base import Context
from ftdata.stages.contradictions import ContradictionsStage
from ftdata.stages.duplicates import DuplicatesStage
from ftdata.stages.parse import ParseStage
from ftdata.stages.read import ReadStage
from ftdata.stages.schema import SchemaStage
from ftdata.targets import load_target

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from planted import planted_corpus  # noqa: E402

SHARD = 1 << 40


def _chat(user: str, answer: str, system: str | None = None) -> dict:
    turns = [{"role": "system", "content": system}] if system else []
    return {"messages": [*turns, {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def _pair(prompt: str, chosen: str, rejected: str) -> dict:
    return {"input": {"messages": [{"role": "user", "content": prompt}]},
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}]}


def read(paths: list[Path], table: dict | None = None, *, settled: bool = True) -> tuple[Context, list]:
    """The records, and the run's context with its "auto" options settled from the first records, as a run does
    before it cuts shards (settled=False: left to each shard's first batch)."""
    config = config_from_table(table or {})
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=as_inputs(paths))
    if settled:
        ctx = settle(ctx, [DuplicatesStage, ContradictionsStage])
    stream = ReadStage(ctx).whole(ctx.inputs)
    for stage in (ParseStage(ctx), SchemaStage(ctx)):
        stream = stage.run(stream)
    return ctx, list(stream)


def shards(examples: list, cuts: list[int]) -> list[list]:
    """Cut at the given positions; each shard's indices start at k << 40, as the executor numbers them."""
    bounds = [0, *sorted(cuts), len(examples)]
    parts = [examples[a:b] for a, b in zip(bounds, bounds[1:])]
    for k, part in enumerate(parts):
        for n, example in enumerate(part):
            example.index = k * SHARD + n
    return parts


def outcome(stage) -> tuple[list, dict]:
    return list(stage.finish()), stage.stats()


def checked(cls, ctx, examples):
    stage = cls(ctx)
    for example in examples:
        assert not list(stage.check(example))  # dataset-level only: check never reports
    return stage


def one_pass(cls, ctx, parts):
    return outcome(checked(cls, ctx, [e for part in parts for e in part]))


def merged(cls, ctx, parts, *, into_first: bool = False):
    """Fresh stage folding every shard's state; or (into_first) the first shard's stage folding the rest."""
    states = [pickle.loads(pickle.dumps(checked(cls, ctx, part).shard_state())) for part in parts]
    stage = checked(cls, ctx, parts[0]) if into_first else cls(ctx)
    for state in states[1:] if into_first else states:
        stage.merge(state)
    return outcome(stage)


def assert_same(cls, ctx, examples, cuts):
    parts = shards(examples, cuts)
    expected = one_pass(cls, ctx, parts)
    assert merged(cls, ctx, parts) == expected
    if len(parts) == 2:
        assert merged(cls, ctx, parts, into_first=True) == expected
    return expected


@cache
def duplicates_files(tmp: Path) -> list[Path]:
    """Planted near-duplicates, exact copies, repeated prompts, and val/test records leaked from train."""
    texts, _ = planted_corpus(160, seed=5)
    rng = random.Random(3)
    train = [_chat(f"Continue the story {i % 40}.", t) for i, t in enumerate(texts)]
    train += [dict(train[i]) for i in rng.sample(range(len(train)), 12)]  # exact copies, later
    train += [_chat("Continue the story 7.", "A different ending, told briefly.")]  # repeated prompt (D003)
    rng.shuffle(train)
    val = [train[5], _chat("Continue the story 9.", texts[9].replace(" ", "  ", 3) + " Also"), _chat("New?", "Fresh.")]
    test = [_chat("Something unseen", "An answer nobody gave."), train[40]]
    paths = []
    for name, rows in (("train.jsonl", train), ("val.jsonl", val), ("test.jsonl", test)):
        (tmp / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
        paths.append(tmp / name)
    return paths


@pytest.fixture
def duplicates_data(tmp_path):
    return duplicates_files(tmp_path)


@pytest.mark.parametrize("table", [{}, {"duplicates": {"shingle": "word2"}},
                                   {"duplicates": {"verify": "signature", "keep": "longest"}},
                                   {"duplicates": {"near": False}}], ids=["auto", "word2", "signature", "exact-only"])
def test_duplicates_two_and_three_shards_equal_one_pass(duplicates_data, table):
    ctx, examples = read(duplicates_data, table)
    n = len(examples)
    findings, stats = assert_same(DuplicatesStage, ctx, examples, [n // 2])
    codes = {problem.code for _, problem in findings}
    assert codes >= {"D001", "D003", "D004"} and stats["records"] == n
    if table.get("duplicates", {}).get("near", True):
        assert {"D002", "D005"} <= codes
    assert_same(DuplicatesStage, ctx, examples, [n // 3, 2 * n // 3])
    assert_same(DuplicatesStage, ctx, examples, [0, n - 3])  # an empty shard, and a val/test-only one


def test_duplicates_verify_budget_spent_merges_exactly(duplicates_data):
    """The budget is spent in `finish`, over the merged index: shards skip the same candidates as one pass."""
    ctx, examples = read(duplicates_data, {"duplicates": {"shingle": "word2", "verify-budget": 0.2, "verify-min": 0}})
    n = len(examples)
    findings, stats = assert_same(DuplicatesStage, ctx, examples, [n // 2])
    assert [ref for ref, p in findings if p.code == "D006"] == [None] and stats["unverified_pairs"] > 0
    assert_same(DuplicatesStage, ctx, examples, [n // 3, 2 * n // 3])


def test_duplicates_clusters_cross_the_cut(duplicates_data):
    ctx, examples = read(duplicates_data, {"duplicates": {"shingle": "word2"}})
    cut = len(examples) // 2
    findings, _ = assert_same(DuplicatesStage, ctx, examples, [cut])
    crossing = [(ref, p) for ref, p in findings if ref.index >= SHARD and p.related[0].index < SHARD]
    assert {p.code for _, p in crossing} >= {"D001", "D002"}


def test_duplicates_auto_shingles_decided_in_big_shards_merge_exactly(duplicates_data):
    """Shards of a batch or more hash in the worker with the shingling "auto" chose there (boilerplate as a run
    settles it: found per shard, it would differ)."""
    ctx, examples = read(duplicates_data, settled=False)
    boilerplate = DuplicatesStage.settle(ctx, examples)["boilerplate"]
    assert boilerplate  # the data's shared system prompt
    ctx, examples = read(duplicates_data, {"duplicates": {"boilerplate": boilerplate}}, settled=False)
    parts = shards(examples, [60, 120])
    stages = []
    for part in parts:
        stage = DuplicatesStage(ctx)
        stage.finder.batch = 50  # so that every shard decides and hashes its records itself
        stages.append(checked_into(stage, part))
    whole = checked_into(DuplicatesStage(ctx), [e for part in parts for e in part], batch=50)
    states = [pickle.loads(pickle.dumps(s.shard_state())) for s in stages]
    assert all(state[-1].index.size and not len(state[-1]._pending) for state in states[:-1])
    fresh = DuplicatesStage(ctx)
    for state in states:
        fresh.merge(state)
    assert outcome(fresh) == outcome(whole)
    assert fresh.stats()["settings"]["shingle"] == "word2"


def checked_into(stage, examples, batch: int | None = None):
    if batch:
        stage.finder.batch = batch
    for example in examples:
        list(stage.check(example))
    return stage


@cache
def contradictions_file(tmp: Path) -> Path:
    """Label conflicts (exact and near-duplicate prompts), long-answer conflicts, preference conflicts."""
    rng = random.Random(8)
    rows = []
    system = "You are a careful annotator. Read the review and answer with one word: positive, negative or neutral."
    reviews, _ = planted_corpus(30, seed=9, share=0, min_sentences=1, max_sentences=1)
    for i, review in enumerate(reviews):
        prompt = f"Classify the sentiment of this review: {review}"
        rows.append(_chat(prompt, "positive" if i % 2 else "negative", system))
        if i % 3 == 0:
            rows.append(_chat(prompt, "neutral", system))  # same prompt, other label (C001)
        if i % 4 == 0:  # a typo, other label (C004)
            rows.append(_chat(prompt.replace("review", "reveiw"), "negative" if i % 2 else "positive", system))
        if i % 5 == 0:
            rows.append(_chat(f"Write a line about topic {i}", f"A first line about topic {i} and more."))
            rows.append(_chat(f"Write a line about topic {i}", f"Another line entirely, on topic {i}."))  # C002
        if i % 6 == 0:
            rows.append(_pair(f"Pick the better reply {i}", f"reply A{i}", f"reply B{i}"))
            rows.append(_pair(f"Pick the better reply {i}", f"reply B{i}", f"reply A{i}"))  # C003
    rng.shuffle(rows)
    rows += rows[:6]  # the same prompts again, later (indexed by an earlier shard already)
    (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp / "train.jsonl"


@pytest.fixture
def contradictions_data(tmp_path):
    return contradictions_file(tmp_path)


@pytest.mark.parametrize("table", [{}, {"contradictions": {"near_duplicates": False}}], ids=["near", "exact"])
def test_contradictions_two_and_three_shards_equal_one_pass(contradictions_data, table):
    ctx, examples = read([contradictions_data], table)
    n = len(examples)
    findings, stats = assert_same(ContradictionsStage, ctx, examples, [n // 2])
    codes = {problem.code for _, problem in findings}
    assert {"C001", "C002", "C003"} <= codes and stats["repeated_prompts"] > 0
    assert ("C004" in codes) == (not table)
    assert_same(ContradictionsStage, ctx, examples, [n // 3, 2 * n // 3])
    assert_same(ContradictionsStage, ctx, examples, [n, n])


def test_contradictions_merge_indexes_each_prompt_once(contradictions_data):
    ctx, examples = read([contradictions_data])
    parts = shards(examples, [len(examples) // 2])
    whole = checked(ContradictionsStage, ctx, [e for part in parts for e in part])
    fresh = ContradictionsStage(ctx)
    for part in parts:
        fresh.merge(pickle.loads(pickle.dumps(checked(ContradictionsStage, ctx, part).shard_state())))
    assert fresh.indexed == whole.indexed and len(set(fresh.indexed)) == len(fresh.indexed)
    whole._flush()
    assert fresh.index.size == whole.index.size


@cache
def mixed_examples() -> tuple:
    tmp = Path(__import__("tempfile").mkdtemp())
    dup_ctx, dup = read(duplicates_files(tmp))
    con_ctx, con = read([contradictions_file(tmp)])
    return (dup_ctx, dup), (con_ctx, con)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_cut_points_merge_exactly(data):
    for ctx_cls in zip(mixed_examples(), (DuplicatesStage, ContradictionsStage)):
        (ctx, examples), cls = ctx_cls
        cuts = data.draw(st.lists(st.integers(0, len(examples)), min_size=1, max_size=4))
        assert_same(cls, ctx, examples, cuts)


@pytest.mark.parametrize("name,cuts", [("stanford_alpaca__alpaca_data.json", [5000, 12000]),
                                       ("llamafactory__dpo_en_demo.json", [100, 201]),
                                       ("fastchat__dummy_conversation.json", [250])])
def test_real_files_merge_exactly(shared_data, name, cuts):
    ctx, examples = read([shared_data / name])
    examples = examples[:20000]  # Alpaca: shards of more than a batch (hashed in the worker), kept fast
    found = [assert_same(cls, ctx, examples, cuts)[0] for cls in (DuplicatesStage, ContradictionsStage)]
    assert any(found)
