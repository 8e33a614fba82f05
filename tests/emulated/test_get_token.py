"""`akslogin get-token --login spn` as kubectl runs it: a subprocess with flags and environment."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.run import clean_env, decode_jwt_payload, run_akslogin, spn_args
from support.worlds import OTHER_TENANT_ID, TENANT_DOMAIN, TENANT_ID, AppInfo


def _credential(stdout: str) -> dict[str, object]:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, "stdout must hold exactly one ExecCredential line"
    data: dict[str, object] = json.loads(lines[0])
    return data


def test_secret_from_environment_prints_exec_credential(tmp_path: Path, emulator: Emulator,
                                                        apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    before = time.time()
    result = run_akslogin(spn_args(emulator, app), env)
    assert result.returncode == 0, result.stderr
    cred = _credential(result.stdout)
    assert cred["kind"] == "ExecCredential"
    assert cred["apiVersion"] == "client.authentication.k8s.io/v1beta1"  # no KUBERNETES_EXEC_INFO
    status = cred["status"]
    assert isinstance(status, dict)
    claims = decode_jwt_payload(status["token"])
    assert claims["aud"] == AKS_SERVER_APP_ID
    assert claims["oid"] == app.object_id and claims["appid"] == app.client_id
    assert claims["iss"] == f"https://sts.windows.net/{TENANT_ID}/"
    expiry = time.mktime(time.strptime(status["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 3599 - 5 <= expiry <= time.time() + 3599 + 1
    # The default cache lives under $HOME, private.
    cache = tmp_path / ".kube" / "cache" / "akslogin"
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    files = list((cache / "tokens").iterdir())
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"


def test_expiry_comes_from_the_token_response(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    emulator.entra.settings.access_token_lifetime = 4000
    app = apps["viewer"]
    env = clean_env(tmp_path, AZURE_CLIENT_SECRET=app.secret or "")
    result = run_akslogin(spn_args(emulator, app), env)
    assert result.returncode == 0, result.stderr
    stamp = _credential(result.stdout)["status"]["expirationTimestamp"]  # type: ignore[index]
    expiry = time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expiry - (time.time() + 4000)) < 10


def test_cached_token_is_returned_without_network(tmp_path: Path, emulator: Emulator,
                                                  apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    first = run_akslogin(spn_args(emulator, app), env)
    assert first.returncode == 0, first.stderr
    emulator.request_log.reset()
    second = run_akslogin(spn_args(emulator, app), env)
    assert second.returncode == 0, second.stderr
    assert emulator.request_log.entries() == []
    assert _credential(first.stdout)["status"] == _credential(second.stdout)["status"]


def test_token_with_less_than_five_minutes_left_is_renewed(tmp_path: Path, emulator: Emulator,
                                                           apps: dict[str, AppInfo]) -> None:
    emulator.entra.settings.access_token_lifetime = 200  # under the 5 minute margin
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    first = run_akslogin(spn_args(emulator, app), env)
    assert first.returncode == 0
    # Counted per call, not over the whole test: the session emulator may meanwhile answer another test's
    # background renewal (a detached process that outlived the test which started it).
    before = len(emulator.request_log.token_requests())
    second = run_akslogin(spn_args(emulator, app), env)
    assert second.returncode == 0
    assert len(emulator.request_log.token_requests()) > before  # not served from the cache
    assert _credential(second.stdout)["status"]["token"] != _credential(first.stdout)["status"]["token"]


def test_exec_info_v1_is_echoed_and_unknown_version_refused(tmp_path: Path, emulator: Emulator,
                                                            apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    info = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
            "spec": {"interactive": False}}
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "",
                    KUBERNETES_EXEC_INFO=json.dumps(info))
    result = run_akslogin(spn_args(emulator, app), env)
    assert result.returncode == 0, result.stderr
    assert _credential(result.stdout)["apiVersion"] == "client.authentication.k8s.io/v1"

    env["KUBERNETES_EXEC_INFO"] = json.dumps({**info, "apiVersion": "client.authentication.k8s.io/v1alpha1"})
    bad = run_akslogin(spn_args(emulator, app), env)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "v1alpha1" in bad.stderr and "not supported" in bad.stderr


def test_pem_and_pfx_certificates(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["cert"]
    env = clean_env(tmp_path)
    pem = run_akslogin([*spn_args(emulator, app, cache_dir=tmp_path / "a"), "--client-certificate",
                        str(app.pem_path)], env)
    assert pem.returncode == 0, pem.stderr
    env_pfx = clean_env(tmp_path, AZURE_CLIENT_CERTIFICATE_PATH=str(app.pfx_path),
                        AZURE_CLIENT_CERTIFICATE_PASSWORD=app.pfx_password or "")
    pfx = run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "b"), env_pfx)
    assert pfx.returncode == 0, pfx.stderr
    for out in (pem.stdout, pfx.stdout):
        token = _credential(out)["status"]["token"]  # type: ignore[index]
        assert decode_jwt_payload(token)["appidacr"] == "2"
    wrong = run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "c"),
                         {**env_pfx, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "wrong-password"})
    assert wrong.returncode == 1
    assert "PFX" in wrong.stderr and "password" in wrong.stderr
    assert "wrong-password" not in wrong.stderr and "Traceback" not in wrong.stderr


def test_unregistered_certificate_is_explained(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    # ci-viewer has only a secret: the ci-cert certificate is not registered on it.
    result = run_akslogin([*spn_args(emulator, apps["viewer"]), "--client-certificate", str(apps["cert"].pem_path)],
                          clean_env(tmp_path))
    assert result.returncode == 1
    assert "AADSTS700027" in result.stderr and "certificate" in result.stderr


@pytest.mark.parametrize(
    ("case", "code"),
    [("wrong-secret", "AADSTS7000215"), ("unknown-app", "AADSTS700016"), ("unknown-tenant", "AADSTS90002"),
     ("expired-secret", "AADSTS7000222"), ("wrong-tenant", "AADSTS700016")],
)
def test_idp_errors_are_one_actionable_paragraph(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                                 case: str, code: str) -> None:
    app, tenant, secret = apps["viewer"], TENANT_ID, apps["viewer"].secret or ""
    if case == "wrong-secret":
        secret = "definitely-wrong"
    elif case == "unknown-app":
        app = AppInfo("ghost", "deadbeef-0000-4000-8000-000000000000", "x", secret="s")
    elif case == "unknown-tenant":
        tenant = "no-such-tenant.example"
    elif case == "expired-secret":
        app, secret = apps["expired"], apps["expired"].secret or ""
    elif case == "wrong-tenant":
        tenant = OTHER_TENANT_ID
    result = run_akslogin(spn_args(emulator, app, tenant=tenant), clean_env(tmp_path, AZURE_CLIENT_SECRET=secret))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("akslogin: ") and code in lines[0]
    assert "Traceback" not in result.stderr and secret not in result.stderr


def test_tenant_domain_works_like_the_guid(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    result = run_akslogin(spn_args(emulator, app, tenant=TENANT_DOMAIN),
                          clean_env(tmp_path, AZURE_CLIENT_SECRET=app.secret or ""))
    assert result.returncode == 0, result.stderr


def test_environment_variables_override_flags_like_kubelogin(tmp_path: Path, emulator: Emulator,
                                                             apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    # Flag has a wrong secret; AZURE_CLIENT_SECRET (applied last) wins, as in kubelogin.
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="wrong-1", AZURE_CLIENT_SECRET=app.secret or "")
    result = run_akslogin([*spn_args(emulator, app), "--client-secret", "wrong-0"], env)
    assert result.returncode == 0, result.stderr
    # ...unless environment overrides are disabled.
    off = run_akslogin([*spn_args(emulator, app, cache_dir=tmp_path / "other"), "--client-secret", "wrong-0",
                        "--disable-environment-override"], env)
    assert off.returncode == 1 and "AADSTS7000215" in off.stderr


def test_untrusted_ca_is_refused_with_a_hint(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    args = [a for a in spn_args(emulator, app) if a not in ("--certificate-authority", str(emulator.ca_path))]
    result = run_akslogin(args, clean_env(tmp_path, AZURE_CLIENT_SECRET=app.secret or ""))
    assert result.returncode == 1
    assert "not trusted" in result.stderr and "--certificate-authority" in result.stderr
    assert emulator.request_log.entries() == []


def test_ca_from_requests_ca_bundle(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    args = [a for a in spn_args(emulator, app) if a not in ("--certificate-authority", str(emulator.ca_path))]
    env = clean_env(tmp_path, AZURE_CLIENT_SECRET=app.secret or "", REQUESTS_CA_BUNDLE=str(emulator.ca_path))
    result = run_akslogin(args, env)
    assert result.returncode == 0, result.stderr


def test_unreachable_authority_fails_fast_and_clearly(tmp_path: Path, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    args = ["get-token", "-l", "spn", "--server-id", AKS_SERVER_APP_ID, "-t", TENANT_ID, "--client-id",
            app.client_id, "--authority-host", "https://127.0.0.1:9/", "--timeout", "5s"]
    result = run_akslogin(args, clean_env(tmp_path, AZURE_CLIENT_SECRET="x"))
    assert result.returncode == 1
    assert "cannot connect to https://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--login", "spn"], "--server-id is required"),
        (["--server-id", AKS_SERVER_APP_ID, "--login", "bogus"], "unknown login mode"),
        (["--server-id", AKS_SERVER_APP_ID, "--frobnicate"], "unknown flag"),
        (["--server-id", AKS_SERVER_APP_ID, "--environment", "AzureGermanCloud"], "unknown --environment"),
        (["--server-id", AKS_SERVER_APP_ID, "--authority-host", "http://insecure/"], "https URL"),
        (["--server-id", AKS_SERVER_APP_ID, "--timeout", "soon"], "not a duration"),
        (["--server-id", AKS_SERVER_APP_ID, "-l", "spn", "-t", TENANT_ID], "--client-id is required"),
        (["--server-id", AKS_SERVER_APP_ID, "-l", "spn", "-t", TENANT_ID, "--client-id", "c"],
         "needs a client secret or a client certificate"),
    ],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_akslogin(["get-token", *args], clean_env(tmp_path))
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_help_teaches_flags_and_environment(tmp_path: Path) -> None:
    result = run_akslogin(["get-token", "--help"], clean_env(tmp_path))
    assert result.returncode == 0
    for needle in ("--server-id", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "--client-certificate", "Examples:"):
        assert needle in result.stdout


def test_secrets_never_reach_stderr_at_top_verbosity(tmp_path: Path, emulator: Emulator,
                                                     apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path)
    result = run_akslogin([*spn_args(emulator, app), "--client-secret", app.secret or "", "-v", "10"], env)
    assert result.returncode == 0, result.stderr
    token = _credential(result.stdout)["status"]["token"]  # type: ignore[index]
    assert "options:" in result.stderr
    assert (app.secret or "") not in result.stderr and str(token) not in result.stderr


def test_corrupt_cache_entry_is_rebuilt_with_a_warning(tmp_path: Path, emulator: Emulator,
                                                       apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    assert run_akslogin(spn_args(emulator, app), env).returncode == 0
    entry = next((tmp_path / ".kube" / "cache" / "akslogin" / "tokens").glob("*.json"))
    entry.write_bytes(b"\x00garbage{")
    result = run_akslogin(spn_args(emulator, app), env)
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and "moved it to" in result.stderr
    assert json.loads(entry.read_text())["version"] == 1


def test_pop_flags_return_a_signed_proof_not_a_bearer_token(tmp_path: Path, emulator: Emulator,
                                                             apps: dict[str, AppInfo]) -> None:
    """Issue 15 replaced the old "accepted, bearer returned" warning: the token is a PoP JWS (typ pop) around
    an access token bound to the key (tests/{unit,emulated,e2e}/test_pop_arc.py takes it to an Arc cluster)."""
    app = apps["viewer"]
    env = clean_env(tmp_path, AZURE_CLIENT_SECRET=app.secret or "")
    result = run_akslogin([*spn_args(emulator, app), "--pop-enabled", "--pop-claims", "u=/subscriptions/x"], env)
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout)["status"]["token"]
    head = token.split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["typ"] == "pop"
    assert decode_jwt_payload(decode_jwt_payload(token)["at"])["cnf"]["kid"]
