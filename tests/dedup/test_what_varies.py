"""Duplicates are judged on what varies: boilerplate left out, images and tool calls in the key, answers compared,
and an identical repeat always an exact duplicate (fixtures in tests/dedup/fixtures)."""

import json
import sys
from pathlib import Path

from click.testing import CliRunner

import ftdata
from ftdata.cli import main
from ftdata.config import config_from_table
from ftdata.records import Example
from ftdata.dedup.text import image_ids

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from planted import planted_corpus  # noqa: E402

FIXTURES = Path(__file__).with_name("fixtures")


def findings(path: Path, **duplicates) -> list[tuple[str, int, list[int]]]:
    config = config_from_table({"select": ["D"], "duplicates": duplicates})
    report = ftdata.check([path], config)
    return [(f.code, f.line, [r.line for r in f.related]) for f in report.findings]


def test_tool_use_records_sharing_system_prompt_and_tools_differ_by_ask_and_call():
    path = FIXTURES / "tool_use.jsonl"  # 21 records: a 1.5K system prompt and 8 tools in each, asks and calls vary
    assert findings(path) == [("D002", 21, [1])]  # only "Please play Bohemian Rhapsody" repeats line 1
    whole = findings(path, boilerplate="off")  # compared whole, the shared parts make distinct asks alike
    assert len(whole) > 1 and ("D002", 21, [1]) in whole  # e.g. shuffle on and off (line 12 of 11)


def test_multiple_choice_template_is_left_out():
    path = FIXTURES / "multiple_choice.jsonl"  # 10 distinct questions in one long template
    assert findings(path) == []
    assert [code for code, *_ in findings(path, boilerplate="off")] == ["D002"] * 3


def test_same_question_about_other_images_is_another_record():
    # 12 records ask one question about 12 images (half answer "Yes."); line 13 repeats line 4 whole; line 14
    # asks about line 6's image again with another answer; lines 15-17 ask one question about 3 images (LLaVA)
    assert findings(FIXTURES / "images.jsonl") == [("D001", 13, [4]), ("D003", 14, [6])]


def _example(data: dict) -> Example:
    return Example(index=0, file="f", line=1, raw=json.dumps(data).encode(), data=data, messages=[])


def test_image_ids_of_every_layout():
    trl = {"messages": [{"role": "user", "content": [{"type": "image", "image": "/a.jpg"}, {"type": "text", "text": "?"}]}]}
    openai = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.jpg"}}]}]}
    gemini = {"contents": [{"role": "user", "parts": [{"fileData": {"mimeType": "image/png", "fileUri": "gs://b/a.png"}}]}]}
    llava = {"messages": [{"role": "user", "content": "<image>?"}], "images": ["a.png", "b.png"]}
    ids = [image_ids(_example(d)) for d in (trl, openai, gemini, llava)]
    assert [len(i) for i in ids] == [1, 1, 1, 2]
    assert len({i[0] for i in ids}) == 4  # each reference its own id
    other = dict(trl, messages=[{"role": "user", "content": [{"type": "image", "image": "/b.jpg"}]}])
    assert image_ids(_example(other)) != ids[0]
    assert image_ids(_example({"messages": [{"role": "user", "content": "no picture"}]})) == []


def _chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def test_identical_repeat_of_a_near_duplicate_is_an_exact_duplicate(tmp_path):
    original = ("Sunlight is scattered by the molecules of the air, and blue light, with its shorter wavelength, is "
                "scattered much more than red light, so the sky looks blue from every direction at noon.")
    near = original.replace("much more", "far more").replace("at noon", "at midday")
    rows = [_chat("Why is the sky blue?", original), _chat("Why is the sky blue?", near), _chat("Why is the sky blue?", near)]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert findings(path) == [("D002", 2, [1]), ("D001", 3, [2, 1])]
    clean = tmp_path / "clean.jsonl"
    ftdata.check([path], config_from_table({}), clean=clean)  # D001 is an error: --clean drops the repeat
    assert clean.read_text().splitlines() == [json.dumps(r) for r in rows[:2]]


def test_held_out_repeats_of_a_training_copy_and_of_a_near_copy(tmp_path):
    original = ("Mix flour, eggs and milk into a smooth batter, rest it for ten minutes, then fry thin layers in a hot "
                "buttered pan until golden on both sides, and serve them warm with lemon and sugar.")
    near = original.replace("ten minutes", "twenty minutes").replace("warm", "hot")
    (tmp_path / "train.jsonl").write_text(json.dumps(_chat("How do I make pancakes?", original)) + "\n")
    held_out = [_chat("How do I make pancakes?", near), _chat("How do I make pancakes?", near),
                _chat("How do I make pancakes?", original)]
    (tmp_path / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in held_out))
    report = ftdata.check([tmp_path / "train.jsonl", tmp_path / "val.jsonl"], config_from_table({"select": ["D"]}))
    assert [(f.code, f.line) for f in report.findings] == [("D005", 1), ("D005", 2), ("D004", 3)]


