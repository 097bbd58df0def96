"""The `ftdata` command: a thin shell over the library. Each command is a module of this package.

Errors a user can act on (FtdataError) print as one line and exit 2; problems in the data are
findings and exit 1 (errors, or warnings with --strict); a clean run exits 0.
"""

import signal
import sys
from importlib.metadata import PackageNotFoundError, version

import click

from ..errors import EXIT_USAGE, FtdataError
from ..printable import terminal


def package_version() -> str:
    try:
        return version("ftdata")
    except PackageNotFoundError:
        return "unknown"


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, CI cancellation, docker stop): stopped and cleaned up like Ctrl-C."""


def _terminate(signum: int, frame) -> None:
    raise Terminated()


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except FtdataError as e:
            click.echo(f"ftdata: error: {terminal(str(e))}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt as e:
            click.echo("ftdata: terminated" if isinstance(e, Terminated) else "ftdata: interrupted", err=True)
            sys.exit(128 + (signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT))
        finally:  # a command run in a process that goes on (a test, a notebook) leaves SIGTERM as it found it
            signal.signal(signal.SIGTERM, previous)


# every command that writes files takes it: outputs never replace an existing file without it
force_option = click.option("--force", is_flag=True, help="Replace output files that already exist.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version(), prog_name="ftdata")
def main() -> None:
    """Check, clean and cost fine-tuning datasets before you pay for training."""


from . import check, convert, cost, dedup, generate, judge, review, rules, split  # noqa: E402  (each module registers its command on `main`)

__all__ = ["main", "check", "convert", "cost", "dedup", "generate", "judge", "review", "rules", "split"]
