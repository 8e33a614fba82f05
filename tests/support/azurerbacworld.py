"""A world with an Azure RBAC cluster (issue 26): who holds which Azure role assignment, at which scope.

``aks-az`` authorizes with Azure role assignments first, then Kubernetes RBAC. The apps and the user stand for
the cases the tests walk through: nobody assigned, a Reader on one namespace, a Writer on the whole cluster, a
user whose group holds the Reader role, and an app that Azure does not know but a Kubernetes binding allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.explainworld import App, _app

TENANT = "3f1c2b4a-0000-4000-8000-00000000a126"
SUBSCRIPTION = "5b5b5b5b-0000-4000-8000-000000000126"
CLUSTER = "aks-az"
READERS = "6d6d6d6d-0000-4000-8000-000000000126"
APPS: dict[str, App] = {
    "nobody": _app(261, "az-nobody"),
    "ns-reader": _app(262, "az-ns-reader"),
    "writer": _app(263, "az-writer"),
    "k8s-viewer": _app(264, "az-k8s-viewer"),
    "owner": _app(265, "az-owner"),
    "contributor": _app(266, "az-contributor"),
}
USER = ("rita@contoso-az.example", "5e5e5e5e-0000-4000-8000-000000000126")


def cluster_id() -> str:
    return (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-az/providers/Microsoft.ContainerService/"
            f"managedClusters/{CLUSTER}")


def world_spec() -> dict[str, Any]:
    return {
        "tenants": [{
            "id": TENANT, "domains": ["contoso-az.example"],
            "groups": [{"name": "aks-readers", "object_id": READERS}],
            "apps": [{"name": a.name, "client_id": a.client_id, "object_id": a.object_id, "secrets": [a.secret]}
                     for a in APPS.values()],
            "users": [{"upn": USER[0], "object_id": USER[1], "groups": ["aks-readers"]}],
        }],
        "clusters": [{
            "name": CLUSTER, "tenant": TENANT, "subscription": SUBSCRIPTION, "resource_group": "rg-az",
            "azure_rbac": True, "namespaces": ["default", "dev", "prod"],
            "pods": {"dev": ["api-1"], "prod": ["web-1"]},
            "rbac": {"bindings": [{"name": "k8s-view", "role": "view", "subjects": [{"app": "az-k8s-viewer"}]}]},
        }],
        "arm_custom_roles": [
            {"name": "Widget Reader", "data_actions": [
                "Microsoft.ContainerService/managedClusters/example.com/widgets/read"]},
        ],
        "arm_role_assignments": [
            {"principal": {"app": "az-ns-reader"}, "role": "Widget Reader", "scope": {"cluster": CLUSTER}},
            {"principal": {"app": "az-owner"}, "role": "owner", "scope": f"/subscriptions/{SUBSCRIPTION}"},
            {"principal": {"app": "az-contributor"}, "role": "contributor",
             "scope": f"/subscriptions/{SUBSCRIPTION}"},
            {"principal": {"app": "az-ns-reader"}, "role": "Azure Kubernetes Service RBAC Reader",
             "scope": {"cluster": CLUSTER, "namespace": "dev"}},
            {"principal": {"app": "az-writer"}, "role": "Azure Kubernetes Service RBAC Writer",
             "scope": {"cluster": CLUSTER}},
            {"principal": {"group": "aks-readers"}, "role": "Azure Kubernetes Service RBAC Reader",
             "scope": {"cluster": CLUSTER}},
        ],
    }


def start(tmp_path_factory: Any) -> Iterator[Emulator]:
    with Emulator(world_from_dict(world_spec()), tmp_path_factory.mktemp("emu-azure-rbac")) as emu:
        yield emu


def get_credentials(emu: Emulator, home: Path, who: App) -> tuple[Path, dict[str, str], Any]:
    """akslogin get-credentials for aks-az as ``who`` (a service principal), into ``home``/config: the
    kubeconfig, the environment that signs in, and the finished process."""
    from support.run import akslogin_bin, clean_env, run_akslogin

    env = clean_env(home, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=who.secret)
    kubeconfig = home / "config"
    done = run_akslogin(["get-credentials", "--login", "spn", "--tenant-id", TENANT, "--client-id", who.client_id,
                         "--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path),
                         "--cache-dir", str(home / "cache"), "--arm-endpoint", emu.server_url("arm"),
                         "--exec-command", akslogin_bin(), "-g", "rg-az", "-n", CLUSTER, "--file", str(kubeconfig)],
                        env)
    return kubeconfig, env, done


def recorded_entry(emu: Emulator, resource_manager: str = "") -> dict[str, Any]:
    """aks-az's kubeconfig cluster entry with what get-credentials records (resource id, model, Resource Manager)."""
    entry = emu.kubeconfig_cluster(CLUSTER)
    entry["cluster"]["extensions"] = [{"name": "akslogin.io/azure", "extension": {
        "resourceId": cluster_id(), "azureRBAC": True,
        "resourceManager": resource_manager or emu.server_url("arm") + "/"}}]
    return entry
