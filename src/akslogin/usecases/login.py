"""login (warm the cache now, so later kubectl runs never prompt) and logout / remove-tokens (forget tokens).

The cache keeps one set of files per identity key (a 40-hex-digit hash of authority, tenant, client, server
and login mode), so forgetting one identity deletes exactly the files named after its keys, whatever kinds of
per-identity files the login modes keep. Lock files are left alone: they hold nothing, and removing one that
another process holds would let two sign-ins run at once.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from akslogin import clouds, options
from akslogin.clouds import AKS_SERVER_APP_ID as AKS_SERVER_ID
from akslogin.kubeconfig.model import KubeConfig
from akslogin.output import emit
from akslogin.tokencache.entry import AccessToken
from akslogin.tokens import source

_KEYED = re.compile(r"^([0-9a-f]{40})(\..*)?$")
MAX_DEPTH = 3
#: Flags that only say where the cache is or how verbose to be: they do not pick an identity.
NOT_IDENTITY = frozenset({"cache_dir", "verbosity", "timeout", "certificate_authority"})


def names_an_identity(flags: options.TokenOptions) -> bool:
    """Whether the sign-in flags given pick an identity (else the identity is a kubeconfig context's)."""
    return bool(flags.explicit - NOT_IDENTITY)


def identity_for(flags: options.TokenOptions, kubeconfig: str | None, context: str | None,
                 environ: Mapping[str, str]) -> tuple[options.TokenOptions, Mapping[str, str]]:
    """The identity login/logout act on, and the environment its plugin runs with: the flags given, or a
    kubeconfig context's exec plugin (its ``env`` applied) when a context is named or no identity flag is
    given. Cache and verbosity flags given on the command line apply either way."""
    from akslogin.kubectx.login_args import context_user, plugin_environment

    if context is None and kubeconfig is None and names_an_identity(flags):
        return flags, environ
    ctx = context_user(kubeconfig, context, environ)
    env = plugin_environment(ctx, environ)
    opts = source.options_from_exec_args(ctx.args, env)
    for dest in NOT_IDENTITY & flags.explicit:  # e.g. -v, --cache-dir given on the command line
        setattr(opts, dest, getattr(flags, dest))
    return opts, env


def login_command(argv: list[str], environ: Mapping[str, str]) -> str:
    """The command that signs in once for the exec block whose get-token arguments are ``argv`` (what a kubectl
    call that may not prompt tells its user): ``akslogin login --context NAME`` for the kubeconfig context whose
    user runs exactly these arguments, else ``akslogin login`` with them."""
    import shlex

    try:
        from akslogin.kubeconfig.view import load_merged

        view = load_merged(None, environ)
        wanted = ["get-token", *argv]
        names = [name for config in view.configs for name in config.names("contexts")
                 if _runs(config, name, wanted)]
        current = next((c.current_context for c in view.configs if c.current_context), "")
    except Exception:  # a kubeconfig that cannot be read: the flags say it all the same
        names, current = [], ""
    if names:
        name = current if current in names else names[0]
        return f"akslogin login --context {shlex.quote(name)}"
    return "akslogin login " + " ".join(shlex.quote(a) for a in argv)


def _runs(config: KubeConfig, context: str, argv: list[str]) -> bool:
    body = config.get("contexts", context) or {}
    user = config.get("users", str(body.get("user") or "")) or {}
    block = user.get("exec") if isinstance(user, dict) else None
    return isinstance(block, dict) and [str(a) for a in block.get("args") or []] == argv


@dataclass
class SignedIn:
    opts: options.TokenOptions
    token: AccessToken
    cache_dir: str


def login(identity: options.TokenOptions, environ: Mapping[str, str], stderr: TextIO) -> SignedIn:
    """Sign in now (or find the token cached) where get-token looks for it."""
    from akslogin.log import Log

    opts = source.for_resource(identity, identity.server_id or AKS_SERVER_ID)
    # The person asked to sign in: prompt even if an earlier kubectl prompt went unanswered.
    token = source.obtain(opts, environ, stderr, Log(opts.verbosity_level, stderr), attended=True,
                          explicit_sign_in=True)
    return SignedIn(opts, token, source.cache_dir_for(opts, environ))


def logout(opts: options.TokenOptions, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Forget one identity's tokens: (cache directory, files removed)."""
    cache_dir = source.cache_dir_for(opts, environ)
    return cache_dir, remove_identity(cache_dir, identity_keys(opts, servers_of(opts), environ))


def identity_keys(opts: options.TokenOptions, server_ids: Iterable[str],
                  environ: Mapping[str, str] | None = None) -> set[str]:
    """The cache keys one identity may have: one per server (resource) it signed in to."""
    keys = set()
    for server in server_ids:
        keys.add(source.key_for(source.for_resource(opts, server), environ))
        # users sign in to ARM with Azure CLI's client
        keys.add(source.key_for(source.for_arm(opts, server), environ))
    return keys


def servers_of(opts: options.TokenOptions) -> list[str]:
    """Everything one identity signs in to: the --server-id given, the AKS server app, Resource Manager."""
    servers = [opts.server_id] if opts.server_id else []
    known = clouds.lookup(opts.environment)  # None: a private cloud (Azure Stack) reached by --authority-host
    for server in (AKS_SERVER_ID, *([known.arm_resource] if known else [])):
        if server not in servers:
            servers.append(server)
    return servers


def _cache_files(cache_dir: str) -> Iterable[str]:
    """Per-identity files under the cache directory (never following symlinks, never lock files)."""
    base = os.path.abspath(cache_dir)
    for root, dirs, names in os.walk(base, followlinks=False):
        depth = root[len(base):].count(os.sep)
        if depth >= MAX_DEPTH:
            dirs[:] = []
        for name in names:
            path = os.path.join(root, name)
            match = _KEYED.match(name)
            if match is None or name.endswith(".lock"):
                continue
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
            except OSError:
                continue
            yield path


def remove_identity(cache_dir: str, keys: set[str]) -> list[str]:
    removed = []
    for path in _cache_files(cache_dir):
        match = _KEYED.match(os.path.basename(path))
        if match is not None and match.group(1) in keys:
            os.unlink(path)
            removed.append(path)
    return removed


def remove_all(cache_dir: str) -> list[str]:
    removed = []
    for path in _cache_files(cache_dir):
        os.unlink(path)
        removed.append(path)
    return removed


#: Files of akslogin's own in a cache directory that are not named after an identity key.
_OWN_NAMES = re.compile(r"^(discovery\.json|\.plaintext-notice|.*\.corrupt-\d+|\..*\.tmp)$")


def remove_cache_dir(cache_dir: str) -> tuple[list[str], list[str]]:
    """kubelogin's remove-cache-dir, made safe: every file akslogin keeps there (tokens, saved sign-ins,
    discovery, leftovers), lock files no process holds, then the directories left empty. Files akslogin did
    not write are kept and returned, so a --cache-dir pointed at the wrong place loses nothing of yours.
    Returns (removed, kept)."""
    import contextlib

    from akslogin import fileops

    base = os.path.abspath(cache_dir)
    removed = remove_all(base)
    kept: list[str] = []
    for root, _dirs, names in os.walk(base, topdown=False, followlinks=False):
        for name in names:
            path = os.path.join(root, name)
            if os.path.islink(path):
                kept.append(path)
            elif name.endswith(".lock") and os.path.basename(root) == "locks":
                with contextlib.suppress(fileops.LockRefused, OSError), \
                        fileops.exclusive_lock(path, 0, lambda: OSError("held")):
                    os.unlink(path)  # only a lock nobody holds (a sign-in may be running)
                    removed.append(path)
                if os.path.exists(path):
                    kept.append(path)
            elif _OWN_NAMES.match(name):
                os.unlink(path)
                removed.append(path)
            elif path not in removed:
                kept.append(path)
        with contextlib.suppress(OSError):
            os.rmdir(root)  # only when empty
    return removed, kept


@dataclass
class LoginRequest:
    """What the login / logout flags say: sign-in flags (``explicit``: those given), or a kubeconfig context."""

    signin: options.TokenOptions
    kubeconfig: str | None = None
    context: str | None = None
    #: logout only: every cached token of the cache directory.
    all: bool = False
    output: str = "table"


def _identity(req: LoginRequest, environ: Mapping[str, str]) -> tuple[options.TokenOptions, Mapping[str, str]]:
    opts, env = identity_for(req.signin, req.kubeconfig, req.context, environ)
    if opts is req.signin:
        options.check_login(opts)
    return opts, env


def run_login(req: LoginRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    from akslogin.exec_credential import format_timestamp

    identity, plugin_env = _identity(req, environ)
    done = login(identity, plugin_env, stderr)
    opts, until = done.opts, format_timestamp(done.token.expires_on)
    who = f"client {opts.client_id}" if opts.client_id else "the default identity"
    data = {"login": opts.login, "client_id": opts.client_id or None, "tenant_id": opts.tenant_id or None,
            "server_id": opts.server_id, "expires_on": until, "cache_dir": done.cache_dir}
    emit(stdout, req.output, data, lambda paint: (
        f"{paint.ok('Signed in')} with --login {opts.login} ({who}, tenant {opts.tenant_id or '-'}): token for "
        f"{opts.server_id} valid until {until}, cached in {done.cache_dir}."))
    return 0


def run_logout(req: LoginRequest, environ: Mapping[str, str], stdout: TextIO) -> int:
    if req.all or (req.context is None and req.kubeconfig is None and not names_an_identity(req.signin)):
        cache_dir = source.cache_dir_for(req.signin, environ)
        removed = remove_all(cache_dir)
        emit(stdout, req.output, {"cache_dir": cache_dir, "removed": removed},
             lambda _paint: f"Removed {len(removed)} cached token file(s) from {cache_dir}.")
        return 0
    opts, plugin_env = _identity(req, environ)
    cache_dir, removed = logout(opts, plugin_env)
    who = f"client {opts.client_id}" if opts.client_id else f"--login {opts.login}"
    emit(stdout, req.output, {"cache_dir": cache_dir, "removed": removed, "login": opts.login,
                              "client_id": opts.client_id or None, "tenant_id": opts.tenant_id or None},
         lambda _paint: f"Removed {len(removed)} cached token file(s) for {who} (tenant {opts.tenant_id or '-'}) "
                        f"from {cache_dir}.")
    return 0


@dataclass
class RemoveCacheDirRequest:
    cache_dir: str = ""  # empty: $KUBECACHEDIR, else the default
    output: str = "table"


def run_remove_cache_dir(req: RemoveCacheDirRequest, environ: Mapping[str, str], stdout: TextIO) -> int:
    cache_dir = os.path.abspath(os.path.expanduser(req.cache_dir or environ.get("KUBECACHEDIR", "")
                                                   or options.default_cache_dir(environ)))
    if not os.path.isdir(cache_dir):
        emit(stdout, req.output, {"cache_dir": cache_dir, "removed": [], "kept": []},
             lambda _paint: f"Nothing to remove: {cache_dir} does not exist.")
        return 0
    removed, kept = remove_cache_dir(cache_dir)

    def text(_paint: Any) -> str:
        line = f"Removed {len(removed)} file(s) from {cache_dir}"
        if kept:
            shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
            return line + f"; kept {len(kept)} that akslogin did not write or another process holds: {shown}."
        return line + ("; the directory is gone." if not os.path.exists(cache_dir) else ".")

    emit(stdout, req.output, {"cache_dir": cache_dir, "removed": removed, "kept": kept}, text)
    return 0
