"""The Python API (``import akslogin``): one test or more per public function, against the real emulator
where a function talks to the network (tokens, and the official kubernetes client against the emulated
API server).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import akslogin
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.errors import ConfigError, UsageError
from support.worlds import TENANT_ID


def _config(cluster: str, user: dict[str, object], context: str | None = None) -> dict[str, object]:
    name = context or cluster
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": cluster, "cluster": {"server": f"https://{cluster}.example:443"}}],
            "contexts": [{"name": name, "context": {"cluster": cluster, "user": f"u-{cluster}"}}],
            "users": [{"name": f"u-{cluster}", "user": user}]}


def test_load_kubeconfig_a_file_or_what_kubectl_reads(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(yaml.safe_dump({**_config("one", {"token": "t1"}), "preferences": {"colors": True}}))
    second.write_text(yaml.safe_dump({**_config("one", {"token": "other"}, context="two"),
                                      "current-context": "two"}))
    loaded = akslogin.load_kubeconfig(first)
    assert loaded.names("contexts") == ["one"] and loaded.data["preferences"] == {"colors": True}
    merged = akslogin.load_kubeconfig(environ={"KUBECONFIG": f"{first}{os.pathsep}{second}", "HOME": str(tmp_path)})
    assert merged.current_context == "one"  # the first file that sets it
    assert merged.names("contexts") == ["one", "two"]
    assert merged.get("users", "u-one") == {"token": "t1"}  # the first file naming an entry wins
    assert akslogin.load_kubeconfig(tmp_path / "missing").names("users") == []
    home_default = akslogin.load_kubeconfig(environ={"HOME": str(tmp_path)})
    assert home_default.names("contexts") == []


def test_save_kubeconfig_is_atomic_and_private(tmp_path: Path) -> None:
    target = tmp_path / "kube" / "config"
    config = akslogin.KubeConfig(_config("one", {"token": "t1"}))
    akslogin.save_kubeconfig(config, target)
    assert target.stat().st_mode & 0o777 == 0o600
    assert akslogin.load_kubeconfig(target).data == config.data
    broken = akslogin.KubeConfig(_config("one", {"token": "t1"}))
    broken.data["users"].append({"name": "u-one", "user": {}})  # a duplicate: refused, file untouched
    with pytest.raises(ConfigError, match="two entries named"):
        akslogin.save_kubeconfig(broken, target)
    assert akslogin.load_kubeconfig(target).data == config.data


def test_convert_kubeconfig(tmp_path: Path) -> None:
    kubelogin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                          "args": ["get-token", "--login", "devicecode", "--server-id", AKS_SERVER_APP_ID,
                                   "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT_ID,
                                   "--environment", "AzurePublicCloud"]}}
    original = akslogin.KubeConfig(_config("one", kubelogin))
    original.put("users", "cert", {"client-certificate-data": "Zm9v"})
    kept = akslogin.convert_kubeconfig(original)  # no login: the exec user keeps devicecode
    block = kept.get("users", "u-one")["exec"]  # type: ignore[index]
    assert block["command"] == "akslogin" and block["args"][:3] == ["get-token", "--login", "devicecode"]
    spn = akslogin.convert_kubeconfig(original, "spn", client_id="aaaa", exec_command="/opt/bin/akslogin")
    args = spn.get("users", "u-one")["exec"]["args"]  # type: ignore[index]
    assert args[:3] == ["get-token", "--login", "spn"] and "aaaa" in args and "--server-id" in args
    assert spn.get("users", "u-one")["exec"]["command"] == "/opt/bin/akslogin"  # type: ignore[index]
    assert spn.get("users", "cert") == {"client-certificate-data": "Zm9v"}  # not an Entra user: untouched
    assert original.get("users", "u-one") == kubelogin  # the input is not changed
    with pytest.raises(UsageError, match="clear text"):
        akslogin.convert_kubeconfig(original, "spn", client_secret="s3cret")
    with_secret = akslogin.convert_kubeconfig(original, "spn", client_secret="s3cret", allow_secrets=True)
    assert "s3cret" in with_secret.get("users", "u-one")["exec"]["args"]  # type: ignore[index]
    with pytest.raises(UsageError, match="unknown login mode"):
        akslogin.convert_kubeconfig(original, "magic")


def test_merge_kubeconfig(tmp_path: Path) -> None:
    base = akslogin.KubeConfig(_config("one", {"token": "t1"}))
    incoming = akslogin.KubeConfig(_config("two", {"token": "t2"}))
    merged = akslogin.merge_kubeconfig(base, incoming, set_current="two")
    assert merged.names("contexts") == ["one", "two"] and merged.current_context == "two"
    assert base.names("contexts") == ["one"]  # inputs unchanged
    assert akslogin.merge_kubeconfig(merged, incoming).data == merged.data  # identical entries: no conflict
    changed = akslogin.KubeConfig(_config("two", {"token": "rotated"}))
    with pytest.raises(ConfigError, match="already has a different user 'u-two'"):
        akslogin.merge_kubeconfig(merged, changed)
    replaced = akslogin.merge_kubeconfig(merged, changed, overwrite=True)
    assert replaced.get("users", "u-two") == {"token": "rotated"}
