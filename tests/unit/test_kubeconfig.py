"""Kubeconfig loading, merging and safe concurrent writes.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from akslogin.kubeconfig import files, merge, paths
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError


def _config(name: str, server: str = "https://a", user_body: dict[str, object] | None = None) -> KubeConfig:
    return KubeConfig({
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"user-{name}"}}],
        "users": [{"name": f"user-{name}", "user": user_body or {"token": "t"}}],
        "current-context": name,
    })


def test_paths_follow_kubectl(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert paths.read_paths(None, env) == [str(tmp_path / ".kube" / "config")]
    env["KUBECONFIG"] = os.pathsep.join(["/a", "/b", "/a"])
    assert paths.read_paths(None, env) == ["/a", "/b"]
    assert paths.write_path(None, env) == "/b"  # kubectl: the first that exists, else the last one listed
    env["KUBECONFIG"] = os.pathsep.join([str(tmp_path / "missing"), os.devnull])
    assert paths.write_path(None, env) == os.devnull
    assert paths.write_path("/explicit", env) == "/explicit"


@pytest.mark.parametrize(("text", "needle"), [
    ("a: [", "not valid YAML at line"),
    ("- 1\n- 2\n", "top level must be a mapping"),
    ("clusters: {}", "'clusters' must be a list"),
    ("users:\n- user: {}\n", "needs a non-empty 'name'"),
    ("users:\n- name: a\n- name: a\n", "two entries named 'a'"),
    ("contexts:\n- name: a\n  context: 5\n", "must be a mapping"),
])
def test_malformed_files_are_explained(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(KubeconfigError, match=needle):
        files.load(str(path))


def test_unknown_fields_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {"colors": True},
        "extensions": [{"name": "x", "extension": {"a": 1}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://s", "x-custom": "keep"}}],
        "contexts": [], "users": [],
    }))
    files.update(str(path), lambda cfg: cfg.put("users", "u", {"exec": {"command": "akslogin"}}))
    data = yaml.safe_load(path.read_text())
    assert data["preferences"] == {"colors": True} and data["extensions"][0]["extension"] == {"a": 1}
    assert data["clusters"][0]["cluster"]["x-custom"] == "keep"
    assert path.stat().st_mode & 0o777 == 0o644  # the file keeps its mode, as kubectl keeps it


def test_merge_rules() -> None:
    target = _config("one")
    result = merge.merge(target, _config("two"), set_current="two")
    assert "cluster/two" in result.added and target.current_context == "two"
    again = merge.merge(target, _config("two"))
    assert again.added == [] and len(again.unchanged) == 3
    with pytest.raises(KubeconfigError, match="cluster 'two'") as err:
        merge.merge(target, _config("two", server="https://other"))
    assert "--overwrite-existing" in err.value.render()
    assert target.get("clusters", "two") == {"server": "https://a"}  # nothing changed
    replaced = merge.merge(target, _config("two", server="https://other"), overwrite=True)
    assert replaced.replaced == ["cluster/two"] and target.get("clusters", "two") == {"server": "https://other"}


def test_lookups_follow_every_kind_of_edit() -> None:
    """Entries are found through a name index; edits through the model and direct edits of ``data`` (the
    list replaced, items appended, an item renamed in place) are all seen by the next lookup."""
    config = KubeConfig({"users": [{"name": f"u{i}", "user": {"token": str(i)}} for i in range(1000)]})
    assert config.get("users", "u999") == {"token": "999"} and config.get("users", "nobody") is None
    config.put("users", "u1000", {"token": "new"})
    config.put("users", "u5", {"token": "five"})
    assert config.get("users", "u1000") == {"token": "new"} and config.get("users", "u5") == {"token": "five"}
    assert config.names("users")[5] == "u5" and len(config.names("users")) == 1001  # replaced in place
    assert config.rename("users", "u1", "renamed") and config.get("users", "u1") is None
    assert config.get("users", "renamed") == {"token": "1"} and not config.rename("users", "u1", "x")
    assert config.remove("users", "u2") and config.get("users", "u2") is None
    config.data["users"].append({"name": "appended", "user": {"token": "a"}})
    assert config.get("users", "appended") == {"token": "a"}
    config.data["users"][0]["name"] = "edited"  # renamed behind the model's back
    assert config.get("users", "u0") is None and config.get("users", "edited") == {"token": "0"}
    config.data["users"] = [{"name": "only", "user": {}}]
    assert config.get("users", "u999") is None and config.get("users", "only") == {}


def test_failed_change_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(files.dump(_config("one")))
    before = path.read_bytes()

    def boom(cfg: KubeConfig) -> None:
        cfg.put("users", "half", {"token": "x"})
        raise KubeconfigError("stop")

    with pytest.raises(KubeconfigError):
        files.update(str(path), boom)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_backup_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(files.dump(_config("one")))
    files.update(str(path), lambda cfg: cfg.remove("users", "user-one"), keep_backup=True)
    backups = [p for p in tmp_path.iterdir() if ".akslogin-backup-" in p.name]
    assert len(backups) == 1 and "user-one" in backups[0].read_text()
    assert backups[0].stat().st_mode & 0o777 == 0o600
