"""Audit findings: stable ids, four severities, and the ``--fail-on`` threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from akslogin.errors import UsageError

SEVERITIES = ("low", "medium", "high", "critical")
#: ``--fail-on`` also takes this: never fail on findings (report only).
NEVER = "none"


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def parse_threshold(value: str) -> str:
    value = value.strip().lower()
    if value not in (*SEVERITIES, NEVER):
        raise UsageError(f"--fail-on takes one of {', '.join(SEVERITIES)} or {NEVER}, not {value!r}.")
    return value


def at_or_above(findings: list[Finding], threshold: str) -> list[Finding]:
    if threshold == NEVER:
        return []
    return [f for f in findings if rank(f.severity) >= rank(threshold)]


@dataclass
class Finding:
    id: str
    severity: str
    file: str
    subject: str  # "user X (contexts: a, b)", "cluster Y", "file"
    title: str
    why: str
    fix: str
    #: What ``--fix`` would do about it; empty when it needs a person.
    fix_action: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    #: (kind, entry name, extra) for the fixer; never rendered.
    fix_key: tuple[str, str, tuple[str, ...]] | None = field(default=None, repr=False)

    @property
    def fixable(self) -> bool:
        return self.fix_key is not None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "file": self.file, "subject": self.subject,
                "title": self.title, "why": self.why, "fix": self.fix, "auto_fix": self.fix_action or None,
                "details": self.details}
