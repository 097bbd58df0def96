"""`ftdata review queue|serve|export`: people review the riskiest records on a local page."""

import sys
from pathlib import Path

import click

from ..config import load_config
from ..errors import EXIT_FINDINGS, UsageError
from ..printable import terminal
from . import force_option, main

_db_option = click.option("--db", required=True, type=click.Path(dir_okay=False), help="The review database (SQLite).")


@main.group("review")
def review_group() -> None:
    """Review the riskiest records of a dataset: queue, serve a page, export the result."""


@review_group.command("queue")
@click.argument("source", type=click.Path(dir_okay=False))
@_db_option
@click.option("--fraction", type=click.FloatRange(0, 1), default=0.2, show_default=True,
              help="At most this share of the records, riskiest first, goes to the queue (only records with "
                   "some risk: the audit sample covers the rest).")
@click.option("--audit", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="A uniform sample of this share of the other records, to estimate their error rate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for ties and the audit sample.")
@click.option("-t", "--target", help="Provider profile the records are checked against (as in `ftdata check`).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Config file.")
def queue_command(source, db, fraction, audit, seed, target, config_path) -> None:
    """Check SOURCE, score each record's risk and queue the riskiest for review (decisions are kept)."""
    from ..review.queue import build_queue

    config = load_config(Path(config_path) if config_path else None).replace(target=target)
    s = build_queue(source, db, fraction=fraction, audit=audit, seed=seed, config=config)
    judged = f", {s['judged']} with judge scores" if s["judged"] else ""
    click.echo(f"{s['records']} records{judged}: {s['queued']} queued by risk and {s['audit']} for audit "
               f"in {terminal(db)}; next: ftdata review serve --db {terminal(db)}")


@review_group.command("serve")
@_db_option
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port on 127.0.0.1 (0: a free one).")
@click.option("--reviewer", default=None, help="Name recorded with each decision (default: your login name).")
@click.option("--open/--no-open", "open_browser", default=False, help="Open the page in a browser.")
def serve_command(db, port, reviewer, open_browser) -> None:
    """Serve the review page on 127.0.0.1, behind a random token printed here."""
    import getpass

    from ..review.server import serve

    serve(db, port=port, reviewer=reviewer or getpass.getuser(), open_browser=open_browser)


@review_group.command("export")
@_db_option
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Write the reviewed records here.")
@click.option("--to", "target", type=click.Choice(["jsonl", "argilla"]), default="jsonl", show_default=True,
              help="jsonl: the dataset with edits applied and rejections removed; argilla: records for Argilla.")
@force_option
def export_command(db, out, target, force) -> None:
    """Write the reviewed dataset (edits applied, rejections removed) and print a summary."""
    from ..review.export import export

    if Path(out).resolve() == Path(db).resolve():
        raise UsageError("--out would overwrite the review database")
    s = export(db, out, to=target, force=force)
    click.echo(f"{s['written']} records written to {terminal(out)} ({s['accepted']} accepted, {s['edited']} edited, "
               f"{s['rejected']} rejected, {s['pending_in_queue']} still pending in the queue, "
               f"{s['not_queued']} not queued)")
    a = s["audit"]
    if a["decided"]:
        low, high = a["ci95"]
        click.echo(f"audit: {a['needed_work']} of {a['decided']} sampled records needed work: the un-reviewed rest "
                   f"({a['rest_records']} records) has an estimated error rate of {a['rate']:.1%} "
                   f"(95% CI {low:.1%}-{high:.1%})")
    else:
        click.echo(f"audit: none of the {a['sampled']} audit records decided yet; no estimate of the rest's error rate")
    j = s["judge"]
    if j:
        accuracy = "n/a" if j["verdict_accuracy"] is None else f"{j['verdict_accuracy']:.0%} of {j['verdict_pairs']}"
        rho = "n/a" if j["spearman"] is None else f"{j['spearman']:.2f}"
        click.echo(f"judge: keep/discard verdicts agreed with people on {accuracy}; Spearman of score and decision {rho}")
    if s["kept_errors"]:
        lines = ", ".join(map(str, s["kept_errors"][:10])) + (", ..." if len(s["kept_errors"]) > 10 else "")
        click.echo(f"{len(s['kept_errors'])} exported records still have errors that check rejects (lines {lines} of "
                   f"{terminal(out)}): edit or reject them in `ftdata review serve`", err=True)
        sys.exit(EXIT_FINDINGS)
