"""What the tiers of test_file_safety.py share: tests/{e2e,unit}/test_file_safety.py."""

from __future__ import annotations

from pathlib import Path

import yaml


def _kubeconfig(path: Path, mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                    "contexts": []}))
    path.chmod(mode)
    return path
