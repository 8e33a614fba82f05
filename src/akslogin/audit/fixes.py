"""The rewrites ``audit --fix`` may make on its own: each removes exposure without inventing anything.

- ``chmod``: file mode to 0600;
- ``exec-args``: drop secret flags (and their values) from exec args — the secret must then come from the
  environment, which the finding says;
- ``remove-credentials``: drop AKS's local admin credential (certificate, key and token) from a
  ``clusterAdmin_`` / ``system:masters`` user — it cannot be revoked, and the backup keeps it;
- ``legacy-tokens``: drop the access/refresh tokens the legacy azure auth-provider stored (kubectl 1.26+
  cannot use that provider anyway).

Content changes go through :func:`akslogin.kubeconfig.files.update` (locked, atomic, 0600, backup kept).
"""

from __future__ import annotations

import glob
import os

from akslogin.audit.findings import Finding
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeConfig
from akslogin.redact import remove_flags


def _rewrite(config: KubeConfig, fixes: list[Finding]) -> None:
    for finding in fixes:
        assert finding.fix_key is not None
        kind, name, extra = finding.fix_key
        user = config.get("users", name)
        if user is None:
            continue
        if kind == "exec-args" and isinstance(user.get("exec"), dict):
            block = user["exec"]
            block["args"] = remove_flags([str(a) for a in block.get("args") or []], list(extra))
        elif kind == "remove-credentials":
            for key in extra:
                user.pop(key, None)
        elif kind == "legacy-tokens" and isinstance(user.get("auth-provider"), dict):
            provider_config = user["auth-provider"].get("config")
            if isinstance(provider_config, dict):
                for key in extra:
                    provider_config.pop(key, None)


def latest_backup(path: str) -> str | None:
    found = glob.glob(glob.escape(path) + ".akslogin-backup-*")
    return max(found, key=os.path.getmtime) if found else None


def apply_fixes(path: str, findings: list[Finding]) -> list[str]:
    """Apply the fixable findings of one file; returns what was done (for the report)."""
    content = [f for f in findings if f.fix_key is not None and f.fix_key[0] != "chmod"]
    done: list[str] = []
    if content:
        files.update(path, lambda config: _rewrite(config, content), keep_backup=True)
        done += [f"{path}: {f.fix_action}" for f in content]
        backup = latest_backup(path)
        if backup:
            done.append(f"{path}: previous version kept as {backup} (0600)")
    if any(f.fix_key is not None and f.fix_key[0] == "chmod" for f in findings):
        os.chmod(path, 0o600)  # a rewrite above already left it 0600; this covers the mode-only case
        done.append(f"{path}: mode set to 0600")
    return done
