"""The shape of a user entry with an embedded token, for clients that cannot run exec plugins.

Two styles:

- ``auth-provider``: the legacy ``auth-provider: azure`` config that the removed kubectl azure plugin
  (kubectl < 1.26) and older Kubernetes Python clients read: apiserver-id, client-id, tenant-id, environment,
  config-mode, plus access-token, refresh-token, expires-in and expires-on (epoch seconds, as strings).
- ``token``: a plain ``token:`` bearer token, which every client reads.

Either way the user carries an extension (kubeconfig's standard ``extensions`` list, ignored by clients)
named ``akslogin.embedded-token`` holding the get-token arguments, so ``refresh-kubeconfig`` knows how to
renew it and ``convert-kubeconfig`` can turn it back into an exec plugin. No secret is ever put there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

EXTENSION = "akslogin.embedded-token"
STYLES = ("auth-provider", "token")


def _extension(user: Mapping[str, Any]) -> dict[str, Any] | None:
    for item in user.get("extensions") or []:
        if isinstance(item, dict) and item.get("name") == EXTENSION and isinstance(item.get("extension"), dict):
            ext: dict[str, Any] = item["extension"]
            return ext
    return None


def embedded_args(user: Mapping[str, Any]) -> list[str] | None:
    """The get-token arguments recorded in an embedded-token user, or None if it is not one."""
    ext = _extension(user)
    if ext is None or not isinstance(ext.get("args"), list):
        return None
    return [str(a) for a in ext["args"]]


def embedded_expiry(user: Mapping[str, Any]) -> float | None:
    ext = _extension(user)
    try:
        return float(ext["expires-on"]) if ext is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def without_embedding(user: Mapping[str, Any]) -> dict[str, Any]:
    """The user's other fields: credential fields and our extension removed (client certificates stay)."""
    embedded = _extension(user) is not None
    body = {k: v for k, v in user.items()
            if k not in ("auth-provider", "exec") and not (embedded and k == "token")}
    extensions = [e for e in body.get("extensions") or []
                  if not (isinstance(e, dict) and e.get("name") == EXTENSION)]
    if extensions:
        body["extensions"] = extensions
    else:
        body.pop("extensions", None)
    return body


def embed(user: Mapping[str, Any], args: Sequence[str], *, style: str, access_token: str, expires_on: float,
          now: float, values: Mapping[str, Any], refresh_token: str | None = None) -> dict[str, Any]:
    """``user`` with its credential replaced by an embedded token. ``values`` are the sign-in values (server_id,
    client_id, tenant_id, environment, legacy) for the auth-provider config."""
    if style not in STYLES:
        raise ValueError(style)
    body = without_embedding(user)
    if style == "token":
        body["token"] = access_token
    else:
        config = {
            "apiserver-id": str(values.get("server_id") or ""),
            "client-id": str(values.get("client_id") or ""),
            "tenant-id": str(values.get("tenant_id") or ""),
            "environment": str(values.get("environment") or "AzurePublicCloud"),
            "config-mode": "0" if values.get("legacy") else "1",
            "access-token": access_token,
            "expires-in": str(max(0, int(expires_on - now))),
            "expires-on": str(int(expires_on)),
        }
        if refresh_token:
            config["refresh-token"] = refresh_token
        body["auth-provider"] = {"name": "azure", "config": config}
    extensions = list(body.get("extensions") or [])
    extensions.append({"name": EXTENSION, "extension": {
        "args": list(args), "style": style, "expires-on": str(int(expires_on)),
    }})
    body["extensions"] = extensions
    return body
