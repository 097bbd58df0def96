"""The tokens stage over shards: states merged in input order equal one stage over the whole data."""

import pickle
import random

import orjson
import pytest

from ftdata.config import Policy, config_from_table
from ftdata.stages.base import Context, InputFile
from ftdata.stages.parse import ParseStage
from ftdata.stages.read import ReadStage
from ftdata.stages.schema import SchemaStage
from ftdata.stages.tokens import TokensStage
from ftdata.targets import load_target

WORDS = "reset password invoice region the a of to billing export quota refund latency outage api key".split()


def record(rng: random.Random) -> bytes:
    def text(low: int, high: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))

    messages = [{"role": "system", "content": "You are Acme's support assistant."}]
    for _ in range(rng.randint(1, 3)):
        messages += [{"role": "user", "content": text(1, 60)}, {"role": "assistant", "content": text(0, 200)}]
    if rng.random() < 0.2:
        messages[-1]["weight"] = 0
    return orjson.dumps({"messages": messages})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    rng = random.Random(7)
    train, val = folder / "train.jsonl", folder / "val.jsonl"
    train.write_bytes(b"\n".join([*(record(rng) for _ in range(300)), b"{not json", b'{"messages": 3}']) + b"\n")
    val.write_bytes(b"\n".join(record(rng) for _ in range(60)) + b"\n")
    return [InputFile(str(train), "train"), InputFile(str(val), "val")]


def context(inputs, tokenizer: str) -> Context:
    # a low limit makes K001/K002 fire; reference lengths make finish() compare distributions
    config = config_from_table({"tokenizer": tokenizer, "tokens": {"limit": 300, "reference-lengths": [5, 9, 400] * 40}})
    return Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)


def parsed(ctx: Context, inputs) -> list:
    return list(SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(inputs))))


def checked(stage: TokensStage, examples) -> TokensStage:
    for _ in stage.run(examples):
        pass
    return stage


@pytest.mark.parametrize("tokenizer", ["o200k_base", "mistral:tekken"])
def test_merged_shards_equal_one_stage_over_everything(inputs, tokenizer):
    ctx = context(inputs, tokenizer)
    examples = parsed(ctx, inputs)
    assert sum(e.messages is None or e.has_error() for e in examples) == 2  # skipped by every shard
    whole = checked(TokensStage(ctx), examples)
    cuts = [0, 97, 302, len(examples)]  # the second shard spans both files
    shards = [checked(TokensStage(ctx), examples[a:b]) for a, b in zip(cuts, cuts[1:])]
    merged = TokensStage(ctx)  # a fresh instance folds every shard, as the executor does
    for shard in shards:
        merged.merge(pickle.loads(pickle.dumps(shard.shard_state())))

    assert list(merged.finish()) == list(whole.finish())
    expected, got = whole.stats(), merged.stats()
    # each shard has its own string cache: the same lookups, split differently between hits and tokenisations
    cache_expected, cache_got = expected.pop("cache"), got.pop("cache")
    assert sum(cache_got.values()) == sum(cache_expected.values())
    assert got == expected
    assert got["tokens_per_record"]["count"] == 360 and got["records_skipped"] == 2 and set(got["by_split"]) == {"train", "val"}
    assert sum(stage.counts["K001"] for stage in shards) == whole.counts["K001"] > 0
    assert "reference" in got and got["cost"]["options"]


def test_shard_state_is_compact_and_holds_no_tokenizer(inputs):
    ctx = context(inputs, "o200k_base")
    stage = checked(TokensStage(ctx), parsed(ctx, inputs))
    state = pickle.dumps(stage.shard_state())
    assert len(state) < 360 * 3 * 4 + 1000  # three 4-byte lengths a record, and a few counters
    assert b"Tokenizer" not in state and TokensStage.shardable()


def test_a_run_on_workers_reports_the_tokens_of_a_serial_run(inputs):
    import ftdata

    table = {"tokenizer": "o200k_base", "shard-bytes": 20_000, "select": ["F", "S", "P", "T", "K"],
             "tokens": {"limit": 300, "reference-lengths": [5, 9, 400] * 40}}
    paths = [InputFile(i.path, i.split) for i in inputs]
    serial = ftdata.check(paths, config_from_table(table), jobs=1).to_json()
    sharded = ftdata.check(paths, config_from_table(table), jobs=2).to_json()
    run = sharded["stats"].pop("run")
    assert run["workers"] == 2 and run["shards"] > 4 and serial["stats"].pop("run")["workers"] == 1
    cache_serial, cache_sharded = serial["stats"]["tokens"].pop("cache"), sharded["stats"]["tokens"].pop("cache")
    assert sum(cache_sharded.values()) == sum(cache_serial.values())
    assert sharded == serial
    assert {"K001", "K003"} <= {f["code"] for f in serial["findings"]}
