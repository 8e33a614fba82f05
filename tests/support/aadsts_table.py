"""What the tiers of test_aadsts_table.py share: tests/{emulated,unit}/test_aadsts_table.py."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from akslogin.aadsts import describe_idp_error
from akslogin.emulator import Emulator
from akslogin.emulator.entra import devicecode, userflows
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.get_token import run
from support.machine_world import TENANT as MACHINE_TENANT
from support.machine_world import WI_APP, token_args
from support.run import clean_env, spn_args, user_args
from support.worlds import (
    AKS_CLIENT_ID,
    ASSIGNED_CLIENT_ID,
    PASSWORD,
    TENANT_ID,
    UNCONSENTED_CLIENT_ID,
    USER_DOMAIN,
    AppInfo,
)


class Case:
    """Inputs every trigger may use."""

    def __init__(self, tmp_path: Path, user_emu: Emulator, emulator: Emulator, apps: dict[str, AppInfo],
                 machine_emu: Emulator) -> None:
        self.tmp, self.user_emu, self.emulator, self.apps = tmp_path, user_emu, emulator, apps
        self.machine_emu = machine_emu

    def workload_identity(self, mint: Callable[[Any], str]) -> str:
        """A pod's get-token with a projected service-account token minted by ``mint(federation)``."""
        from akslogin.emulator.entra.federation import federation

        token_file = self.tmp / f"wi-{uuid.uuid4().hex[:6]}"
        token_file.write_text(mint(federation(self.machine_emu)))
        args = token_args("workloadidentity", "--certificate-authority", str(self.machine_emu.ca_path))
        return self.akslogin(args, AZURE_CLIENT_ID=WI_APP, AZURE_TENANT_ID=MACHINE_TENANT,
                             AZURE_FEDERATED_TOKEN_FILE=str(token_file),
                             AZURE_AUTHORITY_HOST=self.machine_emu.authority_host)

    def akslogin(self, args: list[str], **env: str) -> str:
        err = io.StringIO()
        attended = {"AKSLOGIN_PROMPT": "always", **env}  # in process: a failing prompt still reaches err
        rc = run(args[1:] if args[0] == "get-token" else args, clean_env(self.tmp, **attended), io.StringIO(), err)
        assert rc != 0, "expected a failure"
        return err.getvalue()

    def ropc(self, upn: str, password: str = PASSWORD, *extra: str, **kw: str) -> str:
        cache = self.tmp / f"c-{uuid.uuid4().hex[:6]}"
        return self.akslogin(user_args(self.user_emu, "ropc", cache, *extra, **kw),
                             AAD_USER_PRINCIPAL_NAME=upn, AAD_USER_PRINCIPAL_PASSWORD=password)

    def devicecode(self, actions: list[tuple[str, str]], *extra: str, cache: Path | None = None,
                   expect_failure: bool = True) -> str:
        """Run get-token --login devicecode while a thread answers each prompt with the next action."""
        codes = devicecode.of(self.user_emu)
        seen = {c.user_code for c in codes.pending()}
        stop = threading.Event()

        def answer() -> None:
            for action, upn in actions:
                while not stop.is_set():
                    fresh = [c for c in codes.pending() if c.user_code not in seen]
                    if fresh:
                        seen.add(fresh[0].user_code)
                        if action == "approve":
                            codes.approve(fresh[0].user_code, upn)
                        else:
                            getattr(codes, action)(fresh[0].user_code)
                        break
                    time.sleep(0.05)

        worker = threading.Thread(target=answer, daemon=True)
        worker.start()
        err = io.StringIO()
        # In process: the thread above answers the prompt, so a prompt may be shown without a terminal.
        rc = run(user_args(self.user_emu, "devicecode", cache or self.tmp / "dc", *extra)[1:],
                 clean_env(self.tmp, AKSLOGIN_PROMPT="always"), io.StringIO(), err)
        stop.set()
        assert (rc != 0) == expect_failure, err.getvalue()
        return err.getvalue()

    def raw(self, form: dict[str, str], path: str = "oauth2/v2.0/token", emu: Emulator | None = None) -> str:
        emu = emu or self.emulator
        body = requests.post(f"{emu.authority_host}{TENANT_ID}/{path}", data=form, verify=str(emu.ca_path),
                             timeout=10).json()
        return "akslogin: " + describe_idp_error(body).render()[len("akslogin: "):]

    def spn(self, app: AppInfo, emu: Emulator | None = None, **env: str) -> str:
        return self.akslogin(spn_args(emu or self.emulator, app, cache_dir=self.tmp / "spn"), **env)

    def dead_refresh(self, upn: str, kill: Callable[[], None]) -> str:
        """Sign in, make the refresh token unusable, run again: the notice before the new prompt."""
        self.user_emu.entra.settings.access_token_lifetime = 200
        cache = self.tmp / "dead"
        self.devicecode([("approve", upn)], cache=cache, expect_failure=False)
        kill()
        return self.devicecode([("decline", "")], cache=cache)


