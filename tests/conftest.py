"""Shared fixtures: one emulator per test session with a world holding every identity the tests need."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from akslogin.emulator import Emulator
from akslogin.emulator.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed
from akslogin.emulator.world import AKS_SERVER_APP_ID, World

TENANT_ID = "11111111-2222-4333-8444-555555555555"
TENANT_DOMAIN = "contoso.example"
OTHER_TENANT_ID = "99999999-8888-4777-8666-555555555555"
KUBECTL = "/usr/bin/kubectl"


@dataclass
class AppInfo:
    name: str
    client_id: str
    object_id: str
    secret: str | None = None
    pem_path: Path | None = None  # certificate + key
    pfx_path: Path | None = None
    pfx_password: str | None = None
    key_pem: bytes = b""
    cert_pem: bytes = b""


@dataclass
class WorldInfo:
    apps: dict[str, AppInfo] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


def _make_cert_app(directory: Path, name: str, client_id: str, object_id: str) -> AppInfo:
    key = new_rsa_key()
    cert = self_signed(f"{name}.contoso.example", key)
    pem = directory / f"{name}.pem"
    pem.write_bytes(key_pem(key) + cert_pem(cert))
    pem.chmod(0o600)
    password = f"pfx-pass-{name}"
    pfx = directory / f"{name}.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, serialization.BestAvailableEncryption(password.encode())
    ))
    return AppInfo(name, client_id, object_id, pem_path=pem, pfx_path=pfx, pfx_password=password,
                   key_pem=key_pem(key), cert_pem=cert_pem(cert))


@pytest.fixture(scope="session")
def test_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[WorldInfo, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("world")
    tw = WorldInfo()
    tw.apps["viewer"] = AppInfo("ci-viewer", "aaaaaaaa-0000-4000-8000-000000000001",
                                "0b0b0b0b-0000-4000-8000-000000000001", secret="viewer-secret-Zx9~abc")
    tw.apps["nobody"] = AppInfo("ci-nobody", "aaaaaaaa-0000-4000-8000-000000000002",
                                "0b0b0b0b-0000-4000-8000-000000000002", secret="nobody-secret-Qw8~def")
    tw.apps["editor"] = AppInfo("ci-editor", "aaaaaaaa-0000-4000-8000-000000000003",
                                "0b0b0b0b-0000-4000-8000-000000000003", secret="editor-secret-Er7~ghi")
    tw.apps["cert"] = _make_cert_app(directory, "ci-cert", "aaaaaaaa-0000-4000-8000-000000000004",
                                     "0b0b0b0b-0000-4000-8000-000000000004")
    tw.apps["expired"] = AppInfo("ci-expired", "aaaaaaaa-0000-4000-8000-000000000005",
                                 "0b0b0b0b-0000-4000-8000-000000000005", secret="expired-secret-Ty6~jkl")
    tw.secrets = [a.secret for a in tw.apps.values() if a.secret] + [
        a.pfx_password for a in tw.apps.values() if a.pfx_password
    ]
    spec: dict[str, Any] = {
        "tenants": [
            {
                "id": TENANT_ID,
                "domains": [TENANT_DOMAIN],
                "groups": [{"name": "aks-viewers", "object_id": "9c9c9c9c-0000-4000-8000-000000000001"}],
                "apps": [
                    {"name": "ci-viewer", "client_id": tw.apps["viewer"].client_id,
                     "object_id": tw.apps["viewer"].object_id, "secrets": [tw.apps["viewer"].secret]},
                    {"name": "ci-nobody", "client_id": tw.apps["nobody"].client_id,
                     "object_id": tw.apps["nobody"].object_id, "secrets": [tw.apps["nobody"].secret]},
                    {"name": "ci-editor", "client_id": tw.apps["editor"].client_id,
                     "object_id": tw.apps["editor"].object_id, "secrets": [tw.apps["editor"].secret],
                     "groups": ["aks-viewers"]},
                    {"name": "ci-cert", "client_id": tw.apps["cert"].client_id,
                     "object_id": tw.apps["cert"].object_id, "certificates": [str(tw.apps["cert"].pem_path)]},
                    {"name": "ci-expired", "client_id": tw.apps["expired"].client_id,
                     "object_id": tw.apps["expired"].object_id,
                     "secrets": [{"value": tw.apps["expired"].secret, "expires": 1_000_000_000}]},
                ],
                "users": [
                    {"upn": "alice@contoso.example", "object_id": "5a5a5a5a-0000-4000-8000-000000000001",
                     "password": "Alice-Passw0rd!", "groups": ["aks-viewers"]},
                ],
            },
            {"id": OTHER_TENANT_ID, "domains": ["fabrikam.example"]},
        ],
        "clusters": [
            {
                "name": "aks1",
                "tenant": TENANT_ID,
                "namespaces": ["default", "kube-system", "team-a"],
                "pods": {"default": ["web-1", "web-2"], "team-a": ["api-1"]},
                "rbac": {"bindings": [
                    {"name": "viewer", "role": "view", "subjects": [{"app": "ci-viewer"}]},
                    {"name": "cert-viewer", "role": "view", "subjects": [{"app": "ci-cert"}]},
                    {"name": "editors", "role": "edit", "namespace": "team-a",
                     "subjects": [{"group": "aks-viewers"}]},
                ]},
            },
            {"name": "legacy", "tenant": TENANT_ID, "audience": "spn",
             "rbac": {"bindings": [{"name": "viewer", "role": "view", "subjects": [{"app": "ci-viewer"}]}]}},
        ],
    }
    (directory / "world.yaml").write_text(yaml.safe_dump(spec))
    return tw, spec


@pytest.fixture(scope="session")
def emulator(test_world: tuple[WorldInfo, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Emulator]:
    _, spec = test_world
    world = World.from_dict(spec)
    with Emulator(world, tmp_path_factory.mktemp("emulator-state")) as emu:
        yield emu


@pytest.fixture
def apps(test_world: tuple[WorldInfo, dict[str, Any]]) -> dict[str, AppInfo]:
    return test_world[0].apps


# -- the unit tier (`make test-unit`): no emulator, no subprocess, no socket --------------------------------

#: The only fixtures a unit test may use: pytest's own (every fixture of ours serves or starts something).
_UNIT_FIXTURES = frozenset({"tmp_path", "tmp_path_factory", "monkeypatch", "request", "capsys", "capfd", "caplog",
                            "recwarn", "pytestconfig"})
#: Names in a test's own source that start a process or reach a server.
_PROCESS_NAMES = ("subprocess", "run_akslogin", "kubectl(", "KubectlRun", "Popen", "akslogin_bin", "Emulator(",
                  "EmulatorProcess", "requests.", "_imported(", "make ")


def _is_unit(item: pytest.Item) -> bool:
    import inspect

    if item.get_closest_marker("fuzz") or item.get_closest_marker("demo"):
        return False
    callspec = getattr(item, "callspec", None)
    params = set(callspec.params) if callspec is not None else set()
    if any(name not in _UNIT_FIXTURES and name not in params and not name.startswith("_")
           for name in getattr(item, "fixturenames", ())):
        return False
    function = getattr(item, "function", None)
    try:
        source = inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        return False
    return not any(name in source for name in _PROCESS_NAMES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _unit_stays_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test classified as unit that starts a process or opens a TCP connection fails here (then the
    classification above needs the name it used), so the unit tier stays what it says."""
    if request.node.get_closest_marker("unit") is None:
        return
    import socket
    import subprocess

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{request.node.nodeid} is in the unit tier but starts a process or a connection; "
                             "add the helper it uses to _PROCESS_NAMES in tests/conftest.py")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(autouse=True)
