"""What the tiers of test_edges_files.py share: tests/{e2e,emulated,unit}/test_edges_files.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import yaml


def _kubeconfig(path: Path, mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                    "contexts": []}))
    path.chmod(mode)
    return path


def _within(seconds: float, action: Callable[[], object]) -> object:
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it does not end in time."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds}s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")
