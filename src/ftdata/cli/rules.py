"""`ftdata rules [CODE]`: list every rule, or explain one."""

import textwrap

import click

from ..catalogue import all_rules, lookup, markdown_table
from . import main


@main.command("rules")
@click.argument("code", required=False)
@click.option("--output-format", "output_format", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="markdown: the rule table of the README, generated from the catalogue")
def rules_command(code: str | None, output_format: str) -> None:
    """List the rules, or explain one (by code or name)."""
    if output_format == "markdown" and not code:
        click.echo(markdown_table())
        return
    if code:
        rule = lookup(code)
        click.echo(f"{rule.code} {rule.name} ({rule.severity}{'' if rule.enabled else ', opt-in'}; stage {rule.stage})")
        click.echo(f"\n{rule.summary}.\n")
        click.echo(textwrap.fill(" ".join(rule.doc.split()), width=100))
        return
    for rule in all_rules().values():
        click.echo(f"{rule.code}  {rule.name:<28} {rule.severity:<8} {rule.summary}")
