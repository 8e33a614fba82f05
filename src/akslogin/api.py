"""akslogin as a Python library: tokens, ExecCredentials, kubeconfigs and the official ``kubernetes`` client.

Everything here goes through the same code as the command line: the same options and environment precedence
as ``akslogin get-token``, the same on-disk token cache (a token one process fetched serves the others and
kubectl), the same kubeconfig reading, conversion and merging rules. Failures raise
:class:`akslogin.errors.AksloginError` subclasses whose ``message``/``hint`` say what to do; they never
contain tokens or secrets.

>>> import akslogin
>>> token = akslogin.get_token("aks-prod")                     # as the context's exec plugin would sign in
>>> token = akslogin.get_token(login="msi", server_id=akslogin.AKS_SERVER_ID)  # no kubeconfig needed
>>> cfg = akslogin.configure_kubernetes_client("aks-prod")     # pip install 'akslogin[kubernetes]'
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from akslogin.clouds import AKS_SERVER_APP_ID
from akslogin.credentials.base import AccessToken
from akslogin.errors import ConfigError
from akslogin.kubeconfig.model import KubeConfig, MissingKubeconfigError

if TYPE_CHECKING:
    from akslogin.kubectx.login_args import ContextUser
    from akslogin.options import TokenOptions

__all__ = [
    "AKS_SERVER_ID",
    "AccessToken",
    "KubeConfig",
    "configure_kubernetes_client",
    "convert_kubeconfig",
    "get_exec_credential",
    "get_token",
    "load_kubeconfig",
    "merge_kubeconfig",
    "save_kubeconfig",
]

#: The AKS server application: the ``--server-id`` of every AKS cluster with managed Entra ID, in every cloud.
AKS_SERVER_ID = AKS_SERVER_APP_ID
#: A token handed to the kubernetes client is replaced when it has less than this many seconds left.
REFRESH_MARGIN = 300.0

PathLike = str | os.PathLike[str]


def _expect(value: Any, kinds: tuple[type, ...], name: str, what: str) -> None:
    """TypeError naming the argument, as documented (never an AttributeError from deep inside)."""
    if value is not None and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")


def _check_call(context: Any, kubeconfig: Any, login: Any, environ: Any) -> None:
    _expect(context, (str,), "context", "a context name (str) or None")
    _expect(kubeconfig, (str, os.PathLike), "kubeconfig", "a path (str or os.PathLike) or None")
    _expect(login, (str,), "login", "a login mode (str) such as 'spn' or None")
    if environ is not None and not (isinstance(environ, Mapping)
                                    and all(isinstance(k, str) and isinstance(v, str) for k, v in environ.items())):
        raise TypeError(f"environ must be a mapping of str to str (like os.environ), not {type(environ).__name__}")


def _check_option(name: str, value: Any) -> None:
    """Each option has its flag's type: booleans for switches, text (or a path) for the rest."""
    from akslogin import options as opts_module

    flag = next((f for f in opts_module.FLAGS if f.dest == name), None)
    if flag is None:
        return
    if flag.boolean:
        _expect(value, (bool,), name, "True or False")
    elif name == "timeout":
        _expect(value, (int, float, str), name, "seconds (a number) or a duration such as '90s'")
    elif name == "verbosity":
        _expect(value, (int, str), name, "a level (int)")
    elif flag.repeatable:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            _expect(item, (str, os.PathLike), name, "a path, or a list of paths")
    else:
        _expect(value, (str, os.PathLike) if name in opts_module.PATH_FIELDS else (str,), name,
                "a path (str or os.PathLike)" if name in opts_module.PATH_FIELDS else "text (str)")


def _check_config(value: Any, name: str) -> None:
    if not isinstance(value, KubeConfig):
        raise TypeError(f"{name} must be a KubeConfig (load_kubeconfig() returns one; wrap a dict as "
                        f"KubeConfig(data)), not {type(value).__name__}")


