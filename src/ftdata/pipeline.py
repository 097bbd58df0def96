"""`check()`: one streaming pass of every stage over every input, then the outputs.

The read stage yields records; each stage's `run` wraps the stream of the one before; draining the
last keeps one record in flight at a time. Dataset-level findings arrive from `finish()` after the
pass; only then is it known which records are rejected, so outputs are routed from a spool.
"""

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from .config import Config, Policy, load_config
from .errors import UsageError
from .outputs import Spool, output_path, refuse_inputs, route
from .records import Finding
from .report import Report
from .stages import STAGES
from .stages.base import Context, InputFile, Stage
from .stages.read import ReadStage, check_readable
from .targets import load_target

Progress = Callable[[str, int, int], None]  # (input path, bytes read, records so far)
_SPLIT_NAMES = (("test", re.compile(r"(^|[^a-z])test([^a-z]|$)")),
                ("val", re.compile(r"(^|[^a-z])(val|valid|validation|dev|eval)([^a-z]|$)")))
_PROGRESS_EVERY = 4096


def split_of(path: str) -> str:
    """The role of an input from its file name: test, val (val, valid, validation, dev, eval) or train."""
    name = Path(path).name.lower()
    for split, pattern in _SPLIT_NAMES:
        if pattern.search(name):
            return split
    return "train"


def as_inputs(paths: Iterable[str | Path | InputFile]) -> list[InputFile]:
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
) -> Report:
    """Check datasets; optionally write their clean records and their rejected records with reasons.

    `clean` is a path, or a template with `{stem}` or `{name}` when there are several inputs.
    """
    config = config or load_config()
    inputs = as_inputs(paths)
    for source in inputs:
        check_readable(source.path)
    clean_paths = {i.path: output_path(clean, i.path, len(inputs) > 1) for i in inputs} if clean else {}
    rejected_path = Path(rejected) if rejected else None
    refuse_inputs([*clean_paths.values(), *([rejected_path] if rejected_path else [])], [i.path for i in inputs])

    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)
    reader = ReadStage(ctx)
    stages: list[Stage] = [cls(ctx) for cls in STAGES if cls.active(ctx)]
    stream = reader.records(inputs)
    for stage in stages:
        stream = stage.run(stream)

    findings: list[Finding] = []
    spool = Spool() if clean_paths or rejected_path else None
    records = 0
    try:
        for example in stream:
            records += 1
            findings += example.findings
            if spool:
                spool.add(example)
            if progress and records % _PROGRESS_EVERY == 0:
                progress(example.file, reader.bytes_read, records)
        findings += reader.loose
        for stage in stages:
            for ref, problem in stage.finish():
                finding = ctx.finding(problem.code, ref, problem)
                if finding is not None:
                    stage.counts[problem.code] += 1
                    findings.append(finding)
        rejections: dict[int, list[Finding]] = {}
        for finding in findings:
            if finding.index is not None and finding.severity == "error":
                rejections.setdefault(finding.index, []).append(finding)
        if spool:
            route(spool, [(i.path, reader.records_per_file.get(i.path, 0)) for i in inputs], rejections,
                  clean_paths, rejected_path)
    finally:
        if spool:
            spool.close()

    order = {source.path: n for n, source in enumerate(inputs)}
    findings.sort(key=lambda f: (order.get(f.file, -1), f.line or 0, f.code))
    stats = {stage.name: s for stage in [reader, *stages] if (s := stage.stats())}
    return Report(
        findings=findings,
        records=records,
        rejected_records=len(rejections),
        target=ctx.target.name,
        inputs=[{"path": i.path, "split": i.split, "records": reader.records_per_file.get(i.path, 0)} for i in inputs],
        stats=stats,
    )
