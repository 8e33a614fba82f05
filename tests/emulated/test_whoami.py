"""akslogin whoami against the emulator: the token's identity next to the cluster's SelfSubjectReview."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.tlsmaterial import new_rsa_key
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.whoami import WhoamiRequest, run
from support.explainworld import (
    APPS,
    BULK,
    DEVS,
    TENANT,
    USERS,
    Streams,
    b64,
    client_cert,
    env_for,
    flat,
    kubeconfig,
    start,
    user_token,
)
from support.run import run_akslogin


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def whoami(kc: Path, env: dict[str, str], **kw: object) -> tuple[int, Streams]:
    streams = Streams()
    code = run(WhoamiRequest(kubeconfig=str(kc), **kw), env, streams.out, streams.err)  # type: ignore[arg-type]
    return code, streams


def test_service_principal_side_by_side_then_served_from_the_cache(emu: Emulator, tmp_path: Path) -> None:
    app = APPS["viewer"]
    kc = kubeconfig(tmp_path / "config", emu, app=app)
    env = env_for(tmp_path)
    code, out = whoami(kc, env)
    assert code == 0, out.stdout + out.stderr
    text = out.stdout
    assert "service principal" in text
    assert f"{app.object_id} (as AKS maps it)" in text
    assert text.count(app.object_id) >= 3  # username and object id on the token side, username/uid on the cluster's
    assert app.client_id in text and TENANT in text and AKS_SERVER_APP_ID in text
    assert "from a new sign-in" in text
    assert len(emu.request_log.token_requests()) == 1
    code, again = whoami(kc, env)
    assert code == 0 and "from akslogin's token cache" in again.stdout
    assert len(emu.request_log.token_requests()) == 1  # the second run reused the cached token
    assert app.secret not in text + again.stdout + out.stderr


def test_json_for_scripts_never_holds_the_token(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    code, out = whoami(kc, env_for(tmp_path), output="json")
    assert code == 0
    data = json.loads(out.stdout)
    assert data["token"]["identity_type"] == "service principal"
    assert data["token"]["aks_username"] == data["cluster"]["username"] == APPS["viewer"].object_id
    assert data["credential"]["kind"] == "get-token" and data["credential"]["login"] == "spn"
    assert data["cluster"]["groups"] == ["system:authenticated"]
    cache_files = list((tmp_path / "cache" / "tokens").glob("*.json"))
    token = json.loads(cache_files[0].read_text())["access_token"]
    assert token not in out.stdout and token.split(".")[2] not in out.stdout


def test_group_overage_is_explained_and_the_cluster_shows_the_resolved_groups(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, user={"token": user_token(emu, "olga")})
    code, out = whoami(kc, env_for(tmp_path), output="json")
    assert code == 0
    data = json.loads(out.stdout)
    assert data["token"]["group_overage"] is True and data["token"]["groups"] is None
    assert data["token"]["group_overage_endpoint"].startswith(emu.server_url("graph"))
    assert set(data["cluster"]["groups"]) == {DEVS, *BULK, "system:authenticated"}
    assert any("more than 200 groups" in n and "Microsoft Graph" in n for n in data["notes"])
    code, table = whoami(kc, env_for(tmp_path))
    assert "overage: not in the token" in table.stdout and "252:" in table.stdout


def test_a_service_principal_in_more_than_200_groups_is_warned_about(emu: Emulator, tmp_path: Path) -> None:
    """Issue 26: AKS does not look up an app's groups, so the cluster refuses it; whoami says why."""
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["overage"])
    code, out = whoami(kc, env_for(tmp_path), output="json")
    data = json.loads(out.stdout)
    assert code == 1 and data["token"]["group_overage"] is True and data["cluster"] is None
    assert any("app-only token" in n and "does not look up an application's groups" in n for n in data["notes"])


def test_guest_is_named_by_object_id(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, user={"token": user_token(emu, "erin")})
    code, out = whoami(kc, env_for(tmp_path))
    assert code == 0, out.stdout
    oid = USERS["erin"][1]
    assert "guest user" in out.stdout and "erin@fabrikam.example" in out.stdout
    assert f"{oid} (as AKS maps it)" in out.stdout
    assert f"rbac bind --guest {oid}" in flat(out.stdout)