def _token_options(options: Mapping[str, Any], base: TokenOptions | None = None) -> TokenOptions:
    """TokenOptions from keyword arguments named like its fields (``server_id``, ``client_id``, ...)."""
    from akslogin import options as opts_module

    fields = set(opts_module.FIELDS) - {"explicit"}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; options are get-token's flags with underscores: "
                        + ", ".join(sorted(fields)))
    values: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        _check_option(name, value)
        if name == "certificate_authority":
            value = [os.fspath(value)] if isinstance(value, (str, os.PathLike)) else [os.fspath(v) for v in value]
        elif name == "timeout" and isinstance(value, (int, float)):
            value = f"{float(value)}s"
        elif name in ("client_certificate", "federated_token_file", "cache_dir") and isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif name == "verbosity":
            value = str(value)
        values[name] = value
    opts = base.replace(**values) if base is not None else opts_module.TokenOptions(**values)
    opts.explicit |= set(values)
    return opts


def _resolve(context: str | None, kubeconfig: PathLike | None, login: str | None, options: Mapping[str, Any],
             environ: Mapping[str, str] | None) -> tuple[TokenOptions, Mapping[str, str]]:
    """The validated options to sign in with, and the environment the sign-in runs in."""
    from akslogin import options as opts_module
    from akslogin.kubectx.login_args import context_user

    _check_call(context, kubeconfig, login, environ)
    env: Mapping[str, str] = os.environ if environ is None else environ
    if login is not None:
        if context is not None or kubeconfig is not None:
            raise TypeError("pass either login=... (sign in without a kubeconfig) or context/kubeconfig, not both")
        opts = _token_options({"server_id": AKS_SERVER_ID, **options, "login": login})
        opts_module.apply_env(opts, env)
        opts_module.validate(opts)
        return opts, env
    return _from_context(context_user(os.fspath(kubeconfig) if kubeconfig is not None else None, context, env),
                         env, options)


def _from_context(ctx: ContextUser, environ: Mapping[str, str],
                  options: Mapping[str, Any]) -> tuple[TokenOptions, Mapping[str, str]]:
    """A context user's get-token options (its exec ``env`` applied), with ``options`` on top."""
    from akslogin import options as opts_module
    from akslogin.kubectx.login_args import plugin_environment
    from akslogin.tokens.source import options_from_exec_args

    env = plugin_environment(ctx, environ)
    opts = options_from_exec_args(ctx.args, env)
    if options:
        opts = _token_options(options, opts)
        opts_module.validate(opts)
    return opts, env


def get_token(context: str | None = None, kubeconfig: PathLike | None = None, *, login: str | None = None,
              environ: Mapping[str, str] | None = None, **options: Any) -> AccessToken:
    """An Entra ID access token for a kubeconfig context, or for a login mode and options.

    With ``login`` (``"spn"``, ``"msi"``, ``"workloadidentity"``, ``"azurecli"``, ``"devicecode"``, ...) no
    kubeconfig is read: ``options`` are get-token's flags with underscores (``server_id`` defaults to the
    AKS server app, ``client_id``, ``tenant_id``, ``client_certificate``, ``authority_host``, ``cache_dir``,
    ``certificate_authority``, ``timeout`` in seconds, ...). Otherwise the context's user (``context`` or the
    current one, in ``kubeconfig`` or kubectl's files) says how to sign in, and ``options`` override it.

    As with ``akslogin get-token``, environment variables (``AAD_SERVICE_PRINCIPAL_CLIENT_SECRET``,
    ``AZURE_CLIENT_ID``, ...) win over options unless ``disable_environment_override=True``; pass ``environ``
    to use another mapping than ``os.environ``. A cached token with more than 5 minutes left is returned
    without any network request. Device-code prompts, when a mode needs one, go to stderr.
    """
    from akslogin.log import Log
    from akslogin.tokens.source import obtain

    opts, env = _resolve(context, kubeconfig, login, options, environ)
    return obtain(opts, env, sys.stderr, Log(opts.verbosity_level, sys.stderr))


def get_exec_credential(context: str | None = None, kubeconfig: PathLike | None = None, *,
                        login: str | None = None, api_version: str = "client.authentication.k8s.io/v1",
                        environ: Mapping[str, str] | None = None, **options: Any) -> dict[str, Any]:
    """The ExecCredential ``akslogin get-token`` would print for kubectl, as a dict (same arguments as
    :func:`get_token`; ``api_version`` is ``client.authentication.k8s.io/v1`` or ``.../v1beta1``)."""
    from akslogin.errors import UsageError
    from akslogin.exec_credential import SUPPORTED, ExecInfo, render

    if api_version not in SUPPORTED:
        raise UsageError(f"exec credential API version {api_version!r} is not supported.",
                         f"Use one of: {', '.join(SUPPORTED)}.")
    token = get_token(context, kubeconfig, login=login, environ=environ, **options)
    credential: dict[str, Any] = json.loads(render(ExecInfo(api_version, False), token.token, token.expires_on))
    return credential