TRIGGERS: dict[int, Callable[[Case], str]] = {
    50126: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", "wrong-password"),
    50034: lambda c: c.ropc(f"nobody@{USER_DOMAIN}"),
    50053: lambda c: c.ropc(f"locked@{USER_DOMAIN}"),
    50055: lambda c: c.ropc(f"expired@{USER_DOMAIN}"),
    50056: lambda c: c.ropc(f"passwordless@{USER_DOMAIN}"),
    50057: lambda c: c.ropc(f"disabled@{USER_DOMAIN}"),
    50076: lambda c: c.ropc(f"mfa@{USER_DOMAIN}"),
    50079: lambda c: c.ropc(f"mfareg@{USER_DOMAIN}"),
    53000: lambda c: c.ropc(f"unmanaged@{USER_DOMAIN}"),
    530033: lambda c: c.devicecode([("approve", f"unmanaged@{USER_DOMAIN}")]),
    53001: lambda c: c.ropc(f"notjoined@{USER_DOMAIN}"),
    530003: lambda c: c.ropc(f"unenrolled@{USER_DOMAIN}"),
    50105: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, client_id=ASSIGNED_CLIENT_ID),
    65001: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, client_id=UNCONSENTED_CLIENT_ID),
    500011: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, server_id=str(uuid.uuid4())),
    700016: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, client_id=str(uuid.uuid4())),
    90002: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, tenant="nowhere.example"),
    9001023: lambda c: c.ropc(f"viewer@{USER_DOMAIN}", PASSWORD, tenant="common"),
    53003: lambda c: c.devicecode([("approve", f"nodevicecode@{USER_DOMAIN}")]),
    65004: lambda c: c.devicecode([("decline", "")]),
    70019: lambda c: c.devicecode([("expire", "")]),
    70016: lambda c: c.devicecode([], "--timeout", "2s"),
    50173: lambda c: c.dead_refresh(f"dev2@{USER_DOMAIN}",
                                    lambda: userflows.of(c.user_emu).revoke_sessions(f"dev2@{USER_DOMAIN}")),
    700082: lambda c: c.dead_refresh(f"dev2@{USER_DOMAIN}", lambda: c.user_emu.clock.advance(91 * 86400)),
    70043: lambda c: c.dead_refresh(f"frequent@{USER_DOMAIN}", lambda: c.user_emu.clock.advance(700)),
    7000215: lambda c: c.spn(c.apps["viewer"], AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="wrong"),
    7000222: lambda c: c.spn(c.apps["expired"], AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=c.apps["expired"].secret or ""),
    700025: lambda c: c.akslogin(user_args(c.user_emu, "spn", c.tmp / "pub", client_id=AKS_CLIENT_ID),
                                 AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="a-secret"),
    700027: lambda c: c.akslogin([*spn_args(c.emulator, c.apps["viewer"], cache_dir=c.tmp / "s"),
                                  "--client-certificate", str(c.apps["cert"].pem_path)]),
    700024: lambda c: (c.emulator.clock.advance(3600), c.akslogin(
        [*spn_args(c.emulator, c.apps["cert"], cache_dir=c.tmp / "s"), "--client-certificate",
         str(c.apps["cert"].pem_path)]))[1],
    7000218: lambda c: c.raw({"grant_type": "client_credentials", "client_id": c.apps["viewer"].client_id,
                              "scope": f"{AKS_SERVER_APP_ID}/.default"}),
    700021: lambda c: c.raw({"grant_type": "client_credentials", "client_id": c.apps["cert"].client_id,
                             "scope": f"{AKS_SERVER_APP_ID}/.default",
                             "client_assertion": _assertion(c, "someone-else"),
                             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}),
    50027: lambda c: c.raw({"grant_type": "client_credentials", "client_id": c.apps["cert"].client_id,
                            "scope": f"{AKS_SERVER_APP_ID}/.default", "client_assertion": "not-a-jwt",
                            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}),
    70011: lambda c: c.raw({"grant_type": "client_credentials", "client_id": c.apps["viewer"].client_id,
                            "client_secret": c.apps["viewer"].secret or ""}),
    700213: lambda c: c.workload_identity(lambda f: f.service_account_token("deploy", "intruder")),
    70021: lambda c: c.workload_identity(lambda f: f.service_account_token("deploy", "deployer", issuer="github")),
    700212: lambda c: c.workload_identity(
        lambda f: f.service_account_token("deploy", "deployer", audience="api://SomethingElse")),
    50013: lambda c: c.workload_identity(_forged_service_account_token),
    1002012: lambda c: c.raw({"grant_type": "client_credentials", "client_id": c.apps["viewer"].client_id,
                              "client_secret": c.apps["viewer"].secret or "", "scope": f"{AKS_SERVER_APP_ID}/read"}),
}


def _assertion(c: Case, issuer: str) -> str:
    """A correctly signed client assertion for the cert app whose iss/sub name another client."""
    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from akslogin.emulator.net.tlsmaterial import thumbprints

    app = c.apps["cert"]
    _, sha256 = thumbprints(x509.load_pem_x509_certificate(app.cert_pem))
    now = int(time.time())
    claims = {"aud": f"{c.emulator.authority_host}{TENANT_ID}/oauth2/v2.0/token", "iss": issuer, "sub": issuer,
              "jti": str(uuid.uuid4()), "iat": now, "exp": now + 600}
    key: Any = serialization.load_pem_private_key(app.key_pem, None)
    return jwt.encode(claims, key, algorithm="PS256", headers={"x5t#S256": sha256})


def _forged_service_account_token(fed: Any) -> str:
    """Kubernetes' claims signed with another issuer's key."""
    import jwt

    claims = {"iss": fed.issuer("kubernetes").url, "sub": "system:serviceaccount:deploy:deployer",
              "aud": ["api://AzureADTokenExchange"], "iat": 0, "nbf": 0, "exp": 4_000_000_000}
    kid = fed.issuer("kubernetes").kid
    return jwt.encode(claims, fed.issuer("github").key, algorithm="RS256", headers={"kid": kid})
