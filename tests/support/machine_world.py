"""The world of the machine sign-in tests (managed identities, federated apps, subject-name certificates,
az/azd stand-ins) and helpers to drive them. Separate from conftest's session world, which it leaves alone."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from akslogin.emulator import Emulator
from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key
from akslogin.emulator.world import AKS_SERVER_APP_ID

TENANT = "22222222-3333-4444-8555-666666666666"
SNI_SUBJECT = "CN=ci-sni.contoso.example"

WI_APP = "bbbbbbbb-0000-4000-8000-000000000001"  # federated: kubernetes service account deploy/deployer
GH_APP = "bbbbbbbb-0000-4000-8000-000000000002"  # federated: GitHub repo contoso/app (main, environment prod)
ADO_APP = "bbbbbbbb-0000-4000-8000-000000000003"  # federated: Azure Pipelines sc://contoso/aks/aks-prod
SNI_APP = "bbbbbbbb-0000-4000-8000-000000000004"  # subject name + issuer certificate trust
AZ_APP = "bbbbbbbb-0000-4000-8000-000000000005"  # the service principal the fake az/azd are signed in as
AZ_SECRET = "az-sp-secret-Lm4~xyz"
ADO_CONNECTION = "5f1e0f7a-8d2c-4b7e-9a61-3c2b1a0f9e8d"
UAMI_CLIENT = "cccccccc-0000-4000-8000-000000000001"
UAMI_OBJECT = "0c0c0c0c-0000-4000-8000-000000000001"
UAMI_RESOURCE = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/"
                 "Microsoft.ManagedIdentity/userAssignedIdentities/deployer-identity")
STRAY_CLIENT = "cccccccc-0000-4000-8000-000000000002"  # a user-assigned identity on no host
OBJECT_IDS = {
    "build-vm": "0d0d0d0d-0000-4000-8000-000000000001",
    "web-app": "0d0d0d0d-0000-4000-8000-000000000002",
    "arc-server": "0d0d0d0d-0000-4000-8000-000000000003",
    "wi": "0e0e0e0e-0000-4000-8000-000000000001",
    "gh": "0e0e0e0e-0000-4000-8000-000000000002",
    "ado": "0e0e0e0e-0000-4000-8000-000000000003",
    "sni": "0e0e0e0e-0000-4000-8000-000000000004",
    "az": "0e0e0e0e-0000-4000-8000-000000000005",
}


@dataclass
class MachineWorld:
    directory: Path
    ca_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    spec: dict[str, Any] = field(default_factory=dict)

    def leaf(self, name: str, subject: str = SNI_SUBJECT, issuer: tuple[rsa.RSAPrivateKey, x509.Certificate] | None
             = None) -> Path:
        """A PEM (key + leaf) for the SNI app, issued by the test CA unless ``issuer`` says otherwise."""
        ca_key, ca_cert = issuer or (self.ca_key, self.ca_cert)
        key = new_rsa_key()
        cert = _issue(ca_key, ca_cert, key, subject, ca=False)
        path = self.directory / f"{name}.pem"
        path.write_bytes(key_pem(key) + cert_pem(cert))
        path.chmod(0o600)
        return path


def _issue(ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate | None, key: rsa.RSAPrivateKey, subject: str,
           ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name.from_rfc4514_string(subject)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject if ca_cert is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )


#: The user signed in to the emulated Azure Cloud Shell (its MSI_ENDPOINT hands out this user's tokens).
CLOUD_SHELL_USER = "shell-user@machines.example"


def new_ca(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_rsa_key()
    return key, _issue(key, None, key, f"CN={common_name},O=Contoso test PKI", ca=True)


def build_machine_world(directory: Path) -> MachineWorld:
    ca_key, ca_cert = new_ca("Contoso Issuing CA")
    (directory / "issuing-ca.pem").write_bytes(cert_pem(ca_cert))
    mw = MachineWorld(directory, ca_key, ca_cert)
    view = [{"managed_identity": "build-vm"}, {"managed_identity": "deployer-identity"},
            {"managed_identity": "web-app"}, {"managed_identity": "arc-server"},
            {"app": "wi-deployer"}, {"app": "gh-deployer"}, {"app": "ado-deployer"}, {"app": "sni-deployer"},
            {"app": "az-signed-in"}, {"user": CLOUD_SHELL_USER}]
    mw.spec = {
        "tenants": [{
            "id": TENANT,
            "domains": ["machines.example"],
            "apps": [
                {"name": "wi-deployer", "client_id": WI_APP, "object_id": OBJECT_IDS["wi"],
                 "federated_credentials": [{"name": "aks", "issuer": "kubernetes",
                                            "subject": "system:serviceaccount:deploy:deployer"},
                                           {"name": "other-cluster", "issuer": "aks-west",
                                            "subject": "system:serviceaccount:deploy:deployer"}]},
                {"name": "gh-deployer", "client_id": GH_APP, "object_id": OBJECT_IDS["gh"],
                 "federated_credentials": [{"issuer": "github", "subject": "repo:contoso/app:ref:refs/heads/main"},
                                           {"issuer": "github", "subject": "repo:contoso/app:environment:prod"}]},
                {"name": "ado-deployer", "client_id": ADO_APP, "object_id": OBJECT_IDS["ado"],
                 "federated_credentials": [{"issuer": "azure-pipelines", "subject": "sc://contoso/aks/aks-prod"}]},
                {"name": "sni-deployer", "client_id": SNI_APP, "object_id": OBJECT_IDS["sni"],
                 "trusted_certificate_subjects": [{"subject": SNI_SUBJECT, "issuer_ca": "issuing-ca.pem"}]},
                {"name": "az-signed-in", "client_id": AZ_APP, "object_id": OBJECT_IDS["az"], "secrets": [AZ_SECRET]},
            ],
            "managed_identities": [
                {"name": "deployer-identity", "client_id": UAMI_CLIENT, "object_id": UAMI_OBJECT,
                 "resource_id": UAMI_RESOURCE},
                {"name": "stray-identity", "client_id": STRAY_CLIENT},
            ],
            "hosts": [
                {"name": "build-vm", "kind": "vm", "system_identity": {"object_id": OBJECT_IDS["build-vm"]},
                 "user_identities": ["deployer-identity"]},
                {"name": "lone-vm", "kind": "vm", "user_identities": ["deployer-identity"]},
                {"name": "multi-vm", "kind": "vm", "user_identities": ["deployer-identity", "stray-identity"]},
                {"name": "web-app", "kind": "appservice", "system_identity": {"object_id": OBJECT_IDS["web-app"]},
                 "user_identities": ["deployer-identity"]},
                {"name": "arc-server", "kind": "arc", "system_identity": {"object_id": OBJECT_IDS["arc-server"]}},
                {"name": "shell", "kind": "cloudshell", "user": CLOUD_SHELL_USER},
            ],
            "users": [{"upn": CLOUD_SHELL_USER, "object_id": "5e5e5e5e-0000-4000-8000-000000000001"}],
        }],
        "clusters": [
            {"name": "aks1", "tenant": TENANT, "pods": {"default": ["web-1"], "deploy": ["job-1"]},
             "rbac": {"bindings": [{"name": "machines-view", "role": "view", "subjects": view}]}},
        ],
    }
    (directory / "machines.yaml").write_text(json.dumps(mw.spec))
    return mw


def token_args(login: str, *extra: str) -> list[str]:
    return ["get-token", "--login", login, "--server-id", AKS_SERVER_APP_ID, *extra]


# -- stand-ins for az and azd ---------------------------------------------------------------------
# They speak the real CLIs' output contract (docs/login-modes-machine.md) and mint real tokens by
# signing in to the emulator as the service principal their "profile" names. Each call is appended
# to calls.log in the config directory so tests can count and inspect invocations.

_FAKE_AZ = '''
import datetime, json, os, ssl, sys, time, urllib.error, urllib.parse, urllib.request
config = os.environ.get("AZURE_CONFIG_DIR") or os.path.expanduser("~/.azure")
args = sys.argv[1:]
with open(os.path.join(config, "calls.log"), "a") as log:
    log.write(json.dumps(args) + "\\n")
mode = os.environ.get("FAKE_AZ_MODE", "")
if mode == "hang":
    time.sleep(30)
if mode == "garbage":
    print("WARNING: this is not the JSON you are looking for")
    sys.exit(0)
if args[:2] != ["account", "get-access-token"]:
    print("ERROR: this stand-in only knows 'az account get-access-token'", file=sys.stderr)
    sys.exit(2)
opt = dict(zip(args[2::2], args[3::2]))
try:
    profile = json.load(open(os.path.join(config, "azureProfile.json"), encoding="utf-8-sig"))
except OSError:
    profile = {"subscriptions": []}
subs = profile.get("subscriptions") or []
sub = next((s for s in subs if s["id"] == opt.get("--subscription") or s["name"] == opt.get("--subscription")),
           None) if "--subscription" in opt else next((s for s in subs if s.get("isDefault")), None)
if sub is None:
    print("ERROR: Please run 'az login' to setup account.", file=sys.stderr)
    sys.exit(1)
tenant = opt.get("--tenant") or sub["tenantId"]
client = sub["user"]["name"]
secret = next(e["client_secret"] for e in json.load(open(os.path.join(config, "service_principal_entries.json")))
              if e["client_id"] == client)
cloud = json.load(open(os.path.join(config, "fake-cloud.json")))
body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client, "client_secret": secret,
                               "scope": opt["--resource"] + "/.default"}).encode()
ctx = ssl.create_default_context(cafile=cloud["ca"])
try:
    with urllib.request.urlopen(cloud["authority"] + tenant + "/oauth2/v2.0/token", body, context=ctx) as resp:
        token = json.load(resp)
except urllib.error.HTTPError as exc:
    error = json.load(exc)
    print("ERROR: " + error["error_description"].split(" Trace ID")[0], file=sys.stderr)
    sys.exit(1)
expires = int(time.time()) + int(token["expires_in"])
out = {"accessToken": token["access_token"],
       "expiresOn": datetime.datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M:%S.%f"),
       "expires_on": expires, "subscription": sub["id"], "tenant": tenant, "tokenType": "Bearer"}
if mode == "old":
    del out["expires_on"]
print(json.dumps(out, indent=2))
'''

_FAKE_AZD = '''
import datetime, json, os, ssl, sys, time, urllib.error, urllib.parse, urllib.request
config = os.environ.get("AZD_CONFIG_DIR") or os.path.expanduser("~/.azd")
args = sys.argv[1:]
with open(os.path.join(config, "calls.log"), "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] != ["auth", "token"]:
    print("ERROR: this stand-in only knows 'azd auth token'", file=sys.stderr)
    sys.exit(2)
opt = {}
i = 2
while i < len(args):
    if args[i] == "--no-prompt":
        i += 1
        continue
    opt[args[i]] = args[i + 1]
    i += 2
try:
    user = json.load(open(os.path.join(config, "config.json")))["auth"]["account"]["currentUser"]
except (OSError, KeyError):
    user = None
if not user:
    print(json.dumps({"error": "fetching token: not logged in, run `azd auth login` to login"}), file=sys.stderr)
    sys.exit(1)
tenant = opt.get("--tenant-id") or user["tenantId"]
cloud = json.load(open(os.path.join(config, "fake-cloud.json")))
body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": user["clientId"],
                               "client_secret": cloud["secret"], "scope": opt["--scope"]}).encode()
ctx = ssl.create_default_context(cafile=cloud["ca"])
try:
    with urllib.request.urlopen(cloud["authority"] + tenant + "/oauth2/v2.0/token", body, context=ctx) as resp:
        token = json.load(resp)
except urllib.error.HTTPError as exc:
    print(json.dumps({"error": "fetching token: " + json.load(exc)["error_description"]}), file=sys.stderr)
    sys.exit(1)
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(token["expires_in"]))
print(json.dumps({"token": token["access_token"], "expiresOn": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
'''


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)


def install_fake_az(bin_dir: Path, config_dir: Path, emu: Emulator, signed_in: bool = True) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    config_dir.mkdir(parents=True, exist_ok=True)
    _script(bin_dir / "az", _FAKE_AZ)
    (config_dir / "fake-cloud.json").write_text(json.dumps({"authority": emu.authority_host,
                                                            "ca": str(emu.ca_path)}))
    (config_dir / "service_principal_entries.json").write_text(json.dumps(
        [{"client_id": AZ_APP, "tenant": TENANT, "client_secret": AZ_SECRET}]))
    if signed_in:
        az_login(config_dir)


def az_login(config_dir: Path, subscription: str = "00000000-0000-0000-0000-0000000000a1") -> None:
    """What 'az login --service-principal' leaves in the profile (the file akslogin's cache key watches)."""
    profile = {"installationId": "test", "subscriptions": [
        {"id": subscription, "name": "Contoso Dev", "state": "Enabled", "tenantId": TENANT, "isDefault": True,
         "environmentName": "AzureCloud", "user": {"name": AZ_APP, "type": "servicePrincipal"}},
        {"id": "00000000-0000-0000-0000-0000000000b2", "name": "Contoso Prod", "state": "Enabled",
         "tenantId": TENANT, "isDefault": False, "environmentName": "AzureCloud",
         "user": {"name": AZ_APP, "type": "servicePrincipal"}},
    ]}
    _replace(config_dir / "azureProfile.json", json.dumps(profile))


def az_logout(config_dir: Path) -> None:
    _replace(config_dir / "azureProfile.json", json.dumps({"installationId": "test", "subscriptions": []}))


def install_fake_azd(bin_dir: Path, config_dir: Path, emu: Emulator, signed_in: bool = True) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    config_dir.mkdir(parents=True, exist_ok=True)
    _script(bin_dir / "azd", _FAKE_AZD)
    (config_dir / "fake-cloud.json").write_text(json.dumps({"authority": emu.authority_host, "ca": str(emu.ca_path),
                                                            "secret": AZ_SECRET}))
    user = {"clientId": AZ_APP, "tenantId": TENANT} if signed_in else None
    _replace(config_dir / "config.json", json.dumps({"auth": {"account": {"currentUser": user}}}))


def calls(config_dir: Path) -> list[list[str]]:
    log = config_dir / "calls.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _replace(path: Path, text: str) -> None:
    """Write a new file and rename it over the old one, as az and azd save their profiles."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
