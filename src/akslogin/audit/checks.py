"""The scan: every check over one kubeconfig file. Pure (reads only the file, its mode and PATH).

Findings name flags, variables and entries, never their values: the report is safe to paste in a ticket
or keep as a CI artefact.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from typing import Any

from akslogin.audit.findings import Finding
from akslogin.certinfo import CertificateInfo, decode_data, describe_certificate
from akslogin.errors import AksloginError
from akslogin.exec_credential import SUPPORTED as EXEC_API_VERSIONS
from akslogin.kubeconfig.model import KubeConfig
from akslogin.kubeconfig.view import resolve_path
from akslogin.output import stamp, when
from akslogin.redact import is_secret_name, secret_flags
from akslogin.tokeninfo import decode_token

#: Certificates and tokens expiring within this window are reported as expiring soon.
EXPIRY_WINDOW = 30 * 86400
#: Where akslogin/kubelogin read each secret flag from instead of argv.
SECRET_ENV = {
    "--client-secret": "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_SECRET)",
    "--password": "AAD_USER_PRINCIPAL_PASSWORD (or AZURE_PASSWORD)",
    "--client-certificate-password": "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD",
}
LEGACY_TOKEN_KEYS = ("access-token", "refresh-token", "expires-in", "expires-on")
GET_CREDENTIALS_FIX = ("Use 'akslogin get-credentials' with a non-interactive login mode (workloadidentity, msi, "
                       "azurecli, spn with a certificate) instead")


def _contexts_using(config: KubeConfig) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    by_user: dict[str, list[str]] = {}
    by_cluster: dict[str, list[str]] = {}
    for item in config.data["contexts"]:
        body = item.get("context") or {}
        if isinstance(body, dict):
            by_user.setdefault(str(body.get("user") or ""), []).append(item["name"])
            by_cluster.setdefault(str(body.get("cluster") or ""), []).append(item["name"])
    return by_user, by_cluster


def _label(kind: str, name: str, contexts: list[str]) -> str:
    used = f" (context{'s' if len(contexts) > 1 else ''}: {', '.join(contexts)})" if contexts else " (no context)"
    return f"{kind} {name}{used}"


def check_file_mode(path: str, holds_secrets: bool) -> list[Finding]:
    if os.name == "nt":  # mode bits mean nothing there (every file reads as 0666); ACLs are out of scope
        return []
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return []
    if not mode & 0o077:
        return []
    writable = bool(mode & 0o022)
    severity = "high" if writable or holds_secrets else "medium"
    if writable:
        why = "Other users can replace the cluster URL or the exec command in it, and so run code as you."
    else:
        why = ("Other users can copy the credentials in it" + (" (it holds embedded secrets)." if holds_secrets
                                                                else "."))
    return [Finding(
        "file-permissions", severity, path, "file",
        f"mode {mode:04o}: other users can {'write' if writable else 'read'} this kubeconfig",
        why,
        f"chmod 600 {path}",
        fix_action="set the file mode to 0600",
        details={"mode": f"{mode:04o}"},
        fix_key=("chmod", "", ()),
    )]


def _login_mode(args: list[str]) -> str:
    for i, arg in enumerate(args):
        if arg in ("--login", "-l") and i + 1 < len(args):
            return args[i + 1].lower()
        if arg.startswith(("--login=", "-l=")):
            return arg.partition("=")[2].lower()
    return ""


def _check_exec(name: str, block: dict[str, Any], path: str, label: str, environ: Mapping[str, str]) -> list[Finding]:
    out: list[Finding] = []
    command = str(block.get("command") or "")
    args = [str(a) for a in block.get("args") or []]
    if command:
        merged_path = environ.get("PATH", os.defpath)
        if os.sep in command:
            found = os.path.isfile(resolve_path(command, path)) and os.access(resolve_path(command, path), os.X_OK)
        else:
            found = shutil.which(command, path=merged_path) is not None
        if not found:
            hint = str(block.get("installHint") or "").strip()
            out.append(Finding(
                "exec-plugin-missing", "medium", path, label, f"exec plugin {command!r} is not on PATH",
                "kubectl fails with 'executable not found' for this context; people then reach for admin "
                "credentials to get unblocked.",
                (hint + " " if hint else "") + f"Install {command} (or 'pip install akslogin'), or fix exec.command.",
                details={"command": command},
            ))
    api_version = str(block.get("apiVersion") or "")
    if api_version and api_version not in EXEC_API_VERSIONS:
        out.append(Finding(
            "exec-api-version", "low", path, label, f"exec apiVersion {api_version} is not supported by kubectl",
            "kubectl 1.24+ accepts only client.authentication.k8s.io/v1 and v1beta1; this context cannot work.",
            "Set exec.apiVersion to client.authentication.k8s.io/v1.", details={"apiVersion": api_version},
        ))
    flags = secret_flags(args)
    if flags:
        env_names = sorted({SECRET_ENV.get(f, "an environment variable") for f in flags})
        out.append(Finding(
            "secret-in-exec-args", "high", path, label, "secret passed on the exec command line: " + ", ".join(flags),
            "The secret sits in plain text in the kubeconfig, and every kubectl call puts it in the process list "
            "(ps, /proc/<pid>/cmdline) where other users and monitoring agents can read it.",
            "Remove it from args and provide it through " + "; ".join(env_names) + " from a secret store or CI secret "
            "variable; better, use a certificate, workload identity or managed identity.",
            fix_action="remove " + ", ".join(flags) + " (and its value) from exec.args",
            details={"flags": flags},
            fix_key=("exec-args", name, tuple(flags)),
        ))
    env_secrets = [str(e.get("name")) for e in block.get("env") or []
                   if isinstance(e, dict) and is_secret_name(str(e.get("name") or "")) and e.get("value")]
    if env_secrets:
        out.append(Finding(
            "secret-in-exec-env", "high", path, label, "secret stored in exec env: " + ", ".join(env_secrets),
            "The kubeconfig holds the secret in plain text; anyone who gets a copy of the file (backups, dotfile "
            "repos, support bundles) can sign in as this identity.",
            "Set the variable in the environment kubectl runs in (from a secret store or CI secret variable) and "
            "delete it from exec.env; better, switch to a certificate, workload identity or managed identity.",
            details={"variables": env_secrets},
        ))
    if args[:1] == ["get-token"] and _login_mode(args) == "ropc":
        out.append(Finding(
            "password-login", "low", path, label, "--login ropc signs in with a user's password",
            "ROPC cannot do MFA or Conditional Access, and Microsoft is retiring it; the password has to be stored "
            "somewhere.",
            GET_CREDENTIALS_FIX + ".",
        ))
    return out


def _check_certificate(name: str, user: dict[str, Any], path: str, label: str, now: float) -> list[Finding]:
    data: bytes | None = None
    try:
        if user.get("client-certificate-data"):
            data = decode_data(str(user["client-certificate-data"]), "client-certificate-data")
        else:
            with open(resolve_path(str(user["client-certificate"]), path), "rb") as fh:
                data = fh.read()
        info: CertificateInfo | None = describe_certificate(data)
    except (AksloginError, OSError):
        info = None
    details: dict[str, Any] = {}
    validity = ""
    if info is not None:
        details = {"subject": info.subject, "groups": list(info.organizations), "not_after": stamp(info.not_after)}
        validity = f", valid until {when(info.not_after, now)}"
    admin = name.startswith("clusterAdmin_") or (info is not None and info.cluster_admin)
    out: list[Finding] = []
    if info is not None and info.expired(now):
        what = "cluster-admin client certificate" if admin else "client certificate"
        return [Finding(
            "certificate-expired", "low", path, label, f"{what} expired {when(info.not_after, now)}",
            "It no longer works; dead credentials make it hard to see which ones matter.",
            "Delete this user entry (kubectl config delete-user) and any context using it.", details=details,
        )]
    if admin:
        out.append(Finding(
            "admin-credential", "critical", path, label,
            "cluster-admin client certificate" + (f" ({info.subject})" if info else "") + validity,
            "This is AKS's local admin credential (group system:masters): full control of the cluster, outside "
            "Entra ID and RBAC, not covered by Conditional Access or sign-in logs, and it cannot be revoked — only "
            "rotating the cluster CA (az aks rotate-certs) invalidates it"
            + (f"; it stays valid until {stamp(info.not_after)}." if info else "."),
            GET_CREDENTIALS_FIX + ", then delete this context and user (kubectl config delete-context / "
            "delete-user), and consider 'az aks update --disable-local-accounts'.",
            details=details,
            fix_action=f"remove the admin credentials ({', '.join(_admin_keys(user))}) from user {name!r}",
            fix_key=("remove-credentials", name, _admin_keys(user)),
        ))
    else:
        out.append(Finding(
            "client-certificate", "high", path, label,
            "client certificate credential" + (f" ({info.subject})" if info else "") + validity,
            "A client certificate cannot be revoked before it expires, and it bypasses Entra ID (no MFA, no "
            "Conditional Access, no sign-in log).",
            GET_CREDENTIALS_FIX + ", and delete the certificate from the kubeconfig.",
            details=details,
        ))
    if info is not None and info.not_after - now < EXPIRY_WINDOW:
        out.append(Finding(
            "certificate-expiring", "low", path, label, f"client certificate expires {when(info.not_after, now)}",
            "Contexts using it will stop working then.",
            "Move to an Entra login with 'akslogin get-credentials' before it expires.", details=details,
        ))
    return out


#: What a user entry can hold as a credential of its own (AKS's admin user carries a certificate and a token).
CREDENTIAL_KEYS = ("client-certificate-data", "client-key-data", "client-certificate", "client-key", "token",
                   "tokenFile")


def _admin_keys(user: dict[str, Any]) -> tuple[str, ...]:
    return tuple(k for k in CREDENTIAL_KEYS if user.get(k))


def _check_token(user: dict[str, Any], name: str, path: str, label: str, now: float, admin: bool
                 ) -> list[Finding]:
    out: list[Finding] = []
    token = str(user.get("token") or "")
    info = decode_token(token) if token else None
    exp = info.expires_at if info else None
    if exp is not None and exp < now:
        out.append(Finding(
            "token-expired", "low", path, label, f"embedded bearer token expired {when(exp, now)}",
            "It no longer works; a stale token in a kubeconfig usually means someone copied a token by hand.",
            "Delete it and use an exec plugin ('akslogin get-credentials').",
        ))
        return out
    kind = "tokenFile" if user.get("tokenFile") and not token else "token"
    expiry = f", expires {when(exp, now)}" if exp else ", no expiry visible"
    if admin:
        out.append(Finding(
            "static-token", "critical", path, label,
            f"static bearer token ({kind}) beside the cluster-admin certificate{expiry}",
            "AKS's admin credential carries a cluster-admin token as well as the certificate: either one alone gives "
            "full control of the cluster, outside Entra ID, and removing only the certificate leaves the token.",
            GET_CREDENTIALS_FIX + ", then delete this user entry (certificate, key and token).",
            details={"expires": stamp(exp) if exp else None},
            fix_action=f"remove the admin credentials ({', '.join(_admin_keys(user))}) from user {name!r}",
            fix_key=("remove-credentials", name, _admin_keys(user)),
        ))
    else:
        out.append(Finding(
            "static-token", "high", path, label, f"static bearer token ({kind}){expiry}",
            "Whoever has this file can call the API server as this identity until the token expires or is "
            "rotated on the cluster; there is no refresh, MFA or Conditional Access in between.",
            GET_CREDENTIALS_FIX + ", and delete the token.",
            details={"expires": stamp(exp) if exp else None},
        ))
    if exp is not None and exp - now < EXPIRY_WINDOW and exp >= now and not admin:
        out.append(Finding(
            "token-expiring", "low", path, label, f"embedded bearer token expires {when(exp, now)}",
            "Contexts using it will stop working then.", "Use an exec plugin that renews tokens instead.",
        ))
    return out


def _check_auth_provider(name: str, provider: dict[str, Any], path: str, label: str, now: float) -> list[Finding]:
    provider_name = str(provider.get("name") or "")
    config = provider.get("config") if isinstance(provider.get("config"), dict) else {}
    assert isinstance(config, dict)
    out: list[Finding] = []
    if provider_name == "azure":
        present = [k for k in LEGACY_TOKEN_KEYS if config.get(k)]
        if config.get("refresh-token") or config.get("access-token"):
            out.append(Finding(
                "plaintext-refresh-token", "critical", path, label,
                "legacy 'azure' auth-provider stores tokens in plain text (" + ", ".join(present) + ")",
                "An Entra refresh token is a long-lived (up to 90 days, renewed on use) key to the user's account "
                "for this app, usable from any machine; it sits unencrypted in this file.",
                "Remove the stored tokens and convert the user to an exec plugin ('akslogin convert-kubeconfig').",
                fix_action="remove " + ", ".join(present) + " from the auth-provider config",
                details={"keys": present},
                fix_key=("legacy-tokens", name, tuple(present)),
            ))
        out.append(Finding(
            "legacy-azure-auth-provider", "high", path, label, "legacy 'azure' auth-provider",
            "kubectl removed the azure auth-provider in 1.26 ('The azure auth plugin has been removed'); this "
            "context no longer works, and its device-code flow used the spn: audience of old AAD-integrated "
            "clusters.",
            "Convert it with 'akslogin convert-kubeconfig' (or re-run 'akslogin get-credentials').",
        ))
    elif provider_name == "oidc":
        present = [k for k in ("client-secret", "refresh-token", "id-token") if config.get(k)]
        if present:
            out.append(Finding(
                "auth-provider-secrets", "high", path, label, "oidc auth-provider stores " + ", ".join(present),
                "The secrets/tokens sit in plain text in the kubeconfig.",
                "Use an exec credential plugin that keeps tokens in a private cache.", details={"keys": present},
            ))
    else:
        out.append(Finding(
            "legacy-auth-provider", "medium", path, label, f"auth-provider {provider_name!r}",
            "kubectl 1.26+ removed the in-tree auth providers other than oidc; this context does not work.",
            "Replace it with an exec credential plugin.",
        ))
    return out


def scan(config: KubeConfig, path: str, environ: Mapping[str, str], now: float) -> list[Finding]:
    by_user, by_cluster = _contexts_using(config)
    findings = check_file_mode(path, config.holds_secrets())
    for item in config.data["users"]:
        name = item["name"]
        user = item.get("user") or {}
        if not isinstance(user, dict):
            continue
        label = _label("user", name, by_user.get(name, []))
        block = user.get("exec")
        if isinstance(block, dict):
            findings += _check_exec(name, block, path, label, environ)
        provider = user.get("auth-provider")
        if isinstance(provider, dict):
            findings += _check_auth_provider(name, provider, path, label, now)
        admin = False
        if user.get("client-certificate-data") or user.get("client-certificate"):
            cert_findings = _check_certificate(name, user, path, label, now)
            admin = any(f.id == "admin-credential" for f in cert_findings)
            findings += cert_findings
        if user.get("token") or user.get("tokenFile"):
            findings += _check_token(user, name, path, label, now, admin)
        if user.get("username") or user.get("password"):
            findings.append(Finding(
                "basic-auth", "high", path, label, "username/password (basic auth) credential",
                "Kubernetes removed basic auth in 1.19; the password sits in plain text in the file.",
                "Delete it and use an exec plugin ('akslogin get-credentials').",
            ))
    for item in config.data["clusters"]:
        body = item.get("cluster") or {}
        if not isinstance(body, dict):
            continue
        label = _label("cluster", item["name"], by_cluster.get(item["name"], []))
        if body.get("insecure-skip-tls-verify") is True:
            findings.append(Finding(
                "insecure-skip-tls-verify", "high", path, label, "insecure-skip-tls-verify: true",
                "kubectl does not check the API server's certificate: anyone on the network path can impersonate "
                "the cluster and collect the tokens kubectl sends.",
                "Remove insecure-skip-tls-verify and set certificate-authority-data (re-run 'akslogin "
                "get-credentials' to get the cluster CA).",
            ))
        if str(body.get("server") or "").startswith("http://"):
            findings.append(Finding(
                "plain-http-server", "high", path, label, f"server {body.get('server')} is plain HTTP",
                "Credentials and API traffic travel unencrypted.", "Use the https endpoint of the API server.",
            ))
    users = set(config.names("users"))
    clusters = set(config.names("clusters"))
    for item in config.data["contexts"]:
        body = item.get("context") or {}
        if not isinstance(body, dict):
            continue
        missing = []
        if body.get("user") and body.get("user") not in users:
            missing.append(f"user {body.get('user')!r}")
        if body.get("cluster") and body.get("cluster") not in clusters:
            missing.append(f"cluster {body.get('cluster')!r}")
        if missing:
            findings.append(Finding(
                "dangling-context", "low", path, f"context {item['name']}",
                "refers to a missing " + " and ".join(missing),
                "The context cannot work as is.", f"kubectl config delete-context {item['name']}",
            ))
    return findings
