"""Issue 24, akslogin's side: what a new user trips on (container HOMEs, repeated and named subscriptions, a
second login mode for one cluster, convert flags, odd bytes in names, the Python API's types, kubelogin's
root flags).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from akslogin.errors import CacheError
from akslogin.tokencache import store
from support.paths import REPO


def test_a_cache_dir_that_cannot_be_created_gets_no_advice_to_chown_what_akslogin_did_not_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # HOME=/ for a non-root container user: / belongs to root and akslogin cannot create /.kube. Root cannot be
    # refused by modes, so the refusal the kernel would give that user is injected here.
    def refused(path: str, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(os, "makedirs", refused)
    target = str(tmp_path / ".kube" / "cache" / "akslogin")
    with pytest.raises(CacheError) as info:
        store.ensure_dir(target, euid=65534)
    text = info.value.render()
    assert f"cannot create {target}: permission denied" in text, text
    assert "KUBECACHEDIR" in text and "--cache-dir" in text
    assert "chown" not in text and "delete" not in text and "sudo" not in text


@pytest.mark.parametrize(("call", "needle"), [
    (lambda api: api.get_token(login="spn", environ=["AZURE_CLIENT_ID=x"]), "environ"),
    (lambda api: api.get_token(login="spn", server_id=5), "server_id"),
    (lambda api: api.get_token(login=5), "login"),
    (lambda api: api.get_token(context=["dev"]), "context"),
    (lambda api: api.get_token(login="spn", legacy="yes"), "legacy"),
    (lambda api: api.get_token(login="spn", timeout=[1]), "timeout"),
    (lambda api: api.get_exec_credential(login="spn", client_id=object()), "client_id"),
    (lambda api: api.save_kubeconfig({"apiVersion": "v1"}, "/nonexistent/config"), "KubeConfig"),
    (lambda api: api.merge_kubeconfig({}, api.KubeConfig()), "KubeConfig"),
    (lambda api: api.convert_kubeconfig("config.yaml"), "KubeConfig"),
    (lambda api: api.load_kubeconfig(42), "path"),
])
def test_the_python_api_says_type_error_for_a_wrong_type(call: object, needle: str) -> None:
    from akslogin import api

    with pytest.raises(TypeError) as info:
        call(api)  # type: ignore[operator]
    assert needle in str(info.value)


def test_azure_cli_timeout_without_a_unit_is_seconds_as_the_migration_guide_says() -> None:
    from akslogin import options

    opts = options.TokenOptions(login="azurecli", server_id="x")
    notes = options.apply_env(opts, {"AZURE_CLI_TIMEOUT": "90"})
    assert opts.timeout_seconds == 90 and notes == []
    guide = (REPO / "docs" / "migrating-from-kubelogin.md").read_text()
    line = next(line for line in guide.splitlines() if "`AZURE_CLI_TIMEOUT`" in line)
    assert "`90`" in line and "seconds" in line
