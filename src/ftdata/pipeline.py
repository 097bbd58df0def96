"""`check()`: one streaming pass of every stage over every input, then the outputs.

The inputs are cut into shards (`ftdata.shards`). In a shard the read stage yields records, and each
batch of them goes through every stage before the next is read, so one batch is in flight at a time. With several
cores, worker processes check shards at the same time and this process merges
their stages' states in input order. Dataset-level findings arrive from `finish()` after the pass;
only then is it known which records are rejected, so outputs are routed from the shards' spools.
"""

import multiprocessing
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from .config import Config, Policy, check_stage_options, load_config
from .errors import UsageError
from .findings import Findings, rejections
from .outputs import claim_outputs, output_path, release_outputs, route
from .report import Report
from .shards import (Progress, ShardResult, active_stages, check_in_worker, check_shard, input_bytes, plan, settle,
                     start_worker, whole)
from .stages.base import Context, InputFile, Shard, Stage
from .stages.read import check_readable
from .targets import load_target
from .temporaries import TempFolder, remove_stale

_SPLIT_NAMES = (("test", re.compile(r"(^|[^a-z])test([^a-z]|$)")),
                ("val", re.compile(r"(^|[^a-z])(val|valid|validation|dev|eval)([^a-z]|$)")))
_AUTO_WORKERS = 8
# fork is cheapest where it is safe; macOS and Windows start workers fresh (their stages rebuilt from the
# pickled context), which the tests exercise on Linux too
START_METHOD = "fork" if sys.platform == "linux" else "spawn"


def _start_method() -> str:
    """A process that has loaded polars (an earlier run's batch searches, or the caller's own use) may have
    its thread pool running: a forked worker would wait forever on the pool's locks, so it starts fresh."""
    return "spawn" if "polars" in sys.modules else START_METHOD


def split_of(path: str) -> str:
    """The role of an input from its file name: test, val (val, valid, validation, dev, eval) or train."""
    name = Path(path).name.lower()
    for split, pattern in _SPLIT_NAMES:
        if pattern.search(name):
            return split
    return "train"


def as_inputs(paths: Iterable[str | Path | InputFile]) -> list[InputFile]:
    """Each input with its split: given (--train/--val/--test), else from its name; a lone input is the
    training set whatever its name (val.jsonl checked alone is not a validation set of nothing)."""
    paths = list(paths)
    if len(paths) == 1 and not isinstance(paths[0], InputFile):
        paths = [InputFile(str(paths[0]), "train")]
    inputs = [p if isinstance(p, InputFile) else InputFile(str(p), split_of(str(p))) for p in paths]
    if not inputs:
        raise UsageError("no input files given")
    if sum(i.path == "-" for i in inputs) > 1:
        raise UsageError("standard input ('-') can be read only once")
    return inputs


def check(
    paths: Iterable[str | Path | InputFile],
    config: Config | None = None,
    *,
    clean: str | Path | None = None,
    rejected: str | Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    force: bool = False,
) -> Report:
    """Check datasets; optionally write their clean records and their rejected records with reasons.

    `clean` is a path, or a template with `{stem}` or `{name}` when there are several inputs.
    `jobs` is the number of worker processes (default: the config's `jobs`, 0 meaning one per core).
    An output that already exists stops the run before it starts, unless `force`.
    """
    config = config or load_config()
    check_stage_options(config.stage_options)  # -o and library callers too, before anything is read
    inputs = as_inputs(paths)
    for source in inputs:
        check_readable(source.path)
    clean_paths = clean_outputs(inputs, clean)
    rejected_path = Path(rejected) if rejected else None
    outputs = [*clean_paths.values(), *([rejected_path] if rejected_path else [])]
    remove_stale()
    claim_outputs(outputs, [i.path for i in inputs], force)
    try:
        return _check(inputs, config, clean_paths, rejected_path, progress, jobs)
    except BaseException:
        release_outputs(outputs)
        raise


def clean_outputs(inputs: list[InputFile], clean: str | Path | None) -> dict[str, Path]:
    """Each input's clean output, from a path or a `{stem}` template."""
    return {i.path: output_path(clean, i.path, len(inputs) > 1) for i in inputs} if clean else {}


