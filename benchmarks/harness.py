"""Runs the quality, consistency, contradictions and guidance stages on records, outside `ftdata check`.

The benchmark builds its labelled corpus in memory, so it drives the stages directly: the spine's read
and parse stages, format detection, then these four stages, exactly as the pipeline chains them.
"""

from collections.abc import Iterable, Iterator

import orjson

from ftdata import formats
from ftdata.config import Policy, config_from_table
from ftdata.records import Example, Finding
from ftdata.stages.base import Context, InputFile
from ftdata.stages.consistency import ConsistencyStage
from ftdata.stages.contradictions import ContradictionsStage
from ftdata.stages.guidance import GuidanceStage
from ftdata.stages.parse import ParseStage
from ftdata.stages.quality import QualityStage
from ftdata.stages.read import ReadStage

STAGES = (QualityStage, ConsistencyStage, ContradictionsStage, GuidanceStage)


def context(table: dict | None = None, inputs: list[InputFile] | None = None) -> Context:
    config = config_from_table(table or {})
    return Context(config=config, target=None, policy=Policy(config), inputs=inputs or [])


def convert(example: Example) -> Example:
    """Fill the canonical conversation from the parsed record, as the spine's schema stage does."""
    if example.data is not None and example.messages is None:
        fmt = formats.detect(example.data)
        if fmt is not None:
            example.format = fmt.name
            fmt.read(example.data, example)
    return example


def read_file(path: str, ctx: Context | None = None) -> Iterator[Example]:
    ctx = ctx or context()
    parse = ParseStage(ctx)
    for example in parse.run(ReadStage(ctx).records([InputFile(path)])):
        yield convert(example)


def from_records(records: Iterable[dict], file: str = "corpus.jsonl", split: str = "train") -> list[Example]:
    examples = []
    for i, record in enumerate(records):
        examples.append(convert(Example(index=i, file=file, line=i + 1, raw=orjson.dumps(record), split=split, data=record)))
    return examples


def run(examples: Iterable[Example], table: dict | None = None) -> tuple[list[Finding], dict]:
    """All findings of the four stages (record-level and dataset-level) and their stats."""
    ctx = context(table)
    stages = [cls(ctx) for cls in STAGES]
    stream: Iterable[Example] = examples
    for stage in stages:
        stream = stage.run(stream)
    findings: list[Finding] = []
    for example in stream:
        findings.extend(example.findings)
    for stage in stages:
        for ref, problem in stage.finish():
            finding = ctx.finding(problem.code, ref, problem)
            if finding is not None:
                findings.append(finding)
    return findings, {stage.name: stage.stats() for stage in stages}
