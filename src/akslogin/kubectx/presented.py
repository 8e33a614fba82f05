"""The token a context presents, obtained as kubectl would obtain it: in process for akslogin/kubelogin
get-token (akslogin's cache and sign-in, :func:`akslogin.tokens.source.presented`), by running any other exec
plugin, or as written in the kubeconfig."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TextIO

from akslogin import options
from akslogin.kubeconfig.resolved import ResolvedContext
from akslogin.kubectx.environment import with_exec_env
from akslogin.kubectx.execplugin import run_exec_plugin
from akslogin.kubectx.plan import (
    CERTIFICATE,
    EXEC,
    GET_TOKEN,
    TOKEN,
    CredentialPlan,
    PresentedToken,
    missing_plugin,
    unusable,
    validated_options,
)
from akslogin.log import Log
from akslogin.tokeninfo import decode_token

Clock = Callable[[], float]


def token_in_process(opts: options.TokenOptions, environ: Mapping[str, str], clock: Clock,
                     stderr: TextIO, *, attended: bool | None = None) -> PresentedToken:
    """get-token's own steps (cache first, then a single-flight sign-in; a PoP proof for Azure Arc), without
    printing an ExecCredential: :func:`akslogin.tokens.source.presented`, the one token source. ``attended``
    False: a sign-in that would need a person raises UnattendedSignIn instead of asking."""
    from akslogin.tokens import source

    value, until, cached = source.presented(opts, environ, stderr, Log(opts.verbosity_level, stderr), clock,
                                            attended=attended)
    return PresentedToken(value, until, "akslogin's token cache" if cached else "a new sign-in (now cached)")


def obtain_token(plan: CredentialPlan, ctx: ResolvedContext, environ: Mapping[str, str], *, clock: Clock,
                 stderr: TextIO) -> PresentedToken:
    """The bearer token the context would present to the API server (refused, as kubectl would fail, when
    the exec plugin is not installed: akslogin could run kubelogin's flags itself, but kubectl cannot)."""
    if plan.exec is not None and plan.exec.path is None:
        raise missing_plugin(plan.exec, plan, ctx)
    if plan.kind == GET_TOKEN and plan.exec is not None:
        return token_in_process(validated_options(plan), with_exec_env(environ, plan.exec.env), clock, stderr)
    if plan.kind == EXEC and plan.exec is not None:
        return run_exec_plugin(plan.exec, ctx, environ, stderr)
    if plan.kind == TOKEN or (plan.kind == CERTIFICATE and plan.token):
        info = decode_token(plan.token)
        return PresentedToken(plan.token, info.expires_at if info else None, plan.token_origin or "the kubeconfig")
    raise unusable(plan, ctx)
