"""Output-format consistency: outputs that drift from their task's dominant shape, and a user's schema."""

from collections.abc import Iterator
from dataclasses import dataclass

from ..quality.consistency import FormatGroups, drift_message, schema_validator
from ..quality.profile import parse_json_output, profile
from ..quality.text import answer_message, digest, normalise, snippet, system_text
from ..records import Example, Ref
from .base import Problem, Stage


@dataclass
class ConsistencyOptions:
    group_by: str = "system"  # "system" (the system prompt), "all" (one task), or a top-level field name
    min_group: int = 20  # tasks with fewer outputs are not compared
    dominance: float = 0.9  # share of a task's outputs that must agree before the others count as drift
    length_z: float = 5.0  # robust z-score of log length beyond which an output's length is an outlier
    output_schema: str | dict | None = None  # a JSON Schema (path, or inline table) every output must satisfy


class ConsistencyStage(Stage):
    name = "consistency"
    Options = ConsistencyOptions

    def __init__(self, ctx):
        super().__init__(ctx)
        self.groups = FormatGroups(self.options.min_group, self.options.dominance)
        schema = self.options.output_schema
        self.schema_name = schema if isinstance(schema, str) else "the output schema"
        self.validator = schema_validator(schema) if schema else None

    def check(self, example: Example) -> Iterator[Problem]:
        answer = answer_message(example)
        if answer is None or not answer.content.strip():
            return
        task = self._task(example)
        if task is not None:
            self.groups.add(task[0], task[1], example.ref, profile(answer.content), len(answer.content))
        if self.validator is not None:
            problem = self._validate(answer.content)
            if problem:
                yield Problem("C102", problem, answer.content_path)

    def _task(self, example: Example) -> tuple[object, str] | None:
        how = self.options.group_by
        if how == "all":
            return 0, "this dataset"
        if how == "system":
            system = system_text(example)
            return (digest(normalise(system)), f"system prompt {snippet(system, 40)!r}") if system else None
        value = (example.data or {}).get(how)
        if value is None or isinstance(value, (dict, list)):
            return None
        return (how, str(value)), f"{how} = {snippet(str(value), 40)!r}"

    def _validate(self, text: str) -> str | None:
        is_json, value = parse_json_output(text)
        if not is_json:
            return f"output is not JSON, but {self.schema_name} expects JSON: {snippet(text, 50)!r}"
        error = next(iter(sorted(self.validator.iter_errors(value), key=lambda e: e.path)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"output fails {self.schema_name} at {where}: {error.message}"

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        for drift in self.groups.drifts():
            yield drift.ref, Problem("C101", drift_message(drift))
        for outlier in self.groups.length_outliers(max_z=self.options.length_z):
            yield outlier.ref, Problem("C103", f"output is {outlier.length:,} characters; outputs for {outlier.task} "
                                              f"are typically about {outlier.median:,.0f}")

    def stats(self) -> dict:
        return self.groups.stats()

    def shard_state(self):
        return self.groups.state()

    def merge(self, state) -> None:
        self.groups.merge(state)

