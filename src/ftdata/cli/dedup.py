"""`ftdata dedup IN --out OUT [--report R]`: the duplicates stage alone; kept records to OUT."""

import sys
from pathlib import Path

import click
import orjson

from .. import catalogue
from ..config import Config, load_config
from ..errors import EXIT_OK
from ..outputs import atomic_writer, claim_outputs
from ..pipeline import check
from ..printable import json_bytes, terminal
from . import force_option, main


def dedup_config(config: Config, overrides: dict | None = None) -> Config:
    """The check configuration that dedup runs: the duplicates stage alone, both its rules errors."""
    options = {**config.stage_options.get("duplicates", {}), **(overrides or {}), "list-clusters": -1}
    # the parse and schema stages build the conversations compared here, and a stage runs only when
    # one of its rules is selected: select theirs too, as info, so that they never remove a record
    upstream = {rule.code: "info" for prefix in ("F", "S") for rule in catalogue.matching(prefix)}
    return config.replace(select=["D001", "D002", "D006", "F", "S"], severity={**upstream, "D001": "error", "D002": "error"},
                          per_file_ignores={}, stage_options={**config.stage_options, "duplicates": options})


@main.command("dedup")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Write the kept records here.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the clusters and findings as JSON here.")
@click.option("--rejected", type=click.Path(dir_okay=False), help="Write the removed records with their reasons here.")
@click.option("--threshold", type=float, help="Jaccard similarity for near-duplicates (default 0.6).")
@click.option("--shingle", help="auto, word2, word3, char5... (default auto).")
@click.option("--keep", help="first, longest, or a field whose highest value is kept (default first).")
@click.option("--exact-only", is_flag=True, help="Remove exact duplicates only.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Config file.")
@force_option
def dedup_command(source, out, report_path, rejected, threshold, shingle, keep, exact_only, config_path, force) -> None:
    """Remove exact and near-duplicate records from SOURCE, keeping one per cluster."""
    overrides = {k: v for k, v in (("threshold", threshold), ("shingle", shingle), ("keep", keep)) if v is not None}
    if exact_only:
        overrides["near"] = False
    config = dedup_config(load_config(Path(config_path) if config_path else None, near=source), overrides)
    if report_path:
        claim_outputs([Path(p) for p in (report_path, out, rejected) if p], [source], force)
    report = check([source], config, clean=out, rejected=rejected, force=force)
    stats = report.stats.get("duplicates", {})
    if report_path:
        listing = {"records": report.records, "removed": report.rejected_records, "duplicates": stats,
                   "findings": [f.to_json() for f in report.findings if f.code.startswith("D")]}
        with atomic_writer(Path(report_path)) as f:
            f.write(json_bytes(listing, orjson.OPT_INDENT_2) + b"\n")
    kept = report.records - report.rejected_records
    click.echo(f"{report.records} records: {kept} kept in {terminal(out)}, {report.rejected_records} removed "
               f"({stats.get('exact_clusters', 0)} exact and {stats.get('near_clusters', 0)} near-duplicate clusters)",
               err=True)
    for finding in report.findings:
        if finding.code == "D006":  # the verification budget ran out: near-duplicates may remain in OUT
            click.echo(f"warning: {finding.message}", err=True)
    sys.exit(EXIT_OK)