def load_kubeconfig(path: PathLike | None = None, *, environ: Mapping[str, str] | None = None) -> KubeConfig:
    """A kubeconfig file, or (``path=None``) what kubectl reads: every ``KUBECONFIG`` entry merged with
    kubectl's rule (the first file naming an entry wins), else ``~/.kube/config``. Missing files are empty.

    The result keeps every field, known or not; ``.data`` is the plain mapping, ``.get(section, name)`` an
    entry's body, ``.current_context`` the current context.
    """
    from akslogin.kubeconfig import files
    from akslogin.kubeconfig.view import load_merged
    from akslogin.kubectx.login_args import as_kubeconfig

    _expect(path, (str, os.PathLike), "path", "a path (str or os.PathLike) or None")
    _check_call(None, None, None, environ)
    if path is not None:
        return files.load(os.fspath(path))
    view = load_merged(None, os.environ if environ is None else environ)
    return view.configs[0] if len(view.configs) == 1 else as_kubeconfig(view)


def save_kubeconfig(config: KubeConfig, path: PathLike) -> None:
    """Write ``config`` to ``path``: validated, under the file's lock, atomically, mode 0600 (as every akslogin
    command writes kubeconfigs; a failed write leaves the old file intact)."""
    from akslogin.kubeconfig import files

    _check_config(config, "config")
    _expect(path, (str, os.PathLike), "path", "a path (str or os.PathLike)")
    config.validate()
    data = config.copy().data

    def replace(current: KubeConfig) -> None:
        current.data.clear()
        current.data.update(data)

    files.update(os.fspath(path), replace)


def convert_kubeconfig(config: KubeConfig, login: str | None = None, *, context: str | None = None,
                       exec_command: str = "akslogin", allow_secrets: bool = False, **flags: Any) -> KubeConfig:
    """A copy of ``config`` whose Entra ID users (legacy ``auth-provider: azure``, kubelogin or akslogin exec,
    tokens akslogin embedded) run ``akslogin get-token`` with ``login``, as ``akslogin convert-kubeconfig`` does.

    ``login=None`` keeps each exec user's mode (an auth-provider user becomes devicecode). ``flags`` are
    get-token flags with underscores (``client_id``, ``tenant_id``, ``authority_host``, ...) and win over
    what the file holds. Secrets (``client_secret``, ``password``, ``client_certificate_password``) are
    refused unless ``allow_secrets=True``. Other users are left exactly as they are; ``config`` is unchanged.
    """
    from akslogin import options as opts_module
    from akslogin.errors import UsageError
    from akslogin.usecases.convert import ConvertOptions, convert

    _check_config(config, "config")
    _check_call(context, None, login, None)
    given = _token_options(flags)
    secrets = sorted(opts_module.SECRET_DESTS & set(flags))
    if secrets and not allow_secrets:
        raise UsageError(f"{', '.join(secrets)} would be written in clear text into the kubeconfig.",
                         "Pass allow_secrets=True if you mean it, or provide it through the environment at run time.")
    if login is not None:
        given.login = login
        opts_module.validate(given.replace(server_id=given.server_id or AKS_SERVER_ID))
        login = given.login
    values = {name: getattr(given, name) for name in given.explicit if name not in ("login", "verbosity")}
    result = config.copy()
    convert(result, ConvertOptions(login=login, given=values, context=context, command=exec_command,
                                   allow_secrets=allow_secrets))
    return result


def merge_kubeconfig(target: KubeConfig, incoming: KubeConfig, *, overwrite: bool = False,
                     set_current: str | None = None) -> KubeConfig:
    """``target`` with ``incoming``'s clusters, contexts and users added (a copy; neither argument changes).

    As ``az aks get-credentials`` and ``akslogin get-credentials`` merge: a same-name entry is kept when
    identical and replaced only with ``overwrite=True``; otherwise :class:`akslogin.errors.ConfigError` names
    every conflicting entry. ``set_current`` makes that context current.
    """
    from akslogin.kubeconfig.merge import merge

    _check_config(target, "target")
    _check_config(incoming, "incoming")
    result = target.copy()
    merge(result, incoming, overwrite=overwrite, set_current=set_current,
          hint="Pass overwrite=True to replace them, or rename the incoming entries first; nothing was changed.")
    return result


