"""Embedded tokens: put a current access token into the kubeconfig, and renew it (refresh-kubeconfig).

For clients that cannot run exec plugins. Less safe by design: the file then holds bearer credentials.
Tokens are obtained through the same options, cache and login modes as get-token; the get-token arguments
are recorded in the user entry (never a secret unless the user allowed it) so a cron job can renew them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin.errors import AksloginError, ConfigError
from akslogin.exec_credential import format_timestamp
from akslogin.kubeconfig import embedded, files
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError
from akslogin.log import Log
from akslogin.options import TokenOptions
from akslogin.tokencache.entry import MIN_REMAINING, AccessToken
from akslogin.tokens import source

BACKUP_SUFFIX = ".akslogin-backup"


def _values(opts: TokenOptions) -> dict[str, Any]:
    return {"server_id": opts.server_id, "client_id": opts.client_id, "tenant_id": opts.tenant_id,
            "environment": opts.environment, "legacy": opts.legacy}


def _token_for(args: Sequence[str], environ: Mapping[str, str], stderr: TextIO, log: Log,
               clock: Callable[[], float], min_remaining: float) -> tuple[TokenOptions, AccessToken]:
    opts = source.options_from_exec_args(args, environ)
    return opts, source.obtain(opts, environ, stderr, log, clock, min_remaining)


def embed_users(config: KubeConfig, users: Sequence[str], style: str, environ: Mapping[str, str], stderr: TextIO,
                log: Log, clock: Callable[[], float] = time.time, min_remaining: float = MIN_REMAINING) -> float:
    """Replace each (akslogin exec) user's credential with an embedded token; returns the earliest expiry."""
    earliest = float("inf")
    for name in users:
        user = config.get("users", name)
        block = user.get("exec") if user is not None else None
        if user is None or not isinstance(block, dict):
            raise KubeconfigError(f"user {name!r} has no exec plugin whose token could be embedded.")
        args = [str(a) for a in block.get("args") or []]
        opts, token = _token_for(args, environ, stderr, log, clock, min_remaining)
        config.put("users", name, embedded.embed(
            user, args, style=style, access_token=token.token, expires_on=token.expires_on, now=clock(),
            values=_values(opts), refresh_token=getattr(token, "refresh_token", None),
        ))
        earliest = min(earliest, token.expires_on)
    return earliest


def warn_embedded(stderr: TextIO, where: str, count: int, earliest: float) -> None:
    stderr.write(
        f"akslogin: warning: {where} now holds {count} embedded bearer token(s), valid until "
        f"{format_timestamp(earliest)}. Anyone who can read the file can act as this identity until then, and "
        "the token cannot be revoked: keep the file 0600, never commit or share it, and renew it with "
        "'akslogin refresh-kubeconfig' (e.g. from cron). Prefer the exec plugin wherever the client supports it.\n")


@dataclass
class RefreshResult:
    renewed: list[str] = field(default_factory=list)
    still_fresh: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    earliest: float = float("inf")


def refresh_kubeconfig(path: str, *, context: str | None, min_remaining: float, force: bool,
                       environ: Mapping[str, str], stderr: TextIO, log: Log,
                       clock: Callable[[], float] = time.time) -> RefreshResult:
    """Renew embedded tokens with less than ``min_remaining`` seconds left (all of them with ``force``).

    Tokens are fetched before the kubeconfig is locked (a sign-in can take seconds); the write then re-reads
    the file under the lock and replaces only users whose recorded arguments are still the same. The previous
    version is kept as ``<file>.akslogin-backup`` (one rolling backup, 0600).
    """
    files.refuse_special(path)
    config = files.load(path, missing_ok=False)
    if context is not None:
        _, body = config.resolve_context(context)
        name = str(body.get("user") or "")
        user = config.get("users", name)
        if user is None or embedded.embedded_args(user) is None:
            raise ConfigError(f"the user {name!r} of context {context!r} has no token embedded by akslogin.",
                              "Embed one with 'akslogin get-credentials --embed-tokens' or "
                              "'akslogin convert-kubeconfig --embed-tokens'.")
        names = [name]
    else:
        names = [n for n in config.names("users") if embedded.embedded_args(config.get("users", n) or {}) is not None]
    result = RefreshResult()
    now = clock()
    renewed: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for name in names:
        user = config.get("users", name) or {}
        args = embedded.embedded_args(user) or []
        expiry = embedded.embedded_expiry(user)
        style = _style(user)
        if not force and expiry is not None and expiry - now > min_remaining:
            result.still_fresh.append(name)
            result.earliest = min(result.earliest, expiry)
            continue
        try:
            opts, token = _token_for(args, environ, stderr, log, clock, float("inf") if force else min_remaining)
        except AksloginError as exc:
            result.failed.append((name, exc.render().removeprefix("akslogin: ")))
            continue
        renewed[name] = (args, embedded.embed(
            user, args, style=style, access_token=token.token, expires_on=token.expires_on, now=clock(),
            values=_values(opts), refresh_token=getattr(token, "refresh_token", None)))
        result.earliest = min(result.earliest, token.expires_on)

    def apply(current: KubeConfig) -> None:
        for name, (args, body) in renewed.items():
            user = current.get("users", name)
            if user is not None and embedded.embedded_args(user) == args:  # unchanged by anyone else meanwhile
                current.put("users", name, body)
                result.renewed.append(name)

    if renewed:
        files.update(path, apply, keep_backup=True, backup_path=path + BACKUP_SUFFIX, skip_unchanged=True)
    return result


def _style(user: Mapping[str, Any]) -> str:
    provider = user.get("auth-provider")
    return "auth-provider" if isinstance(provider, dict) and provider.get("name") == "azure" else "token"
