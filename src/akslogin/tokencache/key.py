"""The identity key: everything that changes which token comes back, hashed into a file name.

On the hot path: the canonical form is built with :mod:`akslogin.jsonlite` and hashed with the
interpreter's builtin SHA-256, so neither json/re nor OpenSSL (hashlib) is loaded for it. The key is
byte-for-byte what ``sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")))`` gives.
"""

import os
import sys

from akslogin import jsonlite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from akslogin.options import TokenOptions


def _builtin_sha256() -> "Callable[[bytes], Any]":
    """CPython's own SHA-256 (``_sha2`` from 3.12, ``_sha256`` before); hashlib elsewhere."""
    for name in ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        sha: Callable[[bytes], Any] = module.sha256
        return sha
    import hashlib  # pragma: no cover

    return hashlib.sha256  # pragma: no cover


_sha256 = _builtin_sha256()


def authority_for_key(opts: "TokenOptions") -> str:
    """The authority host that goes into the key, without importing the network stack."""
    if opts.authority_host:
        return opts.authority_host
    from akslogin.clouds import cloud

    return cloud(opts.environment).authority_host


def identity_fields(opts: "TokenOptions", authority: str, environ: "Mapping[str, str] | None" = None,
                    pop_kid: str = "") -> dict[str, str]:
    """The parts of the options that select a token. Secrets are deliberately not part of it; a PoP token
    is bound to a key (``pop_kid``), so a new key is a new identity."""
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
    if opts.login == "interactive" and opts.login_hint:
        fields["user"] = opts.login_hint.lower()  # two accounts on one cluster: two cache entries
    if opts.login == "msi":
        fields["identity"] = opts.identity_resource_id.lower()
    if opts.login == "azurecli":
        fields["subscription"] = opts.subscription.lower()
    if opts.login == "azurepipelines":
        fields["connection"] = opts.azure_pipelines_service_connection_id.lower()
    if opts.pop_enabled:
        fields["pop"] = opts.pop_claims
        fields["pop_kid"] = pop_kid
    if environ is not None:
        fields.update(tool_state(opts.login, environ))  # azurecli/azd: which CLI sign-in the token is from
    return fields


def canonical(fields: dict[str, str]) -> str:
    """Sorted, compact JSON: stable across runs and versions, so the key (a file name) is stable too."""
    return jsonlite.dumps_flat(fields)


def identity_key(opts: "TokenOptions", authority: str, environ: "Mapping[str, str] | None" = None,
                 pop_kid: str = "") -> str:
    digest: str = _sha256(canonical(identity_fields(opts, authority, environ, pop_kid)).encode("utf-8")).hexdigest()
    return digest[:40]


# -- azurecli and azd: which sign-in of the developer CLI a token is from -----------------------------------
#
# kubelogin stopped caching az tokens because a cached token outlived ``az logout`` (kubelogin #137), and every
# kubectl call then paid for a full ``az`` start (#358). akslogin caches them, but keys the entry on the CLI's
# config directory and on a stamp (inode, size, mtime) of the file the CLI rewrites whenever the signed-in
# account changes: az's ``azureProfile.json`` (login, logout, account set/clear) and azd's ``config.json``
# (auth login/logout). Any such change makes the cached token unreachable at once, and the next call asks the
# CLI again. One stat, on the hot path of these two modes only.

#: login mode → (config directory variable, default directory under $HOME, file that marks the sign-in)
TOOLS = {
    "azurecli": ("AZURE_CONFIG_DIR", ".azure", "azureProfile.json"),
    "azd": ("AZD_CONFIG_DIR", ".azd", "config.json"),
}


def tool_state(login: str, environ: "Mapping[str, str]") -> "dict[str, str]":
    """Identity-key fields for ``login`` (empty for modes that do not reuse a CLI's sign-in)."""
    spec = TOOLS.get(login)
    if spec is None:
        return {}
    variable, default, marker = spec
    home = environ.get("HOME") or os.path.expanduser("~")
    directory = os.path.abspath(os.path.expanduser(environ.get(variable) or os.path.join(home, default)))
    try:
        st = os.stat(os.path.join(directory, marker))
        stamp = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "absent"
    return {"tool_config": directory, "tool_state": stamp}
