"""Rendering a report: text (grouped, with a summary table), json, github annotations, sarif."""

import json
from collections import Counter, defaultdict
from typing import Any

from . import __name__ as package
from .catalogue import all_rules
from .report import Report

FORMATS = ("text", "json", "github", "sarif")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def render_github(report: Report) -> str:
    lines = []
    for f in report.findings:
        level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        where = ",".join(p for p in (f"file={f.file}" if f.file else "", f"line={f.line}" if f.line else "") if p)
        message = f"{f.field + ': ' if f.field else ''}{f.message}".replace("%", "%25").replace("\n", "%0A")
        lines.append(f"::{level} {where + ',' if where else ''}title={f.code} {f.name}::{message}")
    return "\n".join(lines)


def render_sarif(report: Report, version: str) -> str:
    rules = all_rules()
    used = sorted({f.code for f in report.findings})
    results: list[dict[str, Any]] = []
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
        results.append(result)
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
    return json.dumps({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }, indent=2, ensure_ascii=False)


def render_text(report: Report, console, max_per_rule: int = 20) -> None:
    """Findings grouped by rule (the first `max_per_rule` of each), then a summary table."""
    from rich.table import Table

    by_code: dict[str, list] = defaultdict(list)
    for f in report.findings:
        by_code[f.code].append(f)
    rules = all_rules()
    for code, found in by_code.items():
        rule = rules[code]
        console.print(f"[{_STYLE[found[0].severity]}]{code} {rule.name}[/] ({len(found)}): {rule.summary}", highlight=False)
        for f in found[:max_per_rule]:
            place = f"{f.file}:{f.line}" if f.line else (f.file or "dataset")
            field = f" [dim]{f.field}[/]" if f.field else ""
            related = f" [dim](see {', '.join(f'{r.file}:{r.line}' for r in f.related[:3])})[/]" if f.related else ""
            console.print(f"  {place}{field}: {f.message}{related}", highlight=False, markup=True, soft_wrap=True)
        if len(found) > max_per_rule:
            console.print(f"  [dim]... and {len(found) - max_per_rule} more (--output-format json lists all)[/]")
    summary = report.summary
    table = Table(title=f"ftdata check ({summary['target']} target)", show_header=True, header_style="bold")
    for column in ("input", "split", "records", "clean", "errors", "warnings", "info"):
        table.add_column(column, justify="left" if column in ("input", "split") else "right")
    per_file: dict[str | None, Counter] = defaultdict(Counter)
    rejected_per_file: Counter = Counter()
    for f in report.findings:
        per_file[f.file][f.severity] += 1
    for f in report.findings:
        if f.index is not None and f.severity == "error":
            rejected_per_file[(f.file, f.index)] = 1
    rejected_by_file = Counter(file for file, _ in rejected_per_file)
    for source in summary["inputs"]:
        counts = per_file[source["path"]]
        table.add_row(source["path"], source["split"], str(source["records"]),
                      str(source["records"] - rejected_by_file[source["path"]]),
                      str(counts["error"]), str(counts["warning"]), str(counts["info"]))
    if per_file.get(None):
        counts = per_file[None]
        table.add_row("(dataset)", "", "", "", str(counts["error"]), str(counts["warning"]), str(counts["info"]))
    console.print(table)
    if "tokens" in report.stats:
        _render_tokens(report.stats["tokens"], console)
    verdict = "[bold red]errors found[/]" if summary["errors"] else "[bold green]no errors[/]"
    console.print(f"{summary['records']} records, {summary['clean_records']} clean, {summary['rejected_records']} rejected: {verdict}")


def _render_tokens(stats: dict[str, Any], console, cheapest: int = 3) -> None:
    """A few lines from the tokens stage: counts, per-record lengths, the cost of training, the reference."""
    from rich.markup import escape

    per_record = stats["tokens_per_record"]
    limit = f", limit {stats['limit']:,}" if stats.get("limit") else ""
    model = f" for {stats['model']}" if stats.get("model") and limit else ""
    console.print(f"[bold]Tokens[/] ({escape(stats['tokenizer'])}{limit}{model}): {stats['total_tokens']:,} total, "
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
        console.print(f"  [dim]every option: ftdata cost, or the JSON report's stats.tokens.cost[/]", highlight=False)
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
