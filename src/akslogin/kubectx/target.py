"""A context opened for talking to its cluster: resolved as kubectl resolves it, with its credential plan,
and an API client that presents what the context presents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from akslogin import options
from akslogin.errors import AksloginError
from akslogin.kubeconfig.model import MissingKubeconfigError
from akslogin.kubeconfig.resolved import ResolvedContext
from akslogin.kubectx.plan import CERTIFICATE, CredentialPlan, PresentedToken, plan_credential

if TYPE_CHECKING:
    from akslogin.kubeapi import KubeClient


@dataclass
class Target:
    """A resolved context and what its user entry would do."""

    ctx: ResolvedContext
    plan: CredentialPlan


def open_context(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> Target:
    from akslogin.kubeconfig.resolved import resolve
    from akslogin.kubeconfig.view import load_merged

    merged = load_merged(kubeconfig, environ)
    if not merged.configs:
        raise MissingKubeconfigError(f"no kubeconfig found (looked at {merged.describe_sources()}).",
                              "Create one with 'akslogin get-credentials', or pass --kubeconfig / set KUBECONFIG.")
    ctx = resolve(merged, context)
    return Target(ctx, plan_credential(ctx, environ))


def api_client(target: Target, token: PresentedToken | None, environ: Mapping[str, str],
               timeout: float = 30.0) -> KubeClient:
    """A KubeClient presenting what the context presents (bearer token and/or client certificate)."""
    from akslogin.kubeapi import KubeClient

    plan = target.plan
    cert = (plan.cert_pem, plan.key_pem) if plan.kind == CERTIFICATE and plan.key_pem else None
    return KubeClient(target.ctx.cluster, token=token.token if token else None, client_cert=cert,
                      timeout=timeout, environ=environ)


def request_timeout(plan: CredentialPlan) -> float:
    if plan.opts is not None:
        try:
            return plan.opts.timeout_seconds
        except AksloginError:
            return options.DEFAULT_TIMEOUT
    return options.DEFAULT_TIMEOUT
