"""Issue 23.1 and 23.6: what akslogin writes, kubectl (a YAML 1.1 reader) reads back as written, and what
akslogin reads is bounded (an alias bomb is refused, as kubectl refuses it).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from akslogin.kubeconfig import files
from support.run import KUBECTL

#: Strings a YAML 1.1 reader (go-yaml v2 behind kubectl) takes for booleans, nulls, numbers or timestamps
#: when they are written plain. PyYAML (YAML 1.1 too, but a narrower table) writes several of them bare.
AMBIGUOUS = ["y", "Y", "n", "N", "yes", "No", "ON", "off", "True", "FALSE", "yEs", "~", "null", "Null", "",
             "0x1F", "0X1F", "1e3", "1E3", "1e+3", "1.0e5", "0o17", "0O17", "-0o17", "0b101", "0B1", "1_000",
             "1__0", "+.5", ".5", "5.", "+1", "-1", "012", ".inf", "-.Inf", ".NaN", "2024-01-01", "1:20", "<<"]


def _config(namespace: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "dev",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": namespace}}]}


def _view_by_kubectl(path: Path) -> dict[str, object]:
    done = subprocess.run([KUBECTL, "--kubeconfig", str(path), "config", "view", "-o", "json"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_every_ambiguous_scalar_reads_back_through_kubectl_as_the_same_string(tmp_path: Path) -> None:
    # One kubeconfig per value, written by the shared writer (every command's write goes through it).
    for i, value in enumerate(AMBIGUOUS):
        path = tmp_path / f"config-{i}"
        files.update(str(path), lambda c, v=value: c.data.update(_config(v)))
        view = _view_by_kubectl(path)
        contexts = view["contexts"]
        assert isinstance(contexts, list)
        assert contexts[0]["context"].get("namespace", "") == value, (value, path.read_text())


def test_kubectl_set_namespace_then_an_akslogin_rewrite_keeps_the_file_readable(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(_config("default")))
    path.chmod(0o600)
    for value in ("y", "1e3", "0o17"):
        set_ns = subprocess.run([KUBECTL, "--kubeconfig", str(path), "config", "set-context", "dev",
                                 f"--namespace={value}"], capture_output=True, text=True, timeout=60)
        assert set_ns.returncode == 0, set_ns.stderr
        files.update(str(path), lambda c: c.put("contexts", "other", {"cluster": "c", "user": "u"}))
        view = _view_by_kubectl(path)
        assert [c["context"].get("namespace") for c in view["contexts"] if c["name"] == "dev"] == [value]
