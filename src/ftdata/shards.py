"""Cutting a run's inputs into shards, and checking one shard with every stage.

A JSON Lines file is cut at line boundaries into byte ranges of at most `shard_bytes` (and about
four per worker, at least 1 MiB each, so that every core has work until the end), which worker
processes check at the same time; a .json array is cut likewise at element starts; stdin, gzip and
Parquet stay whole. Each shard gets its first line number (the newlines before it are counted once,
at memory speed) and an index range of its own: shard k's records are numbered from k << 40, so
indices stay unique and grow in input order without knowing how many records came before.
"""

import dataclasses
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, takewhile
from pathlib import Path
from typing import Any

from .findings import Findings
from .outputs import Spool
from .records import Example, Finding
from .stages import STAGES
from .stages.arrays import CHUNK, ArrayScanner, count_byte
from .stages.base import Context, InputFile, Shard, Stage
from .stages.parse import ParseStage
from .stages.read import BOM, ReadStage, lines_only, multiline_objects
from .stages.schema import SchemaStage
from .temporaries import end_with_parent

HEAD_RECORDS = 4096  # the first records of a run, from which stages settle "auto" options
_SMALLEST_SHARD = 1 << 20
_SHARDS_PER_WORKER = 4
_INDEX_BITS = 40
BATCH_BYTES = 16 << 20  # a batch closes at this many bytes of records, whatever its count


# (phase, what: an input path or a stage name, done, total or None): "cutting" and "checking" count bytes of
# an input, "finishing" the stages whose dataset-level work is done, "writing" the records routed to the outputs
Progress = Callable[[str, str, int, int | None], None]


def plan(inputs: list[InputFile], shard_bytes: int, workers: int = 1, progress: Progress | None = None) -> list[Shard]:
    """The shards of the inputs, in input order."""
    ranges = [(source, cut) for source in inputs for cut in _cuts(source.path, shard_bytes, workers, progress)]
    return [Shard(source, start, end, first_line, n << _INDEX_BITS, array)
            for n, (source, (start, end, first_line, array)) in enumerate(ranges)]


def input_bytes(path: str) -> int | None:
    """The size of an input whose progress is counted in bytes read; None for standard input and gzip
    (whose bytes read are not those of the file)."""
    return None if path == "-" or path.endswith(".gz") else Path(path).stat().st_size


def whole(inputs: list[InputFile]) -> list[Shard]:
    """One shard per input, for a run in one process."""
    return [Shard(source, first_index=n << _INDEX_BITS) for n, source in enumerate(inputs)]


def _cuts(path: str, shard_bytes: int, workers: int, progress: Progress | None) -> list[tuple[int, int | None, int, bool]]:
    """(start, end, first line, is an array part) of each byte range of the input; one range when whole."""
    single = [(0, None, 1, False)]
    if path == "-" or path.endswith(".gz") or Path(path).suffix == ".parquet":
        return single
    size = Path(path).stat().st_size
    shard_bytes = min(shard_bytes, max(size // (_SHARDS_PER_WORKER * workers), _SMALLEST_SHARD))
    if size < 2 * shard_bytes:
        return single
    with open(path, "rb") as f:
        head = f.read(CHUNK)
        if not lines_only(path) and head.removeprefix(BOM).lstrip(b" \t\r\n").startswith(b"["):
            walked = (lambda done: progress("cutting", path, done, size)) if progress else None
            return _array_cuts(head, f, shard_bytes, walked)
        if multiline_objects(head):  # records span lines: a cut at a newline would fall inside one
            return single
        f.seek(0)
        starts = [(0, 1)]
        offset = lines = 0  # bytes and newlines before the current chunk
        target = shard_bytes
        while chunk := f.read(CHUNK):
            while target < offset + len(chunk):
                newline = chunk.find(b"\n", max(target - offset, 0))
                if newline < 0:
                    break  # the cut falls at the first newline of a later chunk
                boundary = offset + newline + 1
                if boundary < size:
                    starts.append((boundary, lines + chunk.count(b"\n", 0, newline + 1) + 1))
                target = boundary + shard_bytes
            lines += count_byte(chunk, b"\n")
            offset += len(chunk)
            if progress:
                progress("cutting", path, offset, size)
    ends = [start for start, _ in starts[1:]] + [size]
    return [(start, end, line, False) for (start, line), end in zip(starts, ends)]


def _array_cuts(head: bytes, f, shard_bytes: int,
                walked: Callable[[int], None] | None) -> list[tuple[int, int | None, int, bool]]:
    """Cuts of a top-level JSON array at element starts, found by walking it once (strings and
    brackets only, no parsing). A cut falls only before an element that follows its comma, so that
    each shard's walk reports exactly the problems a walk of the whole array does."""
    bom = len(BOM) if head.startswith(BOM) else 0
    scanner = ArrayScanner(head[bom:], f, None, offset=bom)
    starts, target, report = [(0, 1)], shard_bytes, 0
    for offset, line, _ in scanner.elements():
        if offset >= target and scanner.after_comma:
            starts.append((offset, line))
            target = offset + shard_bytes
        if walked and offset >= report:  # the walk of a large array takes a while: the bytes walked, now and then
            walked(offset)
            report = offset + _SMALLEST_SHARD
    if walked:
        walked(f.tell())  # the whole array, read to its end
    ends: list[int | None] = [start for start, _ in starts[1:]] + [None]
    return [(start, end, line, True) for (start, line), end in zip(starts, ends)]


@dataclass
class ShardResult:
    """What checking a shard leaves for the process that finishes the run."""

    shard: Shard
    records: int
    bytes: int
    findings: Iterable[Finding]  # those of its records (unless sent to a sink); dataset-level ones come from finish()
    states: dict[str, Any]  # stage name -> shard_state()
    counts: dict[str, Counter[str]]
    spool: Path | None = None  # its records' bytes, for the clean and rejected outputs


def active_stages(ctx: Context) -> list[type[Stage]]:
    return [ReadStage, *(cls for cls in STAGES if cls.active(ctx))]


def settle(ctx: Context, stages: list[type[Stage]]) -> Context:
    """The run's context with the options that stages decide from its first records (`Stage.settle`)
    fixed, so that every worker decides alike. The head is read again by the shards; it stops before
    standard input, which can be read only once."""
    deciding = [cls for cls in stages if cls.settle.__func__ is not Stage.settle.__func__]
    if not deciding:
        return ctx
    readable = list(takewhile(lambda source: source.path != "-", ctx.inputs))
    records = SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(readable)))
    head = list(islice((e for e in records if e.messages is not None), HEAD_RECORDS))
    options = {name: dict(table) for name, table in ctx.config.stage_options.items()}
    for cls in deciding:
        options.setdefault(cls.name, {}).update(cls.settle(ctx, head))
    return dataclasses.replace(ctx, config=ctx.config.replace(stage_options=options))


