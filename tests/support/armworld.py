"""Worlds and helpers for the ARM / kubeconfig tests (get-credentials, fleet, convert, embedded tokens).

Each test module builds its own emulator from these specs (the session world in conftest stays untouched).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.run import akslogin_bin, clean_env, run_akslogin

TENANT = "7e7e7e7e-1111-4222-8333-444444444444"
OTHER_TENANT = "7f7f7f7f-1111-4222-8333-444444444444"
AKS_SERVER = "6dae42f8-4368-4678-94ff-3960e28e3630"


@dataclass(frozen=True)
class Principal:
    name: str
    client_id: str
    object_id: str
    secret: str


DEPLOYER = Principal("deployer", "c1000000-0000-4000-8000-000000000001", "d1000000-0000-4000-8000-000000000001",
                     "deployer-secret-Aa1~x")
BREAKGLASS = Principal("breakglass", "c1000000-0000-4000-8000-000000000002", "d1000000-0000-4000-8000-000000000002",
                       "breakglass-secret-Bb2~y")
OUTSIDER = Principal("outsider", "c1000000-0000-4000-8000-000000000003", "d1000000-0000-4000-8000-000000000003",
                     "outsider-secret-Cc3~z")
FLEETBOT = Principal("fleetbot", "c1000000-0000-4000-8000-000000000004", "d1000000-0000-4000-8000-000000000004",
                     "fleetbot-secret-Dd4~w")
PRINCIPALS = (DEPLOYER, BREAKGLASS, OUTSIDER, FLEETBOT)


def sub_id(n: int) -> str:
    return f"5{n:07d}-aaaa-4bbb-8ccc-{n:012d}"


def _app(p: Principal) -> dict[str, Any]:
    return {"name": p.name, "client_id": p.client_id, "object_id": p.object_id, "secrets": [p.secret]}


def _viewer_rbac(*principals: Principal) -> dict[str, Any]:
    return {"bindings": [{"name": f"{p.name}-view", "role": "view", "subjects": [{"app": p.name}]}
                         for p in principals]}


def single_spec() -> dict[str, Any]:
    """Two subscriptions and a handful of clusters, one per interesting kind."""
    s1, s2 = sub_id(1), sub_id(2)
    clusters = [
        {"name": "aks1", "subscription": s1, "resource_group": "rg-apps", "pods": {"default": ["web-1", "web-2"]},
         "rbac": _viewer_rbac(DEPLOYER)},
        {"name": "aks-private", "subscription": s1, "resource_group": "rg-apps", "private": True,
         "pods": {"default": ["private-1"]}, "rbac": _viewer_rbac(DEPLOYER)},
        {"name": "aks-nolocal", "subscription": s1, "resource_group": "rg-secure", "disable_local_accounts": True},
        {"name": "aks-basic", "subscription": s1, "resource_group": "rg-legacy", "aad": False,
         "pods": {"default": ["old-1"]}},
        {"name": "aks-prod", "subscription": s2, "resource_group": "rg-prod", "pods": {"default": ["ledger-0"]},
         "rbac": _viewer_rbac(DEPLOYER)},
    ]
    for c in clusters:
        c["tenant"] = TENANT
    return {
        "tenants": [{"id": TENANT, "domains": ["fabrikam.example"], "apps": [_app(p) for p in PRINCIPALS]},
                    {"id": OTHER_TENANT, "domains": ["elsewhere.example"]}],
        "subscriptions": [{"id": s1, "display_name": "Development", "tenant": TENANT},
                          {"id": s2, "display_name": "Production", "tenant": TENANT}],
        "clusters": clusters,
        "arm_role_assignments": [
            {"principal": {"app": "deployer"}, "role": "Azure Kubernetes Service Cluster User Role",
             "scope": f"/subscriptions/{s1}"},
            {"principal": {"app": "deployer"}, "role": "cluster-user", "scope": {"cluster": "aks-prod"}},
            {"principal": {"app": "breakglass"}, "role": "cluster-admin", "scope": f"/subscriptions/{s1}"},
            {"principal": {"app": "breakglass"}, "role": "cluster-monitoring-user", "scope": {"cluster": "aks1"}},
            {"principal": {"app": "breakglass"}, "role": "reader", "scope": f"/subscriptions/{s1}"},
        ],
    }


def fleet_spec(subscriptions: int = 5, per_subscription: int = 11, denied: tuple[str, ...] = ()) -> dict[str, Any]:
    """A fleet: ``per_subscription`` clusters in each subscription, in two resource groups. Names repeat on
    purpose: every subscription has an ``api`` in ``rg-a`` (unique only with the subscription), and a
    ``svc-<s>`` in both resource groups (unique with the resource group); the rest are unique. FLEETBOT may
    read everything and list user credentials everywhere except on the ``denied`` clusters."""
    clusters: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    for s in range(1, subscriptions + 1):
        sid = sub_id(100 + s)
        assignments.append({"principal": {"app": "fleetbot"}, "role": "reader", "scope": f"/subscriptions/{sid}"})
        for i in range(per_subscription):
            rg = "rg-a" if i % 2 == 0 else "rg-b"
            key = f"s{s}-c{i}"
            arm_name = "api" if i == 0 else f"svc-{s}" if i in (1, 2) else f"app-{s}-{i}"
            clusters.append({"name": key, "arm_name": arm_name, "tenant": TENANT, "subscription": sid,
                             "resource_group": rg, "pods": {"default": [f"pod-{key}"]},
                             "rbac": _viewer_rbac(FLEETBOT)})
            if key not in denied:
                assignments.append({"principal": {"app": "fleetbot"}, "role": "cluster-user",
                                    "scope": {"cluster": key}})
    return {
        "tenants": [{"id": TENANT, "domains": ["fabrikam.example"], "apps": [_app(p) for p in PRINCIPALS]}],
        "subscriptions": [{"id": sub_id(100 + s), "display_name": f"Fleet {s}", "tenant": TENANT}
                          for s in range(1, subscriptions + 1)],
        "clusters": clusters,
        "arm_role_assignments": assignments,
    }


@dataclass
class Runner:
    """Runs akslogin commands as a user would, with a private HOME, cache and the emulator's endpoints."""

    emu: Emulator
    home: Path

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def kubeconfig(self) -> Path:
        return self.home / ".kube" / "config"

    def env(self, principal: Principal | None = DEPLOYER, **extra: str) -> dict[str, str]:
        env = clean_env(self.home, **extra)
        if principal is not None:
            env["AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"] = principal.secret
        return env

    def signin(self, principal: Principal = DEPLOYER) -> list[str]:
        return ["--login", "spn", "--tenant-id", TENANT, "--client-id", principal.client_id,
                "--authority-host", self.emu.authority_host, "--certificate-authority", str(self.emu.ca_path),
                "--cache-dir", str(self.cache)]

    def get_credentials(self, *args: str, principal: Principal = DEPLOYER, env: Mapping[str, str] | None = None,
                        timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = ["get-credentials", *self.signin(principal), "--arm-endpoint", self.emu.server_url("arm"),
                "--exec-command", akslogin_bin(), *args]
        return run_akslogin(argv, env if env is not None else self.env(principal), timeout=timeout)

    def run(self, *args: str, principal: Principal | None = DEPLOYER, **extra: str
            ) -> subprocess.CompletedProcess[str]:
        return run_akslogin(list(args), self.env(principal, **extra))

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.kubeconfig.read_text())
        return data


def serve(spec: dict[str, Any], factory: Any, name: str) -> Iterator[Emulator]:
    """A module's emulator for ``spec`` (``factory``: pytest's tmp_path_factory)."""
    with Emulator(world_from_dict(spec), factory.mktemp(name)) as emu:
        yield emu


def fresh_runner(emu: Emulator, home: Path) -> Iterator[Runner]:
    """A Runner with an empty request log; the faults it added are cleared after."""
    emu.request_log.reset()
    yield Runner(emu, home)
    emu.faults.clear()


def named(data: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = next(i for i in data[section] if i["name"] == name)
    return body
