"""What the tiers of test_audit.py share: tests/{emulated,unit}/test_audit.py."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import jwt
import yaml

from akslogin.emulator.net.tlsmaterial import new_rsa_key
from akslogin.usecases.audit import AuditRequest, run
from support.explainworld import Streams, b64, client_cert, env_for
from support.run import akslogin_bin

SECRETS = ("s3cr3t-in-args", "s3cr3t-in-env", "REFRESH-0.AAAA-legacy", "ACCESS-legacy", "0123456789abcdef" * 2)


def _jwt(exp: float) -> str:
    return jwt.encode({"aud": "x", "exp": int(exp), "oid": "o"}, new_rsa_key(), algorithm="RS256")


def risky_config(tmp_path: Path) -> dict[str, Any]:
    admin_cert, admin_key = client_cert("masterclient", ("system:masters",), days=730)
    old_cert, old_key = client_cert("bob", ("devs",), days=-10)
    soon_cert, soon_key = client_cert("carol", (), days=5)
    exec_user = {"apiVersion": "client.authentication.k8s.io/v1", "command": akslogin_bin(),
                 "interactiveMode": "Never"}
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "aks1", "preferences": {"colors": True},
        "clusters": [
            {"name": "aks1", "cluster": {"server": "https://aks1.example:443", "certificate-authority-data": "QQ=="}},
            {"name": "lab", "cluster": {"server": "https://lab.example:6443", "insecure-skip-tls-verify": True}},
        ],
        "contexts": [
            {"name": "aks1-admin", "context": {"cluster": "aks1", "user": "clusterAdmin_rg_aks1"}},
            {"name": "aks1", "context": {"cluster": "aks1", "user": "ci"}},
            {"name": "lab", "context": {"cluster": "lab", "user": "legacy"}},
            {"name": "ghost", "context": {"cluster": "aks1", "user": "nobody-here"}},
        ],
        "users": [
            {"name": "clusterAdmin_rg_aks1", "user": {"client-certificate-data": b64(admin_cert),
                                                      "client-key-data": b64(admin_key), "token": SECRETS[4]}},
            {"name": "old-cert", "user": {"client-certificate-data": b64(old_cert), "client-key-data": b64(old_key)}},
            {"name": "soon-cert", "user": {"client-certificate-data": b64(soon_cert),
                                           "client-key-data": b64(soon_key)}},
            {"name": "jwt-expired", "user": {"token": _jwt(time.time() - 3600)}},
            {"name": "jwt-valid", "user": {"token": _jwt(time.time() + 86400)}},
            {"name": "legacy", "user": {"auth-provider": {"name": "azure", "config": {
                "apiserver-id": "6dae42f8-4368-4678-94ff-3960e28e3630", "client-id": "c", "tenant-id": "t",
                "config-mode": "1", "access-token": SECRETS[3], "refresh-token": SECRETS[2],
                "expires-in": "3599", "expires-on": "1700000000", "environment": "AzurePublicCloud"}}}},
            {"name": "ci", "user": {"exec": {**exec_user, "args": [
                "get-token", "--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                "--client-id", "app", "--tenant-id", "t", "--client-secret", SECRETS[0]]}}},
            {"name": "ci-env", "user": {"exec": {**exec_user, "args": ["get-token", "-l", "ropc"], "env": [
                {"name": "AZURE_CLIENT_SECRET", "value": SECRETS[1]},
                {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/token"}]}}},
            {"name": "missing-plugin", "user": {"exec": {**exec_user, "command": "kubelogin-not-installed-here",
                                                         "args": ["get-token"], "installHint": "brew install x"}}},
            {"name": "basic", "user": {"username": "admin", "password": "pw"}},
        ],
    }


def write(path: Path, data: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(mode)
    return path


def audit(tmp_path: Path, *files: Path, stdin: str = "", **kw: Any) -> tuple[int, Streams]:
    streams = Streams()
    req = AuditRequest(files=[str(f) for f in files], **kw)
    code = run(req, env_for(tmp_path), streams.out, streams.err, io.StringIO(stdin))
    return code, streams
