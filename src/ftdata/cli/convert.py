"""`ftdata convert IN OUT --to FORMAT`: rewrite a dataset in another format."""

import sys

import click

from .. import formats
from ..convert import convert
from ..errors import EXIT_FINDINGS, EXIT_OK
from ..printable import terminal
from . import force_option, main


@main.command("convert")
@click.argument("source", type=click.Path(allow_dash=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--to", "to", required=True, type=click.Choice(list(formats.FORMATS)), help="The output format.")
@click.option("--from", "input_format", type=click.Choice(list(formats.FORMATS)), help="Read every record as this format.")
@click.option("--allow-lossy", is_flag=True, help="Write records even when the output format cannot hold a field.")
@force_option
def convert_command(source: str, out: str, to: str, input_format: str | None, allow_lossy: bool, force: bool) -> None:
    """Convert SOURCE to FORMAT in OUT (JSON Lines; a JSON array when OUT ends in .json). Fields that cannot be
    kept are reported, never dropped silently."""
    result = convert(source, out, to, allow_lossy=allow_lossy, input_format=input_format, force=force)
    for skip in result.skipped[:20]:
        click.echo(f"{terminal(skip.file)}:{skip.line}: not written: {terminal(skip.reason)}", err=True)
    if len(result.skipped) > 20:
        click.echo(f"... and {len(result.skipped) - 20} more records not written", err=True)
    lossy = f" ({result.lossy} with dropped fields)" if result.lossy else ""
    click.echo(f"{result.written} records written to {terminal(out)}{lossy}; {len(result.skipped)} not written", err=True)
    sys.exit(EXIT_FINDINGS if result.skipped else EXIT_OK)
