"""kubectl's exec credential protocol: read KUBERNETES_EXEC_INFO, write one ExecCredential line.

Stdlib only: this runs on every kubectl command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from akslogin.errors import UsageError

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
SUPPORTED = (V1, V1BETA1)


@dataclass(frozen=True)
class ExecInfo:
    """What kubectl told us: the API version to answer in, and whether stdin is a usable terminal."""

    api_version: str
    interactive: bool


def read_exec_info(environ: Mapping[str, str]) -> ExecInfo:
    raw = environ.get("KUBERNETES_EXEC_INFO", "").strip()
    if not raw:
        return ExecInfo(V1BETA1, False)
    try:
        data = json.loads(raw)
    except ValueError:
        raise UsageError(
            "KUBERNETES_EXEC_INFO is not valid JSON.",
            "It is set by kubectl; unset it when running akslogin by hand.",
        ) from None
    if not isinstance(data, dict):
        raise UsageError("KUBERNETES_EXEC_INFO must be a JSON object (an ExecCredential).")
    api_version = data.get("apiVersion") or V1BETA1
    if api_version not in SUPPORTED:
        raise UsageError(
            f"exec credential API version {str(api_version)[:80]!r} is not supported.",
            f"Set the kubeconfig user's exec.apiVersion to {V1} or {V1BETA1}.",
        )
    spec = data.get("spec")
    interactive = bool(spec.get("interactive")) if isinstance(spec, dict) else False
    return ExecInfo(str(api_version), interactive)


def format_timestamp(epoch: float) -> str:
    """RFC 3339, UTC, second precision, as client-go's metav1.Time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def render(info: ExecInfo, token: str, expires_on: float) -> str:
    """The single JSON line kubectl reads from stdout."""
    return json.dumps(
        {
            "kind": "ExecCredential",
            "apiVersion": info.api_version,
            "spec": {"interactive": info.interactive},
            "status": {"expirationTimestamp": format_timestamp(expires_on), "token": token},
        },
        separators=(",", ":"),
    )
