"""Findings past the memory limit go to disk and come back in the same order, with the same outputs."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ftdata
import ftdata.findings
from ftdata.findings import Findings, rejections
from ftdata.output import render_json, render_sarif
from ftdata.records import Finding, Ref

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "chat_with_defects.jsonl"
CLEAN_SAMPLE = SAMPLE.with_name("chat_clean.jsonl")

findings = st.builds(
    Finding,
    code=st.sampled_from(["F001", "P002", "D001", "S003"]),
    name=st.just("name"),
    severity=st.sampled_from(["error", "warning", "info"]),
    file=st.sampled_from(["a.jsonl", "b.jsonl", None]),
    line=st.one_of(st.none(), st.integers(1, 5)),
    field=st.one_of(st.none(), st.just("messages[0].content")),
    message=st.text(max_size=5),
    related=st.lists(st.builds(Ref, st.just("a.jsonl"), st.integers(1, 5), st.none()), max_size=2).map(tuple),
    index=st.one_of(st.none(), st.integers(0, 5)),
)


@given(st.lists(findings, max_size=40), st.integers(1, 7))
def test_spilled_findings_read_back_in_stable_report_order(found, limit):
    order = {"a.jsonl": 0, "b.jsonl": 1}
    spilled, held = Findings(order, memory_limit=limit), Findings(order, memory_limit=10_000)
    spilled.extend(found)
    held.extend(found)
    expected = sorted(found, key=lambda f: (order.get(f.file, -1), f.line or 0, -1 if f.index is None else f.index, f.code))
    assert list(spilled) == list(held) == expected
    assert list(spilled) == expected  # a second reading of the runs
    assert len(spilled) == len(found) and spilled.codes == held.codes
    for position in (0, len(found) // 2, -1, -len(found)):
        if found:
            assert spilled[position] == expected[position]
    for part in (slice(2), slice(1, 5), slice(0, None, 2), slice(-3, None), slice(3, 1)):
        assert spilled[part] == expected[part]
    with pytest.raises(IndexError):
        spilled[len(found)]


@given(st.lists(findings, max_size=40), st.integers(1, 7))
def test_findings_spilled_in_a_shared_folder_travel_to_another_process(found, limit):
    """A worker's findings past its memory limit wait in the run's folder; the pickled object it returns
    reads them back there, in report order, in the parent."""
    import pickle
    import tempfile

    order = {"a.jsonl": 0, "b.jsonl": 1}
    with tempfile.TemporaryDirectory() as folder:
        worker = Findings(order, memory_limit=limit, folder=Path(folder))
        worker.extend(found)
        parent = Findings(order)
        parent.extend(pickle.loads(pickle.dumps(worker)))
        expected = sorted(found, key=lambda f: (order.get(f.file, -1), f.line or 0, -1 if f.index is None else f.index, f.code))
        assert list(parent) == expected
        assert len(list(Path(folder).iterdir())) == len(found) // limit


def test_rejections_group_a_records_errors_in_input_order():
    def error(index, code, line):
        return Finding(code, "n", "error", "a.jsonl", line, None, "m", (), index)

    store = Findings({"a.jsonl": 0}, memory_limit=2)
    store.extend([error(3, "P002", 4), error(1, "F001", 2), Finding("P008", "n", "warning", "a.jsonl", 2, None, "m", (), 1),
                  error(3, "D001", 4), error(1, "S003", 2)])
    assert [(index, [f.code for f in reasons]) for index, reasons in rejections(store)] == \
        [(1, ["F001", "S003"]), (3, ["D001", "P002"])]


def test_a_run_past_the_memory_limit_reports_and_routes_the_same(tmp_path, monkeypatch):
    def run(name, jobs):
        out = tmp_path / name
        report = ftdata.check([SAMPLE, CLEAN_SAMPLE], ftdata.Config(), jobs=jobs, clean=out / "{stem}.jsonl",
                              rejected=out / "rejected.jsonl")
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
        return render_json(report), render_sarif(report, "test"), report.summary, files

    in_memory = run("memory", 1)
    monkeypatch.setattr(ftdata.findings, "MEMORY_LIMIT", 3)
    assert run("disk", 1) == in_memory
    assert in_memory[2]["rejected_records"] > 0 and in_memory[2]["warnings"] > 0
