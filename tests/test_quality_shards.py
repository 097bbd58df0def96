"""Sharded runs: a stage run over consecutive shards and merged equals one stage run over all the records.

Each test splits a dataset into three shards, runs a fresh stage over each, folds the later shards'
`shard_state()` (through pickle, as between processes) into the first, and compares `finish()` and
`stats()` with a single stage that saw every record.
"""

import json
import pickle
from pathlib import Path

from ftdata.config import Policy, config_from_table
from ftdata.stages import STAGES
from ftdata.stages.base import Context, InputFile
from ftdata.stages.consistency import ConsistencyStage
from ftdata.stages.guidance import GuidanceStage
from ftdata.stages.read import ReadStage
from ftdata.targets import load_target


def _examples(tmp_path: Path, files: dict[str, list[dict]], stage_cls):
    """The records of `files` as `stage_cls` receives them (after the stages before it), and a context."""
    inputs = []
    for name, records in files.items():
        path = tmp_path / name
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
        inputs.append(InputFile(str(path), "val" if name.startswith("val") else "train"))
    config = config_from_table({})
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)
    stream = ReadStage(ctx).whole(inputs)
    for cls in STAGES[: STAGES.index(stage_cls)]:
        if cls.active(ctx):
            stream = cls(ctx).run(stream)
    return list(stream), ctx


def _whole_and_merged(stage_cls, examples, ctx, cuts):
    whole = stage_cls(ctx)
    list(whole.run(examples))
    bounds = [0, *cuts, len(examples)]
    shards = []
    for start, end in zip(bounds, bounds[1:]):
        stage = stage_cls(ctx)
        list(stage.run(examples[start:end]))
        shards.append(stage)
    merged = shards[0]
    for later in shards[1:]:
        merged.merge(pickle.loads(pickle.dumps(later.shard_state())))
    return whole, merged, shards


def _chat(system, user, answer):
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": [*messages, {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def test_consistency_merged_shards_equal_one_run(tmp_path):
    records = []
    for i in range(90):
        answer = json.dumps({"label": ["spam", "ham"][i % 2], "reason": f"because of word {i}"})
        if i in (10, 55, 80):  # drift in every shard
            answer = f"This message looks like spam to me, reason number {i}."
        if i == 70:
            answer = json.dumps({"label": "spam", "reason": "x" * 4000})  # a length outlier
        records.append(_chat("Classify the message as JSON with keys label and reason.", f"Message {i}", answer))
        bullets = "\n".join(f"- point {k} about topic {i}" for k in range(3))
        records.append(_chat("Answer with a bulleted list.", f"Topic {i}", "1. a\n2. b\n3. c" if i in (30, 85) else bullets))
    examples, ctx = _examples(tmp_path, {"train.jsonl": records}, ConsistencyStage)
    whole, merged, shards = _whole_and_merged(ConsistencyStage, examples, ctx, [50, 120])
    expected = list(whole.finish())
    assert {p.code for _, p in expected} == {"C101", "C103"}
    assert len({ref.line for ref, _ in expected}) == 6  # 5 drifts + 1 outlier, from all three shards
    assert list(merged.finish()) == expected
    assert merged.stats() == whole.stats()
    assert list(shards[1].finish()) != expected  # one shard alone does not see them all


def test_guidance_merged_shards_equal_one_run(tmp_path):
    train = []
    for i in range(700):
        system = ["You are a support agent.", "You are a support agent!", ""][i % 3]  # variants, and none
        label = "negative" if i % 40 == 0 else "positive"  # unbalanced labels
        train.append(_chat(system, f"Review number {i % 300}", label))  # repeated prompts
    train.append({"messages": [{"role": "assistant", "content": "positive"}]})  # no user message
    val = [_chat("You are a support agent.", f"Held-out review {i}", "positive") for i in range(20)]
    examples, ctx = _examples(tmp_path, {"train.jsonl": train, "val.jsonl": val}, GuidanceStage)
    whole, merged, shards = _whole_and_merged(GuidanceStage, examples, ctx, [250, 600])
    expected = list(whole.finish())
    assert {p.code for _, p in expected} == {"G002", "G004", "G005", "G006", "G007", "G008"}
    assert list(merged.finish()) == expected
    assert merged.stats() == whole.stats()
    assert merged.stats()["records"] == {"train": 701, "val": 20}
    assert list(shards[1].finish()) != expected  # one shard alone sees less


def test_quality_stages_can_run_sharded():
    from ftdata.stages.quality import QualityStage

    assert QualityStage.shardable() and ConsistencyStage.shardable() and GuidanceStage.shardable()