def test_verify_checks_signature_against_the_tenant_keys(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    code, out = whoami(kc, env_for(tmp_path), verify=True, output="json")
    assert code == 0
    checks = {c["name"]: c["ok"] for c in json.loads(out.stdout)["verification"]["checks"]}
    assert checks == {"tenant": True, "issuer": True, "signature": True, "lifetime": True}

    # The same claims signed by someone else's key (same kid): verification and the cluster both reject it.
    genuine = jwt.decode(user_token(emu, "dana"), options={"verify_signature": False})
    forged = jwt.encode(genuine, new_rsa_key(), algorithm="RS256", headers={"kid": emu.issuer.kid})
    kc2 = kubeconfig(tmp_path / "forged", emu, user={"token": forged})
    code, out = whoami(kc2, env_for(tmp_path), verify=True, authority_host=emu.authority_host,
                       certificate_authority=[str(emu.ca_path)])
    assert code == 1
    assert "FAILED  signature" in out.stdout
    assert "did not accept the token" in flat(out.stdout)


def test_legacy_spn_audience_is_flagged(emu: Emulator, tmp_path: Path) -> None:
    token = user_token(emu, "dana", audience=f"spn:{AKS_SERVER_APP_ID}")
    kc = kubeconfig(tmp_path / "config", emu, user={"token": token})
    code, out = whoami(kc, env_for(tmp_path), output="json")
    data = json.loads(out.stdout)
    assert code == 1  # aks1 expects the bare GUID
    assert data["token"]["legacy_audience"] is True
    assert any("legacy 'spn:' form" in n for n in data["notes"])
    assert "401" in data["cluster_error"]


def test_cluster_in_another_tenant_does_not_confirm(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, "aks-other", app=APPS["viewer"])
    code, out = whoami(kc, env_for(tmp_path))
    assert code == 1
    assert "did not accept the token (401 Unauthorized)" in flat(out.stdout)
    assert "service principal" in out.stdout  # the token side is still shown


def test_client_certificate_identity(emu: Emulator, tmp_path: Path) -> None:
    cert, key = client_cert("masterclient", ("system:masters",))
    user = {"client-certificate-data": b64(cert), "client-key-data": b64(key), "token": "0" * 32}
    kc = kubeconfig(tmp_path / "config", emu, user=user)
    code, out = whoami(kc, env_for(tmp_path), output="json")
    data = json.loads(out.stdout)
    assert data["certificate"]["username"] == "masterclient"
    assert data["certificate"]["groups"] == ["system:masters"] and data["certificate"]["cluster_admin"]
    assert any("cannot be revoked" in n for n in data["notes"])
    assert any("system:masters" in n for n in data["notes"])
    assert code == 1 and data["cluster_error"]  # the emulated API server does not take client certificates
    assert "0" * 32 not in out.stdout


def test_other_exec_plugins_run_as_kubectl_runs_them(emu: Emulator, tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(user_token(emu, "dana"))
    seen = tmp_path / "seen.json"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(f"""#!{sys.executable}
import json, os, pathlib, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
pathlib.Path({str(seen)!r}).write_text(json.dumps({{"info": info, "argv": sys.argv[1:],
                                                   "env": os.environ.get("PLUGIN_SETTING")}}))
print(json.dumps({{"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {{"token": pathlib.Path(os.environ["TOKEN_FILE"]).read_text()}}}}))
""")
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "./plugin.py",
                     "args": ["get", "--client-secret", "hush"], "interactiveMode": "Never",
                     "env": [{"name": "PLUGIN_SETTING", "value": "on"},
                             {"name": "TOKEN_FILE", "value": str(token_file)}],
                     "provideClusterInfo": True}}
    kc = kubeconfig(tmp_path / "config", emu, user=user)
    code, out = whoami(kc, env_for(tmp_path))
    assert code == 0, out.stdout + out.stderr
    assert USERS["dana"][0] in out.stdout and "exec plugin ./plugin.py" in out.stdout
    assert "hush" not in out.stdout  # the secret flag's value is masked in the description
    record = json.loads(seen.read_text())
    assert record["argv"] == ["get", "--client-secret", "hush"] and record["env"] == "on"
    assert record["info"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert record["info"]["spec"]["interactive"] is False
    assert record["info"]["spec"]["cluster"]["server"] == emu.cluster_url("aks1")


def test_cli_whoami_and_its_errors(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    env = env_for(tmp_path)
    started = time.monotonic()
    result = run_akslogin(["whoami", "--kubeconfig", str(kc), "-o", "json"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cluster"]["username"] == APPS["viewer"].object_id
    assert time.monotonic() - started < 30
    missing = run_akslogin(["whoami", "--kubeconfig", str(kc), "--context", "nope"], env)
    assert missing.returncode == 2  # no such context: exit 2, as for every command
    assert missing.stderr.startswith("akslogin: no context named 'nope'") and "Traceback" not in missing.stderr
    absent = run_akslogin(["whoami", "--kubeconfig", os.fspath(tmp_path / "absent")], env)
    assert absent.returncode == 2 and "does not exist" in absent.stderr
    helptext = run_akslogin(["whoami", "--help"], env)
    assert helptext.returncode == 0 and "examples:" in helptext.stdout and "--verify" in helptext.stdout


def test_cluster_trust_comes_from_the_kubeconfig(emu: Emulator, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    entry = emu.kubeconfig_cluster("aks1")
    entry["cluster"]["tls-server-name"] = "localhost"  # in the server certificate's SANs
    kc = kubeconfig(tmp_path / "sni", emu, app=APPS["viewer"], cluster_entry=entry)
    assert whoami(kc, env)[0] == 0
    entry["cluster"]["tls-server-name"] = "aks1.example"  # not in the certificate: refused
    kc = kubeconfig(tmp_path / "wrong-sni", emu, app=APPS["viewer"], cluster_entry=entry)
    code, out = whoami(kc, env, output="json")
    assert code == 1 and "is not trusted" in json.loads(out.stdout)["cluster_error"]
    no_ca = {"name": "aks1", "cluster": {"server": emu.cluster_url("aks1")}}
    kc = kubeconfig(tmp_path / "no-ca", emu, app=APPS["viewer"], cluster_entry=no_ca)
    code, out = whoami(kc, env, output="json")
    assert code == 1 and "system trust store" in json.loads(out.stdout)["cluster_error"]
    insecure = {"name": "aks1", "cluster": {"server": emu.cluster_url("aks1"), "insecure-skip-tls-verify": True}}
    kc = kubeconfig(tmp_path / "insecure", emu, app=APPS["viewer"], cluster_entry=insecure)
    code, out = whoami(kc, env, output="json")
    data = json.loads(out.stdout)
    assert code == 0 and any("insecure-skip-tls-verify" in n and "NOT" in n for n in data["notes"])
