"""Shared fixtures: one emulator per test session with a world holding every identity the tests need."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import load_world, world_from_dict
from support.worlds import (
    ASSIGNED_CLIENT_ID,
    CONFIDENTIAL_CLIENT_ID,
    DEVS_GROUP_ID,
    FED2_DOMAIN,
    FED_DOMAIN,
    OTHER_TENANT_ID,
    TENANT_DOMAIN,
    TENANT_ID,
    UNCONSENTED_CLIENT_ID,
    USER_DOMAIN,
    USER_TENANT_ID,
    AppInfo,
    WorldInfo,
    _make_cert_app,
    _user,
)


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
    world = world_from_dict(spec)
    with Emulator(world, tmp_path_factory.mktemp("emulator-state")) as emu:
        yield emu


@pytest.fixture
def apps(test_world: tuple[WorldInfo, dict[str, Any]]) -> dict[str, AppInfo]:
    return test_world[0].apps


# -- tiers: the folder a test lives in is its tier (and its marker) ---------------------------------------
#   unit/      in process: no emulator, no subprocess, no socket (`make test-unit`, seconds)
#   emulated/  akslogin (in process or as its own command) against the emulator; no outside client
#   e2e/       through a real client we did not write: kubectl, the Azure CLI, Chromium, an installer, the demo
#   fuzz/      hypothesis suites of 10,000 cases each (`make test` runs them beside the rest)
TIERS = ("unit", "emulated", "e2e", "fuzz")
#: Programs only the e2e tier may start (an emulated test that needs one belongs in e2e/).
OUTSIDE_CLIENTS = frozenset({"kubectl", "chromium", "chromium-browser", "google-chrome"})


def _tier(item: pytest.Item) -> str | None:
    parts = item.path.relative_to(item.config.rootpath / "tests").parts if item.path.is_relative_to(
        item.config.rootpath / "tests") else ()
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = _tier(item)
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid} is in no tier folder; put it in tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _tier_stays_what_it_says(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that starts a process or opens a TCP connection, or an emulated test that starts kubectl or
    a browser, fails here: the fix is to move it to the tier it needs."""
    tier = _tier(request.node)
    if tier == "unit":
        import socket

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{request.node.nodeid} is in the unit tier but starts a process or a connection; "
                                 "move it to tests/emulated/ (or tests/e2e/)")

        monkeypatch.setattr(subprocess, "Popen", refuse)
        monkeypatch.setattr(socket.socket, "connect", refuse)
    elif tier == "emulated":
        monkeypatch.setattr(subprocess, "Popen", _popen_without_outside_clients(request.node.nodeid))


def _popen_without_outside_clients(nodeid: str) -> type[subprocess.Popen[Any]]:
    class Guarded(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
            program = os.path.basename(os.fsdecode(argv[0])) if argv else ""
            if program in OUTSIDE_CLIENTS:
                raise AssertionError(f"{nodeid} is in the emulated tier but runs {program}; move it to tests/e2e/")
            super().__init__(args, *rest, **kwargs)

    return Guarded


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


# -- machine sign-in tests (managed identity, workload identity, CI OIDC, az/azd) --------------------------
# Their own emulator and world (tests/machine_world.py); the session world above is left untouched.

@pytest.fixture(scope="session")
def machine_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Any]]:
    from support.machine_world import build_machine_world

    mw = build_machine_world(tmp_path_factory.mktemp("machine-world"))
    world = load_world(mw.directory / "machines.yaml")
    with Emulator(world, tmp_path_factory.mktemp("machine-emulator")) as emu:
        yield emu, mw


@pytest.fixture
def machine_emulator(machine_session: tuple[Emulator, Any]) -> Iterator[Emulator]:
    """The machine emulator, with a clean request log, clock, settings and faults after each test."""
    emu = machine_session[0]
    yield emu
    from akslogin.emulator.azure.managed_identity import managed_identities

    emu.request_log.reset()
    emu.clock.reset()
    emu.faults.clear()
    emu.entra.settings.access_token_lifetime = 3599
    managed_identities(emu).settings.token_lifetime = 86399


@pytest.fixture
def machine_world(machine_session: tuple[Emulator, Any]) -> Any:
    return machine_session[1]


# ---- user sign-in (devicecode, interactive, ropc): a world of users, its own emulator ----------------


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
            _user("notjoined", conditional_access={"domain_joined": ["ropc", "interactive"]}),
            _user("unenrolled", conditional_access={"managed_device": ["all"]}),
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
    with Emulator(world_from_dict(USER_WORLD), tmp_path_factory.mktemp("user-emulator")) as emu:
        emu.entra.settings.device_code_interval = 1
        yield emu


@pytest.fixture
def user_emu(_user_emulator_session: Emulator) -> Iterator[Emulator]:
    """The user-world emulator, reset after each test (log, clock, settings, faults)."""
    from akslogin.emulator.entra import devicecode

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


