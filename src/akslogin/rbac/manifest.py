"""RoleBinding / ClusterRoleBinding manifests that follow how AKS names Entra identities.

AKS (its Entra webhook) presents a member user as their UPN, and a guest user, a service principal or a
managed identity as their object id; groups are always their object id (display names never match).
"""

from __future__ import annotations

import re
import shlex
import uuid
from dataclasses import dataclass
from typing import Any

from akslogin import yaml11
from akslogin.errors import UsageError
from akslogin.rbac.rules import RBAC_GROUP

MANAGED_BY = {"app.kubernetes.io/managed-by": "akslogin"}


@dataclass(frozen=True)
class Subject:
    kind: str  # "User" | "Group"
    name: str
    flag: str  # the `akslogin rbac bind` flag that produces it
    label: str  # for people: what this subject is

    def to_manifest(self) -> dict[str, str]:
        return {"apiGroup": RBAC_GROUP, "kind": self.kind, "name": self.name}


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def user_subject(upn: str) -> Subject:
    if "#EXT#" in upn.upper():
        raise UsageError(f"{upn} is a guest (B2B) account: AKS identifies guests by object id, not UPN.",
                         "Use --guest OBJECT_ID (find it with: az ad user show --id '<upn>' --query id -o tsv).")
    if is_guid(upn):
        raise UsageError(f"{upn} is an object id, but --user takes a UPN (AKS names member users by UPN).",
                         "For a guest use --guest OBJECT_ID; for an app use --service-principal.")
    if "@" not in upn:
        raise UsageError(f"--user takes a user principal name like alice@contoso.com, not {upn!r}.")
    return Subject("User", upn, "--user", f"user {upn}")


def _object_id(value: str, flag: str, what: str) -> str:
    if not is_guid(value):
        raise UsageError(f"{flag} takes the {what}'s object id (a GUID), not {value!r}.",
                         "AKS matches Entra identities by object id; display names never match (Azure/AKS#515).")
    return value.lower()


def group_subject(object_id: str, display: str = "") -> Subject:
    oid = _object_id(object_id, "--group", "group")
    return Subject("Group", oid, "--group", f"group {oid}" + (f" ({display})" if display else ""))


def guest_subject(object_id: str) -> Subject:
    oid = _object_id(object_id, "--guest", "guest user")
    return Subject("User", oid, "--guest", f"guest user {oid}")


def service_principal_subject(object_id: str, label: str = "") -> Subject:
    oid = _object_id(object_id, "--service-principal", "service principal")
    return Subject("User", oid, "--service-principal", label or f"service principal {oid}")


def binding_name(role: str, subject: Subject) -> str:
    prefix = "" if role.startswith("akslogin-") else "akslogin-"
    raw = f"{prefix}{role}-{subject.name}".lower()
    name = re.sub(r"[^a-z0-9.-]+", "-", raw).strip("-.")
    return re.sub(r"-{2,}", "-", name)[:253].rstrip("-.")


def binding_manifest(subject: Subject, role: str, role_kind: str = "ClusterRole", namespace: str = "",
                     name: str = "") -> dict[str, Any]:
    if role_kind not in ("ClusterRole", "Role"):
        raise UsageError(f"--role-kind must be ClusterRole or Role, not {role_kind!r}.")
    if role_kind == "Role" and not namespace:
        raise UsageError("a Role exists in one namespace: pass --namespace with --role-kind Role.")
    metadata: dict[str, Any] = {"name": name or binding_name(role, subject)}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = dict(MANAGED_BY)
    metadata["annotations"] = {"akslogin.io/subject": subject.label}
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": metadata,
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role},
        "subjects": [subject.to_manifest()],
    }


def role_manifest(name: str, rules: list[dict[str, list[str]]], namespace: str = "") -> dict[str, Any]:
    """A custom Role (namespace given) or ClusterRole with exactly ``rules``."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = dict(MANAGED_BY)
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "Role" if namespace else "ClusterRole",
            "metadata": metadata, "rules": rules}


def to_yaml(*documents: dict[str, Any]) -> str:
    return "---\n".join(yaml11.dump(d, width=1000) for d in documents)


def bind_command(subject: Subject, role: str, role_kind: str = "ClusterRole", namespace: str = "",
                 context: str = "") -> str:
    argv = ["akslogin", "rbac", "bind", subject.flag, subject.name, "--role", role]
    if role_kind != "ClusterRole":
        argv += ["--role-kind", role_kind]
    if namespace:
        argv += ["--namespace", namespace]
    if context:
        argv += ["--context", context]
    return shlex.join(argv)
