"""`ftdata split IN --val 0.1 --test 0.1 --seed S [--stratify FIELD]`: a leak-free split.

Two passes over IN (so standard input cannot be split): the first finds the duplicate clusters and
the strata, the second copies each record's bytes unchanged into its split's file. Clusters are those of
check's duplicates stage, settled the same way (shingling, boilerplate), so that `ftdata check` on the
outputs finds no leakage; records that do not parse are units of their own, as check compares them with none.
"""

from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from itertools import islice
from pathlib import Path

import click

from ..config import Policy, load_config
from ..dedup.split import TRAIN, assign_splits
from ..errors import UsageError
from ..outputs import atomic_writer, claim_outputs, write_record
from ..printable import terminal
from ..shards import HEAD_RECORDS, settle
from ..stages.base import Context, InputFile
from ..stages.duplicates import DuplicatesStage
from ..stages.parse import ParseStage
from ..stages.read import ReadStage, check_readable
from ..stages.schema import SchemaStage
from ..targets import load_target
from . import force_option, main

NAMES = ("train", "val", "test")
MAX_ROUNDS = 5  # of moving leaks to train; one round has always sufficed on the real files


def _leaks(ctx: Context, source: str, splits: list[int]) -> list[int]:
    """The held-out records (numbers in SOURCE) that `ftdata check` on the three outputs would report as D004/D005.

    LSH pairs each record with the first of its bucket, so clusters can depend on the order records come in;
    check reads the outputs, train first, and settles "auto" from their first records: this reads them so."""
    def in_output_order():
        for split in range(len(NAMES)):
            for number, example in enumerate(_examples(ctx, InputFile(source))):
                if splits[number] == split:
                    example.split, example.index = NAMES[split], number
                    yield example

    head = list(islice((e for e in in_output_order() if e.messages is not None), HEAD_RECORDS))
    options = {**ctx.config.stage_options.get("duplicates", {}), **DuplicatesStage.settle(ctx, head)}
    stage = DuplicatesStage(replace(ctx, config=ctx.config.replace(stage_options={**ctx.config.stage_options,
                                                                                  "duplicates": options})))
    for example in in_output_order():
        list(stage.check(example))
    return [stage.indices[r.position] for r in stage.finder.resolve().removals if r.leak]


def _examples(ctx: Context, source: InputFile):
    stream = ReadStage(ctx).whole([source])
    for stage in (ParseStage(ctx), SchemaStage(ctx)):
        stream = stage.run(stream)
    return stream


@main.command("split")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--val", type=float, default=0.1, show_default=True, help="Share of records for validation.")
@click.option("--test", type=float, default=0.1, show_default=True, help="Share of records for test.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same split.")
@click.option("--stratify", "field", help="A top-level field whose values keep their proportions in every split.")
@click.option("--out-dir", type=click.Path(file_okay=False), help="Where to write STEM.train/val/test.jsonl (default: beside SOURCE).")
@click.option("--threshold", type=float, help="Jaccard similarity for near-duplicates (default 0.6).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Config file.")
@force_option
def split_command(source, val, test, seed, field, out_dir, threshold, config_path, force) -> None:
    """Split SOURCE so that no duplicate or near-duplicate cluster crosses train, val and test."""
    if source == "-":
        raise UsageError("split reads its input twice: give a file, not standard input")
    check_readable(source)
    if not Path(source).is_file():
        raise UsageError(f"{source}: split reads its input twice: give a regular file, not a pipe or a device")
    if not (val >= 0 and test >= 0 and val + test < 1):  # NaN fails every comparison
        raise UsageError(f"--val and --test must be >= 0 and sum to less than 1, not {val} and {test}")
    if threshold is not None and not 0 < threshold <= 1:
        raise UsageError(f"--threshold is a Jaccard similarity, more than 0 and at most 1, not {threshold}")
    folder = Path(out_dir) if out_dir else Path(source).parent
    stem = Path(source).name.removesuffix(".gz").rsplit(".", 1)[0]
    paths = [folder / f"{stem}.{name}.jsonl" for name in NAMES]
    config = load_config(Path(config_path) if config_path else None, near=source)
    claim_outputs(paths, [source], force)  # before a byte is read: a wrong folder is known at once
    if threshold is not None:
        options = {**config.stage_options.get("duplicates", {}), "threshold": threshold}
        config = config.replace(stage_options={**config.stage_options, "duplicates": options})
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=[InputFile(source)])
    stage = DuplicatesStage(settle(ctx, [DuplicatesStage]))
    strata, positions = [], []  # per record: its stratum, and its position in the stage (None: not compared)
    for example in _examples(ctx, InputFile(source)):
        positions.append(len(stage.finder) if example.messages is not None else None)
        list(stage.check(example))
        value = example.data.get(field) if field and isinstance(example.data, dict) else None
        strata.append(repr(value))
    resolution = stage.finder.resolve()
    records = [n for n, p in enumerate(positions) if p is not None]  # the record at each position of the stage
    clusters = [[records[p] for p in cluster] for cluster in resolution.clusters]
    splits = assign_splits(len(positions), clusters, val=val, test=test, seed=seed, strata=strata if field else None)
    unit = {member: cluster for cluster in clusters for member in cluster}
    for _ in range(MAX_ROUNDS):  # a held-out record check would call a leak goes to train, with its cluster
        leaks = _leaks(ctx, source, splits)
        for record in leaks:
            for member in unit.get(record, [record]):
                splits[member] = TRAIN
        if not leaks:
            break

    with ExitStack() as stack:
        outs = [stack.enter_context(atomic_writer(p)) for p in paths]
        for position, example in enumerate(ReadStage(ctx).whole([InputFile(source)])):
            write_record(outs[splits[position]], source, example.line, example.raw, example.not_loaded)
    counts = Counter(splits)
    total = len(splits) or 1
    for n, name in enumerate(NAMES):
        click.echo(f"{terminal(str(paths[n]))}: {counts[n]} records ({counts[n] / total:.1%})", err=True)
    click.echo(f"{len(clusters)} duplicate clusters kept whole, {len(resolution.removals)} records in them "
               f"beyond the first; seed {seed}", err=True)
