import json
import random
import sys
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import ftdata
from ftdata.cli import main
from ftdata.dedup.split import TRAIN, assign_splits

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from planted import planted_corpus  # noqa: E402


def _chat(text: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": "Continue."}, {"role": "assistant", "content": text}]})


def test_planted_clusters_found_and_conservation_holds(tmp_path):
    texts, groups = planted_corpus(400, seed=11)
    source = tmp_path / "train.jsonl"
    source.write_text("\n".join(_chat(t) for t in texts + texts[:5]) + "\n")
    clean, rejected = tmp_path / "clean.jsonl", tmp_path / "rejected.jsonl"
    config = ftdata.config.config_from_table({"severity": {"D002": "error"}})
    report = ftdata.check([source], config, clean=clean, rejected=rejected)
    stats = report.stats["duplicates"]
    assert stats["records"] == 405
    copies = [f for f in report.findings if f.code == "D001" and f.line > 400]  # (edits may also make copies)
    assert sorted(f.line for f in copies) == list(range(401, 406))
    assert all(f.related[0].line == f.line - 400 for f in copies)
    near_lines = {f.line for f in report.findings if f.code in ("D001", "D002") and f.line <= 400}
    planted_copies = {member + 1 for g in groups for member in g[1:]}
    assert len(near_lines & planted_copies) >= 0.95 * len(planted_copies)
    assert near_lines <= {member + 1 for g in groups for member in g}  # nothing unrelated merged
    kept = clean.read_text().splitlines()
    gone = rejected.read_text().splitlines()
    assert len(kept) + len(gone) == 405 and report.rejected_records == len(gone)


def test_leakage_across_files_is_an_error_on_the_held_out_record(tmp_path):
    texts, _ = planted_corpus(50, seed=4, share=0)
    (tmp_path / "train.jsonl").write_text("\n".join(_chat(t) for t in texts[:40]) + "\n")
    (tmp_path / "test.jsonl").write_text("\n".join(_chat(t) for t in [texts[45], texts[7], texts[46]]) + "\n")
    report = ftdata.check([tmp_path / "train.jsonl", tmp_path / "test.jsonl"])
    leaks = [f for f in report.findings if f.code in ("D004", "D005")]
    assert [(f.code, f.severity, Path(f.file).name, f.line) for f in leaks] == [("D004", "error", "test.jsonl", 2)]
    assert leaks[0].related[0].line == 8 and Path(leaks[0].related[0].file).name == "train.jsonl"


def test_dedup_command_writes_kept_records_and_cluster_listing(tmp_path):
    source = tmp_path / "data.jsonl"
    rows = [_chat("Tell me a joke about cats and dogs please, a short one"), _chat("Name a prime number below ten"),
            _chat("Tell me a joke about cats and dogs please, a short one")]
    source.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["dedup", str(source), "--out", str(tmp_path / "out.jsonl"),
                                       "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.jsonl").read_text().splitlines() == rows[:2]
    listing = json.loads((tmp_path / "r.json").read_text())
    assert listing["duplicates"]["largest_clusters"][0]["members"] == [f"{source}:3"]
    assert source.read_text().splitlines() == rows  # input untouched


def test_dedup_command_warns_when_the_verification_budget_runs_out(tmp_path):
    words = "cloud billing invoice region key plan".split()  # a tiny vocabulary: LSH pairs nearly everything
    rng = random.Random(2)
    source = tmp_path / "data.jsonl"
    source.write_text("\n".join(_chat(" ".join(rng.choices(words, k=30))) for _ in range(12)) + "\n")
    # every shingle of a tiny vocabulary is boilerplate: compare whole records, as the budget is the point here
    (tmp_path / "ftdata.toml").write_text('[duplicates]\nverify-budget = 0.5\nverify-min = 0\nboilerplate = "off"\n')
    result = CliRunner().invoke(main, ["dedup", str(source), "--out", str(tmp_path / "out.jsonl"), "--report",
                                       str(tmp_path / "r.json"), "--config", str(tmp_path / "ftdata.toml")])
    assert result.exit_code == 0, result.output
    assert "warning: near-duplicate search stopped at its budget of 6 verified pairs" in result.stderr
    listing = json.loads((tmp_path / "r.json").read_text())
    assert "D006" in {f["code"] for f in listing["findings"]} and listing["duplicates"]["unverified_pairs"] > 0


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 60).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.lists(st.integers(0, n - 1), min_size=2, max_size=6, unique=True), max_size=8),
    st.floats(0, 0.45), st.floats(0, 0.45), st.integers(0, 10), st.lists(st.sampled_from("ab"), min_size=n, max_size=n))))
def test_split_never_puts_a_cluster_in_two_splits(args):
    n, raw_clusters, val, test, seed, strata = args
    clusters, seen = [], set()
    for c in raw_clusters:  # clusters are disjoint, as resolve() makes them
        c = [m for m in c if m not in seen]
        seen.update(c)
        if len(c) > 1:
            clusters.append(c)
    splits = assign_splits(n, clusters, val=val, test=test, seed=seed, strata=strata)
    assert len(splits) == n
    for c in clusters:
        assert len({splits[m] for m in c}) == 1
    assert splits == assign_splits(n, clusters, val=val, test=test, seed=seed, strata=strata)
    assert sum(s != TRAIN for s in splits) <= round(val * n) + round(test * n) + 2  # at most rounding per stratum


def test_split_command_keeps_clusters_together(tmp_path):
    texts, groups = planted_corpus(300, seed=8)
    source = tmp_path / "all.jsonl"
    source.write_text("\n".join(_chat(t) for t in texts) + "\n")
    result = CliRunner().invoke(main, ["split", str(source), "--val", "0.2", "--test", "0.2", "--seed", "1",
                                       "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    where, written = {}, 0
    for name in ("train", "val", "test"):
        lines = (tmp_path / "out" / f"all.{name}.jsonl").read_text().splitlines()
        written += len(lines)
        where.update(dict.fromkeys(lines, name))
    assert written == 300
    rows = source.read_text().splitlines()
    assert all(len({where[rows[m]] for m in g}) == 1 for g in groups)
    assert 40 <= len((tmp_path / "out" / "all.val.jsonl").read_text().splitlines()) <= 80


def test_real_public_files(shared_data):
    for name in ("llamafactory__dpo_en_demo.json", "fastchat__dummy_conversation.json",
                 "llamafactory__glaive_toolcall_en_demo.json", "openai-cookbook__toy_chat_fine_tuning.jsonl"):
        report = ftdata.check([shared_data / name])
        assert report.stats["duplicates"]["records"] > 0
    report = ftdata.check([shared_data / "stanford_alpaca__alpaca_data.json"])
    stats = report.stats["duplicates"]
    assert stats["records"] == 52002
    assert 0 < stats["duplicates"] < 0.01 * 52002
    assert stats["largest_clusters"] and stats["bytes_per_record"] < 100  # 52: the band keys wait on disk
