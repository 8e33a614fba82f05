"""What each login mode needs before it can even try (flags, environment, files, tools), checked without
any network call so ``doctor`` can name the missing piece precisely.

This mirrors what the credential modules enforce when they run; the credential stays the authority, this
table only gives an earlier and more specific answer.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from akslogin.options import TokenOptions


@dataclass(frozen=True)
class Problem:
    message: str
    fix: str


Check = Callable[[TokenOptions, Mapping[str, str]], list[Problem]]


def _need(opts: TokenOptions, dest: str, flag: str, env: str) -> list[Problem]:
    if getattr(opts, dest):
        return []
    return [Problem(f"{flag} is not set for --login {opts.login}.",
                    f"Add {flag} to the exec args, or set {env} in the exec env or the environment.")]


def _readable(path: str, what: str, flag: str) -> list[Problem]:
    try:
        with open(os.path.expanduser(path), "rb"):
            return []
    except OSError as exc:
        return [Problem(f"{what} {path} cannot be read ({exc.strerror}).", f"Fix the path given to {flag}.")]


def _ids(opts: TokenOptions, _env: Mapping[str, str]) -> list[Problem]:
    return (_need(opts, "client_id", "--client-id", "AZURE_CLIENT_ID")
            + _need(opts, "tenant_id", "--tenant-id", "AZURE_TENANT_ID"))


def _spn(opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
    problems = _ids(opts, env)
    if opts.client_certificate:
        problems += _readable(opts.client_certificate, "the client certificate", "--client-certificate")
    elif not opts.client_secret:
        problems.append(Problem(
            "--login spn has neither a client secret nor a client certificate.",
            "Set AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_SECRET) in the exec env or the environment "
            "(not as --client-secret: argv is visible to other processes), or pass --client-certificate FILE."))
    return problems


def _ropc(opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
    return (_ids(opts, env) + _need(opts, "username", "--username", "AAD_USER_PRINCIPAL_NAME")
            + _need(opts, "password", "--password", "AAD_USER_PRINCIPAL_PASSWORD"))


def _workload(opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
    problems = _ids(opts, env)
    if env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN") and env.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
        return problems  # GitHub Actions OIDC: the token is requested from the runner
    if not opts.federated_token_file:
        problems.append(Problem(
            "no federated token file for --login workloadidentity.",
            "Run in a pod with the azure.workload.identity/use label (it sets AZURE_FEDERATED_TOKEN_FILE), "
            "or pass --federated-token-file."))
    else:
        problems += _readable(opts.federated_token_file, "the federated token file", "--federated-token-file")
    return problems


def _tool(name: str, install: str) -> Check:
    def check(_opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
        if shutil.which(name, path=env.get("PATH")) is None:
            return [Problem(f"'{name}' is not on PATH.", install)]
        return []
    return check


def _azurecli(opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
    problems = _tool("az", "Install the Azure CLI (https://aka.ms/installazurecli), then run 'az login'.")(opts, env)
    if problems:
        return problems
    config_dir = env.get("AZURE_CONFIG_DIR") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".azure")
    profile = os.path.join(config_dir, "azureProfile.json")
    try:
        with open(profile, encoding="utf-8-sig") as fh:
            subscriptions = json.load(fh).get("subscriptions") or []
    except (OSError, ValueError, AttributeError):
        subscriptions = []
    if not subscriptions:
        return [Problem(f"the Azure CLI is not signed in (no account in {profile}).",
                        "Run 'az login' (or 'az login --identity' on an Azure VM) as the user kubectl runs as.")]
    return []


def _pipelines(opts: TokenOptions, env: Mapping[str, str]) -> list[Problem]:
    problems = _ids(opts, env) + _need(opts, "azure_pipelines_service_connection_id",
                                       "--azure-pipelines-service-connection-id",
                                       "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
    for name in ("SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI"):
        if not env.get(name):
            problems.append(Problem(f"{name} is not set.",
                                    "Run inside an Azure Pipelines AzureCLI@2 task, and map SYSTEM_ACCESSTOKEN into "
                                    "the step's env (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken))."))
    return problems


REQUIREMENTS: dict[str, Check] = {
    "spn": _spn,
    "ropc": _ropc,
    "devicecode": _ids,
    "interactive": _ids,
    "msi": lambda _o, _e: [],
    "workloadidentity": _workload,
    "azurecli": _azurecli,
    "azd": _tool("azd", "Install the Azure Developer CLI (https://aka.ms/azd-install), then run 'azd auth login'."),
    "azurepipelines": _pipelines,
}

#: Modes whose token comes straight from the Entra ID authority (so its reachability can be checked).
AUTHORITY_MODES = frozenset({"spn", "ropc", "devicecode", "interactive", "workloadidentity", "azurepipelines"})


def check_login_inputs(opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    check = REQUIREMENTS.get(opts.login)
    return check(opts, environ) if check is not None else []
