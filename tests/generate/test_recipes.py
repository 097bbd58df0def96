"""Recipes as data, items, estimates: no server needed."""

import json
import re

import pytest
from click.testing import CliRunner

from ftdata.cli import main
from ftdata.errors import UsageError
from ftdata.generate import builtin_recipes, load_recipe
from ftdata.generate.recipes import render
from ftdata.generate.run import _items

SHIPPED = ["answers", "evolve", "paraphrase", "self-instruct", "structured"]


def test_the_five_recipes_ship_and_load():
    assert builtin_recipes() == SHIPPED
    for name in SHIPPED:
        recipe = load_recipe(name)
        assert recipe.tag == f"{name}@{recipe.version}" and recipe.steps and recipe.record


def test_a_user_recipe_extends_a_shipped_one(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('extends = "answers"\nname = "mine"\nversion = 3\n')
    recipe = load_recipe(str(path))
    assert (recipe.name, recipe.version, recipe.steps) == ("mine", 3, load_recipe("answers").steps)


@pytest.mark.parametrize("text, message", [
    ('name = "x"\nversion = 1\nsteps = []\n[record]\nmessages = [{role = "user", content = "a"}]\n', "at least one step"),
    ('name = "x"\nversion = 1\ncolour = 1\nsteps = []\n[record]\n', "unknown recipe keys ['colour']"),
    ('name = "x"\nversion = 1\n[[steps]]\nname = "a"\nparse = "yaml"\nmessages = [{role = "user", content = "a"}]\n'
     '[record]\nmessages = [{role = "user", content = "a"}]\n', "parse must be one of text, line, json"),
    ('name = "x"\nversion = 1\n[[steps]]\nname = "a"\nmessages = [{role = "user", content = "{{ a"}]\n'
     '[record]\nmessages = [{role = "user", content = "a"}]\n', "template error at line 1"),
    ('name = "x"\nversion = 1\n[[steps]]\nname = "a"\nparams = { max_token = 5 }\nmessages = [{role = "user", content = "a"}]\n'
     '[record]\nmessages = [{role = "user", content = "a"}]\n', "unknown request parameter 'max_token' (did you mean max_tokens?)"),
])
def test_a_bad_recipe_is_one_line_naming_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        load_recipe(str(path))


def test_an_empty_message_is_left_out_and_an_unknown_variable_is_named():
    messages = [{"role": "system", "content": "{{ system }}"}, {"role": "user", "content": "{{ prompt }}"}]
    assert render(messages, {"system": "", "prompt": "hi"}, "here") == [{"role": "user", "content": "hi"}]
    with pytest.raises(UsageError, match="'prompt' is undefined; known variables: system"):
        render(messages, {"system": ""}, "here")


def test_self_instruct_draws_are_fixed_by_the_seed(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"prompt": f"task {i}"}) + "\n" for i in range(20)))
    recipe = load_recipe("self-instruct")
    first = [i.variables["examples"] for i in _items(recipe, None, [str(seeds)], 5, 7, "")]
    assert first == [i.variables["examples"] for i in _items(recipe, None, [str(seeds)], 5, 7, "")]
    assert first != [i.variables["examples"] for i in _items(recipe, None, [str(seeds)], 5, 8, "")]
    assert all(len(set(examples)) == 3 for examples in first)


def _dry_run(tmp_path, recipe: str, prompts_text: str, *options: str) -> dict:
    """The JSON report of a --dry-run over these prompt lines (nothing listens at the base URL)."""
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(prompts_text)
    result = CliRunner().invoke(main, ["generate", "--recipe", recipe, "--prompts", str(prompts), "--out",
                                       str(tmp_path / "out.jsonl"), "--model", "gpt-4o-mini", "--provider", "openai",
                                       "--base-url", "http://127.0.0.1:9/v1", "--no-cache", "--dry-run",
                                       *options, "--output-format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_dry_run_estimates_without_calling(tmp_path):
    estimate = _dry_run(tmp_path, "evolve", '{"prompt": "What is two plus two?"}\n{"prompt": "Name a colour."}\n',
                        "-p", "max_tokens=100")["estimate"]
    assert estimate["calls"] == 4 and estimate["max_completion_tokens"] == 400 and estimate["approximate"]
    assert estimate["cost_usd_high"] > 0
    assert not (tmp_path / "out.jsonl").exists()


def test_usage_errors_exit_2_with_one_line(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "o.jsonl")
    cases = [(["--recipe", "self-instruct", "--out", out, "--model", "m", "--base-url", "http://x/v1"], "give --seed-file"),
             (["--recipe", "answers", "--out", out, "--base-url", "http://x/v1"], "no model"),
             (["--recipe", "structured", "--prompts", __file__, "--out", out, "--model", "m", "--base-url", "http://x/v1"],
              "needs --schema"),
             (["--recipe", "answers", "--prompts", str(tmp_path / "none.jsonl"), "--out", out, "--model", "m",
               "--base-url", "http://x/v1", "--max-cost", "1"], "--max-cost needs a price")]
    for args, message in cases:
        result = runner.invoke(main, ["generate", *args, "--no-cache"])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output


def test_prompt_records_without_a_usable_prompt_are_named_not_dropped_silently(tmp_path):
    report = _dry_run(tmp_path, "answers", '{"prompt": "ok?"}\nnot json\n{"text": "plain text"}\n{"prompt": ""}\n')
    assert report["items"] == 1
    assert [u.split(":")[1] for u in report["unread"]] == ["2", "3", "4"]
    assert "F001" in report["unread"][0]


def test_an_unknown_request_parameter_is_a_usage_error_and_extra_body_passes_through(tmp_path):
    prompts = '{"prompt": "Name a colour."}\n'
    (tmp_path / "prompts.jsonl").write_text(prompts)
    result = CliRunner().invoke(main, ["generate", "--recipe", "answers", "--prompts", str(tmp_path / "prompts.jsonl"),
                                       "--out", str(tmp_path / "out.jsonl"), "--model", "m", "--no-cache",
                                       "--base-url", "http://127.0.0.1:9/v1", "-p", "max_token=5"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "unknown request parameter 'max_token' (did you mean max_tokens?)" in result.output
    assert "temperature" in result.output and "extra_body" in result.output
    assert not (tmp_path / "out.jsonl").exists()
    # a server's own parameter, passed under extra_body, is accepted (and is part of the estimate's requests)
    assert _dry_run(tmp_path, "answers", prompts, "-p", "extra_body.top_k=40", "-p", "max_tokens=8")["items"] == 1
