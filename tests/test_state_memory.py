"""Dataset-level state that grows with the dataset stays a few bytes a record (issue 13).

Allocation sizes from tracemalloc are deterministic (no timing): records are added to the contradiction
and consistency state, and the memory still held afterwards is divided by the number of records. What
those records need at the end (places, snippets) is on disk, and comes back exactly.
"""

import tracemalloc

from ftdata.quality.consistency import FormatGroups
from ftdata.quality.contradictions import AnswerGroups
from ftdata.quality.profile import profile
from ftdata.quality.spilled import SpilledRows
from ftdata.records import Ref

RECORDS = 40_000
PER_RECORD = 40  # bytes a record may hold in memory: 8-16 of columns, the rest is the write buffer's share


def _held_per_record(add) -> float:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        state = add()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert state is not None
    return held / RECORDS


def test_contradiction_state_is_a_few_bytes_a_record():
    def add():
        groups = AnswerGroups()
        for i in range(RECORDS):
            groups.add(i * 7919, Ref("train.jsonl", i + 1, i), i * 104729, f"answer number {i} of the run…", False)
        return groups

    assert _held_per_record(add) < PER_RECORD


def test_consistency_state_is_a_few_bytes_a_record():
    shapes = [profile('{"label": "a"}'), profile("A sentence of prose."), profile("- one\n- two")]

    def add():
        groups = FormatGroups()
        for i in range(RECORDS):
            groups.add(i % 50, f"task {i % 50}", Ref("train.jsonl", i + 1, i), shapes[i % 3], 100 + i % 977)
        return groups

    assert _held_per_record(add) < PER_RECORD


def test_spilled_rows_come_back_exactly_and_merge_in_order():
    first, second = SpilledRows(), SpilledRows()
    first.add(Ref("a.jsonl", 3, 2), 2**64 - 1, True, "lone \udc80 surrogate, 答案")
    first.add(Ref("a.jsonl", None, None), 5, False, "")
    for i in range(10_000):  # past the write buffer
        second.add(Ref("b.jsonl" if i % 2 else "a.jsonl", i + 1, i + 10), i, bool(i % 3), f"quote {i}")
    first.extend(second.state())
    assert len(first) == 10_002
    rows = first.take([10_001, 0, 1, 2, 3])
    assert [first.ref(r) for r in rows] == [Ref("b.jsonl", 10_000, 10_009), Ref("a.jsonl", 3, 2),
                                           Ref("a.jsonl", None, None), Ref("a.jsonl", 1, 10), Ref("b.jsonl", 2, 11)]
    assert [first.quote(r) for r in rows] == ["quote 9999", "lone \udc80 surrogate, 答案", "", "quote 0", "quote 1"]
    assert [int(r["value"]) for r in rows] == [9999, 2**64 - 1, 5, 0, 1]
    assert [bool(r["flag"]) for r in rows] == [False, True, False, False, True]


def test_contradictions_across_merged_states_match_one_pass():
    def groups_of(records):
        groups = AnswerGroups()
        for prompt, line, answer, text in records:
            groups.add(prompt, Ref("f", line, line - 1), answer, text, True)
        return groups

    records = [(1, 1, 10, "yes"), (2, 2, 20, "spam"), (1, 3, 11, "no"), (2, 4, 20, "spam"), (1, 5, 10, "yes")]
    whole = groups_of(records)
    merged = groups_of(records[:2])
    merged.merge(groups_of(records[2:]).state())
    assert list(merged.conflicts()) == list(whole.conflicts())
    (conflict,) = whole.conflicts()
    assert [r.line for r in conflict.refs] == [1, 3, 5] and conflict.answers == (("yes", 2), ("no", 1))
    assert merged.stats() == whole.stats() == {"prompts": 2, "repeated_prompts": 2}
