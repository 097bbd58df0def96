"""Exact and near-duplicate records, repeated prompts, and leakage of training records into val/test.

Dataset-level: `check` only remembers each record compactly (see ftdata.dedup.dataset); `finish`
clusters them and names, for every record that goes, the record kept in its place. Shards: a worker's
`check` hashes and signs its records; `merge` appends that state in input order, hashing nothing again.
"""

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..dedup import DEFAULT_THRESHOLD
from ..dedup.dataset import BATCH, EXACT, SPLITS, DuplicateFinder
from ..dedup.index import VERIFY, VERIFY_BUDGET, VERIFY_MIN, choose_shingling, find_boilerplate
from ..dedup.shingles import Shingling, sample
from ..dedup.text import answer_text, assistant_turns, image_ids, name_texts, near_group, normalise, prompt_text, record_text
from ..errors import UsageError
from ..records import Example, Ref
from .base import Context, Problem, Stage, build_options


@dataclass
class Options:
    threshold: float = DEFAULT_THRESHOLD  # Jaccard similarity of shingle sets for a near-duplicate
    shingle: str = "auto"  # auto, word2, word3, char5...
    # shingles many records share (system prompts, tool lists, templates), left out of near-duplicate
    # comparison: "auto" finds them in the run's first records, "off" compares whole records; `settle`
    # puts the list of shingle hashes it found here, so that every shard leaves out the same
    boilerplate: str | list = "auto"
    num_perm: int = 128  # MinHash permutations
    verify: str = "jaccard"  # jaccard (true similarity), signature (MinHash estimate) or none
    verify_budget: float = VERIFY_BUDGET  # candidate pairs verified per record, on average (D006); -1: no limit
    verify_min: int = VERIFY_MIN  # ...and at least this many in all, so that small files are checked in full
    near: bool = True  # look for near-duplicates at all (exact ones are always found)
    casefold: bool = False  # exact duplicates ignore case too
    keep: str = "first"  # first, longest, or a top-level field whose highest value is kept
    list_clusters: int = 10  # clusters listed in the report's stats, largest first; -1: all


class Compared(NamedTuple):
    """What a record is compared on (see ftdata.dedup.text)."""

    text: str  # normalised, as is prompt
    prompt: str
    group: int  # only records of one group can be near-duplicates (see near_group)
    turns: list[str]  # each turn it teaches
    named_in: list[str]  # the texts whose names and numbers a near-duplicate must hold too


def compared(example: Example, casefold: bool = False) -> Compared:
    images = image_ids(example)
    return Compared(normalise(record_text(example, images), casefold=casefold),
                    normalise(prompt_text(example, images), casefold=casefold),
                    near_group(images, sample(answer_text(example))), assistant_turns(example), name_texts(example))


