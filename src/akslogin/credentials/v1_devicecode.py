"""``--login devicecode --legacy``: the v1 (ADAL) device code flow for clusters that expect ``spn:<id>``.

Old AKS "AADv1" clusters accept only the audience ``spn:<server id>``, which Entra issues when the v1
endpoints are called with ``?api-version=1.0`` and a ``resource`` (kubernetes issue 86410). MSAL does not
speak v1, so this is a small client of its own. Unlike kubelogin, the refresh token is kept (0600, next to
the MSAL caches), so later runs are silent too.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from akslogin import jsonlite
from akslogin.aadsts import describe_idp_error
from akslogin.credentials import attendance, devicepoll, usercache
from akslogin.credentials.base import AccessToken, CredentialContext, require
from akslogin.credentials.msal_app import token_from_result
from akslogin.credentials.user import SIGN_IN_AGAIN, requirements, sign_in_again_notice
from akslogin.errors import AuthenticationError, NetworkError

SUFFIX = ".legacy.json"
DEVICE_CODE_GRANT = "device_code"


class LegacyDeviceCodeCredential:
    def __init__(self, ctx: CredentialContext, sleep: Callable[[float], None] = time.sleep) -> None:
        opts = ctx.opts
        require(requirements(opts, ctx.environ))
        self.ctx = ctx
        self._sleep = sleep
        self.deadline = ctx.clock() + opts.timeout_seconds
        base = f"{ctx.authority.host}{opts.tenant_id}/oauth2"
        self._token_url = f"{base}/token?api-version=1.0"
        self._devicecode_url = f"{base}/devicecode?api-version=1.0"

    def get_token(self, resource: str) -> AccessToken:
        ctx, opts = self.ctx, self.ctx.opts
        saved = usercache.load_json(ctx, SUFFIX)
        refresh_token = saved.get("refresh_token")
        result: dict[str, Any] | None = None
        if isinstance(refresh_token, str) and refresh_token:
            result = self._post(self._token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                  "client_id": opts.client_id, "resource": resource})
            if "access_token" not in result:
                if result.get("error") not in SIGN_IN_AGAIN:
                    raise describe_idp_error(result)
                ctx.stderr.write(sign_in_again_notice(str(saved.get("username") or "your account"),
                                                      describe_idp_error(result)))
                usercache.forget(ctx, SUFFIX)
                result = None
        if result is None:
            attendance.require_person("a device code", attended=ctx.attended,
                                      why="" if refresh_token else " (there is no saved sign-in)")
            with attendance.prompting(ctx, "a device code"):
                result = self._device_flow(resource)
        token = token_from_result(result, now=ctx.clock())
        if result.get("refresh_token"):
            usercache.save_json(ctx, SUFFIX, {
                "refresh_token": result["refresh_token"], "version": 1,
                "username": _username(result) or saved.get("username", ""),
            })
        return token

    def _device_flow(self, resource: str) -> dict[str, Any]:
        opts = self.ctx.opts
        flow = self._post(self._devicecode_url, {"client_id": opts.client_id, "resource": resource})
        if "device_code" not in flow or "user_code" not in flow:
            raise describe_idp_error(flow)
        uri = flow.get("verification_url") or flow.get("verification_uri")
        self.ctx.tell(str(flow.get("message") or f"To sign in, open {uri} and enter the code {flow['user_code']}."))
        state = {"interval": _seconds(flow.get("interval"), 5.0)}
        form = {"grant_type": DEVICE_CODE_GRANT, "client_id": opts.client_id, "code": str(flow["device_code"]),
                "resource": resource}

        def step() -> dict[str, Any]:
            result = self._post(self._token_url, form)
            if result.get("error") == "slow_down":
                state["interval"] += 5
            return result

        return devicepoll.poll(step, lambda: state["interval"], self.deadline, self.ctx.clock, self._sleep)

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        response = self.ctx.http.post(url, data=form, headers={"Accept": "application/json"})
        if response.status_code >= 500:
            raise NetworkError(f"the identity provider answered HTTP {response.status_code}.",
                               "This is usually temporary; retry in a moment.")
        try:
            body = response.json()
        except ValueError:
            raise AuthenticationError(
                f"the identity provider answered HTTP {response.status_code} with something that is not JSON.",
                "Check --authority-host / --environment.") from None
        if not isinstance(body, dict):
            raise AuthenticationError("the identity provider's answer is not a JSON object.")
        return body


def _username(result: dict[str, Any]) -> str:
    """The signed-in user's name from the id_token (for messages only; nothing is trusted from it)."""
    token = result.get("id_token")
    if not isinstance(token, str) or token.count(".") < 2:
        return ""
    part = token.split(".")[1]
    try:
        claims = jsonlite.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return ""
    return str(claims.get("upn") or claims.get("unique_name") or "") if isinstance(claims, dict) else ""


def _seconds(value: object, default: float) -> float:
    try:
        return max(float(str(value)), 1.0)
    except ValueError:
        return default
