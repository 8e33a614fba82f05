"""akslogin doctor: every link of the chain, and every way it breaks, against the emulator.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from pathlib import Path

from support.doctor import doctor, failed
from support.explainworld import (
    env_for,
)


def test_missing_kubeconfig(tmp_path: Path) -> None:
    code, report, _ = doctor(env_for(tmp_path))
    step = failed(report)
    assert code == 2 and step["name"] == "kubeconfig" and "no kubeconfig found" in step["message"]  # one rule: exit 2
    assert "get-credentials" in step["fix"]
    code, report, _ = doctor(env_for(tmp_path), tmp_path / "nope")
    assert failed(report)["message"].endswith("does not exist.")


def test_bad_yaml(tmp_path: Path) -> None:
    kc = tmp_path / "config"
    kc.write_text("apiVersion: v1\nclusters:\n- name: a\n  cluster: {server: [unclosed\n")
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "kubeconfig" and "is not valid YAML at line" in step["message"]
