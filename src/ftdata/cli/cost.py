"""`ftdata cost`: what fine-tuning on a dataset will cost, for one provider or every priced option.

Each distinct tokenizer of the options asked for is loaded once and counts the records once for every
model that uses it; loading is the slow part (Mistral's two take seconds, OpenAI's a tenth of one), so
`--target`, `--provider` or `--model` loads only what that choice needs.
"""

import sys
from pathlib import Path

import click
import orjson

from ..config import Config, load_config
from ..tokens.cost import METHODS
from . import main


@main.command("cost")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--provider", help="openai, together, fireworks, mistral, vertex, self-hosted (default: every one).")
@click.option("--model", help="A model of rules/models.toml, e.g. gpt-4o-mini or llama-3.3-70b.")
@click.option("--method", type=click.Choice(METHODS), help="LoRA (per-token prices) or full fine-tuning.")
@click.option("--epochs", type=click.IntRange(min=1), help="Default: OpenAI's rule for OpenAI; 3 elsewhere.")
@click.option("--tokenizer", help="Count every model with this tokenizer instead of each model's own.")
@click.option("--requests-per-month", type=click.IntRange(min=0), help="Add N months of inference (total cost of ownership).")
@click.option("--months", type=click.IntRange(min=1), default=6, show_default=True)
@click.option("-t", "--target", help="Provider profile used to validate the records (default from config); "
              "without --provider or --model, only that provider's prices are shown.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False))
def cost_command(paths, provider, model, method, epochs, tokenizer, requests_per_month, months, target, output_format,
                 config_path):
    """Estimate training (and serving) cost of fine-tuning on PATHS, cheapest first."""
    from ..tokens.estimate import cost_table

    config = load_config(Path(config_path) if config_path else None, near=paths[0]).replace(target=target)
    if target and not provider and not model:
        provider = _priced_provider(target, config)
    table = cost_table(paths, config, provider=provider, model=model, method=method, epochs=epochs,
                       tokenizer=tokenizer, requests_per_month=requests_per_month, months=months)
    if output_format == "json":
        click.echo(orjson.dumps(table, option=orjson.OPT_INDENT_2).decode())
        return
    _render(table)


def _priced_provider(target: str, config: Config) -> str | None:
    """The provider a target profile names, when it has prices (the generic profile has none: every one)."""
    from ..tokens.cost import load_prices

    priced = {p.provider for p in load_prices(config.stage_options.get("tokens", {}).get("prices"))}
    return target.lower() if target.lower() in priced else None


def _render(table: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    tco = table["requests_per_month"] is not None
    title = f"Fine-tuning cost of {table['examples']} training examples"
    if tco:
        title += f" + {table['months']} months at {table['requests_per_month']:,} requests/month"
    out = Table(title=title)
    for column in ["provider", "model", "method", "epochs", "billed tokens", "training", *(["total"] if tco else []),
                   "counted with", "notes"]:
        out.add_column(column, justify="right" if column in ("epochs", "billed tokens", "training", "total") else "left")
    notes: dict[str, int] = {}
    for row in table["options"]:
        marks = "".join(f"[{notes.setdefault(n, len(notes) + 1)}]" for n in row.get("notes", []))
        cells = [row["provider"], row["model"], row["method"], str(row["epochs"]), f"{row['billed_tokens']:,}",
                 _usd(row.get("training_usd"), row.get("training_usd_high"))]
        if tco:
            cells.append(_usd(row.get("total_usd"), row.get("total_usd_high")) if "total_usd" in row else "n/a")
        out.add_row(*cells, row["counted_with"], marks)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    console.print(out)
    for note, number in notes.items():
        console.print(f"[{number}] {note}", markup=False)
    for source in dict.fromkeys(row["source"] for row in table["options"]):
        console.print(f"Prices: {source}", markup=False)


def _usd(low: float | None, high: float | None) -> str:
    if low is None:
        return "n/a"
    return f"${low:,.2f}" + (f"-{high:,.2f}" if high is not None else "")
