"""Recognising each record's format, validating it against that format's JSON Schema, and turning
it into the canonical conversation that every later stage reads."""

from collections import Counter
from collections.abc import Iterator

from .. import formats, schemas
from ..formats.base import image_markers
from ..formats.layouts import layout_of
from ..records import Example
from .base import InputFile, Problem, Shard, Stage

_IMAGE_COLUMN = frozenset(("openai-chat", "sharegpt"))  # formats LLaMA-Factory gives an `images` column


class SchemaStage(Stage):
    name = "schema"

    @classmethod
    def active(cls, ctx) -> bool:
        return True  # later stages need the parsed record and its conversation, whatever rules are selected

    def __init__(self, ctx):
        super().__init__(ctx)
        self.forced = formats.get(ctx.config.format) if ctx.config.format else None
        self.file_format: dict[str, tuple[str, int]] = {}  # file -> (format, line it was first seen)
        self.per_file: dict[str, Counter[str]] = {}
        self.sample_weight = ctx.target["weight"]["sample"]  # a root-level `weight` belongs to the target

    def check(self, example: Example) -> Iterator[Problem]:
        if example.data is None:
            return
        fmt = self.forced or formats.detect(example.data)
        keys = ", ".join(list(example.data)[:6]) or "none"
        if fmt is None:
            layout = layout_of(example.data)
            if layout is not None:
                self._count(example.file, f"{layout.name} (not read)")
                yield Problem("S008", f"this is a {layout.name} record ({layout.what}), which no fine-tuning API "
                                      f"takes as it is; to train on it, {layout.convert}")
                return
            yield Problem("S001", f"no known format has these keys ({keys}); expected one of: {'; '.join(formats.signatures())}")
            return
        if self.forced and not example.data.keys() >= frozenset(fmt.keys):
            missing = ", ".join(k for k in fmt.keys if k not in example.data)
            yield Problem("S001", f"every record was to be read as {fmt.name} (the format given), which needs "
                                  f"{' + '.join(fmt.keys)}; this record has no {missing} (its keys: {keys})")
            return
        self._count(example.file, fmt.name)
        if example.file not in self.file_format:
            self.file_format[example.file] = self._head(example) or (fmt.name, example.line)
        first, line = self.file_format[example.file]
        if fmt.name != first and _family(fmt.name) != _family(first):
            yield Problem("S002", f"this record is {fmt.name} but the file is {first} (from line {line}); "
                                  "providers expect one format per file")
        example.format = fmt.name
        if not schemas.is_valid(fmt.name, example.data):
            for code, field, message in schemas.validate(fmt.name, example.data):
                if not (code == "S005" and field == "weight" and self.sample_weight):
                    yield Problem(code, message, field)
        fmt.read(example.data, example)
        images = example.data.get("images") if fmt.name in _IMAGE_COLUMN else None
        if isinstance(images, list) and example.messages is not None:
            markers = image_markers(example.messages)
            if markers != len(images):
                yield Problem("S007", f"{len(images)} image(s) in `images` and {markers} `<image>` marker(s) in the "
                                      "turns; LLaMA-Factory reads the nth image at the nth marker and refuses a record "
                                      "whose counts differ: put one `<image>` in the text where each image belongs",
                              "images")

    def _count(self, file: str, name: str) -> None:
        counts = self.per_file.get(file)
        if counts is None:
            counts = self.per_file[file] = Counter()
        counts[name] += 1

    def _head(self, example: Example) -> tuple[str, int] | None:
        """The format and line of the first recognised record before `example` in its file.

        A worker that checks a later shard of a file meets the file first in the middle; the head
        of the file says which format the file started with. (stdin is never cut into shards.)"""
        if self.forced or example.line == 1 or example.file == "-":
            return None
        from .parse import ParseStage
        from .read import ReadStage

        reader, parser = ReadStage(self.ctx), ParseStage(self.ctx)
        for record in parser.run(reader.records(Shard(InputFile(example.file)))):
            if record.line >= example.line:
                return None
            fmt = record.data is not None and formats.detect(record.data)
            if fmt:
                return fmt.name, record.line
        return None

    def stats(self) -> dict:
        return {"formats": {file: dict(counts) for file, counts in self.per_file.items()}}

    def shard_state(self) -> dict[str, Counter[str]]:
        return self.per_file

    def merge(self, state: dict[str, Counter[str]]) -> None:
        for file, counts in state.items():
            self.per_file.setdefault(file, Counter()).update(counts)


def _family(name: str) -> str:
    """The format a file of `name` records may mix with: a dialect's records share a file with its base's."""
    return formats.get(name).dialect_of or name
