"""convert-kubeconfig: turn Entra users of a kubeconfig into akslogin exec plugin users.

``convert`` is a pure function over a KubeConfig; ``convert_file`` applies it to a file (snapshot, then a
locked re-read and atomic write with a backup); ``run`` is the command (a ConvertRequest over every file of
the kubeconfig list, or the one holding ``--context``). Converted: users with the legacy ``auth-provider: azure``
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
from typing import Any, TextIO

from akslogin import options
from akslogin.errors import UsageError
from akslogin.kubeconfig import embedded, execblock, files, paths
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError, MissingKubeconfigError, known_contexts
from akslogin.log import Log
from akslogin.output import summarize_list

#: Users named in the one-line summary (a 5000-user file gets a count, not a wall of names).
USERS_SHOWN = 20


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


@dataclass
class ConvertRequest:
    """What the convert-kubeconfig flags say; ``signin`` holds the sign-in flags given (no environment applied:
    variables are read at kubectl time, not written)."""

    signin: options.TokenOptions
    kubeconfig: str | None = None
    context: str | None = None
    exec_command: str = execblock.COMMAND
    allow_secrets: bool = False
    azure_config_dir: str | None = None
    api_version: str | None = None
    embed_tokens: str | None = None


def run(req: ConvertRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    """Convert every Entra user of the kubeconfig (or the context's); exit code."""
    from akslogin.usecases.embed import embed_users, warn_embedded

    flags = req.signin
    secrets = sorted(d for d in execblock.SECRET_DESTS if d in flags.explicit)
    login: str | None = flags.login if "login" in flags.explicit else None
    if login is None and not flags.disable_environment_override and environ.get("AAD_LOGIN_METHOD"):
        login = environ["AAD_LOGIN_METHOD"]
    if login is not None:
        flags.login = login
        options.check_login(flags)
        login = flags.login
    given = {d: getattr(flags, d) for d in flags.explicit if d not in ("login", "verbosity")}
    opts = ConvertOptions(login=login, given=given, context=req.context, command=req.exec_command,
                          allow_secrets=req.allow_secrets, azure_config_dir=req.azure_config_dir,
                          api_version=req.api_version)
    log = Log(flags.verbosity_level, stderr)
    targets = _targets(req.kubeconfig, req.context, environ)
    if secrets and not req.allow_secrets:
        _check_secrets(secrets, targets, opts, stderr)
    converted = 0
    for path, user in targets:
        opts.user = user
        done = convert_file(path, opts, embed_style=req.embed_tokens,
                            embed_with=lambda cfg, users, style: embed_users(cfg, users, style, environ, stderr, log))
        converted += len(done.result.converted)
        if done.changed:
            stdout.write(f"Converted {len(done.changed)} user(s) in {path}: "
                         f"{summarize_list(done.changed, USERS_SHOWN)} (backup: {done.backup})\n")
        elif done.result.converted:
            stdout.write(f"{path} is already converted ({summarize_list(done.result.converted, USERS_SHOWN)}); "
                         "nothing changed.\n")
        if done.result.secrets_written:
            stderr.write(f"akslogin: warning: {', '.join(done.result.secrets_written)} written in clear text "
                         f"into {path}. Anyone who can read the file can sign in as this identity.\n")
        if done.embedded:
            warn_embedded(stderr, path, done.embedded, done.earliest_expiry)
    if not converted:
        stdout.write("No Entra ID user to convert (only users with auth-provider azure or a kubelogin/akslogin exec "
                     "command are converted).\n")
    return 0


def _check_secrets(secrets: list[str], targets: list[tuple[str, str | None]], opts: ConvertOptions,
                   stderr: TextIO) -> None:
    """A secret flag is refused only where it would be written (kubelogin writes --client-secret for spn, and
    --password for ropc, nothing else); for the other modes it is not written, which one note says."""
    modes: set[str] = set()
    for path, user in targets:
        opts.user = user
        modes |= modes_in(path, opts)
    opts.user = None
    written = [d for d in secrets if any(execblock.writes(mode, d) for mode in modes)]
    if written:
        names = ", ".join(execblock.flag_for(d) for d in written)
        variables = ", ".join(f"{options.variable_for(d)} for {execblock.flag_for(d)}" for d in written)
        raise UsageError(f"{names} would be written in clear text into the kubeconfig.",
                         "Pass --allow-secrets-in-kubeconfig if you mean it, or leave it out and provide it at kubectl "
                         f"time through the environment ({variables}); nothing was changed.")
    for dest in secrets:
        used_by = ", ".join(f"--login {m}" for m in sorted(modes)) or "the users converted here"
        stderr.write(f"akslogin: note: {execblock.flag_for(dest)} is not used by {used_by}; it is not written.\n")


def _targets(explicit: str | None, context: str | None, environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """(file, only this user) pairs: every readable kubeconfig file, or the file holding the context's user."""
    candidates = paths.read_paths(explicit, environ)
    existing = [p for p in candidates if os.path.exists(p)]
    if explicit and not existing:
        raise UsageError(f"the kubeconfig {explicit} does not exist.")
    if not existing:
        raise UsageError(f"no kubeconfig found (looked at {', '.join(candidates)}).",
                         "Pass --kubeconfig or set KUBECONFIG.")
    if context is None:
        return [(p, None) for p in existing]
    loaded = [(p, files.load(p)) for p in existing]
    body = next((cfg.get("contexts", context) for _, cfg in loaded if cfg.get("contexts", context) is not None), None)
    if body is None:
        known = sorted({n for _, cfg in loaded for n in cfg.names("contexts")})
        raise UsageError(f"no context exists with the name: {context!r}.", known_contexts(known))
    user = str(body.get("user") or "")
    holder = next((p for p, cfg in loaded if cfg.get("users", user) is not None), None)
    if holder is None:
        raise UsageError(f"context {context!r} refers to user {user!r}, which no kubeconfig file defines.")
    return [(holder, user)]
