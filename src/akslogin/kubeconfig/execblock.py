"""The one place that reads and writes akslogin exec blocks (get-credentials, convert-kubeconfig, login, and the
diagnostics that run a context's plugin in process), with one rule for "is this block ours?".

Which ``get-token`` flags are written per login mode follows Azure/kubelogin's convert-kubeconfig: values
read from the existing user entry (``source``) and values the user gave (``given``) are combined; for modes
that identify a machine identity (msi, azurecli, azd, workloadidentity) only given values count, because the
AKS-provided client and tenant ids describe the AKS public client, not that identity. Secrets (client secret,
password, certificate password) are written only when explicitly allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from akslogin import options
from akslogin.errors import UsageError

#: kubelogin's exec API version, written unless the user asks for v1 (client-go < 0.22 tools reject v1).
API_VERSION = "client.authentication.k8s.io/v1beta1"
#: ``--exec-api-version`` values.
API_VERSIONS = {"v1beta1": API_VERSION, "v1": "client.authentication.k8s.io/v1"}
COMMAND = "akslogin"
INSTALL_HINT = (
    "\nakslogin is not installed; kubectl needs it to sign in to this cluster with Microsoft Entra ID.\n\n"
    "Install it (pip install akslogin) or put it on PATH, then retry. See 'akslogin get-token --help'.\n"
)
#: Modes that may need the terminal (a device-code prompt on stderr, a browser); the rest never prompt.
INTERACTIVE = frozenset({"devicecode", "interactive"})
SECRET_DESTS = options.SECRET_DESTS

#: (dest, also taken from the existing entry?, required?)
Rule = tuple[str, bool, bool]
_POP: tuple[Rule, ...] = (("pop_enabled", True, False), ("pop_claims", True, False))
MODE_RULES: dict[str, tuple[Rule, ...]] = {
    "devicecode": (("client_id", True, True), ("tenant_id", True, True), ("environment", True, False),
                   ("legacy", True, False)),
    "interactive": (("client_id", True, True), ("tenant_id", True, True), ("environment", True, False), *_POP,
                    ("redirect_url", True, False), ("login_hint", True, False)),
    "spn": (("client_id", True, True), ("tenant_id", True, True), ("environment", True, False),
            ("client_secret", False, False), ("client_certificate", False, False),
            ("client_certificate_password", False, False), ("legacy", True, False), *_POP,
            ("disable_environment_override", False, False)),
    "ropc": (("client_id", True, True), ("tenant_id", True, True), ("environment", True, False),
             ("username", False, False), ("password", False, False), ("legacy", True, False), *_POP),
    "msi": (("client_id", False, False), ("identity_resource_id", False, False)),
    "azurecli": (("tenant_id", False, False), ("subscription", False, False)),
    "azd": (("tenant_id", False, False),),
    "workloadidentity": (("client_id", False, False), ("tenant_id", False, False),
                         ("federated_token_file", False, False)),
    "azurepipelines": (("client_id", False, False), ("tenant_id", True, True),
                       ("azure_pipelines_service_connection_id", False, False)),
}
def writes(login: str, dest: str) -> bool:
    """Whether an exec block for ``login`` carries ``dest`` (e.g. ``client_secret`` only for spn)."""
    return any(d == dest for d, _, _ in MODE_RULES.get(login, ()))


#: Where to reach the identity provider and the cache: carried over for every mode (akslogin additions).
COMMON_RULES: tuple[Rule, ...] = (
    ("authority_host", True, False), ("disable_instance_discovery", True, False),
    ("certificate_authority", True, False), ("cache_dir", True, False), ("use_azurerm_env_vars", True, False),
    ("timeout", True, False),
)

#: Values that name files or directories: written absolute, since kubectl runs the plugin from any directory.
PATH_DESTS = frozenset({"client_certificate", "federated_token_file", "certificate_authority", "cache_dir"})

_FLAG_FOR: dict[str, str] = {}
for _flag in options.FLAGS:
    _FLAG_FOR.setdefault(_flag.dest, _flag.long)


def flag_for(dest: str) -> str:
    return _FLAG_FOR[dest]


def _empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == []


def exec_args(login: str, source: Mapping[str, Any], given: Mapping[str, Any], *,
              allow_secrets: bool = False) -> list[str]:
    """``get-token`` arguments for ``login``; raises UsageError naming a missing required value."""
    if login not in MODE_RULES:
        raise UsageError(f"unknown login mode {login[:40]!r}.", "Use one of: " + ", ".join(MODE_RULES) + ".")
    server_id = given.get("server_id") or source.get("server_id")
    if not server_id:
        raise UsageError("--server-id is required.", "For AKS clusters it is 6dae42f8-4368-4678-94ff-3960e28e3630.")
    values: dict[str, Any] = {}
    for dest, from_source, required in (*MODE_RULES[login], *COMMON_RULES):
        value = given[dest] if dest in given else (source.get(dest) if from_source else None)
        if _empty(value):
            if required:
                raise UsageError(f"{flag_for(dest)} is required for --login {login}.",
                                 f"Pass {flag_for(dest)}.")
            continue
        if dest in SECRET_DESTS and not allow_secrets:
            continue
        if dest in PATH_DESTS and dest in given:
            value = [absolute(v) for v in value] if isinstance(value, (list, tuple)) else absolute(str(value))
        values[dest] = value
    if login == "msi" and "client_id" in values:
        values.pop("identity_resource_id", None)  # kubelogin: a client id wins over a resource id
    if ("pop_enabled" in values) != ("pop_claims" in values):
        raise UsageError("--pop-enabled and --pop-claims go together.",
                         "Pass both, e.g. --pop-enabled --pop-claims u=<ARM id of the cluster>.")
    args = ["get-token", "--login", login, "--server-id", str(server_id)]
    for dest, value in values.items():
        flag = flag_for(dest)
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args


def absolute(path: str) -> str:
    """``path`` as kubectl needs it in a kubeconfig: ``~`` expanded, relative to the current directory."""
    import os

    return os.path.abspath(os.path.expanduser(path))


def secrets_in(args: Sequence[str]) -> list[str]:
    """The secret-bearing flags present in ``args`` (for the warning)."""
    secret_flags = {flag_for(d) for d in SECRET_DESTS}
    return [a for a in args if a in secret_flags]


def install_hint(existing: Any) -> str:
    """Ours, unless the entry carries a custom hint that is not kubelogin's (kubelogin keeps any hint)."""
    if isinstance(existing, str) and existing.strip() and "kubelogin" not in existing.lower():
        return existing
    return INSTALL_HINT


