"""What the tiers of test_edges_signals.py share: tests/{e2e,emulated}/test_edges_signals.py."""

from __future__ import annotations

from pathlib import Path

import yaml


def _big_kubelogin_kubeconfig(path: Path, users: int) -> None:
    """Many kubelogin users: convert-kubeconfig then holds the kubeconfig's lock for a while."""
    exec_block = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                  "args": ["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                           "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id",
                           "72f988bf-86f1-41af-91ab-2d7cd011db47", "--environment", "AzurePublicCloud"]}
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c0",
              "clusters": [{"name": f"c{i}", "cluster": {"server": f"https://c{i}.example:443"}} for i in range(users)],
              "contexts": [{"name": f"c{i}", "context": {"cluster": f"c{i}", "user": f"u{i}"}} for i in range(users)],
              "users": [{"name": f"u{i}", "user": {"exec": exec_block}} for i in range(users)]}
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
