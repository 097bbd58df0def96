"""The result of a check: summary, findings and statistics, with a stable JSON form.

    {"summary": {"records", "clean_records", "rejected_records", "errors", "warnings", "info", ...},
     "findings": [{"code", "name", "severity", "file", "line", "field", "message", "related"}],
     "stats": {<stage name>: {...}}}

Keys may be added; existing keys keep their meaning.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_FINDINGS, EXIT_OK
from .findings import Findings

SCHEMA_VERSION = 1


@dataclass
class Report:
    findings: Findings  # iterate it: a large run keeps most of them on disk
    records: int
    rejected_records: int
    target: str
    inputs: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> Counter[str]:
        return self.findings.severities

    @property
    def summary(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "records": self.records,
            "clean_records": self.records - self.rejected_records,
            "rejected_records": self.rejected_records,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "info": counts["info"],
            "target": self.target,
            "inputs": self.inputs,
            "by_code": dict(sorted(self.findings.codes.items())),
        }

    def exit_code(self, strict: bool = False) -> int:
        counts = self.counts
        return EXIT_FINDINGS if counts["error"] or (strict and counts["warning"]) else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "summary": self.summary,
            "findings": [f.to_json() for f in self.findings],
            "stats": self.stats,
        }