def check_shard(shard: Shard, stages: list[Stage], spool_path: Path | None,
                progress: Progress | None = None, sink: Findings | None = None) -> ShardResult:
    """Every record of the shard through every stage; `stages[0]` is the reader.

    Records go through the stages in batches (`batch-size` records, fewer when they are large): each stage
    checks the whole batch (`Stage.check_batch`) before the next stage does, so that a stage can work over
    columns at once. Findings, the reader's loose ones (blank lines, a BOM, a broken array) too, go to
    `sink` as they are found when one is given (a shard can hold more findings than memory: a file of
    blank lines), else into the result; their report order does not depend on the batches (`Findings`
    sorts them). The stages' states are left in them (the caller takes `shard_state()` when it needs them)."""
    reader, *checks = stages
    findings: list[Finding] | Findings = [] if sink is None else sink
    reader.loose = findings  # as they are found: a flood of blank lines between two records is not held
    records = 0
    spool = Spool(spool_path) if spool_path else None
    try:
        for batch in batches(reader.records(shard), reader.ctx.config.batch_size):
            for stage in checks:
                stage.check_all(batch)
            for example in batch:
                if example.findings:
                    findings.extend(example.findings)
                if spool is not None:
                    spool.add(example)
            records += len(batch)
            if progress:
                progress("checking", shard.source.path, reader.bytes_read, input_bytes(shard.source.path))
        if progress:
            progress("checking", shard.source.path, reader.bytes_read, input_bytes(shard.source.path))
    finally:
        reader.loose = []
        if spool is not None:
            spool.close()
    return ShardResult(shard, records, reader.bytes_read, findings if sink is None else [], {}, {}, spool_path)


def batches(examples: Iterable[Example], size: int) -> Iterator[list[Example]]:
    """Consecutive records, `size` to a batch or fewer where they hold over BATCH_BYTES (a batch of huge
    records would hold them all at once)."""
    batch: list[Example] = []
    held = 0
    for example in examples:
        batch.append(example)
        held += len(example.raw)
        if len(batch) >= size or held >= BATCH_BYTES:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


# A worker process's run-wide settings, set once when the pool starts it.
_worker: dict[str, Any] = {}


def start_worker(ctx: Context, folder: Path | None, spill: Path) -> None:
    # Ctrl-C reaches the whole process group: the parent alone answers it, stopping the pool (SIGTERM,
    # which ends a worker quietly, without the handler a forked worker inherits from the command)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    end_with_parent(os.getppid())  # the run: a worker the run's SIGKILL orphans ends, quietly
    _worker.update(ctx=ctx, folder=folder, spill=spill)


def check_in_worker(numbered: tuple[int, Shard]) -> ShardResult:
    """Check a shard with fresh stages, returning their states for the finishing process to merge."""
    number, shard = numbered
    ctx, folder = _worker["ctx"], _worker["folder"]
    stages = [cls(ctx) for cls in active_stages(ctx)]
    # findings past the memory limit wait on disk in the run's folder, where the parent reads them
    findings = Findings({source.path: n for n, source in enumerate(ctx.inputs)}, folder=_worker["spill"])
    result = check_shard(shard, stages, folder / f"{number}.spool" if folder else None, sink=findings)
    result.findings = findings
    result.states = {stage.name: stage.shard_state() for stage in stages}
    result.counts = {stage.name: stage.counts for stage in stages}
    return result
