"""A kubeconfig context as kubectl sees it, and how its user signs in with akslogin.

Files are read with kubectl's rules (``--kubeconfig``, else every ``KUBECONFIG`` entry, else
``~/.kube/config``) and merged as kubectl merges them: the first file that names an entry wins, and the
current context is the first one set. Shared by ``akslogin login``/``logout`` and the Python API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from akslogin.errors import ConfigError, UsageError
from akslogin.kubeconfig import embedded, files, paths
from akslogin.kubeconfig.model import KubeConfig


@dataclass
class ContextUser:
    """A context, its user entry and the get-token arguments (plus exec ``env``) that sign that user in."""

    name: str
    user_name: str
    user: dict[str, Any] = field(repr=False)
    args: list[str] = field(repr=False)
    #: ``exec.env`` entries: kubectl sets them for the plugin, on top of its own environment.
    env: dict[str, str] = field(default_factory=dict, repr=False)


def load_view(explicit: str | None, environ: Mapping[str, str]) -> list[KubeConfig]:
    """Every existing kubeconfig file kubectl would read, in precedence order (an explicit file must exist)."""
    found = [p for p in paths.read_paths(explicit, environ) if os.path.exists(p)]
    if explicit and not found:
        raise UsageError(f"the kubeconfig {explicit} does not exist.")
    return [files.load(p) for p in found]


def merged(configs: list[KubeConfig]) -> KubeConfig:
    """One KubeConfig with kubectl's merge of several files: first entry of a name wins, first current-context."""
    out = KubeConfig({}, ", ".join(c.source for c in configs))
    for config in configs:
        for section in ("clusters", "contexts", "users"):
            for name in config.names(section):
                if out.get(section, name) is None:
                    out.put(section, name, config.get(section, name) or {})
        if not out.current_context and config.current_context:
            out.current_context = config.current_context
    return out


def context_user(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> ContextUser:
    """The user of ``context`` (or the current context) and how it signs in: akslogin/kubelogin exec plugin,
    or a token akslogin embedded. Any other kind of user is a ConfigError that says what to do."""
    from akslogin.usecases.convert import is_entra_user

    configs = load_view(kubeconfig, environ)
    if not configs:
        raise UsageError("no kubeconfig found to read the context from.",
                         "Pass sign-in flags (as for get-token), --kubeconfig or set KUBECONFIG.")
    view = merged(configs)
    name = context or view.current_context
    body = view.get("contexts", name) if name else None
    if body is None:
        known = ", ".join(view.names("contexts")) or "none"
        raise UsageError(f"no context named {name!r}." if name else "the kubeconfig has no current context.",
                         f"Pass --context NAME or sign-in flags. Known contexts: {known}.")
    user_name = str(body.get("user") or "")
    user = view.get("users", user_name) if user_name else None
    if user is None or not is_entra_user(user):
        raise ConfigError(f"the user of context {name!r} does not sign in with akslogin or kubelogin.",
                          "Run 'akslogin convert-kubeconfig', or pass sign-in flags.")
    recorded = embedded.embedded_args(user)
    if recorded is not None:
        return ContextUser(name, user_name, user, recorded)
    block = user.get("exec")
    if not isinstance(block, dict):
        raise ConfigError(f"the user of context {name!r} uses the legacy azure auth-provider.",
                          "Run 'akslogin convert-kubeconfig' first, or pass sign-in flags.")
    env = {str(e["name"]): str(e.get("value") or "") for e in block.get("env") or []
           if isinstance(e, dict) and e.get("name")}
    return ContextUser(name, user_name, user, [str(a) for a in block.get("args") or []], env)


def plugin_environment(ctx: ContextUser, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the exec plugin would run with under kubectl: ours plus the entry's ``env``."""
    env = dict(environ)
    env.update(ctx.env)
    return env