def _fresh_emulator_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that use the emulator start with an empty request log, the real clock and default settings."""
    yield
    if "emulator" in request.fixturenames:
        emu: Emulator = request.getfixturevalue("emulator")
        emu.request_log.reset()
        emu.clock.reset()
        emu.entra.settings.access_token_lifetime = 3599
        emu.faults.clear()


def akslogin_bin() -> str:
    found = shutil.which("akslogin", path=os.path.dirname(sys.executable)) or shutil.which("akslogin")
    assert found, "the akslogin console script must be installed (pip install -e .)"
    return found


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A process environment without any AZURE_/AAD_/ARM_ variables from the developer's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE", "AZURESUBSCRIPTION_"))}
    env["HOME"] = str(home)
    env.pop("HTTPS_PROXY", None)
    env.pop("https_proxy", None)
    env.update(extra)
    return env


def spn_args(emu: Emulator, app: AppInfo, *, tenant: str = TENANT_ID, cache_dir: Path | None = None) -> list[str]:
    args = ["get-token", "--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", tenant,
            "--client-id", app.client_id, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path)]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    return args


def run_akslogin(args: list[str], env: Mapping[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([akslogin_bin(), *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def write_kubeconfig(path: Path, emu: Emulator, cluster: str, exec_args: list[str],
                     exec_env: Mapping[str, str] | None = None, api_version: str = "v1") -> Path:
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [emu.kubeconfig_cluster(cluster)],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_rg_{cluster}"}}],
        "current-context": cluster,
        "users": [{
            "name": f"clusterUser_rg_{cluster}",
            "user": {"exec": {
                "apiVersion": f"client.authentication.k8s.io/{api_version}",
                "command": akslogin_bin(),
                "args": exec_args,
                "env": [{"name": k, "value": v} for k, v in (exec_env or {}).items()] or None,
                "interactiveMode": "Never",
                "provideClusterInfo": False,
            }},
        }],
    }
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


def kubectl(kubeconfig: Path, *args: str, env: Mapping[str, str], timeout: float = 90
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout", "30s", *args],
                          env=dict(env), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def decode_jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


# -- machine sign-in tests (managed identity, workload identity, CI OIDC, az/azd) --------------------------
# Their own emulator and world (tests/machine_world.py); the session world above is left untouched.

@pytest.fixture(scope="session")
def machine_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Any]]:
    from machine_world import build_machine_world

    mw = build_machine_world(tmp_path_factory.mktemp("machine-world"))
    world = World.load(mw.directory / "machines.yaml")
    with Emulator(world, tmp_path_factory.mktemp("machine-emulator")) as emu:
        yield emu, mw


@pytest.fixture
def machine_emulator(machine_session: tuple[Emulator, Any]) -> Iterator[Emulator]:
    """The machine emulator, with a clean request log, clock, settings and faults after each test."""
    emu = machine_session[0]
    yield emu
    from akslogin.emulator.managed_identity import managed_identities

    emu.request_log.reset()
    emu.clock.reset()
    emu.faults.clear()
    emu.entra.settings.access_token_lifetime = 3599
    managed_identities(emu).settings.token_lifetime = 86399


@pytest.fixture
def machine_world(machine_session: tuple[Emulator, Any]) -> Any:
    return machine_session[1]


# ---- user sign-in (devicecode, interactive, ropc): a world of users, its own emulator ----------------

USER_TENANT_ID = "22222222-3333-4444-8555-666666666666"
USER_DOMAIN = "users.example"
FED_DOMAIN = "corp.example"  # federated, SAML 1.1 via MEX + WS-Trust 1.3
FED2_DOMAIN = "corp2.example"  # federated, SAML 2.0, no MEX (WS-Trust 2005 endpoint from user realm)
AKS_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
UNCONSENTED_CLIENT_ID = "cccccccc-0000-4000-8000-000000000001"
ASSIGNED_CLIENT_ID = "cccccccc-0000-4000-8000-000000000002"
CONFIDENTIAL_CLIENT_ID = "cccccccc-0000-4000-8000-000000000003"
DEVS_GROUP_ID = "9d9d9d9d-0000-4000-8000-000000000001"
PASSWORD = "Passw0rd!-user"


def _user(name: str, domain: str = USER_DOMAIN, **extra: Any) -> dict[str, Any]:
    return {"upn": f"{name}@{domain}", "password": PASSWORD, **extra}


USER_WORLD: dict[str, Any] = {
    "tenants": [{
        "id": USER_TENANT_ID,
        "domains": [USER_DOMAIN],
        "federation": [{"domain": FED_DOMAIN, "token_type": "saml1.1"},
                       {"domain": FED2_DOMAIN, "token_type": "saml2.0", "mex": False}],
        "groups": [{"name": "aks-devs", "object_id": DEVS_GROUP_ID}],
        "apps": [
            {"name": "unconsented-cli", "client_id": UNCONSENTED_CLIENT_ID, "public_client": True,
             "consented": False},
            {"name": "assigned-cli", "client_id": ASSIGNED_CLIENT_ID, "public_client": True,
             "assignment_required": True, "assigned": [f"dev@{USER_DOMAIN}"]},
            {"name": "confidential-web", "client_id": CONFIDENTIAL_CLIENT_ID, "secrets": ["web-secret-1"]},
        ],
        "users": [
            _user("dev", object_id="7e7e7e7e-0000-4000-8000-000000000001", groups=["aks-devs"],
                  display_name="Dev One"),
            _user("dev2", object_id="7e7e7e7e-0000-4000-8000-000000000002", groups=["aks-devs"]),
            _user("viewer", object_id="7e7e7e7e-0000-4000-8000-000000000003"),
            _user("mfa", mfa="required", groups=["aks-devs"]),
            _user("mfareg", mfa="register"),
            _user("blocked", conditional_access="block"),
            _user("nodevicecode", conditional_access={"block": ["devicecode"]}, groups=["aks-devs"]),
            _user("unmanaged", conditional_access={"compliant_device": ["all"]}),
            _user("disabled", disabled=True),
            _user("locked", locked=True),
            _user("expired", password_expired=True),
            {"upn": f"passwordless@{USER_DOMAIN}"},
            _user("frequent", sign_in_frequency=600, groups=["aks-devs"]),
            _user("auto", auto_approve=True, groups=["aks-devs"]),
            _user("fed", domain=FED_DOMAIN, object_id="7e7e7e7e-0000-4000-8000-000000000010", groups=["aks-devs"]),
            _user("fed2", domain=FED2_DOMAIN, object_id="7e7e7e7e-0000-4000-8000-000000000011"),
            _user("fedmfa", domain=FED_DOMAIN, mfa="required"),
        ],
    }],
    "clusters": [
        {"name": "users", "tenant": USER_TENANT_ID, "namespaces": ["default", "dev"],
         "pods": {"default": ["web-1"], "dev": ["api-1"]},
         "rbac": {"bindings": [
             {"name": "devs-view", "role": "view", "subjects": [{"group": "aks-devs"}]},
             {"name": "viewer-view", "role": "view", "subjects": [{"user": f"viewer@{USER_DOMAIN}"}]},
         ]}},
        {"name": "users-legacy", "tenant": USER_TENANT_ID, "audience": "spn",
         "rbac": {"bindings": [{"name": "devs-view", "role": "view", "subjects": [{"group": "aks-devs"}]}]}},
    ],
}


@pytest.fixture(scope="session")
def _user_emulator_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(USER_WORLD), tmp_path_factory.mktemp("user-emulator")) as emu:
        emu.entra.settings.device_code_interval = 1
        yield emu


@pytest.fixture
def user_emu(_user_emulator_session: Emulator) -> Iterator[Emulator]:
    """The user-world emulator, reset after each test (log, clock, settings, faults)."""
    from akslogin.emulator import devicecode

    emu = _user_emulator_session
    yield emu
    codes = devicecode.of(emu)
    for pending in codes.pending():  # a later test must not pick up this test's prompt
        codes.expire(pending.user_code)
    emu.request_log.reset()
    emu.clock.reset()
    emu.faults.clear()
    settings = emu.entra.settings
    settings.access_token_lifetime = 3599
    settings.device_code_interval = 1
    settings.device_code_lifetime = 900
    settings.refresh_token_max_inactive = 90 * 86400
    settings.refresh_token_single_use = False
    settings.refresh_in = None


def user_args(emu: Emulator, login: str, cache_dir: Path, *extra: str, server_id: str = AKS_SERVER_APP_ID,
              client_id: str = AKS_CLIENT_ID, tenant: str = USER_TENANT_ID) -> list[str]:
    """get-token arguments for a user login mode against ``emu`` (as AKS writes them, plus the emulator)."""
    return ["get-token", "--login", login, "--server-id", server_id, "--client-id", client_id,
            "--tenant-id", tenant, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache_dir), *extra]


class KubectlRun:
    """kubectl running in the background; its stderr (where the exec plugin prompts) is read line by line."""

    def __init__(self, kubeconfig: Path, *args: str, env: Mapping[str, str]) -> None:
        import queue
        import threading

        self.proc = subprocess.Popen(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout", "60s", *args], env=dict(env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        self.ended = False

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for_line(self, needle: str, timeout: float = 30) -> str:
        """The first stderr line containing ``needle`` (fails if kubectl ends or time runs out first)."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {needle!r} on stderr within {timeout}s: {self.stderr_lines}") from None
            if line is None:
                self.ended = True
                raise AssertionError(f"kubectl ended before printing {needle!r}: {self.stderr_lines}")
            self.stderr_lines.append(line)
            if needle in line:
                return line

    def finish(self, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.proc.stdout is not None
        stdout = self.proc.stdout.read()  # stderr belongs to the pump thread; don't let communicate() race it
        self.proc.wait(timeout=timeout)
        while not self.ended:
            line = self.lines.get(timeout=5)
            if line is None:
                self.ended = True
                break
            self.stderr_lines.append(line)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, "".join(self.stderr_lines))


def user_code_from(line: str) -> str:
    import re

    match = re.search(r"enter the code (\w+)", line)
    assert match, line
    return match.group(1)


def credential_context(emu: Emulator, login: str, tmp_path: Path, *extra: str, clock: Any = None,
                       environ: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """(CredentialContext, its stderr StringIO) for driving a user credential in-process."""
    import io
    import time

    from akslogin.credentials.base import CredentialContext
    from akslogin.credentials.msal_app import resolve_authority
    from akslogin.http import HttpClient
    from akslogin.log import Log
    from akslogin.options import apply_env, parse_args, validate

    cache = tmp_path / "cache"
    opts = parse_args(user_args(emu, login, cache, *extra)[1:])
    apply_env(opts, {})
    validate(opts)
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    stderr = io.StringIO()
    ctx = CredentialContext(
        opts=opts, authority=resolve_authority(opts), http=HttpClient(30, opts.certificate_authority),
        environ=dict(environ or {}), cache_dir=str(cache), identity_key="k" * 40, log=Log(0, stderr),
        stderr=stderr, clock=clock or time.time)
    return ctx, stderr
