"""ftdata: check, clean and cost fine-tuning datasets before you pay for training.

    >>> import ftdata
    >>> report = ftdata.check(["train.jsonl"], clean="train.clean.jsonl", rejected="rejected.jsonl")
    >>> report.summary["errors"], report.findings[0].message
"""

from .catalogue import Rule, all_rules
from .config import Config, load_config
from .convert import convert
from .errors import FtdataError, InputError, UsageError
from .pipeline import check
from .records import Example, Finding, Message, Ref
from .report import Report
from .stages.base import InputFile
from .targets import Target, load_target

__all__ = [
    "Config",
    "Example",
    "Finding",
    "FtdataError",
    "InputError",
    "InputFile",
    "Message",
    "Ref",
    "Report",
    "Rule",
    "Target",
    "UsageError",
    "all_rules",
    "check",
    "convert",
    "load_config",
    "load_target",
]
