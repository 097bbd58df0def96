"""Errors the library raises and the exit codes the CLI maps them to.

    FtdataError            anything ftdata reports as one line, never a traceback
    ├── UsageError         a bad option, config value, rule code or target (exit 2)
    └── InputError         a path that cannot be read or an output that cannot be written (exit 2)

Problems *inside* a dataset are never exceptions: they are findings.
"""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class FtdataError(Exception):
    """Base class: the message is one line a user can act on."""


class UsageError(FtdataError):
    pass


class InputError(FtdataError):
    pass
