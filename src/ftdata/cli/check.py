"""`ftdata check`: run every stage over the inputs; print findings; write clean/rejected outputs."""

import dataclasses
import json
import sys
import tomllib
from pathlib import Path

import click

from .. import catalogue
from ..config import Config, Policy, load_config
from ..errors import EXIT_OK, InputError, UsageError
from ..output import (FORMATS, console, github_chunks, json_chunks, render_statistics, render_text, sarif_chunks,
                      statistics_json)
from ..outputs import atomic_writer, claim_outputs
from ..pipeline import as_inputs, check, clean_outputs
from ..quality.consistency import schema_validator
from ..stages.base import InputFile
from . import force_option, main, package_version


def _list(values: tuple[str, ...]) -> list[str] | None:
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    return items or None


def _stage_options(pairs: tuple[str, ...]) -> dict[str, dict]:
    options: dict[str, dict] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        stage, dot, option = key.partition(".")
        if not sep or not dot:
            raise UsageError(f"--option takes STAGE.OPTION=VALUE, not {pair!r}")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value  # a bare word is a string
        options.setdefault(stage, {})[option] = parsed
    return options


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--train", "train", multiple=True, help="An input to treat as training data.")
@click.option("--val", "val", multiple=True, help="An input to treat as validation data.")
@click.option("--test", "test", multiple=True, help="An input to treat as test data.")
@click.option("-t", "--target", help="Provider profile: generic, openai, together, fireworks, mistral, vertex, or a .toml path.")
@click.option("--format", "input_format", help="Read every record as this format instead of detecting it.")
@click.option("--model", help="The model to be fine-tuned (chooses tokenizer, limits and prices).")
@click.option("--tokenizer", help="Tokenizer: a tiktoken encoding, hf:<model or path>, or mistral:<name>.")
@click.option("--reference", type=click.Path(dir_okay=False),
              help="Production traffic (JSONL, or token counts) to compare training lengths with (rule K003).")
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes or names, comma-separated (default: all).")
@click.option("--extend-select", multiple=True, help="Rules to run in addition to the selection.")
@click.option("--ignore", multiple=True, help="Rules not to run, comma-separated.")
@click.option("-o", "--option", "stage_options", multiple=True, metavar="STAGE.OPTION=VALUE",
              help="Set a stage option, as in [tool.ftdata.STAGE] (e.g. read.max-record-bytes=1000000).")
@click.option("--output-schema", type=click.Path(dir_okay=False),
              help="A JSON Schema file every assistant output must satisfy (rule C102; consistency.output-schema).")
