"""How a kubeconfig context's user signs in with akslogin: for ``login``/``logout`` and the Python API.

Context resolution (kubectl's file rules and merge, context → cluster and user) is
:mod:`akslogin.kubeconfig.view` and :mod:`akslogin.kubeconfig.resolved`; how a user entry presents its
credential is :func:`akslogin.kubectx.plan.plan_credential`. This module only answers "which
get-token arguments and exec environment sign this context in", and says what to do when the answer is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from akslogin.errors import ConfigError, UsageError
from akslogin.kubeconfig import embedded
from akslogin.kubeconfig.model import KubeConfig
from akslogin.kubeconfig.resolved import ResolvedContext, resolve
from akslogin.kubeconfig.view import MergedKubeconfig, load_merged


@dataclass
class ContextUser:
    """A resolved context and the get-token arguments (plus exec ``env``) that sign its user in."""

    resolved: ResolvedContext = field(repr=False)
    args: list[str] = field(repr=False)
    #: ``exec.env`` entries: kubectl sets them for the plugin, on top of its own environment.
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.resolved.name


def as_kubeconfig(view: MergedKubeconfig) -> KubeConfig:
    """kubectl's merged view of several files as one KubeConfig (the first entry of a name, the first
    current-context)."""
    out = KubeConfig({}, view.describe_sources())
    for section in ("clusters", "contexts", "users"):
        for name in view.names(section):
            entry = view.entry(section, name)
            out.put(section, name, entry.body if entry is not None else {})
    if view.current_context:
        out.current_context = view.current_context
    return out


def context_user(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> ContextUser:
    """The get-token arguments of ``context`` (or the current context): its akslogin/kubelogin exec plugin, or a
    token akslogin embedded. Any other kind of user is a ConfigError that says what to do."""
    from akslogin.kubectx import plan as ct

    view = load_merged(kubeconfig, environ)
    if not view.configs:
        raise UsageError("no kubeconfig found to read the context from.",
                         "Pass sign-in flags (as for get-token), --kubeconfig or set KUBECONFIG.")
    resolved = resolve(view, context)
    recorded = embedded.embedded_args(resolved.user)
    if recorded is not None:
        return ContextUser(resolved, recorded)
    plan = ct.plan_credential(resolved, environ)
    if plan.kind == ct.GET_TOKEN and plan.exec is not None:
        return ContextUser(resolved, list(plan.exec.args), dict(plan.exec.env))
    if plan.kind == ct.AUTH_PROVIDER and plan.auth_provider == "azure":
        raise ConfigError(f"the user of context {resolved.name!r} uses the legacy azure auth-provider.",
                          "Run 'akslogin convert-kubeconfig' first, or pass sign-in flags.")
    raise ConfigError(f"the user of context {resolved.name!r} does not sign in with akslogin or kubelogin "
                      f"({plan.describe()}).", "Run 'akslogin convert-kubeconfig', or pass sign-in flags.")


def plugin_environment(ctx: ContextUser, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the exec plugin would run with under kubectl: ours plus the entry's ``env``."""
    from akslogin.kubectx.environment import with_exec_env

    return with_exec_env(environ, ctx.env)


def cluster_entry(view: MergedKubeconfig, resolved: ResolvedContext) -> tuple[dict[str, Any], str]:
    """The raw cluster entry of a resolved context and the file it came from (relative paths resolve there)."""
    entry = view.entry("clusters", resolved.cluster.name)
    if entry is None:  # resolve() found it; only a concurrent edit could remove it
        raise ConfigError(f"cluster {resolved.cluster.name!r} disappeared from {view.describe_sources()}.")
    return entry.body, entry.source