def exec_block(login: str, args: Sequence[str], *, command: str = COMMAND, hint: Any = None,
               env: list[dict[str, str]] | None = None, api_version: str = API_VERSION) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "command": command,
        "args": list(args),
        "env": env or None,
        "installHint": install_hint(hint),
        # Never: kubectl runs the plugin without a terminal (CI, IDEs, Lens); the device-code prompt goes to
        # stderr and needs no stdin, but browser and device-code modes still benefit from a terminal.
        "interactiveMode": "IfAvailable" if login in INTERACTIVE else "Never",
        "provideClusterInfo": False,
    }


# -- reading: what an exec block (or a legacy user entry) says about its sign-in ----------------------------

#: Exec commands whose get-token flags akslogin understands (kubelogin's are the same).
PLUGINS = ("akslogin", "kubelogin")
_AUTH_PROVIDER_KEYS = {"apiserver-id": "server_id", "client-id": "client_id", "tenant-id": "tenant_id",
                       "environment": "environment"}
#: What is read back from an existing kubelogin/akslogin exec block.
RECOVERED = frozenset({
    "login", "server_id", "client_id", "tenant_id", "environment", "legacy", "cache_dir", "pop_enabled",
    "pop_claims", "redirect_url", "login_hint", "authority_host", "disable_instance_discovery",
    "certificate_authority", "use_azurerm_env_vars", "timeout",
})


def plugin_of(block: Mapping[str, Any]) -> str:
    """"akslogin" or "kubelogin" when ``block`` runs one of them (kubelogin's rule: the command's name contains
    it, any case, ``.exe`` or a version suffix included), else ""."""
    name = os.path.basename(str(block.get("command") or "")).lower()
    return next((plugin for plugin in PLUGINS if plugin in name), "")


def is_ours(block: Mapping[str, Any]) -> bool:
    """Whether akslogin can run ``block`` itself: an akslogin/kubelogin exec block whose command is get-token."""
    args = block.get("args")
    return bool(plugin_of(block)) and isinstance(args, list) and [str(a) for a in args[:1]] == ["get-token"]


def parse_exec_args(args: Sequence[Any]) -> dict[str, Any]:
    """get-token flags from an exec block: the flag table's lenient mode (unknown flags of a newer kubelogin
    are skipped), as TokenOptions field → value for the flags that are there."""
    opts = options.parse_args([str(a) for a in args], lenient=True)
    return {dest: getattr(opts, dest) for dest in opts.explicit}


def is_entra_user(user: Mapping[str, Any]) -> bool:
    """A user entry that signs in with Entra ID through akslogin/kubelogin, the legacy azure provider, or a
    token akslogin embedded: what convert-kubeconfig converts."""
    from akslogin.kubeconfig import embedded

    if embedded.embedded_args(user) is not None:
        return True
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") == "azure":
        return True
    block = user.get("exec")
    return isinstance(block, dict) and bool(plugin_of(block))


def source_values(user: Mapping[str, Any]) -> dict[str, Any]:
    """What an Entra user entry says about its sign-in (TokenOptions field names)."""
    from akslogin.kubeconfig import embedded

    recorded = embedded.embedded_args(user)
    if recorded is not None:  # an embedded token: its recorded get-token arguments say it all
        return {k: v for k, v in parse_exec_args(recorded).items() if k in RECOVERED}
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") == "azure":
        raw = provider.get("config")
        config: dict[str, Any] = raw if isinstance(raw, dict) else {}
        values: dict[str, Any] = {dest: str(config[key]) for key, dest in _AUTH_PROVIDER_KEYS.items()
                                  if config.get(key)}
        # The old kubectl plugin's config-mode: "" or "0" asked for the spn: audience (kubelogin's --legacy).
        values["legacy"] = str(config.get("config-mode") or "") in ("", "0")
        return values
    block = user.get("exec")
    if isinstance(block, dict):
        parsed = parse_exec_args(block.get("args") or [])
        return {k: v for k, v in parsed.items() if k in RECOVERED}
    return {}