class _TokenRefresher:
    """The ``refresh_api_key_hook`` of a kubernetes Configuration: puts a fresh bearer token in before each
    request. Served from memory while the token has more than REFRESH_MARGIN left, then from akslogin's cache
    or a new sign-in (the same single-flight path kubectl uses), so long-running programs never hold a stale
    token and never run a subprocess."""

    def __init__(self, opts: TokenOptions, environ: Mapping[str, str],
                 clock: Callable[[], float] = time.time) -> None:
        self.opts = opts
        self.environ = environ
        #: Injected so tests can move time instead of waiting for it.
        self.clock = clock
        self.lock = threading.Lock()
        self.expires_on = 0.0

    def __call__(self, configuration: Any) -> None:
        from akslogin.log import Log
        from akslogin.tokens.source import obtain

        with self.lock:
            if self.expires_on - self.clock() > REFRESH_MARGIN:
                return
            token = obtain(self.opts, self.environ, sys.stderr, Log(self.opts.verbosity_level, sys.stderr),
                           self.clock)
            # "BearerToken" is the key of kubernetes >= 33, "authorization" that of older clients (and the alias
            # newer ones fall back to); the prefix is part of the value, as the client's own kubeconfig loader does.
            for key in ("BearerToken", "authorization"):
                configuration.api_key[key] = f"Bearer {token.token}"
            self.expires_on = token.expires_on


def configure_kubernetes_client(context: str | None = None, kubeconfig: PathLike | None = None, *,
                                environ: Mapping[str, str] | None = None) -> Any:
    """A ``kubernetes.client.Configuration`` for a context whose user signs in with akslogin or kubelogin.

    The cluster part (server, CA, TLS server name, proxy) is loaded by the kubernetes client itself; the
    token comes from akslogin in-process and is renewed automatically before it expires (through the
    Configuration's ``refresh_api_key_hook``), for as long as the program runs. A context whose user does not
    sign in with Entra ID (client certificate, static token, another exec plugin) is loaded exactly as
    ``kubernetes.config.load_kube_config`` would. Needs the optional dependency: ``pip install
    'akslogin[kubernetes]'``.

    >>> from kubernetes import client
    >>> api = client.CoreV1Api(client.ApiClient(configure_kubernetes_client("aks-prod")))
    """
    try:
        from kubernetes import client as k8s_client
        from kubernetes.config.kube_config import KubeConfigLoader
    except ImportError:
        raise ImportError("configure_kubernetes_client needs the official kubernetes client: "
                          "pip install 'akslogin[kubernetes]'") from None
    from akslogin.kubeconfig.resolved import resolve
    from akslogin.kubeconfig.view import load_merged
    from akslogin.kubectx.login_args import cluster_entry, context_user

    env: Mapping[str, str] = os.environ if environ is None else environ
    explicit = os.fspath(kubeconfig) if kubeconfig is not None else None
    view = load_merged(explicit, env)
    if not view.configs:
        raise MissingKubeconfigError("no kubeconfig found.", "Pass kubeconfig=..., or set KUBECONFIG.")
    resolved = resolve(view, context)
    cluster, source = cluster_entry(view, resolved)
    try:
        ctx = context_user(explicit, resolved.name, env)
    except ConfigError:
        ctx = None  # not an Entra user: let the kubernetes client authenticate it its own way
    user_name = resolved.user_name or "user"
    single: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config", "current-context": resolved.name,
        "contexts": [{"name": resolved.name, "context": {"cluster": resolved.cluster.name, "user": user_name}}],
        "clusters": [{"name": resolved.cluster.name, "cluster": cluster}],
        "users": [{"name": user_name, "user": {} if ctx is not None else resolved.user}],
    }
    configuration: Any = k8s_client.Configuration()
    base = os.path.dirname(os.path.abspath(source)) if source else ""
    loader: Any = KubeConfigLoader  # partly typed; the loader handles CA data/files, TLS server name and proxy
    loader(config_dict=single, active_context=resolved.name, config_base_path=base).load_and_set(configuration)
    if ctx is not None:
        opts, plugin_env = _from_context(ctx, env, {})
        hook = _TokenRefresher(opts, plugin_env)
        hook(configuration)  # sign in now: errors surface here, not in the middle of the first API call
        configuration.refresh_api_key_hook = hook
    return configuration