def _check(inputs: list[InputFile], config: Config, clean_paths: dict[str, Path], rejected_path: Path | None,
           progress: Progress | None, jobs: int | None) -> Report:
    target = load_target(config.target)
    ctx = Context(config=config, target=target, policy=Policy(config, target.severity), inputs=inputs)
    classes = active_stages(ctx)  # the reader first
    workers = _workers(config.jobs if jobs is None else jobs)
    parallel = workers > 1 and all(cls.shardable() for cls in classes)
    shards = plan(inputs, config.shard_bytes, workers, progress) if parallel else whole(inputs)
    parallel = parallel and len(shards) > 1
    if parallel:
        ctx = settle(ctx, classes)
    stages = [cls(ctx) for cls in classes]  # these finish the run
    reader = stages[0]
    findings = Findings({source.path: n for n, source in enumerate(inputs)})
    spools: list[tuple[str, Path]] = []
    records = 0
    with TempFolder() as folder:
        spool_folder = Path(folder) if clean_paths or rejected_path else None
        run = _in_workers if parallel else _in_process
        for result in run(ctx, shards, stages, spool_folder, workers, progress, findings, Path(folder)):
            records += result.records
            findings.extend(result.findings)
            if result.spool:
                spools.append((result.shard.source.path, result.spool))
        for done, stage in enumerate(stages):
            if progress:
                progress("finishing", stage.name, done, len(stages))  # some stages' finish is most of a run
            for ref, problem in stage.finish():
                finding = ctx.finding(problem.code, ref, problem)
                if finding is not None:
                    stage.counts[problem.code] += 1
                    findings.append(finding)
        if progress:
            progress("finishing", "", len(stages), len(stages))
        rejected_per_input: Counter[str] = Counter()
        rejected = _counted(rejections(findings), rejected_per_input)
        if spool_folder:
            route(spools, rejected, clean_paths, rejected_path,
                  (lambda done: progress("writing", "outputs", done, records)) if progress else None)
        for _ in rejected:  # what routing left, or everything when there are no outputs
            pass

    stats = {stage.name: s for stage in stages if (s := stage.stats())}
    stats["run"] = {"workers": min(workers, len(shards)) if parallel else 1, "shards": len(shards)}
    return Report(
        findings=findings,
        records=records,
        rejected_records=rejected_per_input.total(),
        target=ctx.target.name,
        inputs=[{"path": i.path, "split": i.split, "records": reader.records_per_file.get(i.path, 0),
                 "rejected_records": rejected_per_input[i.path]} for i in inputs],
        stats=stats,
    )


def _counted(rejected: Iterator[tuple[int, list]], per_input: Counter[str]) -> Iterator[tuple[int, list]]:
    for index, reasons in rejected:
        per_input[reasons[0].file] += 1
        yield index, reasons


def _workers(jobs: int) -> int:
    if jobs > 0:
        return jobs
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, _AUTO_WORKERS)


def _in_process(ctx, shards, stages, spool_folder, workers, progress, findings, temp) -> Iterator[ShardResult]:
    """Every shard in this process, through the same stages (their state simply accumulates); findings
    go straight to the run's store."""
    for number, shard in enumerate(shards):
        yield check_shard(shard, stages, spool_folder / f"{number}.spool" if spool_folder else None, progress, findings)


def _in_workers(ctx, shards, stages, spool_folder, workers, progress, findings, temp) -> Iterator[ShardResult]:
    """Shards in worker processes; their states are merged here in input order as they arrive, and their
    findings come back in the results (not into `findings`, which is in this process)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # HF tokenizers warn when forked otherwise
    pool = multiprocessing.get_context(_start_method()).Pool(min(workers, len(shards)), initializer=start_worker,
                                                    initargs=(ctx, spool_folder, temp))
    # imap alone hands out every shard at once, and finished results (findings and all) would pile up
    # while this process merges them: a window of shards in flight keeps memory flat
    window = threading.Semaphore(2 * workers)

    def numbered() -> Iterator[tuple[int, Shard]]:  # iterated by the pool's feeding thread
        for item in enumerate(shards):
            window.acquire()
            yield item

    done: Counter[str] = Counter()  # bytes checked per input, for the progress bar
    records = 0
    with pool:
        try:
            for result in pool.imap(check_in_worker, numbered()):
                window.release()
                for stage in stages:
                    if type(stage).merge is not Stage.merge:
                        stage.merge(result.states[stage.name])
                    stage.counts += result.counts[stage.name]
                records += result.records
                path = result.shard.source.path
                done[path] += result.bytes
                if progress:
                    progress("checking", path, done[path], input_bytes(path))
                yield result
        finally:
            for _ in shards:  # a feeding thread still waiting must finish for the pool to close
                window.release()
