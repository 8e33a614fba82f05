"""convert-kubeconfig: turn Entra users of a kubeconfig into akslogin exec plugin users.

``convert`` is a pure function over a KubeConfig; ``convert_file`` applies it to a file (snapshot, then a
locked re-read and atomic write with a backup). Converted: users with the legacy ``auth-provider: azure``
(apiserver-id, client-id, tenant-id, environment and config-mode → --server-id, --client-id, --tenant-id,
--environment, --legacy), users whose exec command is kubelogin or akslogin (their get-token arguments are read
back) and users with a token embedded by akslogin. Every other user is left exactly as it is. Values the user
gives win over values read from the file. Azure/kubelogin's rules, with two differences: the exec block names
akslogin, and without --login (or AAD_LOGIN_METHOD) an existing exec block keeps its login mode instead of
falling back to devicecode.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from akslogin.errors import UsageError
from akslogin.kubeconfig import embedded, execblock, files
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError, MissingKubeconfigError, known_contexts


@dataclass
class ConvertOptions:
    #: --login or AAD_LOGIN_METHOD; None keeps an existing exec block's mode (else devicecode).
    login: str | None = None
    #: Values the user gave (TokenOptions field → value); they win over what the file holds.
    given: dict[str, Any] = field(default_factory=dict)
    context: str | None = None
    #: Convert only this user (a context found in another file of a KUBECONFIG list names it).
    user: str | None = None
    command: str = execblock.COMMAND
    allow_secrets: bool = False
    azure_config_dir: str | None = None
    #: The exec block's apiVersion (a full client.authentication.k8s.io/...); None keeps a block's own
    #: v1 or v1beta1 and gives new ones kubelogin's v1beta1.
    api_version: str | None = None


@dataclass
class ConvertResult:
    converted: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    secrets_written: list[str] = field(default_factory=list)


def _user_names(config: KubeConfig, context: str | None) -> list[str]:
    if context is None:
        return config.names("users")
    body = config.get("contexts", context)
    if body is None:
        raise MissingKubeconfigError(f"no context exists with the name: {context!r}.",
                                     known_contexts(config.names("contexts")))
    user = body.get("user")
    if not user or config.get("users", str(user)) is None:
        raise KubeconfigError(f"context {context!r} refers to user {user!r}, which is not in the kubeconfig.")
    return [str(user)]


def convert_user(user: Mapping[str, Any], opts: ConvertOptions) -> tuple[dict[str, Any], list[str]]:
    """The converted user body (fields other than the credential are kept) and the secret flags written."""
    source = execblock.source_values(user)
    login = opts.login or str(source.get("login") or "devicecode")
    login = login.strip().lower()
    args = execblock.exec_args(login, source, opts.given, allow_secrets=opts.allow_secrets)
    raw = user.get("exec")
    old: dict[str, Any] = raw if isinstance(raw, dict) else {}
    env = [e for e in (old.get("env") or []) if isinstance(e, dict)]
    if login == "azurecli" and opts.azure_config_dir:
        env = [e for e in env if e.get("name") != "AZURE_CONFIG_DIR"]
        env.append({"name": "AZURE_CONFIG_DIR", "value": execblock.absolute(opts.azure_config_dir)})
    body = copy.deepcopy(embedded.without_embedding(user))
    command = execblock.absolute(opts.command) if os.sep in opts.command or "/" in opts.command else opts.command
    kept = old.get("apiVersion") if old.get("apiVersion") in execblock.API_VERSIONS.values() else None
    body["exec"] = execblock.exec_block(login, args, command=command, hint=old.get("installHint"), env=env,
                                        api_version=opts.api_version or kept or execblock.API_VERSION)
    return body, execblock.secrets_in(args)


def convert(config: KubeConfig, opts: ConvertOptions) -> ConvertResult:
    """Convert in place; on any error nothing in ``config`` has changed."""
    result = ConvertResult()
    planned: list[tuple[str, dict[str, Any]]] = []
    names = [opts.user] if opts.user is not None else _user_names(config, opts.context)
    for name in names:
        user = config.get("users", name)
        if user is None:
            continue
        if not execblock.is_entra_user(user):
            result.untouched.append(name)
            continue
        try:
            body, secrets = convert_user(user, opts)
        except UsageError as exc:
            exc.message = f"user {name!r}: {exc.message}"
            raise
        planned.append((name, body))
        result.secrets_written += [s for s in secrets if s not in result.secrets_written]
    for name, body in planned:
        config.put("users", name, body)
        result.converted.append(name)
    return result


def modes_in(path: str, opts: ConvertOptions) -> set[str]:
    """The login modes converting ``path`` would write (``opts.login``, else each Entra user's own mode)."""
    if opts.login:
        return {opts.login}
    config = files.load(path, missing_ok=False)
    names = [opts.user] if opts.user is not None else _user_names(config, opts.context)
    users = [config.get("users", n) for n in names]
    return {str(execblock.source_values(u).get("login") or "devicecode").strip().lower()
            for u in users if u is not None and execblock.is_entra_user(u)}


@dataclass
class FileConversion:
    path: str
    result: ConvertResult
    #: Converted users whose entry actually changed (converting twice changes nothing the second time).
    changed: list[str] = field(default_factory=list)
    backup: str | None = None
    embedded: int = 0
    earliest_expiry: float = float("inf")


def convert_file(path: str, opts: ConvertOptions, *, embed_style: str | None = None,
                 embed_with: Callable[[KubeConfig, list[str], str], float] | None = None) -> FileConversion:
    """Convert one kubeconfig file in place, keeping a timestamped backup of the previous version.

    The new user entries are computed on a snapshot first (embedding may sign in, which can take a while),
    then written under the file's lock only if those users did not change meanwhile.
    """
    files.refuse_special(path)
    snapshot = files.load(path, missing_ok=False)
    names = [opts.user] if opts.user is not None else _user_names(snapshot, opts.context)
    originals = {n: copy.deepcopy(snapshot.get("users", n)) for n in names}
    result = convert(snapshot, opts)
    done = FileConversion(path, result)
    if embed_style is not None and result.converted and embed_with is not None:
        done.earliest_expiry = embed_with(snapshot, result.converted, embed_style)
        done.embedded = len(result.converted)
    bodies = {n: snapshot.get("users", n) for n in result.converted if snapshot.get("users", n) != originals[n]}
    done.changed = list(bodies)
    if not bodies:
        return done
    done.backup = files.new_backup_path(os.path.realpath(path))

    def apply(current: KubeConfig) -> None:
        for name, body in bodies.items():
            if current.get("users", name) != originals[name]:
                raise KubeconfigError(f"user {name!r} in {path} changed while it was being converted.",
                                      "Run the command again; nothing was changed.")
            current.put("users", name, body or {})

    files.update(path, apply, keep_backup=True, backup_path=done.backup)
    return done
