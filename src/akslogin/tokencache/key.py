"""The identity key: everything that changes which token comes back, hashed into a file name."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from akslogin.options import TokenOptions
from akslogin.tokencache.toolstate import tool_state


def identity_fields(opts: TokenOptions, authority: str, environ: Mapping[str, str] | None = None
                    ) -> dict[str, str]:
    """The parts of the options that select a token. Secrets are deliberately not part of it."""
    fields = {
        "authority": authority.rstrip("/").lower(),
        "tenant": opts.tenant_id.lower(),
        "client": opts.client_id.lower(),
        "server": opts.server_id.lower(),
        "login": opts.login,
        "legacy": "1" if opts.legacy else "",
    }
    if opts.login == "ropc":
        fields["user"] = opts.username.lower()
    if opts.login == "msi":
        fields["identity"] = opts.identity_resource_id.lower()
    if opts.login == "azurecli":
        fields["subscription"] = opts.subscription.lower()
    if opts.login == "azurepipelines":
        fields["connection"] = opts.azure_pipelines_service_connection_id.lower()
    if opts.pop_enabled:
        fields["pop"] = opts.pop_claims
    if environ is not None:
        fields.update(tool_state(opts.login, environ))  # azurecli/azd: which CLI sign-in the token is from
    return fields


def identity_key(opts: TokenOptions, authority: str, environ: Mapping[str, str] | None = None) -> str:
    canonical = json.dumps(identity_fields(opts, authority, environ), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
