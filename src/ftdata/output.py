"""Rendering a report: text (grouped, with a summary table), json, github annotations, sarif.

The machine formats come as chunks of text (`*_chunks`), written one finding at a time, so that a
report of millions of findings never sits in memory whole; `render_*` joins them for small reports.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any, TextIO

import orjson

from . import __name__ as package
from .catalogue import all_rules
from .printable import json_bytes, printable_json, terminal
from .report import SCHEMA_VERSION, Report

FORMATS = ("text", "json", "github", "sarif")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_UNBOUNDED = 1 << 16  # a width no line reaches


def render_json(report: Report) -> str:
    return "".join(json_chunks(report))


def json_chunks(report: Report) -> Iterator[str]:
    """The report's JSON (as `json.dumps(report.to_json(), indent=2)` would write it), piece by piece."""
    yield f'{{\n  "version": {SCHEMA_VERSION},\n  "summary": {_nested(report.summary, 1)},\n  "findings": '
    yield from _array((f.to_json() for f in report.findings), 1)
    yield f',\n  "stats": {_nested(report.stats, 1)}\n}}'


def _nested(value: Any, level: int) -> str:
    return json.dumps(printable_json(value), indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


def _array(items: Iterator[dict[str, Any]], level: int) -> Iterator[str]:
    """A JSON array of findings, indented as json.dumps would: orjson writes the same bytes faster for
    items that hold no floats (where the two libraries' number formats could differ)."""
    inside = "\n" + "  " * (level + 1)
    opening = "["
    for item in items:
        yield opening + inside + json_bytes(item, orjson.OPT_INDENT_2).decode().replace("\n", inside)
        opening = ","
    yield "[]" if opening == "[" else "\n" + "  " * level + "]"


def render_github(report: Report) -> str:
    return "".join(github_chunks(report))


def github_chunks(report: Report) -> Iterator[str]:
    newline = ""
    for f in report.findings:
        level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        where = ",".join(p for p in (f"file={terminal(f.file)}" if f.file else "", f"line={f.line}" if f.line else "") if p)
        message = terminal(f"{f.field + ': ' if f.field else ''}{f.message}").replace("%", "%25")
        yield f"{newline}::{level} {where + ',' if where else ''}title={f.code} {f.name}::{message}"
        newline = "\n"


def render_sarif(report: Report, version: str) -> str:
    return "".join(sarif_chunks(report, version))


def sarif_chunks(report: Report, version: str) -> Iterator[str]:
    rules = all_rules()
    used = sorted(report.findings.codes)
    driver = {
        "name": package,
        "version": version,
        "rules": [
            {"id": code, "name": rules[code].name, "shortDescription": {"text": rules[code].summary},
             "fullDescription": {"text": rules[code].doc},
             "defaultConfiguration": {"level": _SARIF_LEVEL[rules[code].severity]}}
            for code in used
        ],
    }
    yield ('{\n  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",\n  "version": "2.1.0",\n'
           f'  "runs": [\n    {{\n      "tool": {{\n        "driver": {_nested(driver, 4)}\n      }},\n      "results": ')
    yield from _array(_sarif_results(report), 3)
    yield "\n    }\n  ]\n}"


def _sarif_results(report: Report) -> Iterator[dict[str, Any]]:
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.field + ': ' if f.field else ''}{f.message}"},
        }
        if f.file:
            location: dict[str, Any] = {"artifactLocation": {"uri": f.file}}
            if f.line:
                location["region"] = {"startLine": f.line}
            result["locations"] = [{"physicalLocation": location}]
        if f.related:
            result["relatedLocations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": r.file}, **({"region": {"startLine": r.line}} if r.line else {})}}
                for r in f.related
            ]
        yield result


def console(stream: TextIO, color: bool | None = None):
    """A rich console on `stream`. Off a terminal (CI logs, a file) nothing is wrapped or cut: lines are as
    long as their text; colour only on a terminal unless `color` says."""
    from rich.console import Console

    terminal = stream.isatty()
    return Console(file=stream, highlight=False, soft_wrap=not terminal, width=None if terminal else _UNBOUNDED,
                   force_terminal=color, no_color=True if color is False else None)  # None: NO_COLOR decides


def render_statistics(report: Report, console) -> None:
    """How many findings of each rule, most first (as `ruff --statistics`)."""
    rules = all_rules()
    for code, count in sorted(report.findings.codes.items(), key=lambda item: (-item[1], item[0])):
        console.print(f"{count:>9,}  {code}  {rules[code].name}", highlight=False, markup=False)


def statistics_json(report: Report) -> str:
    rules = all_rules()
    return json.dumps([{"code": code, "name": rules[code].name, "count": count}
                       for code, count in sorted(report.findings.codes.items(), key=lambda item: (-item[1], item[0]))],
                      indent=2)