@click.option("--strict", is_flag=True, default=None, help="Exit 1 on warnings too.")
@click.option("--output-format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Also write the JSON report to this file.")
@click.option("--clean", type=click.Path(dir_okay=False), help="Write records without errors here ('{stem}' templates for several inputs).")
@click.option("--rejected", type=click.Path(dir_okay=False), help="Write rejected records with their reasons here (JSON Lines).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Config file (default: the nearest ftdata.toml or pyproject.toml [tool.ftdata] from the first input's folder upwards, else from the working directory).")
@click.option("-j", "--jobs", type=click.IntRange(min=0), help="Worker processes (default: one per core; 1: no workers).")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when errors are found (usage and I/O errors still exit 2).")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only: no summary, token block or progress bar.")
@click.option("--statistics", is_flag=True, help="Print how many findings of each rule instead of the findings (text or json).")
@click.option("--show-settings", is_flag=True, help="Print the settings in effect (config file and flags merged) and exit.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour in text output (auto: on a terminal only).")
@force_option
def check_command(paths, train, val, test, target, input_format, model, tokenizer, reference, select, extend_select,
                  ignore, stage_options, output_schema, strict, output_format, report_path, clean, rejected,
                  config_path, jobs, no_progress, exit_zero, quiet, statistics, show_settings, color, force):
    """Check fine-tuning datasets (JSONL, .json arrays, Parquet, '-' for stdin)."""
    first_input = next(iter([*paths, *train, *val, *test]), None)
    config = load_config(Path(config_path) if config_path else None, near=first_input)
    extra = _stage_options(stage_options)
    if reference:
        if not Path(reference).is_file():  # before the run, whether or not the tokens stage is selected
            raise InputError(f"{reference}: reference file not found (--reference)")
        extra.setdefault("tokens", {})["reference"] = reference
    if output_schema:
        schema_validator(output_schema)  # an unreadable or invalid schema stops the run before it starts
        extra.setdefault("consistency", {})["output-schema"] = output_schema
    config = config.replace(
        target=target, format=input_format, model=model, tokenizer=tokenizer, strict=strict,
        jobs=jobs, select=_list(select), extend_select=_list(extend_select), ignore=_list(ignore),
        stage_options={**config.stage_options, **{k: {**config.stage_options.get(k, {}), **v} for k, v in extra.items()}},
    )
    if show_settings:
        click.echo(_settings(config))
        return
    if statistics and output_format not in ("text", "json"):
        raise UsageError(f"--statistics prints text or json, not {output_format}")
    inputs = as_inputs([*paths, *(InputFile(p, "train") for p in train), *(InputFile(p, "val") for p in val),
                        *(InputFile(p, "test") for p in test)]) if (paths or train or val or test) else []
    if not inputs:
        raise UsageError("no input files given (try `ftdata check train.jsonl`)")
    # every output at once, before the run: the report cannot land on the clean file (`check` claims
    # the clean and rejected outputs again, as its own)
    outputs = [*clean_outputs(inputs, clean).values(), *(Path(p) for p in (rejected, report_path) if p)]
    claim_outputs(outputs, [i.path for i in inputs], force)
    with _progress(enabled=not (no_progress or quiet) and sys.stderr.isatty()) as progress:
        report = check(inputs, config, clean=clean, rejected=rejected, progress=progress, force=force)
    if report_path:
        with atomic_writer(Path(report_path)) as f:
            for chunk in json_chunks(report):
                f.write(chunk.encode())
            f.write(b"\n")
    # records written to standard output (`--clean -`) keep it to themselves: the report goes to stderr
    stream = sys.stderr if "-" in (clean, rejected, report_path) else sys.stdout
    if statistics:
        if output_format == "json":
            stream.write(statistics_json(report) + "\n")
        else:
            render_statistics(report, console(stream, _COLOR[color]))
    elif output_format == "text":
        render_text(report, console(stream, _COLOR[color]), summary=not quiet)
    else:
        chunks = {"json": json_chunks, "github": github_chunks,
                  "sarif": lambda r: sarif_chunks(r, package_version())}[output_format](report)
        end = ""  # a newline after the output, and no line at all for no annotations
        for chunk in chunks:
            stream.write(chunk)
            end = "\n"
        stream.write(end)
    sys.exit(EXIT_OK if exit_zero else report.exit_code(config.strict))


_COLOR = {"auto": None, "always": True, "never": False}


def _settings(config: Config) -> str:
    """The settings a check would run with, as JSON: where they came from, every setting, and the rules
    enabled with their severity."""
    policy = Policy(config)
    rules = {code: policy.severity(code, None) for code in catalogue.all_rules() if policy.enabled(code)}
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k != "source"}
    return json.dumps({"config_file": config.source, "settings": settings, "rules": rules}, indent=2)


class _progress:
    """A rich progress bar on stderr through every phase of a run (cutting the inputs into shards, checking
    them, finishing the dataset-level stages, writing the outputs), when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.filesize import decimal
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.decimal = decimal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[amount]}"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.tasks: dict[tuple[str, str], int] = {}
        return self.update

    def update(self, phase: str, what: str, done: int, total: int | None) -> None:
        in_bytes = phase in ("cutting", "checking")  # the others count stages or records
        key = (phase, what if in_bytes else "")
        description = f"{phase} {Path(what).name if in_bytes else what}".rstrip()
        amount = (f"{self.decimal(done)}" + (f"/{self.decimal(total)}" if total else "") if in_bytes
                  else f"{done:,}" + (f"/{total:,}" if total else ""))
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(description, total=total, amount=amount)
        self.bar.update(self.tasks[key], completed=done, total=total, description=description, amount=amount)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