class DuplicatesStage(Stage):
    name = "duplicates"
    Options = Options

    def __init__(self, ctx):
        super().__init__(ctx)
        o = self.options
        if not 0 < o.threshold <= 1:
            raise UsageError(f"[tool.ftdata.duplicates]: threshold must be in (0, 1], not {o.threshold}")
        if math.isnan(o.verify_budget):
            raise UsageError("[tool.ftdata.duplicates]: verify-budget must be pairs per record (-1: no limit), not nan")
        if o.verify not in VERIFY:
            raise UsageError(f"[tool.ftdata.duplicates]: verify must be one of {', '.join(VERIFY)}, not {o.verify!r}")
        if isinstance(o.boilerplate, str) and o.boilerplate not in ("auto", "off"):
            raise UsageError(f"[tool.ftdata.duplicates]: boilerplate must be auto or off, not {o.boilerplate!r}")
        if o.shingle != "auto":
            try:
                Shingling.parse(o.shingle)
            except ValueError as e:
                raise UsageError(f"[tool.ftdata.duplicates]: {e}") from None
        near = o.near and (ctx.policy.enabled("D002") or ctx.policy.enabled("D005"))
        self.finder = DuplicateFinder(near=near, threshold=o.threshold, num_perm=o.num_perm,
                                      shingle=o.shingle, verify=o.verify, verify_budget=o.verify_budget,
                                      verify_min=o.verify_min, boilerplate=o.boilerplate)
        self.files: list[str] = []
        self._file_ids: dict[str, int] = {}
        self.file_of, self.lines, self.indices = array("H"), array("L"), array("q")

    @classmethod
    def settle(cls, ctx: Context, head: list[Example]) -> dict[str, Any]:
        """"auto" shingling and boilerplate are found in the run's first batch of texts, which only the first
        shard sees."""
        options = build_options(cls.Options, ctx.config.stage_options.get(cls.name, {}), cls.name)
        if options.shingle != "auto" and options.boilerplate != "auto":
            return {}
        texts = [compared(e, options.casefold)[0] for e in head[:BATCH]]
        shingling = choose_shingling(texts) if options.shingle == "auto" else Shingling.parse(options.shingle)
        settled: dict[str, Any] = {"shingle": str(shingling)}
        if options.boilerplate == "auto":
            settled["boilerplate"] = find_boilerplate(texts, shingling).tolist()
        return settled

    def check(self, example: Example) -> Iterator[Problem]:
        if example.messages is None:  # unparsed: other stages report it
            return ()
        c = compared(example, self.options.casefold)
        self.finder.add(c.text, c.prompt, example.split, self._score(example, c.text), c.group, c.turns, c.named_in)
        self.file_of.append(self._file_id(example.file))
        self.lines.append(example.line)
        self.indices.append(example.index)
        return ()

    def _file_id(self, file: str) -> int:
        file_id = self._file_ids.setdefault(file, len(self._file_ids))
        if file_id == len(self.files):
            self.files.append(file)
        return file_id

    def shard_state(self) -> tuple:
        return self.files, self.file_of, self.lines, self.indices, self.finder.for_merge()

    def merge(self, state: tuple) -> None:
        files, file_of, lines, indices, finder = state
        ids = [self._file_id(f) for f in files]
        if ids == list(range(len(ids))):
            self.file_of.extend(file_of)
        else:
            self.file_of.frombytes(np.array(ids, dtype=np.uint16)[np.frombuffer(file_of, dtype=np.uint16)].tobytes())
        self.lines.extend(lines)
        self.indices.extend(indices)
        self.finder.merge(finder)

    def _score(self, example: Example, text: str) -> float:
        keep = self.options.keep
        if keep == "first":
            return 0.0
        if keep == "longest":
            return float(len(text))
        value = example.data.get(keep) if isinstance(example.data, dict) else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
        return float(value) if ok else -math.inf

    def ref(self, position: int) -> Ref:
        return Ref(self.files[self.file_of[position]], self.lines[position], self.indices[position])

    def _where(self, position: int) -> str:
        ref = self.ref(position)
        return f"{ref.file}:{ref.line}"

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        self.resolution = self.finder.resolve()
        splits = self.finder.splits
        for r in self.resolution.removals:
            what = "a copy" if r.kind == EXACT else "a near-duplicate"
            related = (self.ref(r.copy_of),) if r.copy_of == r.kept else (self.ref(r.copy_of), self.ref(r.kept))
            if r.leak:
                code = "D004" if r.kind == EXACT else "D005"
                message = f"{SPLITS[splits[r.position]]} record is {what} of a training record"
            elif r.copy_of == r.kept:
                code = "D001" if r.kind == EXACT else "D002"
                message = f"record is {what} of the record kept"
            else:  # an identical repeat of a record that is itself a near-duplicate of the one kept
                code = "D001"
                message = f"record is a copy of {self._where(r.copy_of)}, a near-duplicate of the record kept"
            yield self.ref(r.position), Problem(code, message, related=related)
        for position, first in self.resolution.repeated_prompts:
            yield self.ref(position), Problem("D003", "same prompt as an earlier record, with a different answer",
                                              related=(self.ref(first),))
        index = self.finder.index
        if index is not None and index.unverified:
            yield None, Problem("D006", f"near-duplicate search stopped at its budget of {index.budget():,} verified pairs "
                                        f"(verify-budget = {self.options.verify_budget:g} per record, at least "
                                        f"verify-min = {self.options.verify_min:,}): "
                                        f"{index.unverified:,} of {index.candidates:,} candidate pairs were skipped, "
                                        "so near-duplicate findings (D002, D005) are a lower bound")

    def _shingling(self) -> str | None:
        index = self.finder.index
        if index is None:
            return None
        # shards that chose differently under "auto": their records were only compared among themselves
        return "+".join([str(index.shingling), *sorted(map(str, index.foreign))])

    def stats(self) -> dict[str, Any]:
        resolution = getattr(self, "resolution", None)
        if resolution is None:
            return {}
        records = len(self.finder)
        listed = resolution.clusters if self.options.list_clusters < 0 else resolution.clusters[: self.options.list_clusters]
        index = self.finder.index
        return {
            "records": records,
            "exact_clusters": resolution.exact_clusters,
            "near_clusters": resolution.near_clusters,
            "duplicates": len(resolution.removals),
            "leaked": sum(r.leak for r in resolution.removals),
            "repeated_prompts": len(resolution.repeated_prompts),
            "duplicate_share": round(len(resolution.removals) / records, 4) if records else 0.0,
            "candidate_pairs": index.candidates if index else 0,
            "unverified_pairs": index.unverified if index else 0,
            "largest_clusters": [
                {"kind": kind, "size": len(c), "kept": self._where(c[0]), "members": [self._where(m) for m in c[1:]]}
                for c, kind in zip(listed, resolution.kinds)
            ],
            "settings": {
                "threshold": self.options.threshold, "shingle": self._shingling(),
                "num_perm": self.options.num_perm, "verify": self.options.verify,
                "verify_budget": self.options.verify_budget, "verify_min": self.options.verify_min,
                "lsh_bands": index.bands if index else None, "lsh_rows": index.rows if index else None,
            },
            "bytes_per_record": round(self.finder.nbytes() / records) if records else 0,
        }
