"""audit: scan kubeconfig files for risky credentials and settings; optionally apply the safe fixes.

For people (a readable report) and CI gates (``--output json``, exit 1 when a finding reaches ``--fail-on``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin.audit.checks import scan
from akslogin.audit.findings import SEVERITIES, Finding, at_or_above, parse_threshold, rank
from akslogin.audit.fixes import apply_fixes
from akslogin.errors import UsageError
from akslogin.kubeconfig import files, paths
from akslogin.kubeconfig.model import KubeconfigError
from akslogin.output import paragraph, printable, write_data
from akslogin.term import Painter

Clock = Callable[[], float]
DEFAULT_FAIL_ON = "high"


@dataclass
class AuditRequest:
    files: list[str] = field(default_factory=list)
    kubeconfig: str | None = None
    fail_on: str = DEFAULT_FAIL_ON
    output: str = "table"
    fix: bool = False
    yes: bool = False


def targets(req: AuditRequest, environ: Mapping[str, str]) -> list[str]:
    """Positional files (each must exist), else --kubeconfig, else KUBECONFIG entries / the default file."""
    if req.files:
        missing = [f for f in req.files if not os.path.exists(f)]
        if missing:
            raise UsageError(f"no such kubeconfig: {', '.join(missing)}.")
        return list(dict.fromkeys(os.path.abspath(f) for f in req.files))
    if req.kubeconfig and not os.path.exists(req.kubeconfig):
        raise UsageError(f"no such kubeconfig: {req.kubeconfig}.")
    found = [p for p in paths.read_paths(req.kubeconfig, environ) if os.path.exists(p)]
    if not found:
        raise UsageError("no kubeconfig to audit (no ~/.kube/config and KUBECONFIG names no existing file).",
                         "Pass the files to scan: akslogin audit FILE...")
    return found


def scan_all(paths_: list[str], environ: Mapping[str, str], now: float) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths_:
        try:
            config = files.load(path, missing_ok=False)
        except KubeconfigError as exc:
            parsed = "not valid YAML" not in exc.message
            title = "the file is not a valid kubeconfig" if parsed else "the file cannot be parsed"
            findings.append(Finding("unreadable-kubeconfig", "high", path, "file", title,
                                    exc.message + " Tools fall back to other credentials when it breaks.",
                                    exc.hint or "Fix the YAML, or remove the file from KUBECONFIG."))
            continue
        findings += scan(config, path, environ, now)
    findings.sort(key=lambda f: (f.file, -rank(f.severity), f.id, f.subject))
    return findings


def _counts(findings: list[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.severity == s) for s in reversed(SEVERITIES)}


def render(findings: list[Finding], scanned: list[str], threshold: str) -> str:
    counts = _counts(findings)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to report"
    out = [f"akslogin audit: {len(scanned)} file{'s' if len(scanned) != 1 else ''}, "
           f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({summary})"]
    current = ""
    for f in findings:
        if f.file != current:
            current = f.file
            out += ["", printable(current)]
        out.append(f"  {f.severity.upper():<9}{f.id}  {printable(f.subject)}")
        out.append(paragraph(f.title, indent=11))
        out.append(paragraph(f.why, indent=11, first="why: "))
        out.append(paragraph(f.fix, indent=11, first="fix: "))
        if f.fix_action:
            out.append(paragraph(f.fix_action, indent=11, first="--fix: "))
    failing = at_or_above(findings, threshold)
    out.append("")
    if threshold == "none":
        out.append("--fail-on none: reporting only.")
    elif failing:
        out.append(f"FAILED: {len(failing)} finding(s) at or above --fail-on {threshold}.")
    else:
        out.append(f"passed: no finding at or above --fail-on {threshold}.")
    if any(f.fixable for f in findings):
        out.append("Some findings can be fixed automatically: akslogin audit --fix (a backup is kept).")
    return "\n".join(out) + "\n"


def to_json(findings: list[Finding], scanned: list[str], threshold: str, fixed: list[str]) -> dict[str, Any]:
    return {"files": scanned, "fail_on": threshold, "failed": bool(at_or_above(findings, threshold)),
            "summary": _counts(findings), "findings": [f.to_json() for f in findings], "fixed": fixed}


def _confirm(plan: list[Finding], req: AuditRequest, stdin: TextIO, stderr: TextIO) -> bool:
    if req.yes:
        return True
    if not stdin.isatty():
        raise UsageError("--fix changes files and needs a confirmation.", "Run it in a terminal, or add --yes.")
    stderr.write("akslogin audit --fix will:\n")
    for f in plan:
        stderr.write(printable(f"  - {f.file}: {f.fix_action}") + "\n")
    stderr.write("Changed files are rewritten atomically as 0600 (YAML comments are not kept); the previous "
                 "version is kept next to each as <file>.akslogin-backup-<time>.\nApply? [y/N] ")
    stderr.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def run(req: AuditRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO, stdin: TextIO,
        clock: Clock = time.time) -> int:
    threshold = parse_threshold(req.fail_on)
    scanned = targets(req, environ)
    findings = scan_all(scanned, environ, clock())
    fixed: list[str] = []
    if req.fix:
        plan = [f for f in findings if f.fixable]
        if not plan:
            stderr.write("akslogin: nothing here can be fixed automatically; see the fix lines below.\n")
        elif _confirm(plan, req, stdin, stderr):
            for path in dict.fromkeys(f.file for f in plan):
                fixed += apply_fixes(path, [f for f in plan if f.file == path])
            for line in fixed:
                stderr.write(printable(f"akslogin: fixed {line}") + "\n")
            secret_notes = [f for f in plan if f.id == "secret-in-exec-args"]
            for f in secret_notes:
                stderr.write(paragraph(f"{f.subject} now needs its secret from the environment: {f.fix}",
                                       indent=0, first="akslogin: note: ") + "\n")
            findings = scan_all(scanned, environ, clock())
        else:
            stderr.write("akslogin: nothing was changed.\n")
    if req.output != "table":
        write_data(stdout, to_json(findings, scanned, threshold, fixed), req.output)
    else:
        styles: dict[str, tuple[str, ...]] = {f"  {s.upper():<9}": ("bold", "red" if rank(s) >= rank("high")
                                                                    else "yellow") for s in SEVERITIES}
        styles.update({"FAILED:": ("bold", "red"), "passed: no finding": ("green",)})
        stdout.write(Painter(stdout).marks(printable(render(findings, scanned, threshold), keep_newlines=True), styles))
    return 1 if at_or_above(findings, threshold) else 0