def test_dedup_command_keeps_distinct_tool_use_records(tmp_path):
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["dedup", str(FIXTURES / "tool_use.jsonl"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 20


def test_split_outputs_hold_no_leak_by_checks_own_definition(tmp_path):
    texts, groups = planted_corpus(300, seed=21)
    system = {"role": "system", "content": (FIXTURES / "multiple_choice.jsonl").read_text()[:600]}  # a long shared prompt
    rows = [{"messages": [system, {"role": "user", "content": "Summarise the notes."}, {"role": "assistant", "content": t}]}
            for t in texts]
    source = tmp_path / "data.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(main, ["split", str(source), "--val", "0.2", "--test", "0.2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    parts = [tmp_path / f"data.{name}.jsonl" for name in ("train", "val", "test")]
    assert sum(len(p.read_text().splitlines()) for p in parts) == 300
    report = ftdata.check(parts, config_from_table({"select": ["D"]}))
    assert not [f for f in report.findings if f.code in ("D004", "D005")]
    near = [f for f in report.findings if f.code in ("D001", "D002")]
    assert len(near) >= 0.9 * sum(len(g) - 1 for g in groups)  # the planted copies are still found (44 here), within splits


def test_one_template_worked_with_other_numbers_is_another_example(tmp_path):
    ask = "Hi, I need help with calculating the tip for my bill. The total bill amount is ${} and I want to give a 15% tip."
    answer = "The tip amount for your bill is ${}. Let me know if you need anything else calculated today."
    rows = [_chat(ask.format(100), answer.format(15)), _chat(ask.format(50), answer.format(7.5)),
            _chat(ask.format(100) + " Thanks!", answer.format(15))]  # the last: line 1 with one more word
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert findings(path) == [("D002", 3, [1])]


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_one_answer_template_about_other_systems_is_another_example(tmp_path):
    # moj-laa-architect-info's answers: one template filled with the system each prompt names
    answer = ("HMCTS are replacing the Libra system with a new service called Common Platform. Once the replacement is "
              "complete, the Legal Aid Agency will no longer need {} and it can be decommissioned.")
    rows = [_chat("What is the future of InfoX", answer.format("InfoX")),
            _chat("What is the future of NoLASA", answer.format("NoLASA")),
            _chat("What's the future of InfoX?", answer.format("InfoX").replace("no longer", "not"))]
    assert findings(_write(tmp_path, rows)) == [("D002", 3, [1])]  # reworded, about the same system


def test_an_acronym_names_what_its_words_name(tmp_path):
    states = "Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida, Georgia, Hawaii"
    rows = [_chat("List the states in the United States of America in alphabetical order.",
                  f"The states of the United States of America in alphabetical order are {states}."),
            _chat("List all the states in the US in alphabetical order.", f"The states in the United States are {states}.")]
    assert findings(_write(tmp_path, rows)) == [("D002", 2, [1])]


def _conversation(*turns: str) -> dict:
    return {"messages": [{"role": "user" if k % 2 == 0 else "assistant", "content": t} for k, t in enumerate(turns)]}


OPENING = ("Why is energy so important in the world?",
           "Without energy, the world would be a very different place. We would be unable to move or change anything "
           "because energy is essential for all the technology and comforts we enjoy every single day.",
           "Do you have any examples of how energy is used in our daily lives?",
           "Imagine waking up in the morning and not being able to turn on the lights or cook breakfast. You would have "
           "to go outside to gather firewood to make a fire just to cook your food before school.")
CLOSING = ("Are there any ways to conserve energy?",
           "There are many ways to conserve energy. Turn off lights when you leave a room, unplug electronics when you "
           "are not using them, and walk or take public transportation instead of driving whenever possible.")


def test_a_conversation_with_another_exchange_is_another_example(tmp_path):
    # allyarc line 923 against 922: the same opening and close, another exchange between them
    ran_out = ("What would happen if we ran out of energy?",
               "If we ran out of energy, our lives would change drastically and we would need new ways to do everything.")
    too_much = ("What would happen if we used too much energy?",
                "Using too much harms the environment: burning fossil fuels releases pollutants into the air we breathe.")
    rows = [_conversation(*OPENING, *ran_out, *CLOSING), _conversation(*OPENING, *too_much, *CLOSING)]
    assert findings(_write(tmp_path, rows)) == []


def test_a_record_extending_another_is_kept_in_its_place(tmp_path):
    # allyarc lines 72 and 74: the later record holds every exchange of the earlier and one more
    more = ("I want to join the school's debate team. How can I prepare?",
            "Joining the debate team is a great way to develop skills: follow current events, practise public speaking "
            "and build arguments supported by evidence and reasoning.")
    rows = [_conversation(*OPENING, *CLOSING), _conversation(*OPENING, *more, *CLOSING)]
    assert findings(_write(tmp_path, rows)) == [("D002", 1, [2])]  # the shorter goes, the longer is kept
