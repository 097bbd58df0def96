"""`convert()`: rewrite a dataset in another format, never dropping a field without saying so.

Records are read and parsed by the same stages as `check`; each is turned into the canonical
conversation and written by the target format. A field the target cannot hold is reported per
record; such records are written only when `allow_lossy` is set. Top-level keys the source format
does not define (ids, metadata) are carried over as they are.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from . import formats
from .config import Config, Policy
from .outputs import atomic_writer, claim_outputs
from .stages.base import Context, InputFile
from .stages.parse import ParseStage
from .stages.read import ReadStage, check_readable
from .stages.schema import SchemaStage
from .targets import load_target


@dataclass
class Skipped:
    file: str
    line: int
    reason: str


@dataclass
class ConversionResult:
    written: int = 0
    lossy: int = 0  # written although a field was dropped (allow_lossy)
    skipped: list[Skipped] = field(default_factory=list)


def convert(source: str | Path, out: str | Path, to: str, *, allow_lossy: bool = False,
            input_format: str | None = None, force: bool = False) -> ConversionResult:
    target_format = formats.get(to)
    source, out = str(source), Path(out)
    check_readable(source)
    claim_outputs([out], [source], force)
    config = Config(format=input_format, select=["F", "S"])
    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[InputFile(source)])
    stream = SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(ctx.inputs)))
    result = ConversionResult()
    array = out.suffix == ".json"  # a JSON array, as `check --clean` writes a .json file; else JSON Lines
    with atomic_writer(out) as f:
        if array:
            f.write(b"[")
        for line, record, problem in _converted(stream, target_format):
            if record is None or (problem and not allow_lossy):
                result.skipped.append(Skipped(source, line, problem or "unreadable"))
                continue
            result.lossy += bool(problem)
            if array:
                f.write((b",\n" if result.written else b"\n") + orjson.dumps(record))
            else:
                f.write(orjson.dumps(record) + b"\n")
            result.written += 1
        if array:
            f.write(b"\n]\n")
    return result


def _converted(stream, target_format: formats.Format) -> Iterator[tuple[int, dict | None, str | None]]:
    for example in stream:
        if example.messages is None:
            problem = next((f.message for f in example.findings if f.severity == "error"), "not a record of a known format")
            yield example.line, None, problem
            continue
        inexact = _inexact(example)
        if inexact:
            yield example.line, None, f"its values cannot be written back exactly: {inexact}"
            continue
        if example.is_text and target_format.name != "text":
            yield example.line, None, (f"a plain-text record has no prompt and no roles: as {target_format.name} it "
                                       "would be an answer to nothing")
            continue
        if example.label is False and target_format.name != "kto":
            yield example.line, None, (f"an undesirable completion (KTO label false): {target_format.name} has no "
                                       "label, so it would be trained as a good answer")
            continue
        record, dropped = target_format.write(example)
        if not record:
            yield example.line, None, f"cannot be written as {target_format.name}: {'; '.join(dropped)}"
            continue
        source_format = formats.get(example.format)
        for key, value in example.data.items():
            if key not in source_format.fields and key not in record:
                record[key] = value
        yield example.line, record, (f"{target_format.name} cannot hold {'; '.join(dropped)}" if dropped else None)


# NaN/Infinity (JSON has no such number: written as null) and a repeated key (one of its values is lost)
_INEXACT_CODES = ("F009", "F010")
_LONG_DIGITS = re.compile(rb"\d{19}")  # the shortest integer that may not fit in 64 bits
_INT64 = range(-(1 << 63), 1 << 64)  # orjson's integers (signed or unsigned 64-bit); others become floats


def _inexact(example) -> str | None:
    """Why the parsed record's values differ from the ones written in its bytes, or None."""
    reason = next((f.message for f in example.findings if f.code in _INEXACT_CODES), None)
    if reason or not _LONG_DIGITS.search(example.raw):
        return reason
    wide: list[str] = []

    def integer(text: str) -> int:
        if int(text) not in _INT64:
            wide.append(text)
        return 0

    json.loads(example.raw, parse_int=integer)
    return f"the integer {wide[0]} does not fit in 64 bits (it would be written as a float)" if wide else None