def render_text(report: Report, console, max_per_rule: int = 20, summary: bool = True) -> None:
    """Findings grouped by rule (the first `max_per_rule` of each), then (unless not `summary`) a summary
    table, the token block and the verdict."""
    shown: dict[str, list] = defaultdict(list)  # the first of each rule, in report order
    per_file: dict[str | None, Counter] = defaultdict(Counter)
    for f in report.findings:
        if len(shown[f.code]) < max_per_rule:
            shown[f.code].append(f)
        per_file[f.file][f.severity] += 1
    rules = all_rules()
    for code, found in shown.items():
        rule, total = rules[code], report.findings.codes[code]
        console.print(f"[{_STYLE[found[0].severity]}]{code} {rule.name}[/] ({total}): {rule.summary}", highlight=False)
        for f in found:
            place = _shown(f"{f.file}:{f.line}" if f.line else (f.file or "dataset"))
            field = f" [dim]{_shown(f.field)}[/]" if f.field else ""
            related = f" [dim](see {', '.join(_shown(f'{r.file}:{r.line}') for r in f.related[:3])})[/]" if f.related else ""
            console.print(f"  {place}{field}: {_shown(f.message)}{related}", highlight=False, markup=True, soft_wrap=True)
        if total > len(found):
            console.print(f"  [dim]... and {total - len(found)} more (--output-format json lists all)[/]")
    if summary:
        _render_summary(report, per_file, console)


def _render_summary(report: Report, per_file: dict[str | None, Counter], console) -> None:
    from rich.table import Table

    summary = report.summary
    table = Table(title=f"ftdata check ({summary['target']} target)", show_header=True, header_style="bold")
    for column in ("input", "split", "records", "clean", "errors", "warnings", "info"):
        table.add_column(column, justify="left" if column in ("input", "split") else "right")
    for source in summary["inputs"]:
        counts = per_file[source["path"]]
        table.add_row(_shown(source["path"]), source["split"], str(source["records"]),
                      str(source["records"] - source["rejected_records"]),
                      str(counts["error"]), str(counts["warning"]), str(counts["info"]))
    if per_file.get(None):
        counts = per_file[None]
        table.add_row("(dataset)", "", "", "", str(counts["error"]), str(counts["warning"]), str(counts["info"]))
    console.print(table)
    if "tokens" in report.stats:
        _render_tokens(report.stats["tokens"], console)
    verdict = "[bold red]errors found[/]" if summary["errors"] else "[bold green]no errors[/]"
    console.print(f"{summary['records']} records, {summary['clean_records']} clean, {summary['rejected_records']} rejected: {verdict}")


def _shown(text: str) -> str:
    """Dataset text (a key, a file name, a message quoting them) inside rich markup: shown as it is, never
    taken for markup or sent to the terminal as a control character."""
    from rich.markup import escape

    return escape(terminal(text))


def _render_tokens(stats: dict[str, Any], console, cheapest: int = 3) -> None:
    """A few lines from the tokens stage: counts, per-record lengths, the cost of training, the reference."""
    from rich.markup import escape

    per_record = stats["tokens_per_record"]
    limit = f", limit {stats['limit']:,}" if stats.get("limit") else ""
    model = f" for {stats['model']}" if stats.get("model") and limit else ""
    approximate = ", approximate" if stats.get("approximate") else ""
    console.print(f"[bold]Tokens[/] ({escape(stats['tokenizer'])}{approximate}{limit}{model}): {stats['total_tokens']:,} total, "
                  f"{stats['trainable_tokens']:,} trainable", highlight=False)
    if per_record["count"]:
        console.print(f"  per record: p50 {_number(per_record['p50'])}, p95 {_number(per_record['p95'])}, "
                      f"max {_number(per_record['max'])} ({per_record['count']:,} record{'s' if per_record['count'] != 1 else ''})", highlight=False)
    cost = stats.get("cost") or {}
    options = cost.get("options") or []
    if cost.get("examples") and options:
        chosen = [o for o in options if o["model"] == stats.get("model")]
        rows = chosen or options[:cheapest]
        heading = f"cost of training {stats['model']}" if chosen else f"cheapest of {len(options)} priced options"
        console.print(f"  {heading} ({cost['examples']:,} examples):", highlight=False)
        for o in rows:
            console.print(f"    {escape(o['provider'])} {escape(o['model'])} {o['method']}: {_usd(o)} for {o['epochs']} "
                          f"epochs, {o['billed_tokens']:,} billed tokens", highlight=False)
        console.print("  [dim]every option: ftdata cost, or the JSON report's stats.tokens.cost[/]", highlight=False)
    reference = stats.get("reference")
    if reference:
        ratios = reference["train_to_reference_ratio"]
        console.print(f"  prompt lengths vs {escape(reference['source'])}: train/reference median {ratios['p50']}, "
                      f"p90 {ratios['p90']} (KS {reference['ks_statistic']}, p={reference['p_value']})", highlight=False)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _usd(option: dict[str, Any]) -> str:
    low, high = f"{option['training_usd']:,.2f}", option.get("training_usd_high")
    high = f"{high:,.2f}" if high is not None else low
    return f"${low}" if high == low else f"${low}-{high}"  # a range that rounds to one figure shows one
